#!/usr/bin/env python3
"""`tailcar controller` under load, by hand: N AliyunLogConfig resources created at once in the API double
(Tests/harness/kube_api_double.py), reconciled into the SLS test receiver (Tests/harness/sls_receiver.py, every
request signature-checked by the official SDK), both on 127.0.0.1. Prints a markdown table: wall time from
the first create to every status OK, the controller's CPU-seconds (utime+stime from /proc/PID/stat) per
reconcile, SLS and API requests per resource, peak RSS (VmHWM), and the idle cost afterwards (lease renewals
every 2 s and watch bookmarks only) in millicores over --idle-seconds.

    python3 bench/controller.py [--resources 200] [--idle-seconds 30] [--binary PATH]

Uses the static release binary (.build-static/release/tailcar) when built, else the debug one."""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "Tests" / "controller"), str(REPO / "Tests" / "integration")]
from kube_double_support import GROUP, PLURAL, VERSION, KubeDouble, log_config  # noqa: E402
from sls_support import CREDENTIALS, Receiver  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def peak_rss_mib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=30)
    parser.add_argument("--binary")
    args = parser.parse_args()
    static = REPO / ".build-static" / "release" / "tailcar"
    binary = Path(args.binary) if args.binary else (static if static.exists() else REPO / ".build" / "debug" / "tailcar")
    work = Path(tempfile.mkdtemp(prefix="tailcar-bench-ctl-"))
    double = KubeDouble("--bookmark-seconds", "5")
    receiver = Receiver(work)
    kubeconfig = double.kubeconfig(work / "kubeconfig", namespace="tailcar-system")
    env = {"PATH": os.environ.get("PATH", ""), **CREDENTIALS,
           "ALICLOUD_LOG_ENDPOINT": f"http://127.0.0.1:{receiver.port}"}
    controller = subprocess.Popen([str(binary), "controller", "--kubeconfig", str(kubeconfig), "--http-port", "0",
                                   "--identity", "bench"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    try:
        from kubernetes import client
        api = client.CustomObjectsApi(double.client())
        deadline = time.monotonic() + 30
        while not any("leases" in r["path"] and r["method"] == "POST" for r in double.requests()):
            assert time.monotonic() < deadline, "the controller never took the lease"
            time.sleep(0.05)
        cpu_before = cpu_seconds(controller.pid)
        started = time.monotonic()
        for i in range(args.resources):
            api.create_namespaced_custom_object(GROUP, VERSION, "default", PLURAL,
                                                log_config(f"r{i}", project="k8s-bench", logstore=f"s{i}",
                                                           group="bench-group"))
        while True:
            items = api.list_cluster_custom_object(GROUP, VERSION, PLURAL)["items"]
            if sum(1 for i in items if (i.get("status") or {}).get("status") == "OK") == args.resources:
                break
            assert time.monotonic() - started < 600, "not every resource reconciled in 10 minutes"
            time.sleep(0.2)
        wall = time.monotonic() - started
        cpu = cpu_seconds(controller.pid) - cpu_before
        with urllib.request.urlopen(f"http://127.0.0.1:{receiver.port}/_requests", timeout=30) as answer:
            sls_requests = len(json.loads(answer.read()))
        api_requests = sum(1 for r in double.requests() if r["agent"] == "tailcar-controller")
        idle_before = cpu_seconds(controller.pid)
        time.sleep(args.idle_seconds)
        idle = (cpu_seconds(controller.pid) - idle_before) / args.idle_seconds * 1000
        rss = peak_rss_mib(controller.pid)
    finally:
        controller.terminate()
        controller.wait(timeout=30)
        double.stop()
        receiver.stop()
        shutil.rmtree(work, ignore_errors=True)
    n = args.resources
    print(f"{n} resources, {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"binary {binary.relative_to(REPO) if binary.is_relative_to(REPO) else binary}")
    print()
    print("| resources | wall to all OK | controller CPU | CPU per reconcile | SLS requests / resource "
          "| API requests / resource | peak RSS | idle |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {n} | {wall:.1f} s | {cpu:.2f} s | {cpu / n * 1000:.2f} ms | {sls_requests / n:.1f} "
          f"| {api_requests / n:.1f} | {rss:.1f} MiB | {idle:.2f} millicores |")


if __name__ == "__main__":
    main()
