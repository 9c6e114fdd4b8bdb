"""The parsers of everything that comes from outside under libFuzzer (Tests/fuzz/build-core-fuzz.sh and
run-core-fuzz.sh): configuration files (YAML and JSON, iLogtail pipelines, AliyunLogConfig resources,
Logtail configs, ilogtail_config.json), HTTP answers from an SLS endpoint, log lines for the JSON and
delimiter parsers, and the Kubernetes API's watch answers to the controller. Each must survive 20 s of mutated input without a crash, a hang or an allocation over
512 MB, and the run must have done real work: many inputs and a growing corpus."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SECONDS = 20


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory):
    if shutil.which("swiftc") is None:
        pytest.fail("swiftc is not on PATH: the fuzz targets are built with it")
    out = tmp_path_factory.mktemp("core-fuzz")
    built = subprocess.run(["bash", str(HERE / "build-core-fuzz.sh"), str(out)], capture_output=True, text=True,
                           timeout=900)
    assert built.returncode == 0, (built.stdout + built.stderr)[-4000:]
    yield out
    shutil.rmtree(out, ignore_errors=True)


@pytest.mark.parametrize("target,minimum_units", [("config", 20_000), ("response", 100_000), ("parser", 100_000),
                                                  ("watch", 20_000)])
def test_outside_input_never_crashes_hangs_or_balloons_under_libfuzzer(build_dir, target, minimum_units):
    result = subprocess.run(["bash", str(HERE / "run-core-fuzz.sh"), str(build_dir), target, str(SECONDS)],
                            capture_output=True, text=True, timeout=SECONDS * 10 + 120)
    report = result.stdout + result.stderr
    assert result.returncode == 0, report[-4000:]
    stats = dict(re.findall(r"stat::(\w+):\s+(\d+)", report))
    assert int(stats["number_of_executed_units"]) > minimum_units, report[-2000:]
    assert int(stats["new_units_added"]) > 50, report[-2000:]
