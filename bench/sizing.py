"""bench/sizing.py: the sizing table of issue 17. For every parsing mode (modes.py), `tailcar bench` (the
static release binary) searches the highest rate held, lag under 1 s and not growing, at 0.1, 0.25 and 1
CPU with 32 and 64 MiB, and at the vendor's request (10m CPU, 30Mi) and LoongCollector's (100m, 128Mi),
into the blackhole and into the SLS test receiver (Tests/harness/sls_receiver.py --summary, flusher_sls
lz4 kept with --keep-flusher). The sample is 20,000 tailcar-gen lines of the mode's type, replayed in
batches every 10 ms. Writes the "Sizing under fixed resources" section of bench/RESULTS.md (replacing the
previous one) and prints each budget's JSON as it comes."""

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from benchlib import REPO, build, data_dir, gen_data
from live import sls_receiver
from modes import MODES, mode_pipeline

BUDGETS = [("0.1,0.25,1", "32Mi,64Mi"), ("10m", "30Mi"), ("100m", "128Mi")]
SECTION = "## Sizing under fixed resources"


def sample(mode):
    log_type = MODES[mode][0]
    return gen_data(log_type, 20000, name=f"sizing-{log_type}-20000.log")


def bench(binary, mode, sink, seconds, work):
    """Every budget of one mode into one sink: the JSON rows, each with mode and sink added."""
    config = work / f"sizing-{mode}-{sink}.yaml"
    rows = []
    with (sls_receiver() if sink == "sls" else _NoReceiver()) as port:
        flusher = "  - Type: flusher_blackhole\n"
        extra = []
        if sink == "sls":
            flusher = (f"  - Type: flusher_sls\n    Endpoint: http://127.0.0.1:{port}\n    Project: bench\n"
                       "    Logstore: sizing\n    CompressType: lz4\n")
            extra = ["--keep-flusher", "--sink", f"http://127.0.0.1:{port}"]
        config.write_text(mode_pipeline(mode, ["/var/log/app/*.log"], flusher=flusher))
        for cpus, memory in BUDGETS:
            started = datetime.datetime.now(datetime.timezone.utc)
            result = subprocess.run([str(binary), "bench", "--config", str(config), "--sample", str(sample(mode)),
                                     "--cpus", cpus, "--memory", memory, "--seconds", str(seconds), "--json",
                                     "--work-dir", str(work), *extra], capture_output=True, text=True)
            if result.returncode != 0:
                sys.stderr.write(result.stderr)
                raise SystemExit(f"tailcar bench failed for {mode} -> {sink} at {cpus} x {memory}")
            for line in result.stdout.splitlines():
                row = dict(json.loads(line), mode=mode, sink=sink, started=started.strftime("%Y-%m-%d %H:%M UTC"))
                print(json.dumps(row), flush=True)
                rows.append(row)
    config.unlink()
    return rows


class _NoReceiver:
    def __enter__(self):
        return None

    def __exit__(self, *failure):
        return False


def cell(value, fmt):
    return "—" if value is None else fmt.format(value)


def table(rows, seconds, command, note, shared=False):
    machine = f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}"
    lines = [SECTION, "",
             f"- Measured: {rows[0]['started']} to {rows[-1]['started']}, `{command}`",
             f"- Machine: {machine}; budgets enforced by {rows[0]['backend']} (a child cgroup with a CFS quota and a "
             "memory limit, created by `tailcar bench`)",
             f"- Each rate is the highest held for a {seconds:g} s confirming run (probing steps of "
             f"{min(seconds, max(2, min(10, seconds / 4))):g} s) with the lag (bytes written but not yet read through "
             "the pipeline, from the child's /metrics) under 1 s and not growing; the sample (20,000 tailcar-gen lines of the "
             "mode's type) is written by `tailcar bench` in batches every 10 ms, outside the budget. Peak RSS is the "
             "child's VmHWM in the confirming run (it counts the binary's mapped pages, which the memory cgroup "
             "does not charge, so it can exceed the limit that held). A short --seconds lets a rate up to about "
             "10% above the sustainable one pass (the lag may grow 0.15 s over the run). SLS: flusher_sls lz4 kept (`--keep-flusher`) and sent to the SLS "
             "test receiver (`--summary`, Python, on the same 2 cores, outside the budget).",
             ]
    if note:
        lines.append(f"- Note: {note}")
    lines += ["", "| mode | sink | CPU | memory | lines/s | MB/s | peak RSS MiB | measured | |",
              "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        cpu = f"{int(round(row['cpus'] * 1000))}m"
        memory = f"{row['memory_mib']:g}Mi"
        remark = "" if row["measured"] else "estimate"
        if row.get("note"):
            remark = (remark + "; " if remark else "") + row["note"].replace("|", "/")
        lines.append(f"| {row['mode']} | {row['sink']} | {cpu} | {memory} | {cell(row['lines_per_second'], '{:,.0f}')} | "
                     f"{cell(row['mb_per_second'], '{:.2f}')} | {row['peak_rss_mib']:.1f} | "
                     f"{row['started']}, {row['seconds']:g} s, {row['backend']}{', shared machine' if shared else ''} | "
                     f"{remark} |")
    return "\n".join(lines) + "\n"


def write_section(path, text):
    """Replaces the sizing section of RESULTS.md (up to the next `## ` heading), or appends it."""
    current = path.read_text() if path.exists() else "# Tailcar benchmark results\n"
    start = current.find(SECTION)
    if start < 0:
        path.write_text(current.rstrip("\n") + "\n\n" + text)
        return
    end = current.find("\n## ", start + len(SECTION))
    path.write_text(current[:start] + text + ("" if end < 0 else current[end:]))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60, help="each budget's confirming run (default 60)")
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated modes (default all)")
    parser.add_argument("--sinks", default="blackhole,sls", help="blackhole, sls or both (default both)")
    parser.add_argument("--output", default=str(REPO / "bench/RESULTS.md"))
    parser.add_argument("--command", help="with --from-jsonl: the command that measured the rows")
    parser.add_argument("--note", default="")
    parser.add_argument("--shared", action="store_true",
                        help="say in every row that other work shared the machine while it was measured")
    parser.add_argument("--from-jsonl", metavar="FILE",
                        help="rewrite the section from the JSON lines a previous run printed, measuring nothing")
    args = parser.parse_args()
    if args.from_jsonl:
        rows = [json.loads(line) for line in Path(args.from_jsonl).read_text().splitlines() if line.strip()]
        write_section(Path(args.output), table(rows, rows[0]["seconds"], args.command or "python3 bench/sizing.py",
                                               args.note, args.shared))
        return
    binary = build()
    work = data_dir() / "sizing"
    work.mkdir(parents=True, exist_ok=True)
    rows = []
    command = ("python3 bench/sizing.py " + " ".join(sys.argv[1:])).strip()
    for mode in args.modes.split(","):
        for sink in args.sinks.split(","):
            rows += bench(binary, mode, sink, args.seconds, work)
            # Written after every mode and sink, so an interrupted run keeps what it measured.
            write_section(Path(args.output), table(rows, args.seconds, command, args.note, args.shared))


if __name__ == "__main__":
    main()
