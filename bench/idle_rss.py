#!/usr/bin/env python3
"""bench/idle_rss.py: starts a command, samples its VmRSS from /proc after --after seconds, stops it
with SIGTERM (SIGKILL after 5 s), and prints one JSON object. Exit 1 if it died before the sample.

usage: idle_rss.py --label NAME [--after 2] -- COMMAND ARGS...
"""
import argparse, json, os, signal, subprocess, sys, time


def vm_field(pid, name):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--label", required=True)
    parser.add_argument("--after", type=float, default=2.0)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        process.wait(timeout=args.after)
        print(f"idle_rss.py: {command} exited {process.returncode} before the sample", file=sys.stderr)
        sys.exit(1)
    except subprocess.TimeoutExpired:
        pass
    rss, hwm = vm_field(process.pid, "VmRSS"), vm_field(process.pid, "VmHWM")
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        code = process.wait()
    print(json.dumps({"label": args.label, "command": command, "rss_kib": rss, "hwm_kib": hwm,
                      "after_s": args.after, "exit_after_sigterm": code}))


if __name__ == "__main__":
    main()
