#!/usr/bin/env python3
"""Tailcar's benchmark suite. Generates the data once per seed, runs each case several times and writes
bench/RESULTS.md with medians, min and max, the machine and the command.

  python3 bench/run.py                 # every case, 5 runs each
  python3 bench/run.py json --runs 3   # one case
  python3 bench/run.py --quick --runs 1 multiline json   # 1/20 of the data, live runs of 4 s: a smoke run
  TAILCAR_BENCH_DATA=/tmp/d python3 bench/run.py ...    # data and scratch files there (default /dev/shm)
  TAILCAR_BIN=/path/to/other/tailcar python3 bench/run.py   # compare another build

CPU time is the child's user+sys from wait4 (nothing subtracted); peak RSS comes from GNU time's %M.
The throughput cases live here; live tail in live.py; allocations and scale in profiles.py."""

import argparse
import json
import datetime
import os
import platform
import shlex
import shutil
import signal
import subprocess
import statistics
import sys
import tempfile
import time
from pathlib import Path

import engine
import live
import profiles
import sinks
import slspath
from modes import MODES, mode_data, mode_pipeline
from benchlib import (REPO, build, data_dir, generator, http_get, measure, nginx_data, pipeline, run_argv, run_tailcar,
                      scaled, settings, summary, verify)

THROUGHPUT, CHECK = "throughput", "check"
_floor = {}


