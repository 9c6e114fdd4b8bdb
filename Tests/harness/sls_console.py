"""The SLS console's read calls for the test receiver (sls_receiver.py), in the JSON shapes of the public API
(../shared/docs/SLS-CONTROL-PLANE.md): ListProject (bare Host), ListMachineGroup, GetMachineGroup,
GetAppliedConfigs, GetConfig and GetLogtailPipelineConfig, paged with correct `count` and `total` (a page is
at most --page-limit long, whatever `size` asks, so clients must follow `total`). Tests change what the
console holds through POST /_admin (see `admin`); GET /_requests lists every control-plane call received
(method, host, path with query), so a test can count the requests of a poll; {"op": "outage", "on": true}
makes every read go unanswered (the connection is reset) while PutLogs is still accepted."""

import re
import time

GROUP = re.compile(r"^/machinegroups/([^/]+)$")
CONFIG = re.compile(r"^/configs/([^/]+)$")
PIPELINE = re.compile(r"^/pipelineconfigs/([^/]+)$")
APPLIED = re.compile(r"^/machinegroups/([^/]+)/configs$")


def stamp(resources):
    """A strictly growing modification time, so every edit shows in lastModifyTime."""
    resources["clock"] = max(resources.get("clock", 0) + 1, int(time.time()))
    return resources["clock"]


def page(items, params, limit):
    offset = int(params.get("offset", "0"))
    size = min(int(params.get("size", "100")), limit)
    chosen = items[offset:offset + size]
    return len(chosen), len(items), chosen


def list_projects(resources, params, limit):
    names = sorted(resources["projects"])
    count, total, chosen = page(names, params, limit)
    projects = [{"projectName": n, "description": resources["projects"][n].get("description", ""),
                 "region": "cn-hangzhou", "owner": "", "status": "Normal", "createTime": "1614075057",
                 "lastModifyTime": "1614075057"} for n in chosen]
    return 200, {"count": count, "total": total, "projects": projects}


def read(resources, project, path, params, limit):
    """A GET with a project in the Host; None when the path is not a read this module serves."""
    prefix = project + "/"
    if path == "/machinegroups":
        names = sorted(k[len(prefix):] for k in resources["machinegroups"] if k.startswith(prefix))
        count, total, chosen = page(names, params, limit)
        return 200, {"count": count, "total": total, "machinegroups": chosen}
    match = GROUP.match(path)
    if match:
        group = resources["machinegroups"].get(prefix + match.group(1))
        if group is None:
            return 404, ("GroupNotExist", "group %s does not exist" % match.group(1))
        answer = {"groupName": match.group(1), "groupType": "", "groupAttribute": {}, "machineIdentifyType": "ip",
                  "machineList": [], "createTime": 1431705075, "lastModifyTime": 1431705075}
        answer.update(group)
        return 200, answer
    match = CONFIG.match(path)
    if match:
        config = resources["configs"].get(prefix + match.group(1))
        if config is None:
            return 404, ("ConfigNotExist", "Config %s does not exist" % match.group(1))
        return 200, dict({"createTime": 1431705075, "lastModifyTime": 1431705075}, **config)
    match = PIPELINE.match(path)
    if match:
        config = resources["pipelineconfigs"].get(prefix + match.group(1))
        if config is None:
            return 404, ("ConfigNotExist", "Config %s does not exist" % match.group(1))
        return 200, config
    return None


def admin(resources, command):
    """One edit of the console: {"op": project|group|config|pipeline|apply|unapply|delete_config|delete_group|
    ...} (the receiver itself handles reset_requests and outage). Answers (status, body)."""
    op = command.get("op")
    project = command.get("project", "")
    key = project + "/" + str(command.get("name", ""))
    if op == "project":
        resources["projects"].setdefault(command["name"], {"projectName": command["name"], "description": ""})
    elif op == "group":
        resources["machinegroups"][key] = {
            "groupName": command["name"], "groupType": "", "machineIdentifyType": command.get("type", "userdefined"),
            "machineList": command.get("ids", []), "groupAttribute": {"groupTopic": command.get("topic", ""),
                                                                       "externalName": ""}}
    elif op == "config":
        body = dict(command["body"])
        body["lastModifyTime"] = stamp(resources)
        body.setdefault("createTime", body["lastModifyTime"])
        resources["configs"][project + "/" + body["configName"]] = body
    elif op == "pipeline":
        body = dict(command["body"])
        body["lastModifyTime"] = stamp(resources)
        body.setdefault("createTime", body["lastModifyTime"])
        resources["pipelineconfigs"][project + "/" + body["configName"]] = body
    elif op == "apply":
        applied = resources["applied"].setdefault(project + "/" + command["group"], [])
        if command["config"] not in applied:
            applied.append(command["config"])
    elif op == "unapply":
        applied = resources["applied"].get(project + "/" + command["group"], [])
        if command["config"] in applied:
            applied.remove(command["config"])
    elif op == "delete_config":
        resources["configs"].pop(key, None)
        resources["pipelineconfigs"].pop(key, None)
    elif op == "delete_group":
        resources["machinegroups"].pop(key, None)
        resources["applied"].pop(key, None)
    else:
        return 400, {"errorCode": "ParameterInvalid", "errorMessage": "unknown op %r" % op}
    return 200, {}
