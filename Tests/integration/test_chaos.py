"""Crash loops through both rotation modes: two applications write sequence-numbered nginx lines at
3,000 lines/s each for 40 s, one rotated by rename and one by copytruncate every 5,000 lines, while the
agent is SIGKILLed and restarted on the same checkpoint directory 20 times, 1 to 3 s apart (a seeded
schedule). Then it runs until everything is delivered and stops with SIGTERM. No sequence number may be
missing; duplicates are allowed (what was acknowledged but not yet checkpointed when a kill came) and
reported. The output is read as raw bytes: a kill may cut flusher_file's last line short, and the
record is then sent again, whole."""

import os
import random
import re
import signal
import subprocess
import time
from pathlib import Path

from tailcar_harness import pipeline_yaml, wait_until

REPO = Path(__file__).resolve().parents[2]
GENERATOR = Path(os.environ.get("TAILCAR_GEN", REPO / ".build" / "debug" / "tailcar-gen"))
LINES = 120_000
RATE = 3_000
KILLS = 20
SEQUENCE = re.compile(rb"seq=(\d+)")


def writer(path, rotate, first_seq):
    return subprocess.Popen([str(GENERATOR), "--log-type=nginx", f"--path={path}", f"--total-count={LINES}",
                             f"--logs-per-sec={RATE}", f"--rotate={rotate}", "--rotate-records=5000",
                             "--rotate-keep=40", f"--first-seq={first_seq}", "--stdout=false"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def delivered(out):
    return {int(n) for n in SEQUENCE.findall(out.read_bytes())} if out.exists() else set()


def test_sigkill_twenty_times_through_rename_and_copytruncate_rotations_loses_no_line(workdir, tailcars):
    out = workdir / "out.jsonl"
    config = pipeline_yaml([workdir / "logs/*.log"], out)
    schedule = random.Random(20261204)
    expected = set(range(1, LINES + 1)) | set(range(1_000_001, 1_000_001 + LINES))
    writers = [writer(workdir / "logs/renamed.log", "rename", 1),
               writer(workdir / "logs/copied.log", "copytruncate", 1_000_001)]
    try:
        agent = tailcars(workdir, config).started()
        for _ in range(KILLS):
            time.sleep(schedule.uniform(1.0, 3.0))  # the chaos schedule itself, not an ordering wait
            agent.process.send_signal(signal.SIGKILL)
            agent.process.wait(timeout=10)
            agent = tailcars(workdir, config).started()
        for process in writers:
            assert process.wait(timeout=120) == 0, process.stderr.read().decode()
        wait_until(lambda: expected <= delivered(out), timeout=60, interval=0.5,
                   what="every sequence number delivered")
        assert agent.stop(signal.SIGTERM) == 0
    finally:
        for process in writers:
            if process.poll() is None:
                process.kill()
                process.wait()
    counts = {}
    for number in SEQUENCE.findall(out.read_bytes()):
        counts[int(number)] = counts.get(int(number), 0) + 1
    missing = expected - set(counts)
    assert not missing, f"{len(missing)} lines lost, first {sorted(missing)[:10]}"
    duplicated = sum(count - 1 for count in counts.values())
    print(f"chaos: {len(expected)} lines, {KILLS} kills, {duplicated} duplicates")
