"""`tailcar regex`: try a pattern on sample lines before deploying it."""

import json
import subprocess

from tailcar_harness import BINARY


def run(pattern, data, *extra):
    return subprocess.run([str(BINARY), "regex", pattern, *extra], input=data, capture_output=True, timeout=30)


def test_each_line_prints_its_captures_with_names_or_null():
    result = run(r"(\S+) (?<path>\S+) (\d+)", b"GET /a 200\nbad line\nPOST /b 500")
    assert result.returncode == 0
    lines = result.stdout.decode().splitlines()
    assert json.loads(lines[0]) == ["GET", {"path": "/a"}, "200"]
    assert lines[1] == "null"
    assert json.loads(lines[2]) == ["POST", {"path": "/b"}, "500"]


def test_search_mode_finds_the_pattern_anywhere_and_bytes_survive():
    result = run(r"id=(\d+)", b"x \xff id=42 y\n", "--search")
    assert result.returncode == 0
    assert json.loads(result.stdout) == ["42"]


def test_an_unsupported_construct_is_an_error_naming_it():
    result = run(r"(?=look)ahead", b"x\n")
    assert result.returncode == 2
    assert b"look" in result.stderr.lower() and result.stdout == b""
