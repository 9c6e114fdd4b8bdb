# test_tail_lifecycle.py
#
# Owns the integration checks of a tailcar process's life: SIGTERM drains and exits 0 within the stop
# delay, checkpoints make a restart after SIGTERM lossless and duplicate-free and one after SIGKILL
# lossless, --exit-when-drained exits by itself, and `--version` / `help` answer.

import collections
import signal
import subprocess
import time

from tailcar_process import Records, append, write_pipeline


def numbered(prefix, start, count):
    return [f"{prefix} {i:06d}".encode() for i in range(start, start + count)]


def joined(items):
    return b"".join(item + b"\n" for item in items)


def pipeline(workdir, out_name, tail_all=False):
    out = workdir / out_name
    # Checkpoints belong to a pipeline, named after its file: every run uses the same pipeline file.
    config = write_pipeline(workdir / "pipeline.yaml", [str(workdir / "logs" / "*.log")],
                            out=out, tail_all=tail_all)
    return config, out


def test_sigterm_exits_zero_within_the_stop_delay_with_everything_delivered(tailcar, workdir):
    config, out = pipeline(workdir, "out.jsonl")
    process = tailcar().start(config, workdir / "checkpoints", stop_delay=5)
    records = Records(out)
    path = workdir / "logs" / "app.log"
    append(path, b"hello\n")
    records.wait_for_contents([b"hello"])
    burst = numbered("burst", 0, 20000)
    append(path, joined(burst))
    code, took = process.terminate(timeout=15)
    assert code == 0
    assert took <= 5 + 1.5, f"stopping took {took:.1f}s with --stop-delay 5"
    assert process.events.named("agent_stopped")
    assert records.contents() == [b"hello"] + burst


def test_sigterm_emits_a_last_line_without_newline(tailcar, workdir):
    config, out = pipeline(workdir, "out.jsonl")
    process = tailcar().start(config, workdir / "checkpoints")
    records = Records(out)
    path = workdir / "logs" / "app.log"
    append(path, b"complete\n")
    records.wait_for_contents([b"complete"])
    append(path, b"unterminated")
    code, _ = process.terminate(timeout=15)
    assert code == 0
    assert records.contents() == [b"complete", b"unterminated"]


def test_a_restart_after_sigterm_loses_and_duplicates_nothing(tailcar, workdir):
    checkpoints = workdir / "checkpoints"
    path = workdir / "logs" / "app.log"
    config1, out1 = pipeline(workdir, "out1.jsonl")
    records = Records(out1)
    first = tailcar().start(config1, checkpoints)
    append(path, joined(numbered("run1", 0, 1)))
    records.wait_for_contents(numbered("run1", 0, 1))
    append(path, joined(numbered("run1", 1, 5000)))
    code, _ = first.terminate(timeout=15)
    assert code == 0
    # Written while nothing runs: the file exists at the next start, so only a checkpoint finds these.
    append(path, joined(numbered("down", 0, 500)))
    config2, out2 = pipeline(workdir, "out2.jsonl")
    records.add(out2)
    second = tailcar().start(config2, checkpoints)
    append(path, joined(numbered("run2", 0, 500)))
    expected = numbered("run1", 0, 5001) + numbered("down", 0, 500) + numbered("run2", 0, 500)
    records.wait_for_contents(expected)
    code, _ = second.terminate(timeout=15)
    assert code == 0
    assert records.contents() == expected


def test_a_restart_after_sigkill_loses_nothing_and_duplicates_only_earlier_lines(tailcar, workdir):
    checkpoints = workdir / "checkpoints"
    path = workdir / "logs" / "app.log"
    config1, out1 = pipeline(workdir, "out1.jsonl")
    records = Records(out1)
    first = tailcar().start(config1, checkpoints)
    append(path, joined(numbered("run1", 0, 1)))
    records.wait_for_contents(numbered("run1", 0, 1))
    before_kill = numbered("run1", 0, 20001)
    append(path, joined(before_kill[1:]))
    first.signal(signal.SIGKILL)
    first.wait_exit(10)
    config2, out2 = pipeline(workdir, "out2.jsonl")
    records.add(out2)
    second = tailcar().start(config2, checkpoints)
    after_kill = numbered("run2", 0, 500)
    append(path, joined(after_kill))
    records.wait_for_contents(before_kill + after_kill)
    code, _ = second.terminate(timeout=15)
    assert code == 0
    counts = collections.Counter(records.contents())
    assert set(counts) == set(before_kill + after_kill), "unexpected records"
    assert all(counts[line] == 1 for line in after_kill), "a line written after the restart was duplicated"
    assert max(counts.values()) <= 2, "a line was delivered more than once per incarnation"


def test_exit_when_drained_exits_zero_once_everything_is_delivered(tailcar, workdir):
    path = workdir / "logs" / "app.log"
    existing = numbered("existing", 0, 3000)
    append(path, joined(existing))
    config, out = pipeline(workdir, "out.jsonl", tail_all=True)
    process = tailcar().start(config, workdir / "checkpoints", exit_when_drained=1, wait_started=False)
    code = process.wait_exit(30)
    assert code == 0
    assert process.events.named("agent_stopped")
    assert Records(out).contents() == existing


def test_version_prints_a_version(binary):
    result = subprocess.run([str(binary), "--version"], capture_output=True, timeout=10)
    assert result.returncode == 0
    assert result.stdout.strip() or result.stderr.strip()


def test_help_lists_the_run_subcommand_and_its_options(binary):
    result = subprocess.run([str(binary), "help"], capture_output=True, timeout=10)
    assert result.returncode == 0
    text = (result.stdout + result.stderr).decode("utf-8", "replace")
    for word in ("run", "--config", "--checkpoint-dir", "--stop-delay", "--exit-when-drained", "--version"):
        assert word in text, f"`tailcar help` does not mention {word}"


def test_exit_when_drained_waits_for_a_quiet_period(tailcar, workdir):
    """It does not exit while files keep changing; it exits after S seconds of quiet."""
    path = workdir / "logs" / "app.log"
    append(path, b"seed\n")
    config, out = pipeline(workdir, "out.jsonl", tail_all=True)
    process = tailcar().start(config, workdir / "checkpoints", exit_when_drained=2)
    records = Records(out)
    written = [b"seed"]
    deadline = time.monotonic() + 4.0
    i = 0
    while time.monotonic() < deadline:  # one append every 0.3 s keeps it busy for 4 s
        line = f"busy {i}".encode()
        append(path, line + b"\n")
        written.append(line)
        i += 1
        assert process.running(), "exited while the file was still growing"
        end = time.monotonic() + 0.3
        while time.monotonic() < end:
            time.sleep(0.05)
    code = process.wait_exit(30)
    assert code == 0
    assert records.contents() == written
