# test_tail_basics.py
#
# Owns the integration checks of what one running tailcar collects from real files: where reading
# starts, how lines are split and encoded, oversized and unterminated lines, `**` discovery with a depth
# limit, and the stdout flusher. Rotation, lifecycle and the model test live in their own files.

import json
import random
import time

from tailcar_process import (JsonLinesFile, Records, append, content_bytes, wait_until,
                             write_pipeline)

PIECE = 512 * 1024


def start(tailcar, workdir, pattern=None, **pipeline):
    out = workdir / "out.jsonl"
    config = write_pipeline(workdir / "pipeline.yaml", [pattern or str(workdir / "logs" / "*.log")],
                            out=out, **pipeline)
    process = tailcar().start(config, workdir / "checkpoints")
    return process, Records(out)


def test_a_file_created_after_start_is_collected_from_byte_zero(tailcar, workdir):
    process, records = start(tailcar, workdir)
    path = workdir / "logs" / "new.log"
    before = int(time.time())
    append(path, b"first\nsecond\nthird\n")
    records.wait_for_contents([b"first", b"second", b"third"])
    assert records.contents() == [b"first", b"second", b"third"]
    for record in records.all():
        assert record["__path__"] == str(path)
        assert isinstance(record["__time__"], int)
        assert before - 5 <= record["__time__"] <= int(time.time()) + 5


def test_an_existing_file_is_read_from_its_end(tailcar, workdir):
    path = workdir / "logs" / "old.log"
    append(path, b"written before start 1\nwritten before start 2\n")
    process, records = start(tailcar, workdir, tail_size_kb=0)
    append(path, b"written after start\n")
    records.wait_for_contents([b"written after start"])
    code, _ = process.terminate(15)
    assert code == 0
    assert records.contents() == [b"written after start"]


def test_tailing_all_matched_files_reads_existing_content(tailcar, workdir):
    path = workdir / "logs" / "old.log"
    append(path, b"existing 1\nexisting 2\n")
    process, records = start(tailcar, workdir, tail_all=True)
    append(path, b"appended\n")
    records.wait_for_contents([b"existing 1", b"existing 2", b"appended"])
    assert records.contents() == [b"existing 1", b"existing 2", b"appended"]


def test_a_one_byte_file_is_collected(tailcar, workdir):
    process, records = start(tailcar, workdir)
    append(workdir / "logs" / "tiny.log", b"x")
    records.wait_for_contents([b"x"], timeout=25)
    assert records.contents() == [b"x"]


def test_crlf_line_endings_are_stripped(tailcar, workdir):
    process, records = start(tailcar, workdir)
    append(workdir / "logs" / "dos.log", b"alpha\r\nbeta\r\ngamma\n")
    records.wait_for_count(3)
    assert records.contents() == [b"alpha", b"beta", b"gamma"]


def test_nul_bytes_and_invalid_utf8_round_trip_exactly(tailcar, workdir):
    every_byte = bytes(b for b in range(256) if b not in (0x0A,))
    lines = [
        b"nul\x00in\x00the\x00middle",
        b"lone \xff\xfe bytes, truncated \xc3, overlong \xc0\xaf, surrogate \xed\xa0\x80",
        "valid UTF-8 stays: h\u00e9llo \u4e16\u754c \U0001F600".encode("utf-8"),
        every_byte,
        b"\x80",
    ]
    process, records = start(tailcar, workdir)
    append(workdir / "logs" / "bytes.log", b"".join(line + b"\n" for line in lines))
    records.wait_for_count(len(lines))
    assert records.contents() == lines
    raw = (workdir / "out.jsonl").read_bytes()
    raw.decode("utf-8")  # strict: the output itself must be valid UTF-8
    assert b"\\u0000" in raw


def test_a_ten_megabyte_line_arrives_as_twenty_pieces(tailcar, workdir):
    rng = random.Random(10)
    alphabet = b"abcdefghijklmnopqrstuvwxyz0123456789"
    line = bytes(rng.choice(alphabet) for _ in range(20 * PIECE))
    process, records = start(tailcar, workdir)
    path = workdir / "logs" / "huge.log"
    append(path, line + b"\nafter the huge line\n")
    records.wait_for_contents([b"after the huge line"], timeout=60)
    contents = records.contents()
    assert contents[-1] == b"after the huge line"
    pieces = contents[:-1]
    assert [len(p) for p in pieces] == [PIECE] * 20
    assert b"".join(pieces) == line


def test_a_last_line_without_newline_arrives_after_the_timeout(tailcar, workdir):
    process, records = start(tailcar, workdir)
    append(workdir / "logs" / "partial.log", b"complete\nno newline yet")
    records.wait_for_contents([b"complete"])
    seen_complete = time.monotonic()
    # The partial line must not be emitted while it might still grow; within the 5 s it must wait,
    # two seconds are safely too early.
    while time.monotonic() - seen_complete < 2.0:
        assert b"no newline yet" not in records.contents()
        time.sleep(0.1)
    records.wait_for_contents([b"no newline yet"], timeout=20)
    assert records.contents() == [b"complete", b"no newline yet"]


def test_double_star_finds_new_subdirectories_within_the_depth_limit(tailcar, workdir):
    logs = workdir / "logs"
    process, records = start(tailcar, workdir, pattern=str(logs / "**" / "*.log"), max_depth=2)
    too_deep = logs / "a" / "b" / "c"
    too_deep.mkdir(parents=True)
    append(too_deep / "deep.log", b"three levels down\n")
    within = logs / "x" / "y"
    within.mkdir(parents=True)
    append(within / "ok.log", b"two levels down\n")
    records.wait_for_contents([b"two levels down"])
    # New files are found within 1 s; give the too-deep one three times that to be wrongly found.
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        assert b"three levels down" not in records.contents()
        time.sleep(0.1)
    assert records.contents() == [b"two levels down"]
    assert records.all()[0]["__path__"] == str(within / "ok.log")


def test_the_stdout_flusher_prints_one_json_record_per_line(tailcar, workdir):
    config = write_pipeline(workdir / "pipeline.yaml", [str(workdir / "logs" / "*.log")], flusher="stdout")
    process = tailcar().start(config, workdir / "checkpoints")
    path = workdir / "logs" / "s.log"
    append(path, b"to stdout 1\nto stdout 2\n")
    stdout = JsonLinesFile(process.stdout_path)

    def delivered():
        stdout.poll()
        return [content_bytes(r) for r in stdout.items if "content" in r] == [b"to stdout 1", b"to stdout 2"]
    wait_until(delivered, 20, "two records on stdout")
    assert all(r["__path__"] == str(path) for r in stdout.items)
    code, _ = process.terminate(15)
    assert code == 0


def test_every_stderr_line_is_a_json_event(tailcar, workdir):
    process, records = start(tailcar, workdir)
    append(workdir / "logs" / "e.log", b"one\n")
    records.wait_for_contents([b"one"])
    code, _ = process.terminate(15)
    assert code == 0
    lines = [l for l in process.stderr_path.read_bytes().split(b"\n") if l.strip()]
    events = [json.loads(l) for l in lines]
    assert all(isinstance(e, dict) and "event" in e for e in events)
    names = [e["event"] for e in events]
    assert names.count("agent_started") == 1
    assert "agent_stopped" in names
