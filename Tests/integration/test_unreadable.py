"""A file the agent may not open: tailcar runs as an unprivileged user (setpriv, as the image's non-root
user would) beside an application that wrote one log file with mode 0600 as root. That file is reported
once (not once per scan), retried at every scan, and the readable file beside it is collected all the
while; once its mode allows reading it is collected from its first byte."""

import os
import shutil
import subprocess
import time

import pytest

from tailcar_harness import BINARY, content_bytes, pipeline_yaml, read_records, wait_until

NOBODY = 65534


def test_an_unreadable_file_is_reported_once_retried_and_does_not_stop_the_others(workdir):
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.fail("needs root and setpriv (util-linux) to run the agent as another user")
    os.chmod(workdir, 0o755)
    os.chmod(workdir / "logs", 0o777)
    secret = workdir / "logs/secret.log"
    secret.write_bytes(b"s1\ns2\n")
    os.chmod(secret, 0o600)
    open_log = workdir / "logs/open.log"
    open_log.write_bytes(b"o1\n")
    os.chmod(open_log, 0o666)
    out = workdir / "out/records.jsonl"
    (workdir / "out").mkdir(mode=0o777)
    os.chmod(workdir / "out", 0o777)
    (workdir / "checkpoints").mkdir(mode=0o777)
    os.chmod(workdir / "checkpoints", 0o777)
    config = workdir / "pipeline.yaml"
    config.write_text(pipeline_yaml([workdir / "logs/*.log"], out, tailing_all=True))
    os.chmod(config, 0o644)
    stderr_path = workdir / "stderr.log"
    with open(stderr_path, "wb") as stderr:
        agent = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                                  str(BINARY), "run", "--config", str(config), "--checkpoint-dir",
                                  str(workdir / "checkpoints"), "--poll-interval", "0.1", "--http-port", "0"],
                                 stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        contents = lambda: [content_bytes(r) for r in read_records(out)]
        wait_until(lambda: b"o1" in contents(), timeout=15, what="the readable file collected")
        with open(open_log, "ab") as handle:
            handle.write(b"o2\n")
        wait_until(lambda: b"o2" in contents(), timeout=15, what="the readable file still collected")
        scans_before = stderr_path.read_text().count("Permission denied")
        deadline = time.monotonic() + 1.0
        wait_until(lambda: time.monotonic() > deadline, timeout=5, what="ten more scans at 0.1 s")
        log = stderr_path.read_text()
        assert log.count("Permission denied") == 1 == scans_before, log
        assert "secret.log" in log
        os.chmod(secret, 0o644)
        wait_until(lambda: {b"s1", b"s2"} <= set(contents()), timeout=15, what="the file collected once readable")
    finally:
        agent.terminate()
        assert agent.wait(timeout=20) == 0
    assert sorted(contents()) == [b"o1", b"o2", b"s1", b"s2"]
