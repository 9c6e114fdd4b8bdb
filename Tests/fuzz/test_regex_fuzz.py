"""The regex engine under libFuzzer for 30 s (Tests/fuzz/run-regex-fuzz.sh): arbitrary patterns on
arbitrary bytes, seeded with real log patterns, must never crash, hang or disagree with PCRE2. The run
must also have done real work: tens of thousands of inputs and a growing corpus."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "run-regex-fuzz.sh"


def test_the_regex_engine_survives_and_agrees_with_pcre2_under_libfuzzer():
    if shutil.which("swiftc") is None:
        pytest.skip("swiftc not on PATH")
    result = subprocess.run(["bash", str(SCRIPT), "30"], capture_output=True, text=True, timeout=600)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-4000:]
    stats = dict(re.findall(r"stat::(\w+):\s+(\d+)", report))
    assert int(stats["number_of_executed_units"]) > 20000, report[-2000:]
    assert int(stats["new_units_added"]) > 100, report[-2000:]
