# Tests/container/test_deploy_manifests.py
#
# deploy/kubernetes's own manifests (the classic Job, the native-sidecar Job, the Deployment), their
# `tailcar` container translated mechanically from the YAML (pod_translation.py) and run on the image
# with podman and runc, with pipelines-configmap.yaml's files as the ConfigMap volume. The test plays the
# application (it writes the error log), runs the liveness command with `podman exec`, and stops the
# sidecar with SIGTERM (`podman stop`), as the kubelet does; every line must reach the SLS test receiver
# exactly once with the Downward API tags, and the container must exit 0.
#
# What the test changes, stated: the ConfigMap's `Endpoint: cn-hangzhou.log.aliyuncs.com` becomes the
# receiver's http://127.0.0.1:PORT; the optional Secret tailcar-sls-credentials holds the receiver's
# AccessKey; host networking (the receiver is on the host's 127.0.0.1) with TAILCAR_HTTP_PORT set to a
# free port, because on the host's network the default health port may be taken; this sandbox's ulimits.
import os
import socket
import sys
from pathlib import Path

import pytest

from container_support import REPO, TAG, require_prerequisites, wait_for
from pod_translation import config_maps, liveness_command, pod_spec, run_arguments

sys.path.insert(0, str(REPO / "Tests" / "integration"))
from sls_support import CREDENTIALS, PYTHON, Receiver, numbered, sequence_numbers, wait_for_sequence  # noqa: E402

KUBERNETES = REPO / "deploy" / "kubernetes"
HOST_OPTIONS = ["--network", "host", "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
FIELDS = {"metadata.name": "nginx-log-sidecar-demo-x7k2p", "metadata.namespace": "default",
          "status.podIP": "10.1.2.4", "spec.nodeName": "node-2", "status.hostIP": "192.168.0.8"}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("manifest", ["job-sidecar.yaml", "job-native-sidecar.yaml", "deployment.yaml"])
def test_a_deploy_manifest_delivers_every_line_and_exits_0_on_sigterm(engine, tmp_path, manifest):
    require_prerequisites()
    if not PYTHON.exists():
        pytest.skip("test venv missing (bash scripts/venv.sh)")
    spec = pod_spec(KUBERNETES / manifest)
    pipelines = config_maps(KUBERNETES / "pipelines-configmap.yaml")
    receiver = Receiver(tmp_path)
    volumes = {}
    for volume in spec["volumes"]:
        path = tmp_path / volume["name"]
        path.mkdir()
        if "configMap" in volume:
            for name, text in pipelines[volume["configMap"]["name"]].items():
                (path / name).write_text(text.replace("Endpoint: cn-hangzhou.log.aliyuncs.com",
                                                      f"Endpoint: http://127.0.0.1:{receiver.port}"))
        else:
            path.chmod(0o777)
        volumes[volume["name"]] = path
    name = f"tailcar-deploy-{os.getpid()}"
    arguments = run_arguments(spec, "tailcar", TAG, volumes, FIELDS, refs={"tailcar-sls-credentials": CREDENTIALS})
    try:
        engine.podman("run", "--detach", "--name", name, *HOST_OPTIONS, "--env", f"TAILCAR_HTTP_PORT={free_port()}",
                      *arguments)
        wait_for(lambda: "agent_started" in engine.podman("logs", name, check=False).stderr, "the agent's start")
        error_log = volumes["nginx-log"] / "error.log"
        error_log.write_text(numbered(0, 300))
        wait_for_sequence(receiver, range(300))
        probe = engine.podman("exec", name, *liveness_command(spec, "tailcar"), check=False)
        assert probe.returncode == 0, probe.stdout + probe.stderr
        with open(error_log, "a") as handle:
            handle.write(numbered(300, 100))
        engine.podman("stop", "--time", "30", name, timeout=60)
        code = engine.podman("inspect", name, "--format", "{{.State.ExitCode}}").stdout.strip()
        assert code == "0"
        seen = wait_for_sequence(receiver, range(400), timeout=10)
        assert sorted(seen) == list(range(400)) and len(sequence_numbers(receiver)) == 400
        for group in receiver.groups():
            tags = {key.removeprefix("__tag__:"): value for key, value in group["tags"]}
            assert tags.get("_pod_name_") == FIELDS["metadata.name"] and tags.get("_node_ip_") == "192.168.0.8"
    finally:
        logs = engine.podman("logs", name, check=False)
        print(f"== {manifest} container log:\n{(logs.stdout + logs.stderr)[-3000:]}")
        engine.podman("rm", "--force", "--time", "0", name, check=False)
        receiver.stop()
