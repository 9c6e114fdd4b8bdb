# test_tail_model.py
#
# Owns the seeded model test: a random sequence of appends, rename rotations, copytruncates, deletions,
# file creations and restarts (SIGTERM, or SIGKILL) runs against real files and a real tailcar, while an
# in-memory model remembers every line written. At the end every line must have been delivered with its
# exact content, and duplicated only if it was written before a SIGKILL. It does not own the harness.
#
# Each line carries a unique sequence number ("s=0000042 f=app1 ...") so a record names its line.
# Fairness rules the model follows (what a collector cannot be asked to do):
#   - a file is renamed away or deleted with unread lines only while the running process is known to
#     hold it open (a line it got from the file since it started was delivered); otherwise the model
#     first waits until the file is caught up;
#   - copytruncate happens only after the file is caught up, and the first line written after it is
#     shorter than the truncated size and is waited for before more are written;
#   - SIGKILL happens only when every rotated or deleted file is caught up (their unread bytes could not
#     be found again by a new process), and nothing is written while no process runs.

import collections
import os
import random
import re
import shutil
import signal
import time

import pytest

from tailcar_process import DELIVERY_TIMEOUT, Records, WaitTimeout, wait_until, write_pipeline

DEFAULT_SEEDS = [1, 2, 3]
OPERATIONS_SECONDS = float(os.environ.get("TAILCAR_MODEL_SECONDS", "15"))
MAX_OPERATIONS = 400
NAMES = ["app0", "app1", "app2", "app3"]
PAD_ALPHABET = bytes(range(0x20, 0x7F)) + b"\t\x00\xff\xc3\xa9\x80"
SEQ = re.compile(rb"^s=(\d{7}) ")


def model_seeds():
    """The default seeds, plus extra ones from TAILCAR_MODEL_SEEDS ("12" = seeds 1..12, "7,9" = those)."""
    params = [pytest.param(s, marks=pytest.mark.model) for s in DEFAULT_SEEDS]
    spec = os.environ.get("TAILCAR_MODEL_SEEDS", "").strip()
    if not spec:
        return params
    extra = range(1, int(spec) + 1) if spec.isdigit() else [int(s) for s in spec.split(",") if s.strip()]
    extra = [s for s in extra if s not in DEFAULT_SEEDS]
    return params + [pytest.param(s, marks=[pytest.mark.model, pytest.mark.model_long]) for s in extra]


class TrackedFile:
    """One file identity (an inode) the model wrote to, wherever its name went."""

    def __init__(self, path):
        self.path = path
        self.seqs = []
        self.size = 0


