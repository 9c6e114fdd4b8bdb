"""`tailcar bench`: the rate search on a stub pipeline whose cost per line is known (the test-only
processor_test_burn_cpu spends 1 ms of CPU on every record), in a real child cgroup with a CPU quota of 0.1
and a 32 MiB limit: the rate found must be within 15% of quota / cost. Also the estimate without a
budget, Ctrl-C, bad options, and that every child, cgroup and temporary file is gone afterwards."""

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tailcar_harness import BINARY, REPO

GENERATOR = Path(os.environ.get("TAILCAR_GEN", REPO / ".build" / "debug" / "tailcar-gen"))
BURN_MICROSECONDS = 1000


def stub_pipeline(directory, micros=BURN_MICROSECONDS):
    path = directory / "stub.yaml"
    path.write_text(f"""inputs:
  - Type: input_file
    FilePaths: ["/var/log/app/*.log"]
processors:
  - Type: processor_test_burn_cpu
    MicrosecondsPerRecord: {micros}
flushers:
  - Type: flusher_sls
    Endpoint: cn-hangzhou.log.aliyuncs.com
    Project: p
    Logstore: l
""")
    return path


def bench_env():
    return dict(os.environ, TAILCAR_TEST_PROCESSORS="1", TAILCAR_GEN=str(GENERATOR))


def cgroup_leftovers(pid):
    """The child cgroups a bench process made (named tailcar-bench-PID-...), wherever they are."""
    prefix = f"tailcar-bench-{pid}-"
    found = []
    for root in ("/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory", "/sys/fs/cgroup"):
        if os.path.isdir(root):
            for directory, subdirectories, _ in os.walk(root):
                found += [os.path.join(directory, d) for d in subdirectories if d.startswith(prefix)]
                if directory.count("/") > 8:
                    subdirectories.clear()
    return found


def processes_mentioning(text):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if text.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                pass
    return found


def cgroup_budgets_possible():
    return os.geteuid() == 0 and (os.path.isdir("/sys/fs/cgroup/cpu") or os.path.exists("/sys/fs/cgroup/cgroup.controllers"))


