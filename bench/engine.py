"""bench/engine.py: the regex engine on its own (issue 3). `regex-engine` runs bench/regex (regex-bench):
TailcarRegex, PCRE2-JIT, the PCRE2 interpreter and Swift Regex on the same lines, whole-record match, in
interleaved rounds of 0.3 CPU-seconds; then counts TailcarRegex's heap calls per match under
bench/alloccount.c. A case is a function (binary, runs, rows) appending (table, cells) rows, as in run.py."""

import json
import os
import subprocess
import tempfile
from pathlib import Path

from benchlib import REPO, settings, summary
from profiles import alloc_counts, alloc_library

ENGINE = "engine"
TABLES = {
    ENGINE: ("Regex engine alone (bench/regex: whole-record match on the same lines, MB per CPU-second, "
             "median of interleaved rounds)",
             ["pattern", "TailcarRegex", "PCRE2-JIT", "PCRE2 interpreter", "Swift Regex", "vs JIT", "vs interpreter",
              "allocations per match"]),
}
ENGINES = ["tailcar", "pcre2-jit", "pcre2-interpreter", "swift-regex"]


def regex_bench():
    """regex-bench, dynamically linked release build (its malloc calls can be counted); REGEX_BENCH_BIN
    overrides."""
    if os.environ.get("REGEX_BENCH_BIN"):
        return Path(os.environ["REGEX_BENCH_BIN"])
    subprocess.run(["swift", "build", "-c", "release", "--product", "regex-bench"], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    return REPO / ".build/release/regex-bench"


def allocations_per_match(binary, matches):
    """(allocations of about N matches per pattern − those of 0 matches) / the matches made."""
    with tempfile.TemporaryDirectory(prefix="tailcar-regex-alloc-") as work:
        library = alloc_library(work)
        counted = []
        for count in (0, matches):
            out = Path(work) / f"alloc-{count}.txt"
            result = subprocess.run([str(binary), "--alloc-matches", str(count)], check=True, capture_output=True,
                                    text=True, env=dict(os.environ, LD_PRELOAD=str(library), ALLOCCOUNT_OUT=str(out)))
            counted.append((alloc_counts(out), json.loads(result.stdout)))
        (empty, _), (full, shape) = counted
        total = shape["matches"]
        return (full["allocations"] - empty["allocations"]) / total


def case_regex_engine(binary, runs, rows):
    """regex-bench with `runs` rounds per cell (0.3 s each; 0.02 s when scaled down), then allocations per
    match over 200,000 matches per pattern."""
    program = regex_bench()
    seconds = "0.3" if settings["divisor"] == 1 else "0.02"
    result = subprocess.run([str(program), "--rounds", str(max(3, runs)), "--round-seconds", seconds], check=True,
                            capture_output=True, text=True)
    cells = {}
    for line in result.stdout.splitlines():
        entry = json.loads(line)
        cells.setdefault(entry["pattern"], {})[entry["engine"]] = entry["rounds"]
    per_match = allocations_per_match(program, 200000)
    for pattern, by_engine in cells.items():
        medians = {name: sorted(values)[len(values) // 2] for name, values in by_engine.items()}
        ours = medians["tailcar"]
        rows.append((ENGINE, (pattern, *[summary(by_engine[name], "{:.0f}") for name in ENGINES],
                              f"{ours / medians['pcre2-jit']:.2f}×", f"{ours / medians['pcre2-interpreter']:.2f}×",
                              f"{per_match:.4f} (all patterns)")))


CASES = {"regex-engine": case_regex_engine}
