#!/usr/bin/env python3
"""bench/measure.py: runs one command N times and reports its CPU time (user+sys of the child,
from os.wait4), wall time and peak RSS as median/min/max, as one JSON object.

Peak RSS is the child's VmHWM from /proc, sampled every 10 ms until it exits: ru_maxrss is not
usable here because the kernel carries the forking Python's RSS (~15 MiB) into the child's
ru_maxrss at exec. The wait4 figure is still reported, as ru_maxrss_kib.

usage: measure.py --runs N --label NAME [--stdout-null] [--prepare CMD] -- COMMAND ARGS...
--prepare runs (untimed, through the shell) before each run, e.g. to empty a checkpoint directory.
"""
import argparse, json, os, statistics, subprocess, sys, threading, time


def run_once(command, stdout_null):
    out = subprocess.DEVNULL if stdout_null else sys.stderr  # stdout carries only the JSON report
    start = time.monotonic()
    process = subprocess.Popen(command, stdout=out)
    peak = [0]
    sampler = threading.Thread(target=sample_hwm, args=(process.pid, peak), daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    sampler.join()
    code = os.waitstatus_to_exitcode(status)
    return {"cpu": usage.ru_utime + usage.ru_stime, "user": usage.ru_utime, "sys": usage.ru_stime,
            "wall": wall, "rss_kib": peak[0], "ru_maxrss_kib": usage.ru_maxrss, "exit": code}


def sample_hwm(pid, peak):
    """Keeps the largest VmHWM seen in /proc/PID/status until the process is gone or a zombie."""
    while True:
        try:
            with open(f"/proc/{pid}/status") as status:
                fields = dict(line.split(":", 1) for line in status if ":" in line)
        except OSError:
            return
        if "VmHWM" not in fields:
            return
        peak[0] = max(peak[0], int(fields["VmHWM"].split()[0]))
        time.sleep(0.01)


def summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--label", required=True)
    parser.add_argument("--input-bytes", type=int, default=0)
    parser.add_argument("--stdout-null", action="store_true")
    parser.add_argument("--prepare")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    runs = []
    for _ in range(args.runs):
        if args.prepare:
            subprocess.run(args.prepare, shell=True, check=True)
        result = run_once(command, args.stdout_null)
        if result["exit"] != 0:
            print(f"measure.py: {args.label}: {command} exited {result['exit']}", file=sys.stderr)
            sys.exit(1)
        runs.append(result)
    report = {"label": args.label, "command": command, "runs": len(runs), "input_bytes": args.input_bytes,
              "cpu_s": summary([r["cpu"] for r in runs]), "wall_s": summary([r["wall"] for r in runs]),
              "rss_kib": summary([r["rss_kib"] for r in runs])}
    if args.input_bytes:
        report["mb_per_cpu_s"] = summary([args.input_bytes / 1e6 / max(r["cpu"], 1e-9) for r in runs])
    print(json.dumps(report))


if __name__ == "__main__":
    main()
