"""Golden tests for every log type through the real binary: `tailcar parse --config golden/CASE/config.*
--input golden/CASE/<the one *.log>` (run inside the case directory, so `__path__` is the relative input
path) must print exactly golden/CASE/expected.json, one object per record, fields in order. Records whose expected form
has no `__time__` took the read time, which is not compared. Both AliyunLogConfig examples of the seed
(../shared/seed/logtail-sidecar.txt) are here exactly as published: the error-log one parses; the
access-log one must fail with the key-count error, and parses the 11 fields once its key list is corrected
(seed-access-corrected differs from it in that one line).

TAILCAR_REGOLD=1 rewrites the expected files from the binary's output; review the diff before committing."""

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tailcar_harness import BINARY

GOLDEN = Path(__file__).resolve().parent / "golden"
CASES = sorted(d.name for d in GOLDEN.iterdir() if d.is_dir() and any(d.glob("config.*"))
               and d.name != "seed-access-published")


def parse(case_dir, config, input_path):
    if not BINARY.exists():
        pytest.skip(f"tailcar binary not built at {BINARY} (run swift build)")
    return subprocess.run([str(BINARY), "parse", "--config", config, "--input", input_path], cwd=case_dir,
                          capture_output=True, timeout=60)


def only_log(case_dir):
    logs = sorted(p.relative_to(case_dir).as_posix() for p in case_dir.rglob("*.log"))
    assert len(logs) == 1, f"{case_dir} needs exactly one *.log input, has {logs}"
    return logs[0]


@pytest.mark.parametrize("case", CASES)
def test_golden_case(case):
    case_dir = GOLDEN / case
    config = next(case_dir.glob("config.*")).name
    started = time.time()
    result = parse(case_dir, config, only_log(case_dir))
    assert result.returncode == 0, result.stderr.decode()
    actual = [json.loads(line) for line in result.stdout.splitlines()]
    expected_file = case_dir / "expected.json"
    if os.environ.get("TAILCAR_REGOLD") == "1":
        golden = [{k: v for k, v in r.items() if not (k.startswith("__time") and r["__time__"] >= int(started) - 1)}
                  for r in actual]
        expected_file.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
    expected = json.loads(expected_file.read_text())
    assert len(actual) == len(expected), actual
    for got, want in zip(actual, expected):
        if "__time__" not in want:
            got.pop("__time__", None)
            got.pop("__time_ns__", None)
        assert list(got.items()) == list(want.items())


def test_seed_access_example_as_published_fails_naming_file_line_counts_and_the_odd_key():
    case_dir = GOLDEN / "seed-access-published"
    result = parse(case_dir, "config.yaml", "../seed-access-corrected/input.log")
    assert result.returncode == 1 and result.stdout == b""
    assert result.stderr.decode().splitlines() == [
        'config.yaml:35:13: error: spec.logtailConfig.inputDetail.key: the regex has 11 capture groups but 10 keys '
        'are given; the last key is "ser-agent""']


def test_seed_access_example_corrected_gives_the_eleven_keys_of_a_real_line():
    case_dir = GOLDEN / "seed-access-corrected"
    published = (GOLDEN / "seed-access-published" / "config.yaml").read_text().splitlines()
    corrected = (case_dir / "config.yaml").read_text().splitlines()
    assert [i for i, (a, b) in enumerate(zip(published, corrected)) if a != b] == [34]
    result = parse(case_dir, "config.yaml", "input.log")
    assert result.returncode == 0, result.stderr.decode()
    records = [json.loads(line) for line in result.stdout.splitlines()]
    keys = ["time", "ip", "method", "url", "protocol", "latency", "payload", "status", "response-size", "referer",
            "user-agent"]
    assert [[k for k in r if not k.startswith("__")] for r in records] == [keys, keys]


HOSTILE_LINES = [
    b"\xff\xfe invalid UTF-8 \xc3\x28 and a lone continuation \x80",
    b"NUL \x00 inside \x00",
    b'unbalanced "quote, and a , comma',
    b'{"truncated": "json", "n": [1, 2',
    b"",
    b"a" * (10 << 20),
]


@pytest.mark.parametrize("case", [c for c in CASES if not c.startswith("multiline")])
def test_hostile_input_gives_one_record_per_line_or_piece_never_a_crash(case, tmp_path):
    """Invalid UTF-8, NUL, an unbalanced quote, truncated JSON, an empty line and a 10 MB line through
    each configured pipeline: exit 0, and every line (the 10 MB one in 512 KiB pieces) is a record, parsed,
    marked unmatched, or marked dropped."""
    case_dir = GOLDEN / case
    sample = tmp_path / "hostile.log"
    sample.write_bytes(b"\n".join(HOSTILE_LINES) + b"\n")
    result = parse(case_dir, next(case_dir.glob("config.*")).name, str(sample))
    assert result.returncode == 0, result.stderr.decode()[:500]
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(HOSTILE_LINES) - 1 + 20
