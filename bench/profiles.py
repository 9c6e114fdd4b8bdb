"""bench/profiles.py: the cases that are not plain throughput: heap allocations per record (alloc), the
sidecar's live-tail profile at fixed rates (live), and many files at once (scale-files, scale-tree).
Each case is a function (binary, runs, rows) appending (table, cells) rows, as in run.py."""

import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import modes
from benchlib import (REPO, data_dir, dynamic_build, free_port, gen_data, generator, http_get, measure, metric,
                      pipeline, run_argv, scaled, settings, summary, verify, wait_until)

ALLOC, LIVE, SCALE = "alloc", "live", "scale"
TABLES = {
    ALLOC: ("Heap allocations per record (dynamic release build under bench/alloccount.c, LD_PRELOAD)",
            ["mode", "records", "allocations: run − empty run (walls)", "allocations per record",
             "reallocations per record"]),
    LIVE: ("Live tail (lines written at a fixed rate while tailcar runs; simple mode -> blackhole)",
           ["rate", "records read / written", "mean CPU", "peak RSS", "samples"]),
    SCALE: ("Many files (appended round-robin while tailcar runs; -> flusher_file, verified)",
            ["case", "CPU-s per GB of input", "wall", "peak RSS", "verified"]),
}
TICKS = os.sysconf("SC_CLK_TCK")


def alloc_library(directory):
    """bench/alloccount.c built into directory with the system C compiler."""
    library = Path(directory) / "alloccount.so"
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", str(library), str(REPO / "bench/alloccount.c")], check=True)
    return library


# Each poll tick allocates (directory scans), so a run's count depends on its length. The counted runs
# poll once a second: a run over the data and one over an empty file then see the same single tick as long
# as reading takes under a second (the table shows both walls); the tick's own cost is measured apart.
ALLOC_POLL = 1.0


def alloc_counts(out):
    assert out.exists(), "alloccount wrote no report: tailcar left without running exit handlers (_exit?)"
    return {k: int(v) for k, v in (item.split("=") for item in out.read_text().split())}


def count_allocations(binary, library, config, work, tag):
    """Runs tailcar until drained under the counting library; returns (its counters as a dict, wall seconds)."""
    out = work / f"alloc-{tag}.txt"
    env = dict(os.environ, LD_PRELOAD=str(library), ALLOCCOUNT_OUT=str(out))
    started = time.monotonic()
    result = subprocess.run(run_argv(binary, config, work / f"state-{tag}", poll=str(ALLOC_POLL)), env=env,
                            stderr=subprocess.DEVNULL)
    assert result.returncode == 0, f"tailcar exited {result.returncode} under alloccount ({tag})"
    return alloc_counts(out), time.monotonic() - started


def tick_allocations(binary, library, config, work):
    """Allocations and bytes per poll tick of an idle pipeline: runs of 0.5 s and 2.5 s polling every 0.05 s,
    stopped by SIGTERM; the difference over the 40 extra ticks."""
    counts = []
    for seconds in (0.5, 2.5):
        out = work / f"alloc-idle-{seconds}.txt"
        env = dict(os.environ, LD_PRELOAD=str(library), ALLOCCOUNT_OUT=str(out))
        process = subprocess.Popen([str(binary), "run", "--config", str(config), "--checkpoint-dir",
                                    str(work / f"state-idle-{seconds}"), "--poll-interval", "0.05", "--http-port", "0"],
                                   env=env, stderr=subprocess.DEVNULL)
        time.sleep(seconds)  # the measured idle period
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, "tailcar did not stop cleanly on SIGTERM"
        counts.append(alloc_counts(out))
    ticks = 2.0 / 0.05
    return ((counts[1]["allocations"] - counts[0]["allocations"]) / ticks,
            (counts[1]["bytes"] - counts[0]["bytes"]) / ticks)


