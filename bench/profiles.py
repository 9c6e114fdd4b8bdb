"""bench/profiles.py: the cases that are not plain throughput: heap allocations per record (alloc) and many
files at once (scale-files, scale-tree); the live-tail profiles are in live.py.
Each case is a function (binary, runs, rows) appending (table, cells) rows, as in run.py."""

import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import modes
from benchlib import REPO, data_dir, dynamic_build, gen_data, measure, pipeline, run_argv, scaled, summary, verify

ALLOC, SCALE = "alloc", "scale"
TABLES = {
    ALLOC: ("Heap allocations per record (dynamic release build under bench/alloccount.c, LD_PRELOAD)",
            ["mode", "records", "allocations: run − empty run (walls)", "allocations per record",
             "reallocations per record"]),
    SCALE: ("Many files (appended round-robin while tailcar runs; -> flusher_file, verified)",
            ["case", "CPU-s per GB of input", "wall", "peak RSS", "verified"]),
}


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


CASES = {"alloc": case_alloc,
         "scale-files": scale_case(layout_flat, "1,000 files in one directory (`*.log`)"),
         "scale-tree": scale_case(layout_tree, "10 x 10 x 10 tree (`**/*.log`, MaxDirSearchDepth 2)")}
