"""`tailcar bench` enforces a budget the same way through a child cgroup and through podman: the same
stub pipeline (processor_test_burn_cpu, 1 ms of CPU per record, test only) at 0.1 CPU and 32 MiB, searched
once with --backend cgroup and once with --backend podman on the image conftest.py built; the two rates
must agree within 15%. Both runs use the image's static binary (the host copy for the cgroup run)."""

import json
import os
import subprocess
from pathlib import Path

import pytest

from container_support import REPO, TAG

BURN_MICROSECONDS = 1000


def static_binary():
    return Path(os.environ.get("TAILCAR_STATIC_BIN", REPO / ".build-static/release/tailcar"))


def bench(config, sample, work, backend, *extra):
    env = dict(os.environ, TAILCAR_TEST_PROCESSORS="1")
    result = subprocess.run([str(static_binary()), "bench", "--config", str(config), "--sample", str(sample),
                             "--cpus", "0.1", "--memory", "32Mi", "--seconds", "4", "--json",
                             "--backend", backend, "--work-dir", str(work), *extra],
                            env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    row = json.loads(result.stdout)
    assert row["measured"] is True, row
    return row, result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to create a child cgroup")
def test_cgroup_and_podman_budgets_agree_within_15_percent(engine, tmp_path):
    config = tmp_path / "stub.yaml"
    config.write_text(f"""inputs:
  - Type: input_file
    FilePaths: ["/var/log/app/*.log"]
processors:
  - Type: processor_test_burn_cpu
    MicrosecondsPerRecord: {BURN_MICROSECONDS}
flushers:
  - Type: flusher_blackhole
""")
    sample = tmp_path / "sample.log"
    sample.write_text("".join(f'10.0.0.{i % 250} - - [04/Dec/2026:10:00:00 +0000] "GET /item/{i} HTTP/1.1" 200 {i}\n'
                              for i in range(500)))
    work = tmp_path / "work"
    work.mkdir()
    cgroup, _ = bench(config, sample, work, "cgroup")
    podman, log = bench(config, sample, work, "podman", "--image", TAG, "--podman-root", str(engine.root),
                        "--podman-runroot", str(engine.runroot))
    assert cgroup["backend"].startswith("cgroup v")
    assert podman["backend"] == "podman"
    expected = 0.1 / (BURN_MICROSECONDS / 1e6)
    for row in (cgroup, podman):
        assert abs(row["lines_per_second"] - expected) <= 0.15 * expected, (row, log[-2000:])
    print(f"cgroup: {cgroup['lines_per_second']} lines/s, podman: {podman['lines_per_second']} lines/s")
    assert abs(cgroup["lines_per_second"] - podman["lines_per_second"]) <= 0.15 * podman["lines_per_second"], (cgroup, podman)
    assert 1 < podman["peak_rss_mib"] < 32
    assert list(work.iterdir()) == []
    left = engine.podman("ps", "--all", "--format", "{{.Names}}").stdout
    assert "tailcar-bench-" not in left
