# Tests/deploy/test_manifests.py
#
# Checks the Kubernetes files under deploy/: every document parses and names apiVersion, kind and
# metadata; the CRD's schema is structural and the AliyunLogConfig examples validate against it (and
# typical mistakes do not); the Job, native-sidecar Job and Deployment carry the same Logtail sidecar
# contract (environment, volumes, resources, probe, stop delay) and agree with the pipelines ConfigMap
# and the AliyunLogConfig examples; `kubectl apply --dry-run=client` accepts everything (against a
# loopback discovery stand-in, kube_discovery.py). It does not run a cluster or the image
# (Tests/container runs the image). With TAILCAR_BIN set, `tailcar check-config` loads the pipelines.
import copy
import os
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from kube_discovery import DiscoveryServer

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
WORKLOADS = ["job-sidecar.yaml", "job-native-sidecar.yaml", "deployment.yaml"]
CONTRACT_TAGS = {"_pod_name_": "metadata.name", "_pod_ip_": "status.podIP", "_namespace_": "metadata.namespace",
                 "_node_name_": "spec.nodeName", "_node_ip_": "status.hostIP"}
CONTRACT_ENV = {"ALIYUN_LOGTAIL_USER_ID", "ALIYUN_LOGTAIL_USER_DEFINED_ID", "ALIYUN_LOGTAIL_CONFIG",
                "ALIYUN_LOG_ENV_TAGS", *CONTRACT_TAGS}
VENDOR_RESOURCES = {"limits": {"memory": "512Mi"}, "requests": {"cpu": "10m", "memory": "30Mi"}}
# The access-log key list as the vendor's page publishes it: 10 keys, the last one broken.
PUBLISHED_ACCESS_KEYS = '["time", "ip", "method", "url", "protocol", "latency", "payload", "status", "response-size",ser-agent"]'


def yaml_files():
    return sorted(DEPLOY.rglob("*.yaml")) + sorted(DEPLOY.rglob("*.yml"))


def documents(path):
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def one(path):
    docs = documents(DEPLOY / path)
    assert len(docs) == 1, f"{path} holds {len(docs)} documents"
    return docs[0]


