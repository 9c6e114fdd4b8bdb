#!/usr/bin/env python3
"""Tailcar's benchmark suite (first case: the Core issue's). Generates the data once per seed, runs each
case several times and writes bench/RESULTS.md with medians, min and max, the machine and the command.

  python3 bench/run.py                 # every case, 5 runs each
  python3 bench/run.py simple --runs 3 # one case
  TAILCAR_BIN=/path/to/other/tailcar python3 bench/run.py   # compare another build

CPU time is the child's user+sys from wait4 (nothing subtracted); peak RSS comes from GNU time's %M."""

import argparse
import datetime
import os
import platform
import random
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GIB = 1 << 30


def build():
    binary = os.environ.get("TAILCAR_BIN")
    if binary:
        return Path(binary)
    subprocess.run(["swift", "build", "-c", "release", "--static-swift-stdlib", "-Xswiftc", "-static-executable",
                    "--scratch-path", ".build-static", "--product", "tailcar"], cwd=REPO, check=True,
                   stdout=subprocess.DEVNULL)
    return REPO / ".build-static/release/tailcar"


def data_dir():
    shm = Path("/dev/shm")
    if shm.exists() and shutil.disk_usage(shm).free > 3 * GIB:
        return shm / "tailcar-bench"
    return REPO / "bench/data"


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


def run_tailcar(binary, config, work, runs):
    """Runs `tailcar run` on config until drained, `runs` times; returns (cpu, wall, rss) lists."""
    cpu, wall, rss = [], [], []
    for run in range(runs):
        argv = [str(binary), "run", "--config", str(config), "--checkpoint-dir", str(work / f"state-{run}"),
                "--exit-when-drained", "0.05", "--poll-interval", "0.05", "--http-port", "0"]
        c, w, r, code = measure(argv, stderr=subprocess.DEVNULL)
        assert code == 0, f"tailcar exited {code}"
        cpu.append(c), wall.append(w), rss.append(r)
    return cpu, wall, rss


