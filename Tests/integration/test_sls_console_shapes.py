"""The test receiver's SLS console speaks the public API's JSON shapes: the official Python SDK's client
(aliyun-log-python-sdk, pinned in Tests/harness/requirements.txt) parses every answer Tailcar relies on,
through the SDK's own response classes, with its own signatures (checked by the receiver)."""

import pytest

from sls_console_support import admin, console, control_requests, logtail_config
from sls_support import KEY_ID, PYTHON, SECRET, Receiver

pytestmark = pytest.mark.skipif(not PYTHON.exists(), reason="test venv missing (bash scripts/venv.sh)")
aliyun_log = pytest.importorskip("aliyun.log")


@pytest.fixture
def receiver(workdir):
    started = Receiver(workdir, "--page-limit", "2")
    yield started
    started.stop()


def client(receiver):
    made = aliyun_log.LogClient(f"127.0.0.1:{receiver.port}", KEY_ID, SECRET)
    # The SDK puts the project in the URL's host unless the endpoint is a bare IP; with a port it is not,
    # so it is told (the Host header still carries {project}.127.0.0.1, which the receiver routes on).
    made._isRowIp = True
    return made


def test_the_sdk_parses_every_console_answer(workdir, receiver):
    config = logtail_config("nginx", "access", workdir / "logs", topicFormat="group_topic")
    console(receiver, "proj-a", "web", ["web-sidecar"], config, topic="frontend")
    for name in ["g2", "g3", "g4"]:
        admin(receiver, op="group", project="proj-a", name=name, ids=["other"])
    admin(receiver, op="project", name="proj-b")
    admin(receiver, op="project", name="proj-c")
    pipeline = {"configName": "app", "inputs": [{"Type": "input_file", "FilePaths": ["/var/log/app/*.log"]}],
                "flushers": [{"Type": "flusher_sls", "Logstore": "app"}], "global": {}, "processors": [],
                "aggregators": []}
    admin(receiver, op="pipeline", project="proj-a", body=pipeline)
    sdk = client(receiver)

    projects = sdk.list_project(offset=0, size=2)
    assert (projects.get_count(), projects.get_total()) == (2, 3)
    assert [p["projectName"] for p in projects.get_projects()] == ["proj-a", "proj-b"]
    assert [p["projectName"] for p in sdk.list_project(offset=2, size=2).get_projects()] == ["proj-c"]

    first = sdk.list_machine_group("proj-a", offset=0, size=500)
    assert (first.get_count(), first.get_total(), first.get_machine_group()) == (2, 4, ["g2", "g3"])
    second = sdk.list_machine_group("proj-a", offset=2, size=500)
    assert second.get_machine_group() == ["g4", "web"]

    group = sdk.get_machine_group("proj-a", "web").get_machine_group()
    assert (group.group_name, group.machine_type, group.machine_list) == ("web", "userdefined", ["web-sidecar"])
    assert group.group_attribute["groupTopic"] == "frontend"

    applied = sdk.get_machine_group_applied_configs("proj-a", "web")
    assert (applied.get_config_count(), applied.get_configs()) == (1, ["nginx"])

    got = sdk.get_logtail_config("proj-a", "nginx")
    assert got.logtail_config.logstore_name == "access"
    assert got.get_body()["inputDetail"]["topicFormat"] == "group_topic"
    assert got.get_body()["lastModifyTime"] > 0

    got_pipeline = sdk.get_logtail_pipeline_config("proj-a", "app").get_pipeline_config()
    assert got_pipeline.config_name == "app" and got_pipeline.inputs[0]["Type"] == "input_file"

    with pytest.raises(aliyun_log.LogException) as missing:
        sdk.get_logtail_config("proj-a", "absent")
    assert missing.value.get_error_code() == "ConfigNotExist" and missing.value.resp_status == 404
    with pytest.raises(aliyun_log.LogException) as gone:
        sdk.get_machine_group_applied_configs("proj-a", "absent")
    assert gone.value.get_error_code() == "MachineGroupNotExist"

    hosts = {r["path"].split("?")[0]: r["host"] for r in control_requests(receiver)}
    assert hosts["/"] == "127.0.0.1"
    assert hosts["/machinegroups/web"] == "proj-a.127.0.0.1"


def test_a_wrong_signature_is_refused(workdir, receiver):
    admin(receiver, op="project", name="p")
    sdk = aliyun_log.LogClient(f"127.0.0.1:{receiver.port}", KEY_ID, "wrong-secret")
    sdk._isRowIp = True
    with pytest.raises(aliyun_log.LogException) as refused:
        sdk.list_machine_group("p")
    assert refused.value.get_error_code() == "SignatureNotMatch"
