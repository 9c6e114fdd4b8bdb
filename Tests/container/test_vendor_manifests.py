# Tests/container/test_vendor_manifests.py
#
# The three documented vendor sidecar manifests (manifests/*.yaml: the seed's Job with
# `run_logtail.sh 10`, the Logtail signal-file sidecar, the LoongCollector signal-file sidecar), each
# sidecar container translated mechanically from its YAML (pod_translation.py) and run on Tailcar's image
# with podman and runc, the scripts' text and sleeps unchanged. The test plays the application: it writes
# the log lines into the shared volume and, for the signal-file forms, waits for the cornerstone and
# touches the tombstone; the seed's sidecar gets SIGTERM (`podman stop`). Each liveness command runs with
# `podman exec`. Every line must reach the SLS test receiver exactly once, tagged with the Downward API
# values, and the container must exit 0.
#
# What the test adds to each manifest, as a user must (README "Migrating from the Logtail sidecar"):
#   - an AccessKey in the environment (Tailcar signs its requests; the vendor agent used its own identity)
#   - the region's ilogtail_config.json at the manifest's ALIYUN_LOGTAIL_CONFIG path, pointing at the
#     receiver (the vendor image ships one per region), in the Logtail format for the first two and the
#     LoongCollector format for the third
#   - the collection config, an AliyunLogConfig for machine group nginx-log-sidecar, at /etc/tailcar/conf.d
#     (the vendor agent fetches it from the SLS control plane)
#   - host networking (the receiver listens on the host's 127.0.0.1) and the ulimits this sandbox's runc needs
# The three containers run concurrently (the scripts sleep 10 to 45 s); the tests finish them in turn.
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from container_support import REPO, TAG, require_prerequisites, wait_for
from pod_translation import container, liveness_command, pod_spec, run_arguments

sys.path.insert(0, str(REPO / "Tests" / "integration"))
from sls_support import CREDENTIALS, PYTHON, Receiver, numbered, sequence_numbers, wait_for_sequence  # noqa: E402

