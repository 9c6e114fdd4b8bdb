"""How tailcar ends and starts again: SIGTERM drains and exits 0 in time, a restart continues from the
acknowledged offsets without loss or duplicates, rotation keeps the old file until its end, and
--exit-when-drained finishes a Job."""

import os
import shutil
import signal
import time

from tailcar_harness import content_bytes, pipeline_yaml, read_records, wait_until


def contents(path):
    return [content_bytes(r) for r in read_records(path)]


def append(path, lines):
    with open(path, "ab") as handle:
        handle.write(b"".join(line + b"\n" for line in lines))


def test_sigterm_delivers_everything_written_before_it_and_exits_zero_within_the_delay(workdir, tailcars):
    out = workdir / "out.jsonl"
    log = workdir / "logs/app.log"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out), "--stop-delay", "5").started()
    lines = [b"line %d" % i for i in range(5000)]
    append(log, lines)
    append(log, [])
    with open(log, "ab") as handle:
        handle.write(b"unterminated")
    started = time.monotonic()
    assert tc.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 5.5
    assert contents(out) == lines + [b"unterminated"]
    assert tc.event_names()[-1] == "agent_stopped"


def test_a_restart_after_sigterm_continues_without_loss_or_duplicates(workdir, tailcars):
    out = workdir / "out.jsonl"
    log = workdir / "logs/app.log"
    config = pipeline_yaml([workdir / "logs/*.log"], out)
    first = tailcars(workdir, config).started()
    append(log, [b"a%d" % i for i in range(100)])
    wait_until(lambda: len(contents(out)) == 100, what="the first batch")
    assert first.stop() == 0
    append(log, [b"b%d" % i for i in range(100)])  # written while tailcar is down
    second = tailcars(workdir, config).started()
    append(log, [b"c%d" % i for i in range(100)])
    wait_until(lambda: len(contents(out)) >= 300, what="all three batches")
    assert second.stop() == 0
    expected = [b"a%d" % i for i in range(100)] + [b"b%d" % i for i in range(100)] + [b"c%d" % i for i in range(100)]
    assert contents(out) == expected


def test_rename_rotation_reads_the_old_file_to_its_end_then_the_new_file(workdir, tailcars):
    out = workdir / "out.jsonl"
    log = workdir / "logs/app.log"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out)).started()
    writer = open(log, "ab", buffering=0)
    writer.write(b"old 1\n")
    wait_until(lambda: contents(out) == [b"old 1"], what="the first line")
    os.rename(log, workdir / "logs/app.log.1")
    writer.write(b"old 2 after rename\n")  # the application has not reopened yet
    writer.close()
    append(log, [b"new 1"])
    wait_until(lambda: sorted(contents(out)) == sorted([b"old 1", b"old 2 after rename", b"new 1"]),
               what="both files")
    assert tc.stop() == 0
    assert "file_rotated" in tc.event_names()


def test_copytruncate_restarts_at_the_first_byte_and_is_counted(workdir, tailcars):
    out = workdir / "out.jsonl"
    log = workdir / "logs/app.log"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out)).started()
    append(log, [b"before %d" % i for i in range(50)])
    wait_until(lambda: len(contents(out)) == 50, what="the lines before the truncate")
    shutil.copy(log, workdir / "logs/app.log.1")
    with open(log, "r+b") as handle:
        handle.truncate(0)
    append(log, [b"after"])
    wait_until(lambda: contents(out)[-1:] == [b"after"], what="the line after the truncate")
    assert tc.stop() == 0
    assert len(contents(out)) == 51
    assert "file_truncated" in tc.event_names() or "file_rewritten" in tc.event_names()


def test_a_deleted_file_is_drained_then_closed(workdir, tailcars):
    out = workdir / "out.jsonl"
    log = workdir / "logs/gone.log"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out)).started()
    append(log, [b"keep me"])
    wait_until(lambda: contents(out) == [b"keep me"], what="the line")
    os.unlink(log)
    tc.wait_event("file_deleted")
    assert tc.stop() == 0


def test_exit_when_drained_exits_zero_once_everything_is_delivered(workdir, tailcars):
    out = workdir / "out.jsonl"
    (workdir / "logs/job.log").write_bytes(b"".join(b"job %d\n" % i for i in range(1000)))
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out, tailing_all=True),
                  "--exit-when-drained", "0.5")
    assert tc.process.wait(timeout=15) == 0
    assert len(contents(out)) == 1000


def test_version_and_help(workdir):
    import subprocess
    from tailcar_harness import BINARY
    version = subprocess.run([str(BINARY), "--version"], capture_output=True, timeout=10)
    assert version.returncode == 0 and version.stdout.startswith(b"tailcar ")
    helped = subprocess.run([str(BINARY), "help"], capture_output=True, timeout=10)
    for word in [b"run", b"check-config", b"--checkpoint-dir", b"--stop-delay", b"--exit-when-drained"]:
        assert word in helped.stdout
    wrong = subprocess.run([str(BINARY), "run", "--config", str(workdir / "missing.yaml")],
                           capture_output=True, timeout=10)
    assert wrong.returncode != 0 and b"missing.yaml" in wrong.stderr


def test_an_idle_file_is_released_then_reopened_by_identity_when_it_grows(workdir, tailcars):
    out = workdir / "out.jsonl"
    log = workdir / "logs/quiet.log"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out), "--idle-close", "0.3").started()
    append(log, [b"before idle"])
    tc.wait_event("file_released")
    append(log, [b"after idle"])
    tc.wait_event("file_reopened")
    wait_until(lambda: contents(out) == [b"before idle", b"after idle"], what="both lines")
    assert tc.stop() == 0


def test_a_file_renamed_while_released_is_reopened_and_drained(workdir, tailcars):
    out = workdir / "out.jsonl"
    log = workdir / "logs/quiet.log"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out), "--idle-close", "0.3").started()
    append(log, [b"one"])
    tc.wait_event("file_released")
    writer = open(log, "ab", buffering=0)
    os.rename(log, workdir / "logs/quiet.log.1")
    writer.write(b"two, written after the rename\n")
    writer.close()
    wait_until(lambda: contents(out) == [b"one", b"two, written after the rename"], what="the rotated line")
    assert tc.stop() == 0
