"""`tailcar inject`: the sidecar, the shared volumes and the Logtail environment added to every workload
of a manifest, other kinds passed through, quoting kept, injecting twice changes nothing, and the result
passes `kubectl apply --dry-run=client` (against the loopback discovery stand-in of Tests/deploy)."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tailcar_harness import BINARY, REPO

sys.path.insert(0, str(REPO / "Tests" / "deploy"))
from kube_discovery import DiscoveryServer  # noqa: E402

def app_pod_spec(kind):
    spec = {"containers": [{"name": "app", "image": "busybox:1.36",
                            "command": ["sh", "-c", "echo hi >> /var/log/app/app.log"],
                            "env": [{"name": "PORT", "value": "8080"}, {"name": "VERBOSE", "value": "true"}]}]}
    if kind in ("Job", "CronJob"):
        spec["restartPolicy"] = "Never"
    return spec


def workload(kind, name):
    """A minimal manifest of `kind` (PyYAML quotes "8080" and "true", as people do)."""
    template = {"metadata": {"labels": {"app": name}}, "spec": app_pod_spec(kind)}
    if kind == "Pod":
        doc = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": app_pod_spec(kind)}
    elif kind == "Job":
        doc = {"apiVersion": "batch/v1", "kind": kind, "metadata": {"name": name}, "spec": {"template": template}}
    elif kind == "CronJob":
        doc = {"apiVersion": "batch/v1", "kind": kind, "metadata": {"name": name},
               "spec": {"schedule": "*/5 * * * *", "jobTemplate": {"spec": {"template": template}}}}
    else:
        spec = {"selector": {"matchLabels": {"app": name}}, "template": template}
        if kind == "StatefulSet":
            spec["serviceName"] = name
        doc = {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": spec}
    return yaml.safe_dump(doc, sort_keys=False)


SERVICE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports:\n  - port: 80\n"
KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"]


def inject(text, *args, check=True):
    if not BINARY.exists():
        pytest.skip(f"tailcar binary not built at {BINARY} (run swift build)")
    result = subprocess.run([str(BINARY), "inject", "-f", "-", *args], input=text, capture_output=True,
                            text=True, timeout=30)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def pod_spec(doc):
    kind = doc["kind"]
    if kind == "Pod":
        return doc["spec"]
    if kind == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return doc["spec"]["template"]["spec"]


def manifest():
    return "---\n".join([workload(kind, kind.lower()) for kind in KINDS] + [SERVICE])


def test_every_workload_kind_gets_the_native_sidecar_and_other_kinds_pass_through():
    source = list(yaml.safe_load_all(manifest()))
    result = inject(manifest(), "--log-dir", "/var/log/app", "--image", "registry.example/tailcar:1",
                    "--config-map", "app-logs", "--user-id", "1234567890", "--region", "cn-hangzhou-internet")
    docs = list(yaml.safe_load_all(result.stdout))
    assert [d["kind"] for d in docs] == KINDS + ["Service"]
    assert docs[-1] == source[-1]
    for doc in docs[:-1]:
        spec = pod_spec(doc)
        sidecar = spec["initContainers"][0]
        assert sidecar["name"] == "tailcar" and sidecar["restartPolicy"] == "Always"
        assert sidecar["image"] == "registry.example/tailcar:1"
        assert sidecar["command"] + sidecar["args"] == ["tailcar", "run", "--stop-delay", "10"]
        assert sidecar["livenessProbe"]["exec"]["command"] == ["tailcar", "status"]
        env = {e["name"]: e for e in sidecar["env"]}
        assert env["ALIYUN_LOGTAIL_USER_ID"]["value"] == "1234567890"
        assert env["ALIYUN_LOGTAIL_USER_DEFINED_ID"]["value"] == doc["metadata"]["name"]
        assert env["ALIYUN_LOGTAIL_CONFIG"]["value"] == "/etc/ilogtail/conf/cn-hangzhou-internet/ilogtail_config.json"
        assert env["ALIYUN_LOG_ENV_TAGS"]["value"] == "_pod_name_|_pod_ip_|_namespace_|_node_name_|_node_ip_"
        fields = {"_pod_name_": "metadata.name", "_pod_ip_": "status.podIP", "_namespace_": "metadata.namespace",
                  "_node_name_": "spec.nodeName", "_node_ip_": "status.hostIP"}
        for name, field in fields.items():
            assert env[name]["valueFrom"]["fieldRef"]["fieldPath"] == field
        assert env["TAILCAR_CONFIG"]["value"] == "/etc/tailcar/conf.d"
        assert "TAILCAR_TASK_DIR" not in env
        volumes = {v["name"]: v for v in spec["volumes"]}
        assert volumes["tailcar-logs"] == {"name": "tailcar-logs", "emptyDir": {}}
        assert volumes["tailcar-config"]["configMap"]["name"] == "app-logs"
        mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
        assert mounts["/var/log/app"] == {"name": "tailcar-logs", "mountPath": "/var/log/app", "readOnly": True}
        assert mounts["/etc/tailcar/conf.d"]["name"] == "tailcar-config"
        assert env["TAILCAR_CHECKPOINT_DIR"]["value"] in mounts
        app = spec["containers"][0]
        assert {"name": "tailcar-logs", "mountPath": "/var/log/app"} in app["volumeMounts"]
        # quoted strings stay strings
        assert {e["name"]: e["value"] for e in app["env"]} == {"PORT": "8080", "VERBOSE": "true"}
    assert result.stderr.count("native sidecar") == len(KINDS)


def test_a_volume_already_mounted_at_the_log_directory_is_shared():
    job = (REPO / "deploy/kubernetes/job-sidecar.yaml").read_text()
    doc = yaml.safe_load(job)
    spec = doc["spec"]["template"]["spec"]
    spec["containers"] = [c for c in spec["containers"] if c["name"] != "tailcar"]
    spec["volumes"] = [v for v in spec["volumes"] if v["name"] == "nginx-log"]
    result = inject(yaml.safe_dump(doc), "--log-dir", "/var/log/nginx/")
    injected = yaml.safe_load(result.stdout)["spec"]["template"]["spec"]
    assert [v["name"] for v in injected["volumes"]] == ["nginx-log", "tailcar-state", "tailcar-config"]
    sidecar = injected["initContainers"][0]
    assert sidecar["volumeMounts"][0] == {"name": "nginx-log", "mountPath": "/var/log/nginx", "readOnly": True}
    assert injected["containers"][0]["volumeMounts"] == [{"name": "nginx-log", "mountPath": "/var/log/nginx"}]


def test_classic_jobs_get_a_regular_container_and_the_tombstone_handshake():
    result = inject(workload("Job", "batch") + "---\n" + workload("Deployment", "web"),
                    "--log-dir", "/var/log/app", "--classic")
    job, deployment = yaml.safe_load_all(result.stdout)
    spec = pod_spec(job)
    assert "initContainers" not in spec
    assert [c["name"] for c in spec["containers"]] == ["app", "tailcar"]
    sidecar = spec["containers"][1]
    assert "restartPolicy" not in sidecar
    assert {e["name"]: e.get("value") for e in sidecar["env"]}["TAILCAR_TASK_DIR"] == "/tasksite"
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["tailcar-tasksite"]["emptyDir"] == {"medium": "Memory"}
    assert {"name": "tailcar-tasksite", "mountPath": "/tasksite"} in spec["containers"][0]["volumeMounts"]
    assert "touch /tasksite/tombstone" in result.stderr
    web = pod_spec(deployment)
    assert [c["name"] for c in web["containers"]] == ["app", "tailcar"]
    assert "tailcar-tasksite" not in {v["name"] for v in web["volumes"]}


def test_injecting_twice_changes_nothing_and_says_so():
    once = inject(manifest(), "--log-dir", "/var/log/app")
    twice = inject(once.stdout, "--log-dir", "/var/log/app")
    assert twice.stdout == once.stdout
    assert twice.stderr.count("already has a container named tailcar") == len(KINDS)


def test_a_grace_period_shorter_than_the_stop_delay_is_pointed_out():
    doc = yaml.safe_load(workload("Pod", "quick"))
    doc["spec"]["terminationGracePeriodSeconds"] = 5
    result = inject(yaml.safe_dump(doc), "--log-dir", "/var/log/app", "--stop-delay", "10")
    assert "terminationGracePeriodSeconds 5 does not exceed the sidecar's stop delay 10" in result.stderr
    assert yaml.safe_load(result.stdout)["spec"]["initContainers"][0]["args"] == ["run", "--stop-delay", "10"]


def test_lists_are_injected_item_by_item():
    items = [yaml.safe_load(workload("Deployment", "a")), yaml.safe_load(SERVICE)]
    text = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": items})
    doc = yaml.safe_load(inject(text, "--log-dir", "/var/log/app").stdout)
    assert pod_spec(doc["items"][0])["initContainers"][0]["name"] == "tailcar"
    assert doc["items"][1] == items[1]


@pytest.mark.parametrize("text, args, code, message", [
    (workload("Pod", "p"), ["--log-dir", "var/log"], 2, "absolute"),
    (workload("Pod", "p"), [], 2, "usage"),
    ("kind: Deployment\nmetadata: {name: broken}\nspec: {replicas: 1}\n", ["--log-dir", "/l"], 1,
     "Deployment broken has no pod template at spec.template.spec"),
    ("kind: Pod\nmetadata:\n  name: [unclosed\n", ["--log-dir", "/l"], 1, "stdin:"),
    ("- just\n- a list\n", ["--log-dir", "/l"], 1, "expected a Kubernetes object"),
])
def test_mistakes_are_refused_clearly(text, args, code, message):
    result = inject(text, *args, check=False)
    assert result.returncode == code
    assert message in result.stderr
    assert result.stdout == ""


def test_kubectl_dry_run_accepts_the_injected_manifest(tmp_path):
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed (Debian: kubernetes-client)")
    out = tmp_path / "injected.yaml"
    out.write_text(inject(manifest(), "--log-dir", "/var/log/app").stdout
                   + "---\n" + inject(manifest(), "--log-dir", "/var/log/app", "--classic").stdout)
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "KUBECONFIG": str(tmp_path / "none")}
    server = DiscoveryServer()
    server.groups.setdefault("v1", []).extend([("pods", "Pod", True), ("services", "Service", True)])
    server.groups["apps/v1"] = server.groups.get("apps/v1", []) + [
        ("statefulsets", "StatefulSet", True), ("daemonsets", "DaemonSet", True)]
    server.groups["batch/v1"] = server.groups.get("batch/v1", []) + [("cronjobs", "CronJob", True)]
    try:
        with server:
            result = subprocess.run(["kubectl", "apply", "--dry-run=client", "--validate=false", "--server",
                                     server.url, "-o", "name", "-f", str(out)], capture_output=True, text=True,
                                    env=env, timeout=120)
    finally:
        shutil.rmtree(tmp_path, ignore_errors=True)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) == 2 * (len(KINDS) + 1)
