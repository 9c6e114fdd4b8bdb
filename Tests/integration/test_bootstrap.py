"""`tailcar bootstrap` against the test SLS receiver, which checks every control-plane call's signature
with the official SDK and keeps what was created: the seed's error-log AliyunLogConfig, as published,
creates a project, a logstore, an index, a machine group and a Logtail config applied to the group; a
second run finds them all; a wrong secret fails naming SLS's error code and never prints the secret.
`run --bootstrap` does the same before it starts and keeps running when it fails."""

import json
import os
import subprocess
import urllib.request

import pytest

from sls_support import CREDENTIALS, PYTHON, Receiver, make_test_ca
from tailcar_harness import BINARY, REPO

pytestmark = pytest.mark.skipif(not PYTHON.exists(), reason="test venv missing (bash scripts/venv.sh)")

SEED_ERROR = REPO / "deploy" / "examples" / "nginx-error-aliyunlogconfig.yaml"
PROJECT = "k8s-nginx-sidecar-demo"


@pytest.fixture
def receiver(workdir):
    started = Receiver(workdir)
    yield started
    started.stop()


def region_config(workdir, receiver):
    """An ilogtail_config.json whose data endpoint is the receiver, as ALIYUN_LOGTAIL_CONFIG names it."""
    path = workdir / "ilogtail_config.json"
    path.write_text(json.dumps({"data_server_list": [
        {"cluster": "cn-hangzhou", "endpoint": f"{receiver.scheme}://127.0.0.1:{receiver.port}"}]}))
    return path


