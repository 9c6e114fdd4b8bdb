# test_tail_rotation.py
#
# Owns one focused integration check per way a log file goes away or changes identity under a running
# tailcar: rename-then-create rotation, copytruncate, deletion and inode reuse. The random mix of all of
# them together with restarts is the model test's job (test_tail_model.py).

import os

import pytest

from tailcar_process import Records, append, write_pipeline


def lines(prefix, count, width=0):
    return [f"{prefix} {i:05d} ".encode() + b"p" * width for i in range(count)]


def joined(items):
    return b"".join(item + b"\n" for item in items)


def start(tailcar, workdir):
    out = workdir / "out.jsonl"
    config = write_pipeline(workdir / "pipeline.yaml", [str(workdir / "logs" / "*.log")], out=out)
    return tailcar().start(config, workdir / "checkpoints"), Records(out)


def test_rename_rotation_reads_the_old_file_to_its_end_and_the_new_one_from_the_start(tailcar, workdir):
    process, records = start(tailcar, workdir)
    path = workdir / "logs" / "app.log"
    first = lines("first", 5)
    append(path, joined(first))
    records.wait_for_contents(first)
    # Written just before the rename: only readable through the old file, whose name no longer matches.
    tail_of_old = lines("old tail", 2000, width=40)
    append(path, joined(tail_of_old))
    os.rename(path, workdir / "logs" / "app.log.1")
    new = lines("new", 5)
    append(path, joined(new))
    records.wait_for_contents(first + tail_of_old + new)
    code, _ = process.terminate(15)
    assert code == 0
    assert sorted(records.contents()) == sorted(first + tail_of_old + new)


def test_copytruncate_restarts_reading_at_zero(tailcar, workdir):
    process, records = start(tailcar, workdir)
    path = workdir / "logs" / "app.log"
    before = lines("before truncate", 50, width=20)
    append(path, joined(before))
    records.wait_for_contents(before)
    (workdir / "logs" / "app.log.1").write_bytes(path.read_bytes())
    os.truncate(path, 0)
    after = [b"a1", b"a2"]
    append(path, joined(after))
    records.wait_for_contents(after)
    more = lines("later", 100, width=30)  # grows the file past the old offset again
    append(path, joined(more))
    records.wait_for_contents(more)
    code, _ = process.terminate(15)
    assert code == 0
    assert records.contents() == before + after + more


def test_a_deleted_file_is_drained_before_it_is_closed(tailcar, workdir):
    process, records = start(tailcar, workdir)
    path = workdir / "logs" / "gone.log"
    head = [b"head"]
    append(path, joined(head))
    records.wait_for_contents(head)
    body = lines("body", 3000, width=40)
    append(path, joined(body))
    path.unlink()
    records.wait_for_contents(head + body)
    code, _ = process.terminate(15)
    assert code == 0
    assert records.contents() == head + body


def test_a_new_file_reusing_a_deleted_inode_is_read_as_new(tailcar, workdir):
    process, records = start(tailcar, workdir)
    path = workdir / "logs" / "reuse.log"
    old = lines("old", 3)
    append(path, joined(old))
    records.wait_for_contents(old)
    path.unlink()
    # Longer than the old file, so only the fingerprint (not a shrink) can tell the files apart.
    new = lines("new generation", 40, width=20)
    append(path, joined(new))
    records.wait_for_contents(new)
    code, _ = process.terminate(15)
    assert code == 0
    assert records.contents() == old + new


def test_a_checkpoint_does_not_apply_to_a_new_file_that_reuses_its_inode(tailcar, workdir):
    """While nothing runs, the file is replaced by one that (usually) gets the same inode number: only the
    fingerprint of its first bytes shows the checkpoint's offset belongs to another file."""
    path = workdir / "logs" / "reuse.log"
    checkpoints = workdir / "checkpoints"
    out1, out2 = workdir / "out1.jsonl", workdir / "out2.jsonl"
    config1 = write_pipeline(workdir / "p1.yaml", [str(workdir / "logs" / "*.log")], out=out1, tail_all=True)
    config2 = write_pipeline(workdir / "p2.yaml", [str(workdir / "logs" / "*.log")], out=out2, tail_all=True)
    old = lines("old", 20, width=20)
    append(path, joined(old))
    records = Records(out1)
    first = tailcar().start(config1, checkpoints)
    records.wait_for_contents(old)
    code, _ = first.terminate(15)
    assert code == 0
    old_inode = path.stat().st_ino
    path.unlink()
    new = lines("new generation", 60, width=20)
    append(path, joined(new))
    if path.stat().st_ino != old_inode:
        pytest.skip("the file system did not reuse the inode, so there is nothing to tell apart")
    records.add(out2)
    second = tailcar().start(config2, checkpoints)
    records.wait_for_contents(new)
    code, _ = second.terminate(15)
    assert code == 0
    assert records.contents() == old + new