def case_alloc(binary, runs, rows):
    """Allocations per record: (allocations of a run over N records - those of the same pipeline over an
    empty file) / N, for every mode into the blackhole and simple mode into flusher_file; then the cost of
    one idle poll tick."""
    dynamic = dynamic_build()
    work = Path(tempfile.mkdtemp(prefix="tailcar-alloc-", dir=data_dir()))
    library = alloc_library(work)
    empty = data_dir() / "empty.log"  # beside the data: each poll tick scans the directory, entry by entry
    empty.touch()
    runs_of = [(mode, "  - Type: flusher_blackhole\n") for mode in modes.MODES]
    runs_of.append(("simple", f"  - Type: flusher_file\n    FilePath: {work / 'out.jsonl'}\n"))
    for mode, flusher in runs_of:
        data, records = modes.mode_data(mode, count=scaled(200000))
        label = mode + (" -> flusher_file" if "flusher_file" in flusher else " -> blackhole")
        (work / "empty.yaml").write_text(modes.mode_pipeline(mode, [empty], flusher))
        (work / "full.yaml").write_text(modes.mode_pipeline(mode, [data], flusher))
        per_record, reallocs, totals = [], [], []
        for run in range(max(1, runs // 2)):
            base, base_wall = count_allocations(dynamic, library, work / "empty.yaml", work, f"{mode}-empty-{run}")
            full, full_wall = count_allocations(dynamic, library, work / "full.yaml", work, f"{mode}-full-{run}")
            per_record.append((full["allocations"] - base["allocations"]) / records)
            reallocs.append((full["reallocations"] - base["reallocations"]) / records)
            totals.append(f'{full["allocations"]} − {base["allocations"]} ({full_wall:.1f} s / {base_wall:.1f} s)')
            (work / "out.jsonl").unlink(missing_ok=True)
        rows.append((ALLOC, (label, str(records), ", ".join(totals), summary(per_record, "{:.4f}"),
                             summary(reallocs, "{:.4f}"))))
    (work / "idle.yaml").write_text(pipeline([empty], from_start=False))
    allocations, size = tick_allocations(dynamic, library, work / "idle.yaml", work)
    entries = len(os.listdir(empty.parent))
    rows.append((ALLOC, (f"one idle poll tick (one file watched, {entries} entries in its directory)", "", "",
                         f"{allocations:.1f} per tick, {size / 1024:.1f} KiB per tick", "")))
    empty.unlink()
    shutil.rmtree(work, ignore_errors=True)


def cpu_ticks(pid):
    """utime+stime of pid from /proc/PID/stat (fields 14 and 15, counted after the command name)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_kib(pid, key):
    line = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith(key + ":"))
    return int(line.split()[1])


class LineWriter(threading.Thread):
    """Appends `count` lines of `data` to `path` at `rate` lines a second, one write(2) per line, as an
    application logging line by line does (tailcar-gen writes a batch every 10 ms instead)."""

    def __init__(self, path, data, rate, count):
        super().__init__()
        self.path, self.rate, self.count = path, rate, count
        self.lines = data.read_bytes().splitlines(keepends=True)[:count]

    def run(self):
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        started = time.monotonic()
        for index, line in enumerate(self.lines):
            os.write(fd, line)
            delay = started + (index + 1) / self.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the writer
        os.close(fd)


def start_writer(work, rate, written, per_line):
    """The running writer and a function telling whether it is still writing."""
    if per_line:
        writer = LineWriter(work / "logs/app.log", gen_data("nginx", max(written, 100000)), rate, written)
        writer.start()
        return writer.is_alive
    gen = subprocess.Popen([str(generator()), "--log-type=nginx", f"--path={work}/logs/app.log",
                            f"--logs-per-sec={rate}", f"--total-count={written}", "--stdout=false"])
    return lambda: gen.poll() is None


def live_run(binary, rate, seconds, per_line=False, flusher=None):
    """One live run: returns (records read, records written, mean CPU %, peak RSS MiB, samples)."""
    work = Path(tempfile.mkdtemp(prefix="tailcar-live-", dir=data_dir()))
    (work / "logs").mkdir()
    if flusher:
        (work / "p.yaml").write_text(pipeline([f"{work}/logs/*.log"], from_start=False, flusher=flusher))
    else:
        (work / "p.yaml").write_text(pipeline([f"{work}/logs/*.log"], from_start=False))
    port = free_port()
    tailcar = subprocess.Popen([str(binary), "run", "--config", str(work / "p.yaml"), "--checkpoint-dir",
                                str(work / "state"), "--http-port", str(port)], stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: http_get(port, "/healthz")[0] == 200, 15), "tailcar did not answer /healthz"
        written = int(rate * seconds)
        writing = start_writer(work, rate, written, per_line)
        started, ticks_before, rss = time.monotonic(), cpu_ticks(tailcar.pid), []
        while writing():
            time.sleep(0.5)  # the sampling interval of the profile
            rss.append(status_kib(tailcar.pid, "VmRSS"))
        wait_until(lambda: metric(port, "tailcar_records_read_total") >= written, 15)
        read = metric(port, "tailcar_records_read_total")
        elapsed, ticks = time.monotonic() - started, cpu_ticks(tailcar.pid) - ticks_before
        peak = max(rss + [status_kib(tailcar.pid, "VmHWM")]) / 1024
        return read, written, 100 * ticks / TICKS / elapsed, peak, len(rss)
    finally:
        tailcar.send_signal(signal.SIGTERM)
        tailcar.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def case_live(binary, runs, rows):
    """The sidecar profile: 1k, 10k, 100k lines/s from tailcar-gen (a write every 10 ms), and 1k lines/s
    written one line per write(2), for live_seconds each; CPU from /proc/PID/stat over the writing
    period, RSS sampled every 0.5 s (and VmHWM at the end)."""
    seconds = settings["live_seconds"]
    for rate, per_line in [(1000, False), (10000, False), (100000, False), (1000, True)]:
        results = [live_run(binary, rate, seconds, per_line) for _ in range(max(1, runs // 2))]
        read, written = min(r[0] for r in results), results[0][1]
        how = "one write(2) per line" if per_line else "tailcar-gen, a write every 10 ms"
        rows.append((LIVE, (f"{rate:,} lines/s for {seconds:g} s ({how})", f"{read} / {written}" +
                            ("" if read == written else " **LOST**"), summary([r[2] for r in results], "{:.1f}") +
                            f" % ({statistics.median(r[2] for r in results) * 10:.0f} millicores)",
                            summary([r[3] for r in results], "{:.1f}") + " MiB", str(results[0][4]))))


def case_live_sls(binary, runs, rows):
    """The issue's memory profile: about 10 MB/s of nginx lines (56k lines/s) shipped with flusher_sls lz4
    to the SLS test receiver for live_seconds; CPU and peak RSS as in `live`, arrival counted by the receiver."""
    python = REPO / ".venv" / "bin" / "python"
    if not python.exists():
        return
    os.environ.update({"ALIBABA_CLOUD_ACCESS_KEY_ID": "mockAccessKeyID",
                       "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "mockAccessKeySecret"})
    seconds, rate = settings["live_seconds"], 56000
    receiver = subprocess.Popen([str(python), str(REPO / "Tests/harness/sls_receiver.py"), "--port", "0", "--summary"],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        port = int(receiver.stdout.readline().split()[1])
        flusher = (f"  - Type: flusher_sls\n    Endpoint: http://127.0.0.1:{port}\n    Project: bench\n"
                   "    Logstore: live\n")
        results = []
        for _ in range(max(1, runs // 2)):
            before = json.loads(http_get(port, "/_stats")[1])["logs"]
            result = live_run(binary, rate, seconds, flusher=flusher)
            arrived = json.loads(http_get(port, "/_stats")[1])["logs"] - before
            results.append((arrived,) + result[1:])
        arrived, written = min(r[0] for r in results), results[0][1]
        rows.append((LIVE, (f"{rate:,} lines/s (~10 MB/s) for {seconds:g} s -> flusher_sls lz4 to the test receiver",
                            f"{arrived} / {written}" + ("" if arrived == written else " **LOST**"),
                            summary([r[2] for r in results], "{:.1f}") +
                            f" % ({statistics.median(r[2] for r in results) * 10:.0f} millicores)",
                            summary([r[3] for r in results], "{:.1f}") + " MiB", str(results[0][4]))))
    finally:
        receiver.kill()
        receiver.wait()


def layout_flat(root):
    return [root / f"f{i:04d}.log" for i in range(1000)], [f"{root}/*.log"], 0


def layout_tree(root):
    files = [root / f"d{a}" / f"s{b}" / f"f{c}.log" for a in range(10) for b in range(10) for c in range(10)]
    return files, [f"{root}/**/*.log"], 2


def append_round_robin(files, lines, per_write=10):
    """Appends lines to files in turn, per_write lines a write, from first to last."""
    descriptors = [os.open(f, os.O_WRONLY | os.O_APPEND) for f in files]
    try:
        for index, start in enumerate(range(0, len(lines), per_write)):
            os.write(descriptors[index % len(descriptors)], b"".join(lines[start:start + per_write]))
    finally:
        for fd in descriptors:
            os.close(fd)


def scale_run(binary, layout, lines, run):
    work = Path(tempfile.mkdtemp(prefix="tailcar-scale-", dir=data_dir()))
    files, patterns, depth = layout(work / "logs")
    for path in files:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    output = work / "out.jsonl"
    (work / "p.yaml").write_text(pipeline(patterns, depth=depth, from_start=False,
                                          flusher=f"  - Type: flusher_file\n    FilePath: {output}\n"))
    result = {}
    tailcar = threading.Thread(target=lambda: result.update(measured=measure(
        run_argv(binary, work / "p.yaml", work / "state", drained="2"), stderr=subprocess.DEVNULL)))
    tailcar.start()
    time.sleep(1.0)  # let tailcar find the 1,000 empty files before they grow (a benchmark, not a test)
    append_round_robin(files, lines)
    tailcar.join()
    cpu, wall, rss, code = result["measured"]
    clean, report = verify([output], len(lines)) if code == 0 and output.exists() else (False, f"tailcar exit {code}")
    shutil.rmtree(work, ignore_errors=True)
    return cpu, wall, rss, clean, report


def scale_case(layout, label):
    def case(binary, runs, rows):
        count = scaled(1000000)
        data = gen_data("nginx", count)
        lines = data.read_bytes().splitlines(keepends=True)
        size = sum(len(l) for l in lines)
        results = [scale_run(binary, layout, lines, run) for run in range(max(1, runs // 2))]
        reports = [r[4] for r in results]
        rows.append((SCALE, (f"{label}, {count} records ({size / 1e6:.0f} MB)",
                             summary([r[0] / (size / 1e9) for r in results]) + " CPU-s/GB",
                             summary([r[1] for r in results]) + " s", summary([r[2] / 2**20 for r in results], "{:.1f}")
                             + " MiB", "complete" if all(r[3] for r in results) else "**INCOMPLETE** " + reports[0])))
    case.__doc__ = label
    return case


CASES = {"alloc": case_alloc, "live": case_live, "live-sls": case_live_sls,
         "scale-files": scale_case(layout_flat, "1,000 files in one directory (`*.log`)"),
         "scale-tree": scale_case(layout_tree, "10 x 10 x 10 tree (`**/*.log`, MaxDirSearchDepth 2)")}