def environment(workdir, receiver, **extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ALIYUN_", "ALIBABA_CLOUD_", "TAILCAR_"))}
    env.update(CREDENTIALS)
    env.update(ALIYUN_LOGTAIL_CONFIG=str(region_config(workdir, receiver)),
               ALIYUN_LOGTAIL_USER_DEFINED_ID="nginx-log-sidecar")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def bootstrap(env, config=SEED_ERROR):
    if not BINARY.exists():
        pytest.skip(f"tailcar binary not built at {BINARY} (run swift build)")
    return subprocess.run([str(BINARY), "bootstrap", "--config", str(config)], capture_output=True, text=True,
                          timeout=60, env=env)


def resources(receiver):
    with urllib.request.urlopen(f"http://127.0.0.1:{receiver.port}/_resources", timeout=10) as answer:
        return json.loads(answer.read())


def outcomes(stdout):
    """{"project k8s-...": "created", ...} from the lines `RESOURCE: OUTCOME ...`."""
    result = {}
    for line in stdout.splitlines():
        resource, _, outcome = line.partition(": ")
        result[resource] = outcome.split()[0]
    return result


EXPECTED_RESOURCES = [
    f"project {PROJECT}",
    f"logstore {PROJECT}/nginx-error",
    f"index {PROJECT}/nginx-error",
    f"machine group {PROJECT}/nginx-log-sidecar",
    f"config {PROJECT}/nginx-log-error-example",
    f"config applied {PROJECT}/nginx-log-error-example -> nginx-log-sidecar",
]


def test_the_seed_resource_creates_six_resources_then_finds_them_all(workdir, receiver):
    env = environment(workdir, receiver)
    first = bootstrap(env)
    assert first.returncode == 0, first.stdout + first.stderr
    assert outcomes(first.stdout) == {name: "created" for name in EXPECTED_RESOURCES}, first.stdout
    assert list(outcomes(first.stdout)) == EXPECTED_RESOURCES
    assert all("[request " in line for line in first.stdout.splitlines())

    held = resources(receiver)
    assert list(held["projects"]) == [PROJECT]
    logstore = held["logstores"][f"{PROJECT}/nginx-error"]
    assert (logstore["ttl"], logstore["shardCount"]) == (90, 2)
    assert held["indexes"][f"{PROJECT}/nginx-error"]["line"]["caseSensitive"] is False
    group = held["machinegroups"][f"{PROJECT}/nginx-log-sidecar"]
    assert group["machineIdentifyType"] == "userdefined" and group["machineList"] == ["nginx-log-sidecar"]
    config = held["configs"][f"{PROJECT}/nginx-log-error-example"]
    assert config["inputType"] == "file" and config["outputType"] == "LogService"
    assert config["inputDetail"] == {"logType": "common_reg_log", "logPath": "/var/log/nginx",
                                     "filePattern": "error.log", "dockerFile": False}
    assert config["outputDetail"] == {"projectName": PROJECT, "logstoreName": "nginx-error"}
    assert held["applied"] == {f"{PROJECT}/nginx-log-sidecar": ["nginx-log-error-example"]}

    second = bootstrap(env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert outcomes(second.stdout) == {name: "exists" for name in EXPECTED_RESOURCES}, second.stdout
    for code in ["ProjectAlreadyExist", "LogStoreAlreadyExist", "IndexAlreadyExist", "MachineGroupAlreadyExist",
                 "ConfigAlreadyExist"]:
        assert f"({code})" in second.stdout
    assert resources(receiver) == held


def test_https_endpoints_are_verified_against_the_ca(workdir):
    ca, cert, key = make_test_ca(workdir)
    receiver = Receiver(workdir, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        trusted = bootstrap(environment(workdir, receiver, SSL_CERT_FILE=ca))
        assert trusted.returncode == 0, trusted.stdout + trusted.stderr
        assert outcomes(trusted.stdout) == {name: "created" for name in EXPECTED_RESOURCES}
        untrusted = bootstrap(environment(workdir, receiver, SSL_CERT_FILE=workdir / "none.pem"))
        assert untrusted.returncode == 1 and "no answer from SLS" in untrusted.stdout
    finally:
        receiver.stop()


def test_shard_count_and_life_cycle_come_from_the_spec(workdir, receiver):
    config = workdir / "resource.yaml"
    config.write_text(SEED_ERROR.read_text().replace("  logstore: nginx-error\n",
                                                     "  logstore: nginx-error\n  shardCount: 4\n  lifeCycle: 7\n"))
    result = bootstrap(environment(workdir, receiver), config)
    assert result.returncode == 0, result.stdout + result.stderr
    logstore = resources(receiver)["logstores"][f"{PROJECT}/nginx-error"]
    assert (logstore["ttl"], logstore["shardCount"]) == (7, 4)


def test_a_wrong_secret_fails_naming_the_error_and_never_prints_the_secret(workdir, receiver):
    wrong = "notTheSecret-7f3a9c"
    result = bootstrap(environment(workdir, receiver, ALIBABA_CLOUD_ACCESS_KEY_SECRET=wrong))
    assert result.returncode == 1, result.stdout + result.stderr
    assert outcomes(result.stdout) == {name: "failed:" for name in EXPECTED_RESOURCES}, result.stdout
    assert "SignatureNotMatch" in result.stdout
    assert wrong not in result.stdout + result.stderr
    assert resources(receiver)["projects"] == {}

    unknown = bootstrap(environment(workdir, receiver, ALIBABA_CLOUD_ACCESS_KEY_ID="someoneElse"))
    assert unknown.returncode == 1 and "InvalidAccessKeyId" in unknown.stdout


def test_no_endpoint_and_no_credentials_are_reported(workdir, receiver):
    env = environment(workdir, receiver)
    del env["ALIYUN_LOGTAIL_CONFIG"]
    result = bootstrap(env)
    assert result.returncode == 1
    assert "no SLS endpoint" in result.stdout
    env = environment(workdir, receiver)
    del env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"], env["ALIBABA_CLOUD_ACCESS_KEY_ID"]
    result = bootstrap(env)
    assert result.returncode == 2 and "AccessKey" in result.stderr


def test_an_endpoint_that_does_not_answer_fails_every_resource_naming_the_address(workdir, receiver):
    env = environment(workdir, receiver)
    receiver.stop()
    result = bootstrap(env)
    assert result.returncode == 1
    assert outcomes(result.stdout) == {name: "failed:" for name in EXPECTED_RESOURCES}, result.stdout
    assert all("no answer from SLS: " in line and f"127.0.0.1:{receiver.port}" in line
               for line in result.stdout.splitlines()), result.stdout


def test_run_bootstrap_creates_the_resources_before_it_starts(workdir, receiver, tailcars):
    env = environment(workdir, receiver, TAILCAR_CHECKPOINT_DIR=workdir / "checkpoints", TAILCAR_HTTP_PORT=0)
    config = workdir / "resource.yaml"
    config.write_text(SEED_ERROR.read_text().replace("/var/log/nginx", str(workdir / "logs")))
    tailcar = tailcars(workdir, None, env=env, argv=["run", "--config", str(config), "--bootstrap"]).started()
    held = resources(receiver)
    assert f"{PROJECT}/nginx-log-error-example" in held["configs"]
    events = tailcar.events_named("bootstrap")
    assert [e["resource"] for e in events] == EXPECTED_RESOURCES
    assert all(e["outcome"].startswith("created") and e["level"] == "info" for e in events)
    assert tailcar.stop() == 0


def test_run_bootstrap_failures_are_logged_and_the_run_continues(workdir, receiver, tailcars):
    env = environment(workdir, receiver, TAILCAR_CHECKPOINT_DIR=workdir / "checkpoints", TAILCAR_HTTP_PORT=0,
                      ALIBABA_CLOUD_ACCESS_KEY_SECRET="wrong")
    config = workdir / "resource.yaml"
    config.write_text(SEED_ERROR.read_text().replace("/var/log/nginx", str(workdir / "logs")))
    tailcar = tailcars(workdir, None, env=env, argv=["run", "--config", str(config), "--bootstrap"]).started()
    events = tailcar.events_named("bootstrap")
    assert len(events) == len(EXPECTED_RESOURCES)
    assert all(e["level"] == "warn" and "SignatureNotMatch" in e["outcome"] for e in events)
    assert tailcar.stop() == 0