def run_bench(*arguments, timeout=600):
    """tailcar bench to the end: (pid, exit code, stdout, stderr)."""
    process = subprocess.Popen([str(BINARY), "bench", *arguments], env=bench_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        out, err = process.communicate(timeout=timeout)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.pid, process.returncode, out, err


@pytest.fixture
def built():
    if not BINARY.exists() or not GENERATOR.exists():
        pytest.skip(f"tailcar or tailcar-gen not built ({BINARY}, {GENERATOR}): run swift build")


def test_burn_processor_is_refused_unless_the_test_variable_is_set(built, tmp_path):
    config = stub_pipeline(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "TAILCAR_TEST_PROCESSORS"}
    refused = subprocess.run([str(BINARY), "check-config", str(config)], env=env, capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0
    assert "processor_test_burn_cpu is a test-only processor" in refused.stderr
    assert "TAILCAR_TEST_PROCESSORS=1" in refused.stderr
    bench = subprocess.run([str(BINARY), "bench", "--config", str(config), "--backend", "estimate", "--seconds", "2"],
                           env=env, capture_output=True, text=True, timeout=30)
    assert bench.returncode == 2 and "test-only processor" in bench.stderr
    accepted = subprocess.run([str(BINARY), "check-config", str(config)], env=dict(env, TAILCAR_TEST_PROCESSORS="1"),
                              capture_output=True, text=True, timeout=30)
    assert accepted.returncode == 0, accepted.stderr
    assert "processor_test_burn_cpu (test only): 1000 µs of CPU per record" in accepted.stdout


@pytest.mark.skipif(not cgroup_budgets_possible(), reason="needs root and cgroup v1 or v2 to create a child cgroup")
def test_rate_search_finds_the_quota_over_the_cost_per_line(built, tmp_path):
    config = stub_pipeline(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    pid, code, out, err = run_bench("--config", str(config), "--cpus", "0.1", "--memory", "32Mi", "--seconds", "4",
                                    "--json", "--backend", "cgroup", "--work-dir", str(work))
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 1, out
    row = rows[0]
    assert row["cpus"] == 0.1 and row["memory_mib"] == 32
    assert row["measured"] is True and row["backend"].startswith("cgroup v")
    expected = 0.1 / (BURN_MICROSECONDS / 1e6)
    assert abs(row["lines_per_second"] - expected) <= 0.15 * expected, (row, err[-2000:])
    assert 1 < row["peak_rss_mib"] < 32
    # Progress went to stderr while it ran: current rate, lag, CPU and RSS.
    assert "lines/s, lag" in err and "CPU" in err and "RSS" in err
    assert list(work.iterdir()) == []
    assert cgroup_leftovers(pid) == []
    assert processes_mentioning(str(work)) == []


def test_without_a_budget_the_result_is_an_estimate_from_cpu_per_mb(built, tmp_path):
    config = stub_pipeline(tmp_path)
    result = subprocess.run([str(BINARY), "bench", "--config", str(config), "--cpus", "0.1", "--memory", "32Mi",
                             "--seconds", "2", "--json", "--backend", "estimate", "--work-dir", str(tmp_path)],
                            env=bench_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    row = json.loads(result.stdout)
    assert row["measured"] is False and row["backend"] == "estimate"
    assert "estimate from" in row["note"]
    # 1 ms a line is 1 CPU-second per 1000 lines; at 0.1 CPU about 100 lines/s (the idle overhead counted
    # at low calibration rates makes it lower, never much higher).
    assert 60 <= row["lines_per_second"] <= 115, row
    assert row["cpu_seconds_per_mb"] > 0
    text = subprocess.run([str(BINARY), "bench", "--config", str(config), "--cpus", "100m", "--memory", "32Mi",
                           "--seconds", "2", "--backend", "estimate", "--work-dir", str(tmp_path)],
                          env=bench_env(), capture_output=True, text=True, timeout=300)
    assert text.returncode == 0, text.stderr
    assert "NOT MEASURED: an estimate" in text.stdout
    assert "requests: {cpu: 100m, memory: 32Mi}" in text.stdout
    assert [p for p in tmp_path.iterdir() if p.name.startswith("tailcar-bench")] == []


@pytest.mark.skipif(not cgroup_budgets_possible(), reason="needs root and cgroup v1 or v2 to create a child cgroup")
def test_ctrl_c_stops_the_child_and_removes_cgroups_and_files(built, tmp_path):
    config = stub_pipeline(tmp_path)
    work = tmp_path / "work"
    work.mkdir()
    process = subprocess.Popen([str(BINARY), "bench", "--config", str(config), "--cpus", "0.1", "--memory", "32Mi",
                                "--seconds", "60", "--backend", "cgroup", "--work-dir", str(work)],
                               env=bench_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        seen = ""
        while "lines/s, lag" not in seen:
            assert time.monotonic() < deadline, seen
            line = process.stderr.readline()
            assert line, f"bench ended early: {seen}"
            seen += line
        assert cgroup_leftovers(process.pid) != []
        assert processes_mentioning(str(work)) != []
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 130, rest
    assert "interrupted" in rest
    assert list(work.iterdir()) == []
    assert cgroup_leftovers(process.pid) == []
    assert processes_mentioning(str(work)) == []


@pytest.mark.parametrize("arguments, message", [
    (["--cpus", "lots"], "--cpus: \"lots\" is not a CPU share"),
    (["--memory", "1Mi"], "--memory: \"1Mi\" is not a memory limit"),
    (["--seconds", "1"], "--seconds expects a number of seconds from 2"),
    (["--backend", "docker"], "--backend expects auto, cgroup, podman or estimate"),
])
def test_bad_options_are_named(built, tmp_path, arguments, message):
    config = stub_pipeline(tmp_path)
    result = subprocess.run([str(BINARY), "bench", "--config", str(config), *arguments], env=bench_env(),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert message in result.stderr


def test_two_pipelines_are_refused(built, tmp_path):
    directory = tmp_path / "conf"
    directory.mkdir()
    stub_pipeline(directory)
    (directory / "other.yaml").write_text((directory / "stub.yaml").read_text())
    result = subprocess.run([str(BINARY), "bench", "--config", str(directory)], env=bench_env(),
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "has 2 pipelines" in result.stderr and "bench measures one" in result.stderr


def test_keep_flusher_without_a_pipeline_sls_flusher_is_refused(built, tmp_path):
    config = tmp_path / "blackhole.yaml"
    config.write_text(stub_pipeline(tmp_path).read_text().split("flushers:")[0] + "flushers:\n  - Type: flusher_blackhole\n")
    pid, code, _, err = run_bench("--config", str(config), "--keep-flusher")
    assert code == 2
    assert "--keep-flusher: pipeline blackhole has no flusher_sls to keep" in err


def test_keep_flusher_starts_its_own_sink_and_stops_it(built, tmp_path):
    config = stub_pipeline(tmp_path, micros=100)
    work = tmp_path / "work"
    work.mkdir()
    env = {k: v for k, v in bench_env().items() if not k.startswith("ALIBABA_CLOUD_")}
    process = subprocess.run([str(BINARY), "bench", "--config", str(config), "--keep-flusher", "--backend", "estimate",
                              "--cpus", "0.1", "--memory", "32Mi", "--seconds", "2", "--json", "--work-dir", str(work)],
                             env=env, capture_output=True, text=True, timeout=300)
    assert process.returncode == 0, process.stderr
    row = json.loads(process.stdout)
    assert row["lines_per_second"] > 0 and row["measured"] is False
    assert "flusher sls=http://127.0.0.1:" in process.stderr
    assert list(work.iterdir()) == []
    assert processes_mentioning(str(work)) == []


def test_sls_sink_accepts_what_flusher_sls_sends(built, tmp_path):
    """tailcar sls-sink answers flusher_sls like SLS: a run drains (every batch acknowledged) and exits 0."""
    sink = subprocess.Popen([str(BINARY), "sls-sink"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        port = int(sink.stdout.readline().split()[1])
        log = tmp_path / "app.log"
        log.write_text("".join(f"line {i} {'x' * 100}\n" for i in range(20000)))
        config = tmp_path / "p.yaml"
        config.write_text(f"""inputs:
  - Type: input_file
    FilePaths: ["{log}"]
    TailingAllMatchedFiles: true
flushers:
  - Type: flusher_sls
    Endpoint: http://127.0.0.1:{port}
    Project: p
    Logstore: l
""")
        env = dict(os.environ, ALIBABA_CLOUD_ACCESS_KEY_ID="id", ALIBABA_CLOUD_ACCESS_KEY_SECRET="secret")
        run = subprocess.run([str(BINARY), "run", "--config", str(config), "--checkpoint-dir", str(tmp_path / "state"),
                              "--exit-when-drained", "0.2", "--http-port", "0"], env=env, capture_output=True,
                             text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-2000:]
    finally:
        sink.send_signal(signal.SIGTERM)
        _, err = sink.communicate(timeout=10)
    assert sink.returncode == 0
    requests, body = [int(word) for word in err.split() if word.isdigit()][:2]
    assert requests >= 1 and body > 0, err