def crd_schema():
    return one("crd/aliyunlogconfig-crd.yaml")["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def as_json_schema(node):
    """The CRD schema as JSON Schema; objects that do not preserve unknown fields reject them, the way
    the API server prunes them (a silent loss this test turns into an error)."""
    if isinstance(node, list):
        return [as_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    converted = {k: as_json_schema(v) for k, v in node.items() if not k.startswith("x-kubernetes-")}
    if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        converted["additionalProperties"] = False
    return converted


def validate(resource):
    jsonschema.Draft7Validator(as_json_schema(crd_schema())).validate(resource)


def examples():
    return [one(f"examples/{p.name}") for p in sorted((DEPLOY / "examples").glob("*.yaml"))]


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def sidecar(workload):
    spec = pod_spec(workload)
    found = [c for c in spec.get("containers", []) + spec.get("initContainers", []) if c["name"] == "tailcar"]
    assert len(found) == 1
    return found[0]


def application(workload):
    return next(c for c in pod_spec(workload)["containers"] if c["name"] != "tailcar")


def pipelines():
    data = one("kubernetes/pipelines-configmap.yaml")["data"]
    return {name: yaml.safe_load(text) for name, text in data.items()}


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_document_names_api_version_kind_and_metadata(path):
    docs = documents(path)
    assert docs, f"{path} is empty"
    for doc in docs:
        assert isinstance(doc.get("apiVersion"), str) and isinstance(doc.get("kind"), str)
        assert isinstance(doc.get("metadata"), dict) and doc["metadata"].get("name")


def test_crd_declares_the_vendor_resource():
    crd = one("crd/aliyunlogconfig-crd.yaml")
    assert crd["apiVersion"] == "apiextensions.k8s.io/v1"
    assert crd["metadata"]["name"] == "aliyunlogconfigs.log.alibabacloud.com"
    assert crd["spec"]["group"] == "log.alibabacloud.com"
    assert crd["spec"]["names"]["kind"] == "AliyunLogConfig"
    assert [v["name"] for v in crd["spec"]["versions"]] == ["v1alpha1"]
    spec = crd_schema()["properties"]["spec"]["properties"]
    assert {k: spec[k]["type"] for k in spec} == {
        "project": "string", "logstore": "string", "shardCount": "integer", "lifeCycle": "integer",
        "machineGroups": "array", "logtailConfig": "object"}
    detail = spec["logtailConfig"]["properties"]["inputDetail"]
    assert detail["x-kubernetes-preserve-unknown-fields"] is True
    assert detail["properties"]["advanced"]["x-kubernetes-preserve-unknown-fields"] is True
    for field in ("logType", "logPath", "filePattern", "maxDepth", "logBeginRegex", "regex", "key", "timeKey",
                  "timeFormat", "separator", "quote", "filterKey", "filterRegex", "discardUnmatch", "enableRawLog",
                  "fileEncoding", "topicFormat", "preserve", "preserveDepth", "tailExisted", "dockerFile"):
        assert "type" in detail["properties"][field], field


def test_crd_schema_is_structural():
    def walk(node, where):
        if node.get("x-kubernetes-preserve-unknown-fields") and "type" not in node:
            return
        assert "type" in node, f"{where} has no type"
        assert not ("properties" in node and "additionalProperties" in node), f"{where} mixes both"
        for name, child in node.get("properties", {}).items():
            walk(child, f"{where}.{name}")
        if isinstance(node.get("items"), dict):
            walk(node["items"], f"{where}[]")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{where}{{}}")
    walk(crd_schema(), "openAPIV3Schema")


@pytest.mark.parametrize("example", examples(), ids=lambda e: e["metadata"]["name"])
def test_example_validates_against_the_crd(example):
    validate(example)
    config = example["spec"]["logtailConfig"]
    assert config["configName"] == example["metadata"]["name"]
    assert config["inputDetail"]["dockerFile"] is False, "a sidecar collects files, never container stdout"
    assert example["spec"]["project"], "a sidecar's config must name its project"


@pytest.mark.parametrize("example", examples(), ids=lambda e: e["metadata"]["name"])
def test_example_has_one_key_per_capture_group(example):
    detail = example["spec"]["logtailConfig"]["inputDetail"]
    if "regex" in detail:
        assert re.compile(detail["regex"]).groups == len(detail["key"])
        assert all(re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key) for key in detail["key"])


def test_the_published_access_keys_are_what_the_correction_fixes():
    published = yaml.safe_load(PUBLISHED_ACCESS_KEYS)
    access = one("examples/nginx-access-aliyunlogconfig.yaml")["spec"]["logtailConfig"]["inputDetail"]
    assert len(published) == 10 and published[-1] == 'ser-agent"'
    assert re.compile(access["regex"]).groups == 11
    assert access["key"][:9] == published[:9] and len(access["key"]) == 11


@pytest.mark.parametrize("mistake, change", [
    ("shard count as text", lambda s: s.__setitem__("shardCount", "2")),
    ("machine group not a list", lambda s: s.__setitem__("machineGroups", "nginx-log-sidecar")),
    ("misspelled spec field", lambda s: s.__setitem__("logStore", "nginx-access")),
    ("dockerFile as text", lambda s: s["logtailConfig"]["inputDetail"].__setitem__("dockerFile", "false")),
    ("unknown log type", lambda s: s["logtailConfig"]["inputDetail"].__setitem__("logType", "nginx")),
    ("no config name", lambda s: s["logtailConfig"].pop("configName")),
])
def test_crd_schema_rejects(mistake, change):
    resource = copy.deepcopy(one("examples/nginx-access-aliyunlogconfig.yaml"))
    change(resource["spec"])
    with pytest.raises(jsonschema.ValidationError):
        validate(resource)


def test_crd_schema_keeps_vendor_extras():
    resource = copy.deepcopy(one("examples/nginx-error-aliyunlogconfig.yaml"))
    detail = resource["spec"]["logtailConfig"]["inputDetail"]
    detail["advanced"] = {"tail_size_kb": 2048, "force_multiconfig": True, "k8s": {"ExternalEnvTag": {"a": "b"}}}
    detail["someFutureField"] = 1
    resource["spec"].update(shardCount=2, lifeCycle=90)
    validate(resource)


@pytest.mark.parametrize("name", WORKLOADS)
def test_workload_carries_the_logtail_sidecar_contract(name):
    workload = one(f"kubernetes/{name}")
    container = sidecar(workload)
    env = {e["name"]: e for e in container["env"]}
    assert set(env) == CONTRACT_ENV
    assert env["ALIYUN_LOG_ENV_TAGS"]["value"].split("|") == list(CONTRACT_TAGS)
    for tag, field in CONTRACT_TAGS.items():
        assert env[tag]["valueFrom"]["fieldRef"]["fieldPath"] == field
    assert env["ALIYUN_LOGTAIL_CONFIG"]["value"].startswith("/etc/ilogtail/conf/")
    assert container["resources"] == VENDOR_RESOURCES
    assert container["livenessProbe"]["exec"]["command"] == ["tailcar", "status"]
    command = container["command"] + container["args"]
    assert command[:2] == ["tailcar", "run"]
    stop_delay = float(command[command.index("--stop-delay") + 1])
    assert stop_delay == 10
    assert pod_spec(workload).get("terminationGracePeriodSeconds", 30) > stop_delay
    assert container["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


@pytest.mark.parametrize("name", WORKLOADS)
def test_workload_volumes_are_shared_and_defined(name):
    workload = one(f"kubernetes/{name}")
    volumes = {v["name"]: v for v in pod_spec(workload)["volumes"]}
    side = {m["name"]: m for m in sidecar(workload)["volumeMounts"]}
    app = {m["name"]: m for m in application(workload)["volumeMounts"]}
    assert set(side) <= set(volumes) and set(app) <= set(volumes)
    assert set(volumes) == {"nginx-log", "tailcar-pipelines", "tailcar-state"}
    assert "emptyDir" in volumes["nginx-log"] and "emptyDir" in volumes["tailcar-state"]
    assert side["nginx-log"]["mountPath"] == app["nginx-log"]["mountPath"] == "/var/log/nginx"
    configmap = one("kubernetes/pipelines-configmap.yaml")["metadata"]["name"]
    assert volumes["tailcar-pipelines"]["configMap"]["name"] == configmap
    args = sidecar(workload)["args"]
    assert args[args.index("--config") + 1] == side["tailcar-pipelines"]["mountPath"]
    assert args[args.index("--checkpoint-dir") + 1] == side["tailcar-state"]["mountPath"]


def test_workloads_agree_with_each_other():
    def comparable(name):
        container = copy.deepcopy(sidecar(one(f"kubernetes/{name}")))
        container.pop("restartPolicy", None)
        return container, application(one(f"kubernetes/{name}")), pod_spec(one(f"kubernetes/{name}"))["volumes"]
    reference = comparable(WORKLOADS[0])
    for name in WORKLOADS[1:]:
        assert comparable(name) == reference, name


def test_native_sidecar_is_an_always_restarting_init_container():
    spec = pod_spec(one("kubernetes/job-native-sidecar.yaml"))
    assert [c["name"] for c in spec["initContainers"]] == ["tailcar"]
    assert spec["initContainers"][0]["restartPolicy"] == "Always"
    assert all(c["name"] != "tailcar" for c in spec["containers"])
    classic = pod_spec(one("kubernetes/job-sidecar.yaml"))
    assert "initContainers" not in classic and classic["restartPolicy"] == "Never"


def test_pipelines_match_the_aliyunlogconfig_examples():
    by_logstore = {p["flushers"][0]["Logstore"]: p for p in pipelines().values()}
    defined_id = {e["name"]: e.get("value") for e in sidecar(one("kubernetes/job-sidecar.yaml"))["env"]}[
        "ALIYUN_LOGTAIL_USER_DEFINED_ID"]
    for example in examples():
        spec = example["spec"]
        detail = spec["logtailConfig"]["inputDetail"]
        pipeline = by_logstore[spec["logstore"]]
        assert defined_id in spec["machineGroups"]
        assert pipeline["flushers"][0]["Type"] == "flusher_sls"
        assert pipeline["flushers"][0]["Project"] == spec["project"]
        assert pipeline["inputs"][0]["FilePaths"] == [f"{detail['logPath']}/{detail['filePattern']}"]
        if "regex" in detail:
            parser = pipeline["processors"][0]
            assert parser["Type"] == "processor_parse_regex_native"
            assert (parser["Regex"], parser["Keys"]) == (detail["regex"], detail["key"])


def test_kubectl_dry_run_accepts_every_manifest(tmp_path):
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed (Debian: kubernetes-client)")
    crds = [d for p in yaml_files() for d in documents(p) if d["kind"] == "CustomResourceDefinition"]
    files = yaml_files()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")}
    try:
        with DiscoveryServer(crds) as server:
            command = ["kubectl", "apply", "--dry-run=client", "--validate=false", "--server", server.url,
                       "-o", "name"] + [arg for path in files for arg in ("-f", str(path))]
            result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    expected = sum(len(documents(p)) for p in files)
    assert len(result.stdout.split()) == expected, result.stdout


def test_tailcar_accepts_the_configmap_pipelines(tmp_path):
    binary = os.environ.get("TAILCAR_BIN") or os.environ.get("TAILCAR_STATIC_BIN")
    if not binary or not Path(binary).exists():
        pytest.skip("set TAILCAR_BIN (scripts/test.sh does) to check the pipelines with tailcar check-config")
    try:
        for name, text in one("kubernetes/pipelines-configmap.yaml")["data"].items():
            (tmp_path / name).write_text(text)
        result = subprocess.run([binary, "check-config", str(tmp_path)], capture_output=True, text=True,
                                timeout=60)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)
    assert result.returncode == 0, result.stderr
