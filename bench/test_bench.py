"""bench/test_bench.py: smoke tests of the benchmark suite (run: python3 -m pytest bench/test_bench.py).

The allocation counter is built and run over a known program; then run.py runs the cheap cases at
1,000 records each with the binaries of $TAILCAR_BIN and $TAILCAR_GEN (else .build/debug, built when
missing), data and scratch files in a pytest tmp_path. No speed is asserted: only that every case runs,
every record arrives and RESULTS.md has its tables."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = os.environ.get("TAILCAR_BIN", str(ROOT / ".build" / "debug" / "tailcar"))
GEN = os.environ.get("TAILCAR_GEN", str(ROOT / ".build" / "debug" / "tailcar-gen"))


@pytest.fixture(scope="module")
def binaries():
    for path, product in [(BIN, "tailcar"), (GEN, "tailcar-gen")]:
        if not os.path.exists(path):
            subprocess.run(["swift", "build", "--product", product], cwd=ROOT, check=True)
    return BIN, GEN


def test_alloccount_counts_a_programs_heap_calls_and_reports_at_exit(tmp_path):
    library = tmp_path / "alloccount.so"
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(ROOT / "bench/alloccount.c")], check=True)
    report = tmp_path / "counts.txt"
    program = ("import ctypes; libc = ctypes.CDLL(None); libc.malloc.restype = ctypes.c_void_p; "
               "libc.free.argtypes = [ctypes.c_void_p]; [libc.free(libc.malloc(64)) for _ in range(5000)]")
    env = dict(os.environ, LD_PRELOAD=str(library), ALLOCCOUNT_OUT=str(report))
    subprocess.run([sys.executable, "-c", program], env=env, check=True)
    counts = dict(item.split("=") for item in report.read_text().split())
    assert set(counts) == {"allocations", "reallocations", "frees", "bytes"}
    assert int(counts["allocations"]) >= 5000 and int(counts["frees"]) >= 5000


def test_every_cheap_case_runs_and_every_record_arrives(binaries, tmp_path):
    output = tmp_path / "RESULTS.md"
    env = dict(os.environ, TAILCAR_BIN=binaries[0], TAILCAR_DYNAMIC_BIN=binaries[0], TAILCAR_GEN=binaries[1],
               TAILCAR_BENCH_DATA=str(tmp_path / "data"))
    cases = ["multiline", "json", "delimiter", "file", "verify", "scale-tree"]  # alloc and live need seconds each
    result = subprocess.run([sys.executable, str(ROOT / "bench/run.py"), *cases, "--runs", "1", "--scale-down",
                             "100000", "--output", str(output)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    text = output.read_text()
    for heading in ["## Throughput", "## Every record arrives", "## Many files"]:
        assert heading in text
    assert "INCOMPLETE" not in text
    assert text.count("| complete |") == 5 + 1


def test_the_regex_engine_case_compares_four_engines_and_counts_no_allocation_per_match(tmp_path):
    program = ROOT / ".build" / "debug" / "regex-bench"
    if not program.exists():
        subprocess.run(["swift", "build", "--product", "regex-bench"], cwd=ROOT, check=True)
    output = tmp_path / "RESULTS.md"
    env = dict(os.environ, REGEX_BENCH_BIN=str(program), TAILCAR_BIN=BIN, TAILCAR_BENCH_DATA=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, str(ROOT / "bench/run.py"), "regex-engine", "--runs", "1",
                             "--scale-down", "200", "--output", str(output)], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line for line in output.read_text().splitlines() if line.startswith("| ") and "×" in line]
    assert [row.split(" | ")[0] for row in rows] == ["| seed nginx", "| nginx combined", "| log4j", "| syslog 3164"]
    assert all(row.endswith("| 0.0000 (all patterns) |") for row in rows), rows


def test_the_sink_cases_count_every_record_at_the_otlp_receiver_and_in_clickhouse(binaries, tmp_path):
    output = tmp_path / "RESULTS.md"
    env = dict(os.environ, TAILCAR_BIN=binaries[0], TAILCAR_GEN=binaries[1], TAILCAR_BENCH_DATA=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, str(ROOT / "bench/run.py"), "otlp", "clickhouse", "--runs", "1",
                             "--scale-down", "100000", "--output", str(output)], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr
    rows = [line for line in output.read_text().splitlines() if "flusher_otlp" in line or "flusher_clickhouse" in line]
    assert len(rows) == 5, rows
    assert all("skipped" not in row and ("× gzip -1" in row or "× lz4 -1" in row) for row in rows), rows
    assert sum("every record counted" in row for row in rows) == 2
    assert sum("every row counted" in row for row in rows) == 3