def case_simple(binary, runs, rows):
    data = nginx_data(data_dir())
    size = data.stat().st_size
    work = Path(tempfile.mkdtemp(prefix="tailcar-bench-"))
    config = work / "simple-blackhole.yaml"
    config.write_text(f'inputs:\n  - Type: input_file\n    FilePaths: ["{data.parent}/nginx-*.log"]\n'
                      "    TailingAllMatchedFiles: true\nflushers:\n  - Type: flusher_blackhole\n")
    cpu, wall, rss = run_tailcar(binary, config, work, runs)
    shutil.rmtree(work, ignore_errors=True)
    rows.append(("simple mode, 1 GiB nginx on tmpfs -> flusher_blackhole",
                 summary([size / c / 1e6 for c in cpu], "{:.0f}") + " MB/CPU-s",
                 summary(wall) + " s", summary([r / 2**20 for r in rss], "{:.1f}") + " MiB"))
    for name, argv in [("cat > /dev/null", ["cat", str(data)]), ("wc -l", ["wc", "-l", str(data)]),
                       ("zstd -1 -c > /dev/null", ["zstd", "-1", "-c", "-q", str(data)]),
                       ("lz4 -1 -c > /dev/null", ["lz4", "-1", "-c", "-q", str(data)])]:
        if shutil.which(argv[0]) is None:
            continue
        cpus, walls = [], []
        for _ in range(max(1, runs // 2)):
            c, w, r, code = measure(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cpus.append(c), walls.append(w)
        rows.append((f"reference: {name}", summary([size / c / 1e6 for c in cpus], "{:.0f}") + " MB/CPU-s",
                     summary(walls) + " s", ""))


SEED_REGEX = (r'(\S+)\s(\S+)\s\S+\s\S+\s"(\S+)\s(\S+)\s+([^"]+)"\s+(\S+)\s(\S+)\s(\d+)\s(\d+)\s(\S+)\s"([^"]+)"\s.*')
SEED_KEYS = ["time", "ip", "method", "url", "protocol", "latency", "payload", "status", "response-size", "referer",
             "user-agent"]


def generator():
    subprocess.run(["swift", "build", "-c", "release", "--product", "tailcar-gen", "--scratch-path", ".build-bench"],
                   cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return REPO / ".build-bench/release/tailcar-gen"


def case_regex(binary, runs, rows):
    """The seed's nginx regex (processor_parse_regex_native, 11 keys) over 256 MB of matching lines."""
    data = data_dir() / "seed-nginx-1.log"
    if not data.exists():
        data.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([str(generator()), "--log-type=nginx", f"--path={data}", "--total-count=1300000", "--seed=1"],
                       check=True, stdout=subprocess.DEVNULL)
    size = data.stat().st_size
    work = Path(tempfile.mkdtemp(prefix="tailcar-bench-"))
    config = work / "regex-blackhole.yaml"
    keys = ", ".join(f'"{k}"' for k in SEED_KEYS)
    config.write_text(f'inputs:\n  - Type: input_file\n    FilePaths: ["{data}"]\n    TailingAllMatchedFiles: true\n'
                      "processors:\n  - Type: processor_parse_regex_native\n    SourceKey: content\n"
                      f"    Regex: '{SEED_REGEX}'\n    Keys: [{keys}]\n"
                      "flushers:\n  - Type: flusher_blackhole\n")
    cpu, wall, rss = run_tailcar(binary, config, work, runs)
    shutil.rmtree(work, ignore_errors=True)
    rows.append((f"regex mode (the seed's nginx regex, 11 keys), {size / 1e6:.0f} MB -> flusher_blackhole",
                 summary([size / c / 1e6 for c in cpu], "{:.0f}") + " MB/CPU-s",
                 summary(wall) + " s", summary([r / 2**20 for r in rss], "{:.1f}") + " MiB"))


def case_idle(binary, runs, rows):
    samples = []
    for _ in range(runs):
        work = Path(tempfile.mkdtemp(prefix="tailcar-idle-"))
        (work / "logs").mkdir()
        (work / "p.yaml").write_text(f'inputs:\n  - Type: input_file\n    FilePaths: ["{work}/logs/*.log"]\n'
                                     "flushers:\n  - Type: flusher_blackhole\n")
        process = subprocess.Popen([str(binary), "run", "--config", str(work / "p.yaml"), "--checkpoint-dir",
                                    str(work / "state"), "--http-port", "0"], stderr=subprocess.DEVNULL)
        time.sleep(2)  # benchmark sampling interval, not test ordering
        status = Path(f"/proc/{process.pid}/status").read_text()
        samples.append(int(next(l for l in status.splitlines() if l.startswith("VmRSS")).split()[1]) / 1024)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)
    rows.append(("idle: one pipeline, empty directory, RSS after 2 s", "", "", summary(samples, "{:.1f}") + " MiB"))


def machine():
    model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                  if l.startswith("model name")), platform.processor())
    return f"{model}, {os.cpu_count()} cores, Linux {platform.release()}"


def case_gen(binary, runs, rows):
    """tailcar-gen's own speed, so live-rate cases can tell a generator limit from a Tailcar one."""
    gen = generator()
    target = data_dir() / "gen-out.log"
    target.parent.mkdir(parents=True, exist_ok=True)
    for log_type in ["nginx", "json", "java"]:
        rates = []
        for run in range(runs):
            c, w, r, code = measure([str(gen), f"--log-type={log_type}", f"--path={target}", "--total-count=2000000",
                                     f"--seed={run + 1}"], stdout=subprocess.DEVNULL)
            assert code == 0, f"tailcar-gen exited {code}"
            rates.append(target.stat().st_size / w / 1e6)
        rows.append((f"tailcar-gen --log-type={log_type}, 2M records to tmpfs", "",
                     summary(rates, "{:.0f}") + " MB/s written", ""))
    target.unlink()


CASES = {"simple": case_simple, "regex": case_regex, "idle": case_idle, "gen": case_gen}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", default=list(CASES))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", default=str(REPO / "bench/RESULTS.md"))
    args = parser.parse_args()
    binary = build()
    rows = []
    for name in args.cases:
        CASES[name](binary, args.runs, rows)
    command = "python3 bench/run.py " + " ".join(sys.argv[1:])
    lines = ["# Tailcar benchmark results", "",
             f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"- Machine: {machine()}",
             f"- Binary: `{binary.relative_to(REPO) if binary.is_relative_to(REPO) else binary}` "
             f"({binary.stat().st_size / 2**20:.1f} MiB)",
             f"- Command: `{command.strip()}` ({args.runs} runs per case; median (min–max))", "",
             "| case | input per CPU-second | wall | peak RSS |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines += ["", "MB are 10^6 bytes. CPU-seconds are the process's user+sys time (wait4), wall includes the "
              "0.05 s drained wait. Reference lines process the same bytes in the same run."]
    Path(args.output).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
