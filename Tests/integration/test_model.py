"""Seeded model test against the real binary: random appends, rename rotations, copytruncates, deletes,
new files, graceful restarts and SIGKILLs, checked against a record of every line written. Nothing may
be lost; nothing may repeat unless a SIGKILL happened, and then only lines written before the kill.

More seeds: TAILCAR_MODEL_SEEDS=1-50 pytest Tests/integration/test_model.py"""

import os
import random
import shutil
import signal

import pytest

from tailcar_harness import content_bytes, pipeline_yaml, read_records, wait_until


def seeds():
    spec = os.environ.get("TAILCAR_MODEL_SEEDS", "1-3")
    low, _, high = spec.partition("-")
    return list(range(int(low), int(high or low) + 1))


class Model:
    """The application side: files it writes, with every line numbered."""

    def __init__(self, logs):
        self.logs = logs
        self.written = []
        self.handles = {}
        self.rotations = 0

    def append(self, name, count):
        handle = self.handles.get(name)
        if handle is None:
            handle = self.handles[name] = open(self.logs / name, "ab", buffering=0)
        lines = []
        for _ in range(count):
            line = b"%s seq=%d %s" % (name.encode(), len(self.written), b"p" * (len(self.written) % 50))
            self.written.append(line)
            lines.append(line + b"\n")
        handle.write(b"".join(lines))

    def rename_rotate(self, name, late_lines):
        if name not in self.handles:
            return
        self.rotations += 1
        os.rename(self.logs / name, self.logs / f"{name}.{self.rotations}")
        self.append(name, late_lines)  # still the old descriptor
        self.handles.pop(name).close()

    def copy_truncate(self, name):
        if not (self.logs / name).exists():
            return
        self.rotations += 1
        shutil.copy(self.logs / name, self.logs / f"{name}.{self.rotations}")
        with open(self.logs / name, "r+b") as handle:
            handle.truncate(0)

    def delete(self, name):
        handle = self.handles.pop(name, None)
        if handle:
            handle.close()
        if (self.logs / name).exists():
            os.unlink(self.logs / name)

    def close(self):
        for handle in self.handles.values():
            handle.close()


@pytest.mark.parametrize("seed", seeds())
def test_every_line_arrives_through_rotation_restart_and_sigkill(workdir, tailcars, seed):
    rng = random.Random(seed)
    out = workdir / "out.jsonl"
    config = pipeline_yaml([workdir / "logs/*.log"], out)
    model = Model(workdir / "logs")
    tc = tailcars(workdir, config).started()
    killed_at = 0

    def delivered():
        return [content_bytes(r) for r in read_records(out)]

    def caught_up():
        wanted = set(model.written)
        wait_until(lambda: wanted <= set(delivered()), timeout=20, what="the collector to catch up")

    for _ in range(40):
        name = rng.choice(["a.log", "b.log", "c.log"])
        op = rng.choices(["append", "rotate", "truncate", "delete", "restart", "kill"],
                         weights=[10, 2, 1, 1, 1, 1])[0]
        if op == "append":
            model.append(name, rng.randint(1, 200))
        elif op == "rotate":
            caught_up()
            model.rename_rotate(name, rng.randint(0, 5))
            # Lines the application writes through its old descriptor after the rename reach a file no
            # pattern names; a collector killed within milliseconds of the rename cannot know of it.
            caught_up()
        elif op == "truncate":
            # Lines not read yet when logrotate copies come from the copy; but a file the collector never
            # saw with content cannot be told from its copies, so it must have seen this one first.
            caught_up()
            if rng.random() < 0.5 and (workdir / "logs" / name).exists() and (workdir / "logs" / name).stat().st_size:
                model.append(name, rng.randint(1, 200))
            model.copy_truncate(name)
        elif op == "delete":
            caught_up()
            model.delete(name)
        elif op == "restart":
            assert tc.stop(signal.SIGTERM) == 0
            tc = tailcars(workdir, config).started()
        else:
            tc.stop(signal.SIGKILL)
            killed_at = len(model.written)
            tc = tailcars(workdir, config).started()
    caught_up()
    model.close()
    assert tc.stop(signal.SIGTERM) == 0

    got = delivered()
    counts = {}
    for line in got:
        counts[line] = counts.get(line, 0) + 1
    missing = [line for line in model.written if line not in counts]
    assert not missing, f"seed {seed}: {len(missing)} lines lost, e.g. {missing[:3]}"
    may_repeat = set(model.written[:killed_at])
    repeated = [line for line, n in counts.items() if n > 1 and line not in may_repeat]
    assert not repeated, f"seed {seed}: {len(repeated)} lines duplicated, e.g. {repeated[:3]}"
    assert set(counts) <= set(model.written)
