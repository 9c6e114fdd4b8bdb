"""Helpers for tests against the test receiver's SLS console (Tests/harness/sls_console.py): edit what the
console holds, list the requests it received, Logtail config bodies, and the sidecar's environment."""

import json
import os
import urllib.request

from sls_support import CREDENTIALS


def admin(receiver, **command):
    request = urllib.request.Request(f"http://127.0.0.1:{receiver.port}/_admin", data=json.dumps(command).encode(),
                                     method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200


def control_requests(receiver):
    with urllib.request.urlopen(f"http://127.0.0.1:{receiver.port}/_requests", timeout=10) as answer:
        return json.loads(answer.read())


def logtail_config(name, logstore, directory, pattern="*.log", **detail):
    """A Logtail config as the console stores it (common_reg_log, one `content` key)."""
    input_detail = {"logType": "common_reg_log", "logPath": str(directory), "filePattern": pattern,
                    "topicFormat": "none", "localStorage": True, "dockerFile": False}
    input_detail.update(detail)
    return {"configName": name, "inputType": "file", "inputDetail": input_detail, "outputType": "LogService",
            "outputDetail": {"logstoreName": logstore, "endpoint": "cn-hangzhou-intranet.log.aliyuncs.com",
                             "region": "cn-hangzhou"}, "logSample": ""}


def console(receiver, project, group, ids, *configs, topic=""):
    """A project, a userdefined group holding `ids`, and `configs` created and applied to it."""
    admin(receiver, op="project", name=project)
    admin(receiver, op="group", project=project, name=group, ids=list(ids), topic=topic)
    for config in configs:
        admin(receiver, op="config", project=project, body=config)
        admin(receiver, op="apply", project=project, group=group, config=config["configName"])


def sidecar_env(workdir, receiver, ids="web-sidecar", **extra):
    """Only the vendor environment: user-defined id, ALIYUN_LOGTAIL_CONFIG naming the receiver, an AccessKey."""
    region = workdir / "ilogtail_config.json"
    region.write_text(json.dumps({"data_server_list": [
        {"cluster": "cn-hangzhou", "endpoint": f"http://127.0.0.1:{receiver.port}"}]}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ALIYUN_", "ALIBABA_CLOUD_", "TAILCAR_", "LOONG_"))}
    env.update(CREDENTIALS)
    env.update(ALIYUN_LOGTAIL_CONFIG=str(region), ALIYUN_LOGTAIL_USER_DEFINED_ID=ids,
               TAILCAR_USER_DEFINED_ID_FILE=str(workdir / "no-id-file"), TAILCAR_CHECKPOINT_DIR=str(workdir / "state"),
               TAILCAR_HTTP_PORT="0")
    env.update({k: str(v) for k, v in extra.items()})
    return env