def compression_floor():
    """MB/CPU-s of the `lz4 -1` and `zstd -1` command-line tools over the simple mode's nginx data, measured
    once per invocation: the floor every throughput figure is also shown against."""
    if not _floor:
        data, _ = mode_data("simple")
        for name, argv in [("lz4", ["lz4", "-1", "-c", "-q", str(data)]), ("zstd", ["zstd", "-1", "-c", "-q", str(data)])]:
            if shutil.which(argv[0]):
                cpu, _, _, _ = measure(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                _floor[name] = data.stat().st_size / cpu / 1e6
    return _floor


def throughput_row(label, size, records, cpu, wall, rss):
    rate = statistics.median([size / c / 1e6 for c in cpu])
    floor = compression_floor()
    ratio = " / ".join(f"{rate / floor[n]:.1f}× {n}" for n in ("lz4", "zstd") if n in floor)
    return (THROUGHPUT, (label, summary([size / c / 1e6 for c in cpu], "{:.0f}") + " MB/CPU-s",
                         summary([records / c / 1e6 for c in cpu]) + " M/CPU-s" if records else "",
                         summary(wall) + " s", summary([r / 2**20 for r in rss], "{:.1f}") + " MiB", ratio))


def mode_case(mode, label):
    """A case running one mode end to end, tailcar-gen data file -> flusher_blackhole."""
    def case(binary, runs, rows):
        data, records = mode_data(mode)
        size = data.stat().st_size
        work = Path(tempfile.mkdtemp(prefix="tailcar-bench-"))
        config = work / f"{mode}-blackhole.yaml"
        config.write_text(mode_pipeline(mode, [data]))
        cpu, wall, rss = run_tailcar(binary, config, work, runs)
        shutil.rmtree(work, ignore_errors=True)
        rows.append(throughput_row(f"{label}, {size / 1e6:.0f} MB -> flusher_blackhole", size, records, cpu, wall, rss))
    case.__doc__ = label
    return case


case_regex = mode_case("regex", "regex mode (the seed's nginx regex, 11 keys)")
case_multiline = mode_case("multiline", "multi-line Java stack traces (Multiline StartPattern)")
case_json = mode_case("json", "JSON (processor_parse_json_native)")
case_delimiter = mode_case("delimiter", "delimiter `\\|` with quotes, 10 keys (processor_parse_delimiter_native)")


def case_simple(binary, runs, rows):
    data = nginx_data(data_dir(), size=(1 << 30) // settings["divisor"])
    size = data.stat().st_size
    work = Path(tempfile.mkdtemp(prefix="tailcar-bench-"))
    config = work / "simple-blackhole.yaml"
    config.write_text(pipeline([f"{data.parent}/nginx-*.log"]))
    cpu, wall, rss = run_tailcar(binary, config, work, runs)
    shutil.rmtree(work, ignore_errors=True)
    rows.append(throughput_row(f"simple mode, {size / 2**30:.2f} GiB nginx on tmpfs -> flusher_blackhole", size, 0,
                               cpu, wall, rss))
    for name, argv in [("cat > /dev/null", ["cat", str(data)]), ("wc -l", ["wc", "-l", str(data)]),
                       ("zstd -1 -c > /dev/null", ["zstd", "-1", "-c", "-q", str(data)]),
                       ("lz4 -1 -c > /dev/null", ["lz4", "-1", "-c", "-q", str(data)])]:
        if shutil.which(argv[0]) is None:
            continue
        cpus, walls = [], []
        for _ in range(max(1, runs // 2)):
            c, w, r, code = measure(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cpus.append(c), walls.append(w)
        rows.append((THROUGHPUT, (f"reference: {name}", summary([size / c / 1e6 for c in cpus], "{:.0f}") + " MB/CPU-s",
                                  "", summary(walls) + " s", "")))


def case_file(binary, runs, rows):
    """Every mode into flusher_file on tmpfs (JSON lines written); every run's output is verified."""
    for mode in MODES:
        data, records = mode_data(mode)
        size = data.stat().st_size
        work = Path(tempfile.mkdtemp(prefix="tailcar-bench-", dir=data_dir()))
        output = work / "out.jsonl"
        config = work / f"{mode}-file.yaml"
        config.write_text(mode_pipeline(mode, [data], flusher=f"  - Type: flusher_file\n    FilePath: {output}\n"))
        reports = []

        def check(run):
            if mode == "regex":  # the seed regex drops the seq=N tail: count the records instead
                with open(output, "rb") as handle:
                    lines = sum(1 for _ in handle)
                clean, report = lines == records, f"lines={lines} records={lines}"
            else:
                clean, report = verify([output], records)
            reports.append(report)
            assert clean, f"{mode}: flusher_file output of run {run} is not complete: {report}"
            output.unlink()

        cpu, wall, rss = run_tailcar(binary, config, work, runs, after_each=check)
        shutil.rmtree(work, ignore_errors=True)
        rows.append(throughput_row(f"{mode}, {size / 1e6:.0f} MB -> flusher_file on tmpfs (verified: "
                                   f"{reports[-1].split()[1]})", size, records, cpu, wall, rss))


def case_sls(binary, runs, rows):
    """Every mode into flusher_sls (lz4 and zstd) against the SLS test receiver on loopback, which checks
    every signature and decodes every request with the official SDK (counts only). Tailcar's CPU alone."""
    python = REPO / ".venv" / "bin" / "python"
    if not python.exists():
        rows.append((THROUGHPUT, ("flusher_sls: skipped, no .venv (bash scripts/venv.sh)", "", "", "", "")))
        return
    os.environ.update({"ALIBABA_CLOUD_ACCESS_KEY_ID": "mockAccessKeyID",
                       "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "mockAccessKeySecret"})
    for mode in MODES:
        data, records = mode_data(mode)
        size = data.stat().st_size
        for compression in ("lz4", "zstd"):
            receiver = subprocess.Popen([str(python), str(REPO / "Tests/harness/sls_receiver.py"), "--port", "0",
                                         "--summary"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            try:
                port = int(receiver.stdout.readline().split()[1])
                work = Path(tempfile.mkdtemp(prefix="tailcar-bench-", dir=data_dir()))
                config = work / f"{mode}-sls-{compression}.yaml"
                config.write_text(mode_pipeline(mode, [data], flusher=(
                    f"  - Type: flusher_sls\n    Endpoint: http://127.0.0.1:{port}\n    Project: bench\n"
                    f"    Logstore: {mode}\n    CompressType: {compression}\n")))
                stats = {}

                def check(run):
                    stats.update(json.loads(http_get(port, "/_stats")[1]))
                    assert stats["logs"] == records * (run + 1), f"receiver has {stats['logs']} logs after run {run}"

                cpu, wall, rss = run_tailcar(binary, config, work, runs, after_each=check)
                shutil.rmtree(work, ignore_errors=True)
                ratio = stats["raw_bytes"] / max(1, stats["body_bytes"])
                rows.append(throughput_row(f"{mode}, {size / 1e6:.0f} MB -> flusher_sls {compression} to the test "
                                           f"receiver ({stats['requests'] // runs} requests a run, ratio {ratio:.1f}, "
                                           "every log counted)", size, records, cpu, wall, rss))
            finally:
                receiver.kill()
                receiver.wait()


def case_verify(binary, runs, rows):
    """Every mode once at a small size into flusher_file; tailcar-gen --verify counts what arrived."""
    for mode in MODES:
        data, records = mode_data(mode, count=scaled(200000))
        work = Path(tempfile.mkdtemp(prefix="tailcar-verify-", dir=data_dir()))
        output = work / "out.jsonl"
        flusher = f"  - Type: flusher_file\n    FilePath: {output}\n"
        text = mode_pipeline(mode, [data], flusher)
        if mode == "regex":  # the seed regex drops the seq=N tail; keep the source line to count it
            text = text.replace("    SourceKey: content\n", "    SourceKey: content\n"
                                "    KeepingSourceWhenParseSucceed: true\n")
        (work / "p.yaml").write_text(text)
        c, w, r, code = measure(run_argv(binary, work / "p.yaml", work / "state"), stderr=subprocess.DEVNULL)
        clean, report = verify([output], records) if code == 0 and output.exists() else (False, f"exit {code}")
        rows.append((CHECK, (mode, str(records), "complete" if clean else "**INCOMPLETE**", f"`{report}`")))
        shutil.rmtree(work, ignore_errors=True)


def idle_sample(binary, files, seconds):
    """tailcar watching a directory of `files` unchanging *.log files (default poll interval) for `seconds`:
    returns (CPU % over that time from /proc/PID/stat, VmRSS MiB at the end)."""
    work = Path(tempfile.mkdtemp(prefix="tailcar-idle-"))
    (work / "logs").mkdir()
    for index in range(files):
        (work / "logs" / f"f{index:04d}.log").write_text("one line\n")
    (work / "p.yaml").write_text(pipeline([f"{work}/logs/*.log"], from_start=False))
    process = subprocess.Popen([str(binary), "run", "--config", str(work / "p.yaml"), "--checkpoint-dir",
                                str(work / "state"), "--http-port", "0"], stderr=subprocess.DEVNULL)
    try:
        time.sleep(1)  # startup, not measured
        before = live.cpu_ticks(process.pid)
        time.sleep(seconds)  # the measured idle period
        cpu = 100 * (live.cpu_ticks(process.pid) - before) / live.TICKS / seconds
        return cpu, live.status_kib(process.pid, "VmRSS") / 1024
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)


def case_idle(binary, runs, rows):
    """RSS with an empty directory after 2 s; CPU and RSS with 1,000 unchanging files over 10 s."""
    samples = [idle_sample(binary, 0, 1)[1] for _ in range(runs)]
    rows.append((THROUGHPUT, ("idle: one pipeline, empty directory, RSS after 2 s", "", "", "",
                              summary(samples, "{:.1f}") + " MiB")))
    seconds = 10 if settings["divisor"] == 1 else 4
    samples = [idle_sample(binary, 1000, seconds) for _ in range(max(1, runs // 2))]
    rows.append((THROUGHPUT, (f"idle: 1,000 unchanging files (`*.log`), default poll 0.5 s, over {seconds} s",
                              summary([c for c, _ in samples], "{:.2f}") + " % CPU", "", "",
                              summary([r for _, r in samples], "{:.1f}") + " MiB")))


def case_gen(binary, runs, rows):
    """tailcar-gen's own speed, so live-rate cases can tell a generator limit from a Tailcar one."""
    gen = generator()
    target = data_dir() / "gen-out.log"
    target.parent.mkdir(parents=True, exist_ok=True)
    count = scaled(2000000)
    for log_type in ["nginx", "json", "java"]:
        rates = []
        for run in range(runs):
            c, w, r, code = measure([str(gen), f"--log-type={log_type}", f"--path={target}", f"--total-count={count}",
                                     f"--seed={run + 1}"], stdout=subprocess.DEVNULL)
            assert code == 0, f"tailcar-gen exited {code}"
            rates.append(target.stat().st_size / w / 1e6)
        rows.append((THROUGHPUT, (f"tailcar-gen --log-type={log_type}, {count} records to tmpfs", "", "",
                                  summary(rates, "{:.0f}") + " MB/s written", "")))
    target.unlink()


CASES = {"simple": case_simple, "regex": case_regex, "multiline": case_multiline, "json": case_json,
         "delimiter": case_delimiter, "file": case_file, "sls": case_sls, "verify": case_verify, "idle": case_idle, "gen": case_gen,
         **sinks.CASES, **slspath.CASES, **live.CASES, **profiles.CASES, **engine.CASES}

TABLES = {
    THROUGHPUT: ("Throughput (file already on disk, read from byte 0, until drained)",
                 ["case", "input per CPU-second", "records per CPU-second", "wall", "peak RSS",
                  "vs the compression floor (`lz4 -1`, `zstd -1` tools)"]),
    CHECK: ("Every record arrives (each mode, small input -> flusher_file, then `tailcar-gen --verify`)",
            ["mode", "records", "result", "tailcar-gen --verify"]),
    **slspath.TABLES,
    **live.TABLES,
    **profiles.TABLES,
    **engine.TABLES,
}


def machine():
    model = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                  if l.startswith("model name")), platform.processor())
    return f"{model}, {os.cpu_count()} cores, Linux {platform.release()}"


def report(rows, binary, args):
    command = "python3 bench/run.py " + shlex.join(sys.argv[1:])
    lines = ["# Tailcar benchmark results", "",
             f"- Date: {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC",
             f"- Machine: {machine()}",
             f"- Binary: `{binary.relative_to(REPO) if binary.is_relative_to(REPO) else binary}` "
             f"({binary.stat().st_size / 2**20:.1f} MiB)",
             f"- Command: `{command.strip()}` ({args.runs} runs per case; median (min–max))"]
    if args.note:
        lines.append(f"- Note: {args.note}")
    for table, (title, header) in TABLES.items():
        cells = [c for t, c in rows if t == table]
        if not cells:
            continue
        lines += ["", f"## {title}", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(list(c) + [""] * (len(header) - len(c))) + " |" for c in cells]
    lines += ["", "MB are 10^6 bytes. CPU-seconds are the process's user+sys time (wait4), wall includes the "
              "0.05 s drained wait. Reference lines process the same bytes in the same run. Allocations: malloc, "
              "calloc, realloc from NULL and the aligned allocators, counted by bench/alloccount.c in the dynamic "
              "release build (the static binary's calls cannot be interposed), minus those of the same pipeline "
              "over an empty file, divided by the records. Live CPU: utime+stime from /proc/PID/stat over the "
              "writing period; peak RSS: the largest of VmRSS every 0.5 s and VmHWM at the end. Scale wall "
              "includes 1 s before writing starts and the 2 s drained wait."]
    return "\n".join(lines) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("cases", nargs="*", default=list(CASES), metavar="case", help=", ".join(CASES))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="--scale-down 20 --live-seconds 4 (a smoke run)")
    parser.add_argument("--scale-down", type=int, default=1, help="divide every data size by N (at least 1,000 records)")
    parser.add_argument("--live-seconds", type=float, default=60.0, help="length of each live-tail run")
    parser.add_argument("--note", default="", help="a line added to RESULTS.md (e.g. 'measured on a busy machine')")
    parser.add_argument("--output", default=str(REPO / "bench/RESULTS.md"))
    args = parser.parse_args()
    unknown = [c for c in args.cases if c not in CASES]
    if unknown:
        parser.error(f"unknown case {', '.join(unknown)}; known: {', '.join(CASES)}")
    settings["divisor"] = 20 if args.quick else args.scale_down
    settings["live_seconds"] = 4.0 if args.quick else args.live_seconds
    binary = build()
    rows = []
    for name in args.cases:
        CASES[name](binary, args.runs, rows)
    text = report(rows, binary, args)
    Path(args.output).write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
