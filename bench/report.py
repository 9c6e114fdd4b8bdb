#!/usr/bin/env python3
"""bench/report.py: turns the JSON lines written by run.sh (bench/out/results.jsonl) into
bench/RESULTS.md: the machine, the exact command, then one table per case group.

usage: report.py RESULTS_JSONL COMMAND_LINE > RESULTS.md
"""
import json, os, platform, subprocess, sys, time


def cpu_model():
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def fmt(summary, scale=1.0, digits=2):
    return f"{summary['median'] * scale:.{digits}f} ({summary['min'] * scale:.{digits}f} - {summary['max'] * scale:.{digits}f})"


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    print("# Tailcar benchmark results\n")
    print(f"- Machine: {cpu_model()}, {os.cpu_count()} cores, kernel {platform.release()}")
    print(f"- Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load average at the end: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} (a shared machine inflates wall time, not CPU time much)")
    print(f"- Command: `{sys.argv[2]}`")
    for row in rows:
        if row.get("note"):
            print(f"- {row['note']}")
    print("\nMedians of the runs, (min - max) after each. CPU = user+sys of the child (os.wait4), including "
          "the children it waited for. Peak RSS = VmHWM sampled every 10 ms (see bench/README.md).\n")
    timed = [r for r in rows if "cpu_s" in r]
    if timed:
        print("| case | runs | input MB | MB per CPU-s | CPU s | wall s | peak RSS MiB | CPU vs `cat` |")
        print("|---|---|---|---|---|---|---|---|")
        cats = {r["group"]: r["cpu_s"]["median"] for r in timed if r["label"].startswith("cat ")}
        for r in timed:
            rate = fmt(r["mb_per_cpu_s"], 1, 0) if "mb_per_cpu_s" in r else "-"
            cat = cats.get(r.get("group"))
            ratio = f"{r['cpu_s']['median'] / cat:.1f}x" if cat else "-"
            print(f"| {r['label']} | {r['runs']} | {r['input_bytes'] / 1e6:.0f} | {rate} | {fmt(r['cpu_s'])} "
                  f"| {fmt(r['wall_s'])} | {fmt(r['rss_kib'], 1 / 1024, 1)} | {ratio} |")
    idle = [r for r in rows if "hwm_kib" in r]
    if idle:
        print("\n| idle case | RSS after 2 s MiB | VmHWM MiB | exit after SIGTERM |")
        print("|---|---|---|---|")
        for r in idle:
            print(f"| {r['label']} | {r['rss_kib'] / 1024:.1f} | {r['hwm_kib'] / 1024:.1f} | {r['exit_after_sigterm']} |")
    gen = [r for r in rows if "gen_mb_s" in r]
    if gen:
        print("\n| generator case | MB/s (median, min - max) |")
        print("|---|---|")
        for r in gen:
            print(f"| {r['label']} | {fmt(r['gen_mb_s'], 1, 0)} |")


if __name__ == "__main__":
    main()