class Model:
    def __init__(self, rng, workdir, tailcar):
        self.rng = rng
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.tailcar = tailcar
        self.lines = {}  # seq -> exact bytes written (without the newline)
        self.live = {}  # name -> TrackedFile at logs/<name>.log
        self.gone = []  # rotated away or deleted: still to be drained by the process holding them
        self.kill_marks = []  # next_seq at each SIGKILL: lines below a mark may be duplicated
        self.trace = []
        self.next_seq = 0
        self.rotations = 0
        self.incarnation = 0
        self.records = Records()
        self.counts = collections.Counter()
        self.bad = []
        self.seen = 0
        self.process = None
        self.process_start_seq = 0

    # Delivery bookkeeping.

    def poll(self):
        records = self.records.all()
        for record, content in zip(records[self.seen:], self.records.bytes[self.seen:]):
            match = SEQ.match(content)
            if match is None or int(match.group(1)) not in self.lines:
                self.bad.append(content[:120])
                continue
            seq = int(match.group(1))
            self.counts[seq] += 1
            if content != self.lines[seq]:
                self.bad.append(content[:120])
        self.seen = len(records)

    def delivered(self, seqs):
        self.poll()
        return all(self.counts[s] > 0 for s in seqs)

    def wait_delivered(self, seqs, what):
        seqs = list(seqs)
        try:
            wait_until(lambda: self.delivered(seqs), DELIVERY_TIMEOUT, what)
        except WaitTimeout:
            missing = [s for s in seqs if self.counts[s] == 0]
            raise AssertionError(f"{what}: {len(missing)} lines missing, e.g. {missing[:5]}\n{self.story()}")

    def held(self, tracked):
        """True when the running process has delivered a line of this file written since it started."""
        self.poll()
        return any(self.counts[s] > 0 for s in tracked.seqs if s >= self.process_start_seq)

    def ensure_held_or_caught_up(self, tracked):
        if not self.held(tracked):
            self.wait_delivered(tracked.seqs, f"catching up {tracked.path.name}")

    def story(self):
        return "operations (seed trace):\n  " + "\n  ".join(self.trace[-40:])

    # The process.

    def start_process(self):
        self.incarnation += 1
        out = self.workdir / f"out{self.incarnation}.jsonl"
        config = write_pipeline(self.workdir / "pipeline.yaml",
                                [str(self.logs / "*.log")], out=out, tail_all=True)
        self.records.add(out)
        self.process = self.tailcar(f"model{self.incarnation}-").start(config, self.workdir / "checkpoints")
        self.process_start_seq = self.next_seq

    def stop_process(self):
        code, took = self.process.terminate(timeout=20)
        assert code == 0, f"SIGTERM exit code {code}\n{self.story()}"

    # Operations on files.

    def make_line(self, name):
        seq = self.next_seq
        self.next_seq += 1
        pad = bytes(self.rng.choice(PAD_ALPHABET) for _ in range(self.rng.randint(0, 60)))
        line = f"s={seq:07d} f={name} ".encode() + pad
        self.lines[seq] = line
        return seq, line

    def append(self, tracked, name, count, short=False):
        chunk = []
        for _ in range(count):
            seq, line = self.make_line(name)
            if short:
                line = line[:line.index(b" ") + 1]
                self.lines[seq] = line
            tracked.seqs.append(seq)
            chunk.append(line + b"\n")
        data = b"".join(chunk)
        with open(tracked.path, "ab") as f:
            f.write(data)
        tracked.size += len(data)

    def op_append(self):
        if not self.live:
            return self.op_create()
        name = self.rng.choice(sorted(self.live))
        count = self.rng.choice([1, 2, 5, 20, 100, 400])
        self.trace.append(f"append {count} to {name}")
        self.append(self.live[name], name, count)

    def op_create(self):
        free = [n for n in NAMES if n not in self.live]
        if not free:
            return self.op_append()
        name = self.rng.choice(free)
        self.trace.append(f"create {name}")
        self.live[name] = TrackedFile(self.logs / f"{name}.log")
        self.append(self.live[name], name, self.rng.randint(1, 50))

    def op_rotate(self):
        if not self.live:
            return self.op_create()
        name = self.rng.choice(sorted(self.live))
        tracked = self.live.pop(name)
        self.ensure_held_or_caught_up(tracked)
        self.rotations += 1
        target = self.logs / f"{name}.log.{self.rotations}"
        self.trace.append(f"rotate {name} -> {target.name}, create new {name}")
        os.rename(tracked.path, target)
        tracked.path = target
        self.gone.append(tracked)
        self.live[name] = TrackedFile(self.logs / f"{name}.log")
        self.append(self.live[name], name, self.rng.randint(1, 50))

    def op_copytruncate(self):
        candidates = [n for n in sorted(self.live) if self.live[n].size >= 80]
        if not candidates:
            return self.op_append()
        name = self.rng.choice(candidates)
        tracked = self.live[name]
        self.wait_delivered(tracked.seqs, f"catching up {name} before copytruncate")
        self.rotations += 1
        self.trace.append(f"copytruncate {name} -> {name}.log.{self.rotations}")
        shutil.copyfile(tracked.path, self.logs / f"{name}.log.{self.rotations}")
        os.truncate(tracked.path, 0)
        tracked.size = 0
        self.append(tracked, name, 1, short=True)
        self.wait_delivered(tracked.seqs[-1:], f"first line after truncating {name}")

    def op_delete(self):
        if not self.live:
            return self.op_create()
        name = self.rng.choice(sorted(self.live))
        tracked = self.live.pop(name)
        if self.rng.random() < 0.5:
            self.trace.append(f"delete {name} after catching up")
            self.wait_delivered(tracked.seqs, f"catching up {name} before delete")
        else:
            self.trace.append(f"delete {name} without catching up")
            self.ensure_held_or_caught_up(tracked)
        tracked.path.unlink()
        self.gone.append(tracked)

    def op_restart_term(self):
        self.trace.append("restart via SIGTERM")
        self.stop_process()
        self.start_process()

    def op_restart_kill(self):
        for tracked in self.gone:
            self.wait_delivered(tracked.seqs, f"draining {tracked.path.name} before SIGKILL")
        self.trace.append(f"SIGKILL at seq {self.next_seq}, restart")
        self.process.signal(signal.SIGKILL)
        self.process.wait_exit(10)
        self.kill_marks.append(self.next_seq)
        self.start_process()

    OPERATIONS = [
        (op_append, 50), (op_create, 8), (op_rotate, 9), (op_copytruncate, 8),
        (op_delete, 8), (op_restart_term, 4), (op_restart_kill, 4),
    ]

    def run(self):
        self.start_process()
        ops, weights = zip(*self.OPERATIONS)
        deadline = time.monotonic() + OPERATIONS_SECONDS
        for _ in range(MAX_OPERATIONS):
            if time.monotonic() >= deadline:
                break
            self.rng.choices(ops, weights)[0](self)
        self.wait_delivered(sorted(self.lines), "every line written")
        self.stop_process()
        self.poll()

    def check(self):
        story = self.story()
        assert not self.bad, f"records that match no written line: {self.bad[:3]!r}\n{story}"
        missing = [s for s in self.lines if self.counts[s] == 0]
        assert not missing, f"{len(missing)} lines lost, e.g. {missing[:5]}\n{story}"
        for seq, count in self.counts.items():
            kills_after = sum(1 for mark in self.kill_marks if seq < mark)
            assert count <= 1 + kills_after, (
                f"line {seq} delivered {count} times with {kills_after} SIGKILLs after it was written\n{story}")


@pytest.mark.parametrize("seed", model_seeds())
def test_a_random_mix_of_writes_rotations_and_restarts_loses_nothing(seed, tailcar, workdir):
    """Every line written is delivered exactly, and more than once only if a SIGKILL followed it."""
    model = Model(random.Random(seed), workdir, tailcar)
    model.run()
    model.check()
