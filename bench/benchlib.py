"""bench/benchlib.py: what every benchmark case shares: building the binaries, generating data once per
seed, pipeline files, running a process under GNU time and wait4, and medians with min and max.
Owns no case; run.py and profiles.py hold them."""

import functools
import os
import random
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GIB = 1 << 30
# run.py's --scale-down (--quick is 20) divides every data size; live_seconds is each live run's length.
settings = {"divisor": 1, "live_seconds": 20.0}


def scaled(count):
    """A record count divided by --scale-down, at least 1,000."""
    return max(1000, count // settings["divisor"])


@functools.cache
def build():
    """The shipped binary: static release (TAILCAR_BIN overrides)."""
    binary = os.environ.get("TAILCAR_BIN")
    if binary:
        return Path(binary)
    subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "-Xswiftc", "-static-executable",
                    "--scratch-path", ".build-static", "--product", "tailcar"], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    return REPO / ".build-static/release/tailcar"


@functools.cache
def dynamic_build():
    """The dynamically linked release binary, whose malloc calls an LD_PRELOAD library can see
    (TAILCAR_DYNAMIC_BIN overrides)."""
    binary = os.environ.get("TAILCAR_DYNAMIC_BIN")
    if binary:
        return Path(binary)
    subprocess.run(["swift", "build", "-c", "release", "--product", "tailcar"], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    return REPO / ".build/release/tailcar"


@functools.cache
def generator():
    """tailcar-gen, release (TAILCAR_GEN overrides)."""
    binary = os.environ.get("TAILCAR_GEN")
    if binary:
        return Path(binary)
    subprocess.run(["swift", "build", "-c", "release", "--product", "tailcar-gen", "--scratch-path", ".build-bench"],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return REPO / ".build-bench/release/tailcar-gen"


def data_dir():
    """Where data and scratch files go (created): $TAILCAR_BENCH_DATA, else /dev/shm when it has room, else
    bench/data."""
    shm = Path("/dev/shm")
    if os.environ.get("TAILCAR_BENCH_DATA"):
        directory = Path(os.environ["TAILCAR_BENCH_DATA"])
    elif shm.exists() and shutil.disk_usage(shm).free > 3 * GIB:
        directory = shm / "tailcar-bench"
    else:
        directory = REPO / "bench/data"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def nginx_data(directory, seed=1, size=GIB):
    """1 GiB of nginx combined lines (~180 bytes), deterministic for a seed; reused when present."""
    path = directory / f"nginx-{seed}.log"
    if path.exists() and path.stat().st_size >= size:
        return path
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    agents = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
              "curl/8.4.0", "kube-probe/1.29", "Go-http-client/1.1"]
    paths = ["/", "/api/v1/items", "/api/v1/items/%d", "/login", "/static/app.%d.js", "/healthz"]
    lines = []
    for i in range(50000):
        route = rng.choice(paths)
        route = route % rng.randrange(100000) if "%d" in route else route
        lines.append('%d.%d.%d.%d - - [26/Nov/2026:10:%02d:%02d +0800] "%s %s HTTP/1.1" %d %d "-" "%s" %.3f\n' % (
            rng.randrange(256), rng.randrange(256), rng.randrange(256), rng.randrange(256), i // 60 % 60, i % 60,
            rng.choice(["GET", "GET", "POST", "PUT"]), route, rng.choice([200, 200, 200, 304, 404, 500]),
            rng.randrange(100, 50000), rng.choice(agents), rng.random()))
    block = "".join(lines).encode()
    with open(path.with_suffix(".tmp"), "wb") as handle:
        written = 0
        while written < size:
            handle.write(block)
            written += len(block)
    os.rename(path.with_suffix(".tmp"), path)
    return path


def gen_data(log_type, count, seed=1, name=None):
    """`count` tailcar-gen records of `log_type` in the data directory, generated once per (type, count, seed)."""
    path = data_dir() / (name or f"gen-{log_type}-{count}-{seed}.log")
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".tmp")
        subprocess.run([str(generator()), f"--log-type={log_type}", f"--path={partial}", f"--total-count={count}",
                        f"--seed={seed}"], check=True, stdout=subprocess.DEVNULL)
        os.rename(partial, path)
    return path


def pipeline(paths, processors="", multiline="", flusher="  - Type: flusher_blackhole\n", from_start=True, depth=0):
    """An iLogtail pipeline file's text: one input_file over `paths`, optional processors and Multiline."""
    quoted = ", ".join(f'"{p}"' for p in paths)
    text = f"inputs:\n  - Type: input_file\n    FilePaths: [{quoted}]\n"
    if from_start:
        text += "    TailingAllMatchedFiles: true\n"
    if depth:
        text += f"    MaxDirSearchDepth: {depth}\n"
    if multiline:
        text += multiline
    if processors:
        text += "processors:\n" + processors
    return text + "flushers:\n" + flusher


def measure(argv, **kwargs):
    """Runs argv; returns (cpu seconds, wall seconds, peak RSS bytes, exit code).

    A child forked from Python starts as a copy of Python, and ru_maxrss keeps that copy's size across
    exec; so the peak comes from GNU time (package `time`), whose own child is forked small."""
    timer = shutil.which("time") or "/usr/bin/time"
    peak_file = tempfile.NamedTemporaryFile(prefix="tailcar-rss-", delete=False)
    peak_file.close()
    started = time.monotonic()
    process = subprocess.Popen([timer, "-f", "%M", "-o", peak_file.name, *argv], **kwargs)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    peak_kib = int(Path(peak_file.name).read_text().split()[-1])
    os.unlink(peak_file.name)
    return usage.ru_utime + usage.ru_stime, wall, peak_kib * 1024, os.waitstatus_to_exitcode(status)


def summary(values, fmt="{:.2f}"):
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def run_argv(binary, config, state, drained="0.05", poll="0.05"):
    """`tailcar run` until drained. The drained check runs on the poll timer, so a run lasts at least one poll."""
    return [str(binary), "run", "--config", str(config), "--checkpoint-dir", str(state),
            "--exit-when-drained", drained, "--poll-interval", poll, "--http-port", "0"]


def run_tailcar(binary, config, work, runs, after_each=None):
    """Runs `tailcar run` on config until drained, `runs` times; returns (cpu, wall, rss) lists.
    `after_each(run)` runs after every run (to check and remove a flusher's output)."""
    cpu, wall, rss = [], [], []
    for run in range(runs):
        c, w, r, code = measure(run_argv(binary, config, work / f"state-{run}"), stderr=subprocess.DEVNULL)
        assert code == 0, f"tailcar exited {code}"
        cpu.append(c), wall.append(w), rss.append(r)
        if after_each:
            after_each(run)
    return cpu, wall, rss


def verify(outputs, count):
    """tailcar-gen --verify over a flusher's output files: (clean, the report's first line)."""
    result = subprocess.run([str(generator()), *[f"--verify={p}" for p in outputs], f"--expect-count={count}"],
                            capture_output=True, text=True)
    assert result.returncode in (0, 1), f"tailcar-gen --verify exited {result.returncode}: {result.stderr}"
    return result.returncode == 0, result.stdout.splitlines()[0]


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(port, path, timeout=2.0):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as response:
        return response.status, response.read().decode()


def metric(port, name):
    """One unlabelled counter or gauge from tailcar's /metrics."""
    _, text = http_get(port, "/metrics")
    return int(float(next(l.split()[1] for l in text.splitlines() if l.startswith(name + " "))))


def wait_until(condition, timeout, interval=0.1):
    """Polls condition() until true or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = condition()
        except OSError:
            value = False
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
