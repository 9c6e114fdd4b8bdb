# Tests/container/test_image.py
#
# Builds Tailcar's runtime image offline (scripts/image.sh: host static binary + buildah, FROM scratch)
# and runs it with podman and runc the way a pod runs the sidecar: a log directory, a pipeline config and
# a checkpoint directory mounted, a read-only root filesystem, non-root, no capabilities, no network.
# It checks delivery of every appended line, the env tags, a clean exit 0 on SIGTERM with nothing lost
# or duplicated, a restart on the same checkpoint directory, and the image's content. It does not test
# the binary's features beyond that (the integration tier does) nor the manifests (Tests/deploy).
#
# The image is built once per session (conftest.py, container_support.py), which also skips or, under CI=true, fails the tier
# when buildah, podman, runc or root are missing. The vendor manifests are test_vendor_manifests.py's.
import json
import os
import shutil
import time
from pathlib import Path

import pytest
from container_support import REPO, TAG, wait_for

RUN_OPTIONS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096", "--network", "none",
               "--read-only", "--cap-drop", "all", "--security-opt", "no-new-privileges"]

# The pipeline in the iLogtail YAML form the sidecar is configured with.
PIPELINE = """\
inputs:
  - Type: input_file
    FilePaths: ["/logs/*.log"]
    TailingAllMatchedFiles: true
flushers:
  - Type: flusher_file
    FilePath: /out/records.jsonl
"""


def delivered(out: Path):
    path = out / "records.jsonl"
    if not path.exists():
        return []
    complete = path.read_text(encoding="utf-8", errors="surrogateescape").splitlines(keepends=True)
    return [json.loads(line) for line in complete if line.endswith("\n")]


def append(path: Path, lines):
    with open(path, "a", encoding="utf-8") as handle:
        handle.write("".join(f"{line}\n" for line in lines))


def resident_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


@pytest.fixture()
def pod_dirs(tmp_path):
    dirs = {name: tmp_path / name for name in ("logs", "out", "config", "state")}
    for path in dirs.values():
        path.mkdir()
    for name in ("out", "state"):
        os.chown(dirs[name], 65532, 65532)
    (dirs["config"] / "pipeline.yaml").write_text(PIPELINE)
    yield dirs
    shutil.rmtree(tmp_path, ignore_errors=True)


def start_sidecar(engine, name, dirs):
    """`tailcar run` as the pod runs it: env tags set, logs read-only, output and checkpoints writable."""
    engine.podman(
        "run", "--detach", "--name", name, *RUN_OPTIONS,
        "--env", "ALIYUN_LOG_ENV_TAGS=_pod_name_|_namespace_", "--env", "_pod_name_=demo-pod",
        "--env", "_namespace_=default",
        "--volume", f"{dirs['logs']}:/logs:ro", "--volume", f"{dirs['out']}:/out",
        "--volume", f"{dirs['config']}:/config:ro", "--volume", f"{dirs['state']}:/state",
        TAG, "run", "--config", "/config/pipeline.yaml", "--checkpoint-dir", "/state", "--stop-delay", "10")


def stop_sidecar(engine, name):
    """SIGTERM (podman stop), then the exit code, which must be 0; the container is removed."""
    try:
        engine.podman("stop", "--time", "30", name)
        code = engine.podman("inspect", name, "--format", "{{.State.ExitCode}}").stdout.strip()
        assert code == "0", f"exit code {code}"
    finally:
        print("container log (tail):", engine.podman("logs", name, check=False).stderr[-3000:])
        engine.podman("rm", "--force", "--time", "0", name, check=False)


def test_image_is_static_non_root_and_small(engine):
    inspected = json.loads(engine.podman("image", "inspect", TAG).stdout)[0]
    config = inspected["Config"]
    assert config["User"] == "65532:65532"
    assert config["Entrypoint"] == ["/usr/local/bin/tailcar"]
    assert "PATH=/usr/local/bin:/usr/bin:/bin" in config["Env"]
    assert "TAILCAR_CHECKPOINT_DIR=/var/lib/tailcar" in config["Env"]
    print(f"image size: {inspected['Size']} bytes")
    assert inspected["Size"] < 20_000_000, f"image is {inspected['Size']} bytes"
    mounted = Path(engine.podman("image", "mount", TAG).stdout.strip())
    try:
        state = (mounted / "var/lib/tailcar").stat()
        assert (state.st_uid, state.st_gid) == (65532, 65532)
        assert "tailcar:x:65532:65532:" in (mounted / "etc/passwd").read_text()
        assert sorted(p.name for p in mounted.iterdir()) == ["bin", "etc", "tmp", "usr", "var"]
        assert os.readlink(mounted / "bin/sh") == "busybox" and os.readlink(mounted / "bin/sleep") == "busybox"
        for command in ("usr/local/ilogtail/run_logtail.sh", "etc/init.d/ilogtaild", "etc/init.d/loongcollectord",
                        "usr/local/loongcollector/loongcollector_control.sh"):
            assert os.access(mounted / command, os.X_OK), command
    finally:
        engine.podman("image", "unmount", TAG, check=False)
    shown = engine.podman("run", "--rm", *RUN_OPTIONS, TAG, "version")
    assert shown.stdout.startswith("tailcar ")


