"""The basic promises of the tail, checked against the real binary: where reading starts, what a line
is, and that no byte is lost or altered on the way to the output."""

import os
import signal

from tailcar_harness import content_bytes, pipeline_yaml, read_records, wait_until


def contents(path):
    return [content_bytes(r) for r in read_records(path)]


def test_a_file_created_after_start_is_collected_from_its_first_byte(workdir, tailcars):
    out = workdir / "out.jsonl"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out)).started()
    (workdir / "logs/new.log").write_bytes(b"first\nsecond\n")
    wait_until(lambda: contents(out) == [b"first", b"second"], what="both lines")
    record = read_records(out)[0]
    assert record["__path__"] == str(workdir / "logs/new.log")
    assert isinstance(record["__time__"], int)
    assert tc.stop() == 0


def test_an_existing_file_is_read_from_its_end_with_tail_size_zero(workdir, tailcars):
    out = workdir / "out.jsonl"
    log = workdir / "logs/app.log"
    log.write_bytes(b"before start\n")
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out, tail_size_kb=0)).started()
    with open(log, "ab") as handle:
        handle.write(b"after start\n")
    wait_until(lambda: contents(out) == [b"after start"], what="only the new line")
    assert tc.stop() == 0
    assert contents(out) == [b"after start"]


def test_an_existing_file_smaller_than_tail_size_is_read_whole_as_logtail_does(workdir, tailcars):
    out = workdir / "out.jsonl"
    (workdir / "logs/app.log").write_bytes(b"old 1\nold 2\n")
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out)).started()
    wait_until(lambda: contents(out) == [b"old 1", b"old 2"], what="the existing lines")
    assert tc.stop() == 0


def test_an_existing_large_file_is_read_from_its_last_tail_size_at_a_line_start(workdir, tailcars):
    out = workdir / "out.jsonl"
    lines = [b"%06d " % i + b"x" * 93 for i in range(30)]  # 100 bytes each with the newline
    (workdir / "logs/app.log").write_bytes(b"\n".join(lines) + b"\n")
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out, tail_size_kb=1)).started()
    wait_until(lambda: len(contents(out)) >= 10, what="the tail")
    assert tc.stop() == 0
    got = contents(out)
    assert got == lines[-len(got):] and 10 <= len(got) <= 11


def test_tailing_all_matched_files_reads_existing_content(workdir, tailcars):
    out = workdir / "out.jsonl"
    (workdir / "logs/app.log").write_bytes(b"x" * 100 + b"\nold\n")
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out, tailing_all=True, tail_size_kb=0)).started()
    wait_until(lambda: contents(out) == [b"x" * 100, b"old"], what="existing lines")
    assert tc.stop() == 0


def test_a_one_byte_file_is_collected(workdir, tailcars):
    out = workdir / "out.jsonl"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out)).started()
    (workdir / "logs/tiny.log").write_bytes(b"\n")
    (workdir / "logs/one.log").write_bytes(b"z")
    wait_until(lambda: sorted(contents(out)) == [b"", b"z"], timeout=15, what="the tiny files")
    assert tc.stop() == 0


def test_crlf_nul_and_invalid_utf8_survive_byte_for_byte(workdir, tailcars):
    out = workdir / "out.jsonl"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out)).started()
    odd = [b"crlf line", b"nul\x00inside", b"bad \xff\xfe utf8 \xc3(", b"tab\tand \"quote\" \\ back", b"\xe6\x97\xa5\xe6\x9c\xac"]
    (workdir / "logs/odd.log").write_bytes(b"crlf line\r\n" + b"\n".join(odd[1:]) + b"\n")
    wait_until(lambda: contents(out) == odd, what="every odd line")
    assert tc.stop() == 0


def test_a_ten_megabyte_line_arrives_in_pieces_whose_concatenation_is_the_line(workdir, tailcars):
    out = workdir / "out.jsonl"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out)).started()
    line = bytes((i * 7) % 26 + 97 for i in range(10 * 1024 * 1024))
    (workdir / "logs/big.log").write_bytes(line + b"\nafter\n")
    wait_until(lambda: contents(out)[-1:] == [b"after"], timeout=30, what="the line after the big one")
    pieces = contents(out)[:-1]
    assert len(pieces) == 20 and all(len(p) == 512 * 1024 for p in pieces)
    assert b"".join(pieces) == line
    assert tc.stop() == 0
    assert tc.event_names().count("line_split") == 19


def test_a_last_line_without_newline_is_sent_after_the_flush_timeout(workdir, tailcars):
    out = workdir / "out.jsonl"
    config = pipeline_yaml([workdir / "logs/*.log"], out, extra_input="    FlushTimeoutSecs: 1\n")
    tc = tailcars(workdir, config).started()
    (workdir / "logs/partial.log").write_bytes(b"complete\nno newline yet")
    wait_until(lambda: contents(out) == [b"complete"], what="the complete line")
    wait_until(lambda: contents(out) == [b"complete", b"no newline yet"], timeout=15, what="the flushed tail")
    assert "incomplete_line_flushed" in tc.event_names()
    assert tc.stop() == 0


def test_double_star_finds_a_new_subdirectory_within_the_depth_and_not_beyond(workdir, tailcars):
    out = workdir / "out.jsonl"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/**/*.log"], out, depth=1)).started()
    (workdir / "logs/a/b").mkdir(parents=True)
    (workdir / "logs/a/in.log").write_bytes(b"depth one\n")
    (workdir / "logs/a/b/out.log").write_bytes(b"depth two\n")
    (workdir / "logs/top.log").write_bytes(b"depth zero\n")
    wait_until(lambda: sorted(contents(out)) == [b"depth one", b"depth zero"], what="files within the depth")
    assert tc.stop() == 0
    assert b"depth two" not in contents(out)


def test_polling_alone_finds_files_and_growth_without_inotify(workdir, tailcars):
    out = workdir / "out.jsonl"
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], out), "--no-inotify").started()
    log = workdir / "logs/polled.log"
    log.write_bytes(b"one\n")
    wait_until(lambda: contents(out) == [b"one"], what="the first line")
    with open(log, "ab") as handle:
        handle.write(b"two\n")
    wait_until(lambda: contents(out) == [b"one", b"two"], what="the appended line")
    assert tc.stop() == 0


def test_the_stdout_flusher_prints_one_json_object_per_record(workdir, tailcars):
    tc = tailcars(workdir, pipeline_yaml([workdir / "logs/*.log"], "stdout")).started()
    (workdir / "logs/s.log").write_bytes(b"to stdout\n")
    wait_until(lambda: tc.stdout_lines, what="a printed record")
    assert tc.stop() == 0
    assert b'"content":"to stdout"' in tc.stdout_lines[0]