MANIFESTS = Path(__file__).parent / "manifests"
HOST_OPTIONS = ["--network", "host", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
LINES = 400

COLLECTION = """\
apiVersion: log.alibabacloud.com/v1alpha1
kind: AliyunLogConfig
metadata:
  name: nginx-log-access
spec:
  project: k8s-nginx-sidecar-demo
  logstore: nginx-access
  machineGroups: [nginx-log-sidecar]
  logtailConfig:
    inputType: file
    configName: nginx-log-access
    inputDetail:
      logType: common_reg_log
      logPath: /var/log/nginx
      filePattern: access.log
      dockerFile: false
"""

FORMS = {
    "seed": ("seed-job.yaml", "logtail", "logtail"),
    "logtail": ("logtail-signal-file.yaml", "logtail", "logtail"),
    "loongcollector": ("loongcollector-signal-file.yaml", "loongcollector", "loongcollector"),
}


def region_config(endpoint, loongcollector):
    if loongcollector:
        return yaml.safe_dump({"primary_region": "cn-hangzhou",
                               "data_servers": [{"region": "cn-hangzhou", "endpoint_list": [endpoint]}]})
    return yaml.safe_dump({"config_server_address": "http://logtail.cn-hangzhou.log.aliyuncs.com",
                           "data_server_list": [{"cluster": "cn-hangzhou", "endpoint": endpoint}]})


class Pod:
    """One manifest's sidecar container with its volumes on the host and its own receiver."""

    def __init__(self, engine, form, base: Path):
        manifest, container_name, self.kind = FORMS[form]
        self.engine, self.form, self.base = engine, form, base
        self.spec = pod_spec(MANIFESTS / manifest)
        self.container_name = container_name
        self.name = f"tailcar-{form}-{os.getpid()}"
        self.fields = {"metadata.name": f"{form}-pod-7d9f", "metadata.namespace": "default",
                       "status.podIP": "10.1.2.3", "spec.nodeName": "node-1", "status.hostIP": "192.168.0.7"}
        self.volumes = {}
        for volume in self.spec.get("volumes", []):
            if "hostPath" in volume:
                self.volumes[volume["name"]] = volume["hostPath"]["path"]
            else:
                path = base / volume["name"]
                path.mkdir()
                path.chmod(0o777)
                self.volumes[volume["name"]] = path
        self.receiver = Receiver(base)
        self.started = None

    @property
    def logs(self) -> Path:
        return Path(self.volumes["app-log" if "app-log" in self.volumes else "nginx-log"])

    @property
    def tasksite(self) -> Path:
        return Path(self.volumes["tasksite"])

    def additions(self, env):
        """The test's additions (see the header): credentials, region file, collection config."""
        config_path = env["ALIYUN_LOGTAIL_CONFIG"]
        region = self.base / "region"
        region.mkdir()
        (region / "ilogtail_config.json").write_text(
            region_config(f"http://127.0.0.1:{self.receiver.port}", self.kind == "loongcollector"))
        conf = self.base / "conf.d"
        conf.mkdir()
        (conf / "nginx-log-access.yaml").write_text(COLLECTION)
        credentials = [a for key, value in CREDENTIALS.items() for a in ("--env", f"{key}={value}")]
        return [*HOST_OPTIONS, *credentials, "--volume", f"{region}:{Path(config_path).parent}:ro",
                "--volume", f"{conf}:/etc/tailcar/conf.d:ro"]

    def start(self):
        arguments = run_arguments(self.spec, self.container_name, TAG, self.volumes, self.fields)
        env = {variable["name"]: variable.get("value")
               for variable in container(self.spec, self.container_name).get("env", [])}
        self.engine.podman("run", "--detach", "--name", self.name, *self.additions(env), *arguments)
        self.started = time.monotonic()

    def log_text(self):
        result = self.engine.podman("logs", self.name, check=False)
        return result.stdout + result.stderr

    def liveness(self):
        return self.engine.podman("exec", self.name, *liveness_command(self.spec, self.container_name), check=False)

    def exit_code(self, timeout):
        waited = self.engine.podman("wait", self.name, timeout=timeout)
        return int(waited.stdout.strip().splitlines()[-1])

    def write(self, start, count):
        with open(self.logs / "access.log", "a", encoding="utf-8") as handle:
            handle.write(numbered(start, count))

    def check_delivery(self):
        seen = wait_for_sequence(self.receiver, range(LINES), timeout=10)
        assert sorted(seen) == list(range(LINES)), "a line arrived twice"
        assert len(sequence_numbers(self.receiver)) == LINES
        expected = {"_pod_name_": self.fields["metadata.name"], "_pod_ip_": "10.1.2.3", "_namespace_": "default",
                    "_node_name_": "node-1", "_node_ip_": "192.168.0.7"}
        for group in self.receiver.groups():
            tags = {key.removeprefix("__tag__:"): value for key, value in group["tags"]}
            assert {key: tags.get(key) for key in expected} == expected, group["tags"]

    def remove(self):
        print(f"== {self.form} container log:\n{self.log_text()[-4000:]}")
        self.engine.podman("rm", "--force", "--time", "0", self.name, check=False)
        self.receiver.stop()


@pytest.fixture(scope="module")
def pods(engine, tmp_path_factory):
    require_prerequisites()
    if not PYTHON.exists():
        pytest.skip("test venv missing (bash scripts/venv.sh)")
    started = {}
    try:
        for form in FORMS:
            pod = Pod(engine, form, tmp_path_factory.mktemp(form))
            started[form] = pod
            pod.start()
        yield started
    finally:
        for pod in started.values():
            pod.remove()
            shutil.rmtree(pod.base, ignore_errors=True)


def test_the_seed_job_runs_run_logtail_and_drains_on_sigterm(pods):
    pod = pods["seed"]
    wait_for(lambda: "agent_started" in pod.log_text(), "the agent's start", timeout=30)
    pod.write(0, 300)
    wait_for_sequence(pod.receiver, range(300))
    probe = pod.liveness()
    assert (probe.returncode, probe.stdout.strip()) == (0, "ilogtail is running"), probe.stderr
    pod.write(300, LINES - 300)
    pod.engine.podman("stop", "--time", "30", pod.name, timeout=60)
    assert pod.exit_code(timeout=30) == 0
    pod.check_delivery()


@pytest.mark.parametrize("form,running", [("logtail", "ilogtail is running"),
                                          ("loongcollector", "loongcollector is running")])
def test_a_signal_file_sidecar_collects_until_the_tombstone_and_exits_0(pods, form, running):
    pod = pods[form]
    wait_for(lambda: (pod.tasksite / "cornerstone").exists(), "the cornerstone", timeout=60)
    probe = pod.liveness()
    assert (probe.returncode, probe.stdout.strip()) == (0, running), probe.stderr
    if form == "logtail":
        # its TZ=Asia/Shanghai is found in the image's zoneinfo
        assert pod.engine.podman("exec", pod.name, "date", "+%z").stdout.strip() == "+0800"
    pod.write(0, 300)
    wait_for_sequence(pod.receiver, range(300))
    pod.write(300, LINES - 300)
    (pod.tasksite / "tombstone").touch()
    assert pod.exit_code(timeout=90) == 0
    pod.check_delivery()
    assert "stop successfully" in pod.log_text()