def test_sidecar_delivers_every_line_and_stops_cleanly_on_sigterm(engine, pod_dirs):
    logs, out = pod_dirs["logs"], pod_dirs["out"]
    expected = []
    before = [f"app before-start {i:04d}" for i in range(50)]
    append(logs / "app.log", before)
    expected += [("/logs/app.log", line) for line in before]

    name = f"tailcar-test-{os.getpid()}"
    started = time.monotonic()
    start_sidecar(engine, name, pod_dirs)
    try:
        wait_for(lambda: len(delivered(out)) >= len(before), "the lines written before start")
        print(f"container start to first delivery: {time.monotonic() - started:.3f} s")

        appended = [f"app appended {i:04d}" for i in range(200)]
        append(logs / "app.log", appended)
        expected += [("/logs/app.log", line) for line in appended]
        created = [f"worker new-file {i:04d}" for i in range(100)]
        append(logs / "worker.log", created)
        expected += [("/logs/worker.log", line) for line in created]
        wait_for(lambda: len(delivered(out)) >= len(expected), "appended lines and the new file's lines")

        # the liveness probe's plumbing: `tailcar` found through the image's PATH, no shell
        assert engine.podman("exec", name, "tailcar", "version").stdout.startswith("tailcar ")
        if "tailcar status" in engine.podman("exec", name, "tailcar", "help").stdout:
            assert engine.podman("exec", name, "tailcar", "status", check=False).returncode == 0

        pid = int(engine.podman("inspect", name, "--format", "{{.State.Pid}}").stdout)
        rss = resident_kib(pid)
        print(f"tailcar RSS in the container: {rss} KiB")
        assert rss < 30 * 1024, "RSS exceeds the vendor's memory request (30Mi)"

        last = [f"app during-shutdown {i:04d}" for i in range(20)]
        append(logs / "app.log", last)
        expected += [("/logs/app.log", line) for line in last]
    finally:
        stop_sidecar(engine, name)

    records = delivered(out)
    assert sorted((r["__path__"], r["content"]) for r in records) == sorted(expected)
    assert all(r["__tag__:_pod_name_"] == "demo-pod" and r["__tag__:_namespace_"] == "default"
               for r in records)


def test_restarted_sidecar_continues_at_its_checkpoints(engine, pod_dirs):
    """A new container on the same checkpoint directory (the pod's tailcar-state emptyDir after a
    sidecar restart) delivers what was written meanwhile, and nothing twice."""
    logs, out = pod_dirs["logs"], pod_dirs["out"]
    first = [f"app first-run {i:04d}" for i in range(100)]
    append(logs / "app.log", first)
    name = f"tailcar-restart-{os.getpid()}"
    start_sidecar(engine, name, pod_dirs)
    try:
        wait_for(lambda: len(delivered(out)) >= len(first), "the first run's lines")
    finally:
        stop_sidecar(engine, name)

    between = [f"app while-stopped {i:04d}" for i in range(100)]
    append(logs / "app.log", between)
    start_sidecar(engine, name, pod_dirs)
    try:
        wait_for(lambda: len(delivered(out)) >= len(first) + len(between), "the lines written while stopped")
    finally:
        stop_sidecar(engine, name)
    assert [r["content"] for r in delivered(out)] == first + between


def free_port():
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_sidecar_ships_to_the_sls_receiver_and_drains_on_sigterm(engine, pod_dirs):
    """The image as the vendor's sidecar is used: flusher_sls to the SLS test receiver (on the host's
    loopback, so this container shares the host network), credentials from the environment, the
    liveness probe answering, and every line delivered through SIGTERM."""
    import sys
    sys.path.insert(0, str(REPO / "Tests" / "integration"))
    from sls_support import CREDENTIALS, PYTHON, Receiver, numbered, wait_for_sequence

    if not PYTHON.exists():
        pytest.skip("test venv missing (bash scripts/venv.sh)")
    receiver = Receiver(pod_dirs["out"])
    try:
        (pod_dirs["config"] / "pipeline.yaml").write_text(
            "inputs:\n  - Type: input_file\n    FilePaths: [/logs/*.log]\n    TailingAllMatchedFiles: true\n"
            "flushers:\n  - Type: flusher_sls\n"
            f"    Endpoint: http://127.0.0.1:{receiver.port}\n    Project: proj\n    Logstore: store\n")
        append(pod_dirs["logs"] / "app.log", numbered(0, 500).splitlines())
        name = f"tailcar-sls-{os.getpid()}"
        options = [option for option in RUN_OPTIONS if option not in ("--network", "none")]
        engine.podman(
            "run", "--detach", "--name", name, *options, "--network", "host",
            *[arg for key, value in CREDENTIALS.items() for arg in ("--env", f"{key}={value}")],
            "--env", "_pod_ip_=10.1.2.3", "--env", f"TAILCAR_HTTP_PORT={free_port()}",
            "--volume", f"{pod_dirs['logs']}:/logs:ro", "--volume", f"{pod_dirs['config']}:/config:ro",
            "--volume", f"{pod_dirs['state']}:/state",
            TAG, "run", "--config", "/config/pipeline.yaml", "--checkpoint-dir", "/state")
        try:
            wait_for_sequence(receiver, range(0, 500))
            assert engine.podman("exec", name, "tailcar", "status", check=False).returncode == 0
            append(pod_dirs["logs"] / "app.log", numbered(500, 500).splitlines())
        finally:
            stop_sidecar(engine, name)
        seen = wait_for_sequence(receiver, range(0, 1000), timeout=5)
        assert sorted(seen) == list(range(0, 1000))
        assert {group["source"] for group in receiver.groups()} == {"10.1.2.3"}
    finally:
        receiver.stop()
