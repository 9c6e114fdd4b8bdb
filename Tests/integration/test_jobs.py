"""Jobs: the Logtail sidecar's cornerstone/tombstone handshake on a shared directory. Tailcar writes the
cornerstone once started; when the application writes the tombstone, everything written before it is
delivered exactly once and tailcar exits 0 on its own."""

import os
import signal
import time

from tailcar_harness import content_bytes, pipeline_yaml, read_records, wait_until


def contents(path):
    return [content_bytes(r) for r in read_records(path)]


def append(path, lines, end=b"\n"):
    with open(path, "ab") as handle:
        handle.write(b"".join(line + end for line in lines))


def exit_code_within(tc, seconds):
    """The exit code, once the process ended on its own within `seconds`."""
    try:
        code = tc.process.wait(timeout=seconds)
    except Exception:
        raise AssertionError(f"tailcar still running {seconds}s after the tombstone; events: {tc.event_names()}")
    for thread in tc._threads:
        thread.join(timeout=5)
    return code


def test_the_tombstone_ends_the_run_after_every_line_written_before_it_arrived_once(workdir, tailcars):
    out = workdir / "out.jsonl"
    task = workdir / "tasksite"
    task.mkdir()
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/**/*.log"], out, depth=2),
                  "--task-dir", str(task), "--no-inotify").started()
    wait_until(lambda: (task / "cornerstone").exists(), what="the cornerstone")
    a = [b"a %d" % i for i in range(20000)]
    append(workdir / "logs/a.log", a)
    # Written just before the tombstone: a file in a new directory, and an unterminated last line.
    (workdir / "logs/late").mkdir()
    b = [b"b %d" % i for i in range(300)]
    append(workdir / "logs/late/b.log", b)
    with open(workdir / "logs/a.log", "ab") as handle:
        handle.write(b"last words")
    (task / "tombstone").touch()
    started = time.monotonic()
    assert exit_code_within(tc, 10) == 0
    assert time.monotonic() - started < 10
    got = contents(out)
    assert [line for line in got if line.startswith(b"a ") or line == b"last words"] == a + [b"last words"]
    assert [line for line in got if line.startswith(b"b ")] == b
    assert len(got) == len(a) + len(b) + 1
    names = tc.event_names()
    assert "tombstone_found" in names and names[-1] == "agent_stopped"
    stopped = [e for e in tc.events if e.get("event") == "agent_stopped"][0]
    assert stopped["reason"] == "tombstone" and stopped["unacknowledged_bytes"] == 0


def test_a_tombstone_present_at_start_collects_from_the_checkpoints_and_exits(workdir, tailcars):
    out = workdir / "out.jsonl"
    task = workdir / "tasksite"
    task.mkdir()
    config = pipeline_yaml([workdir / "logs/*.log"], out)
    log = workdir / "logs/app.log"
    first = tailcars(workdir, config, "--task-dir", str(task)).started()
    append(log, [b"first %d" % i for i in range(100)])
    wait_until(lambda: len(contents(out)) == 100, what="the first lines")
    assert first.stop() == 0  # the sidecar container restarts ...
    append(log, [b"second %d" % i for i in range(100)])  # ... while the application finishes
    (task / "tombstone").touch()
    second = tailcars(workdir, config, "--task-dir", str(task))
    assert exit_code_within(second, 10) == 0
    assert contents(out) == [b"first %d" % i for i in range(100)] + [b"second %d" % i for i in range(100)]


def test_sigterm_after_the_tombstone_still_drains_and_exits_zero(workdir, tailcars):
    out = workdir / "out.jsonl"
    task = workdir / "tasksite"
    task.mkdir()
    log = workdir / "logs/app.log"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out), "--task-dir", str(task),
                  "--stop-delay", "5").started()
    lines = [b"x %d" % i for i in range(50000)]
    append(log, lines)
    (task / "tombstone").touch()
    tc.wait_event("tombstone_found")
    tc.process.send_signal(signal.SIGTERM)
    assert exit_code_within(tc, 10) == 0
    assert contents(out) == lines


def test_the_environment_names_the_task_files_and_a_missing_directory_is_reported(workdir, tailcars):
    out = workdir / "out.jsonl"
    env = dict(os.environ, TAILCAR_CORNERSTONE=str(workdir / "nowhere/cornerstone"),
               TAILCAR_TOMBSTONE=str(workdir / "done"))
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out), env=env).started()
    tc.wait_event("cornerstone_failed")
    failed = [e for e in tc.events if e.get("event") == "cornerstone_failed"][0]
    assert "nowhere/cornerstone" in failed["error"]
    append(workdir / "logs/app.log", [b"still collected"])
    (workdir / "done").touch()
    assert exit_code_within(tc, 10) == 0
    assert contents(out) == [b"still collected"]

