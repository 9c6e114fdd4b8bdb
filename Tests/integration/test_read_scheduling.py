"""When reads happen, checked against the real binary: lines written one write(2) at a time all arrive
through the read delay, a quarter MiB waiting is read without waiting for the delay, a line written
during a long delay is read when it ends, and --max-bytes-per-sec (or the vendor's max_bytes_per_sec) spreads a backlog out (with bounds
generous enough for a busy machine; speed itself is measured in bench/)."""

import os
import re
import socket
import subprocess
import time
import urllib.request

import pytest

from tailcar_harness import BINARY, content_bytes, pipeline_yaml, read_records, wait_until


def contents(path):
    return [content_bytes(r) for r in read_records(path)]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
    assert match, f"{name} missing from /metrics"
    return float(match.group(1))


def test_lines_written_one_write_at_a_time_all_arrive_in_order(workdir, tailcars):
    out = workdir / "out.jsonl"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out)).started()
    lines = [b"line %04d of a request-by-request application" % i for i in range(500)]
    fd = os.open(workdir / "logs/app.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        for line in lines:
            os.write(fd, line + b"\n")
    finally:
        os.close(fd)
    wait_until(lambda: len(contents(out)) >= len(lines), timeout=15, what="every line")
    assert tc.stop() == 0
    assert contents(out) == lines


def test_a_quarter_mebibyte_waiting_is_read_at_once_and_a_small_write_when_the_delay_ends(workdir, tailcars):
    out = workdir / "out.jsonl"
    # Polling every 5 s, so for the first seconds only inotify and the read delay decide when a read happens.
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out), "--read-delay", "3",
                  "--poll-interval", "5").started()
    log = workdir / "logs/app.log"
    log.write_bytes(b"")
    wait_until(lambda: tc.events_named("file_opened"), what="the empty file opened")
    big = [b"%05d " % i + b"b" * 250 for i in range(1100)]  # 282 KiB: over the read-at-once threshold
    with open(log, "ab") as handle:
        handle.write(b"\n".join(big) + b"\n")
    wait_until(lambda: len(contents(out)) == len(big), timeout=2.5, what="the backlog, before the 3 s delay and the poll")
    with open(log, "ab") as handle:
        handle.write(b"small\n")
    wait_until(lambda: contents(out)[-1:] == [b"small"], timeout=15, what="the small line, when the delay ends")
    assert tc.stop(timeout=30) == 0
    assert contents(out) == big + [b"small"]


@pytest.mark.parametrize("source,rate,count", [("option", 400_000, 12_000), ("vendor variable", 1_048_576, 32_000)])
def test_a_backlog_is_read_no_faster_than_max_bytes_per_sec(workdir, tailcars, source, rate, count):
    """--max-bytes-per-sec, or the vendor's max_bytes_per_sec variable (at its minimum, 1 MiB/s)."""
    out = workdir / "out.jsonl"
    lines = [b"%06d " % i + b"r" * 92 for i in range(count)]  # 100 bytes each
    total = len(lines) * 100
    (workdir / "logs/app.log").write_bytes(b"\n".join(lines) + b"\n")
    port = free_port()
    started = time.monotonic()
    config = pipeline_yaml([workdir / "logs/*.log"], out, tailing_all=True)
    if source == "option":
        tc = tailcars(workdir, config, "--max-bytes-per-sec", str(rate), "--http-port", str(port)).started()
    else:
        env = {**os.environ, "max_bytes_per_sec": str(rate)}
        tc = tailcars(workdir, config, "--http-port", str(port), env=env).started()
    # The bucket holds a tenth of a second of bytes; whatever the machine's speed, reading may never get
    # ahead of that burst plus the rate times the time since the process was launched.
    samples = 0
    while True:
        read = metric(port, "tailcar_bytes_read_total")
        # Taken after the answer: on a loaded machine the request itself may take a while, and the count is
        # bounded by the time it was read at, which is before now.
        elapsed = time.monotonic() - started
        assert read <= rate / 10 + rate * elapsed + 4096, f"{read} bytes read after {elapsed:.2f} s"
        samples += 1
        if read >= total:
            break
        assert elapsed < 60, "the backlog was not read within 60 s"
        time.sleep(0.05)  # the sampling interval of the rate check
    assert time.monotonic() - started >= 2.0
    assert samples >= 10
    assert metric(port, "tailcar_read_throttled_seconds_total") > 1.0
    wait_until(lambda: len(contents(out)) == len(lines), timeout=15, what="every record")
    assert tc.stop() == 0
    assert contents(out) == lines


def test_max_bytes_per_sec_must_be_a_positive_number(workdir):
    (workdir / "p.yaml").write_text(pipeline_yaml([workdir / "logs/*.log"], workdir / "out.jsonl"))
    for value in ["0", "-5", "lots"]:
        result = subprocess.run([str(BINARY), "run", "--config", str(workdir / "p.yaml"), "--checkpoint-dir",
                                 str(workdir / "state"), "--max-bytes-per-sec", value], capture_output=True, timeout=10)
        assert result.returncode == 2
        assert b"--max-bytes-per-sec" in result.stderr
