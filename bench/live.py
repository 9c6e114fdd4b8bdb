"""bench/live.py: the sidecar's live-tail profiles, lines written at a fixed rate while tailcar runs (simple
mode). CPU is utime+stime of the tailcar process from /proc/PID/stat over the writing period; RSS is sampled
every 0.5 s (VmRSS) and VmHWM read at the end.

  live        tailcar-gen writing a batch every 10 ms at 1k, 10k, 100k lines/s -> blackhole
  live-lines  one write(2) per line (tailcar-gen --write-per-line --real-time) at 1k, 10k, 100k lines/s,
              -> blackhole and -> flusher_sls to the SLS test receiver, with the delay from a line's write
              to its flusher (p50 and p99)
  live-delay  the --read-delay trade-off: CPU and delay at 1k and 10k lines/s for delays of 0 to 50 ms
  live-sls    ~10 MB/s (56k lines/s, tailcar-gen batches) -> flusher_sls lz4, the memory profile

Delay: every line carries its write time (tailcar-gen --real-time stamps each record when it formats it,
just before its write(2); milliseconds). Into the blackhole, a companion run of the same load goes to
flusher_file instead, and a record's __time__/__time_ns__ (stamped when the read hands its lines to the
flushers) minus the line's write time is its delay. Into SLS, the test receiver takes the time each request
arrives (--latency) minus the write time of every tenth log: that includes the flusher's batching (up to 1 s).
Each case is a function (binary, runs, rows) appending (table, cells) rows, as in run.py."""

import datetime
import json
import os
import shutil
import signal
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchlib import REPO, data_dir, free_port, generator, http_get, metric, pipeline, settings, summary, wait_until

LIVE = "live"
TABLES = {
    LIVE: ("Live tail (lines written at a fixed rate while tailcar runs; simple mode)",
           ["rate", "records read / written", "mean CPU", "peak RSS", "delay write -> flusher p50 / p99", "samples"]),
}
TICKS = os.sysconf("SC_CLK_TCK")
RATES = (1000, 10000, 100000)
# Companion runs that measure the delay into flusher_file last this long at most.
DELAY_RUN_SECONDS = 15.0
DELAY_SETTINGS = (0.0, 0.01, 0.02, 0.05)


def cpu_ticks(pid):
    """utime+stime of pid from /proc/PID/stat (fields 14 and 15, counted after the command name)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def status_kib(pid, key):
    line = next(l for l in Path(f"/proc/{pid}/status").read_text().splitlines() if l.startswith(key + ":"))
    return int(line.split()[1])


def write_time(content):
    """The write time tailcar-gen --real-time put at the start of an nginx line, as epoch seconds:
    "2026-12-04T20:59:48.123+08:00 10.7.1.20 - - ..." -> 1796389188.123"""
    return datetime.datetime.fromisoformat(content[:29]).timestamp()


def percentiles(delays):
    """(p50, p99) of a list of milliseconds, as text."""
    if not delays:
        return "n/a"
    ordered = sorted(delays)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1) + 0.5))]
    return f"{pick(0.5):.0f} / {pick(0.99):.0f} ms"


def file_delays(path, every=1):
    """Milliseconds from each line's write to its record's __time__ (the read that handed it on), from
    flusher_file's JSON lines; every `every`th line."""
    delays = []
    with open(path) as lines:
        for index, line in enumerate(lines):
            if index % every:
                continue
            record = json.loads(line)
            handed = record["__time__"] + record.get("__time_ns__", 0) / 1e9
            delays.append((handed - write_time(record["content"])) * 1000)
    return delays


def start_writer(path, rate, count, per_line):
    argv = [str(generator()), "--log-type=nginx", f"--path={path}", f"--logs-per-sec={rate}",
            f"--total-count={count}", "--stdout=false"]
    if per_line:
        argv += ["--write-per-line", "--real-time"]
    return subprocess.Popen(argv)


def live_run(binary, rate, seconds, per_line=False, flusher=None, extra=(), keep_output=None):
    """One live run: returns (records read, records written, mean CPU %, peak RSS MiB, samples). With
    keep_output, `keep_output(work)` is called before the scratch directory goes."""
    work = Path(tempfile.mkdtemp(prefix="tailcar-live-", dir=data_dir()))
    (work / "logs").mkdir()
    text = pipeline([f"{work}/logs/*.log"], from_start=False, flusher=(flusher(work) if callable(flusher) else flusher)
                    or "  - Type: flusher_blackhole\n")
    (work / "p.yaml").write_text(text)
    port = free_port()
    tailcar = subprocess.Popen([str(binary), "run", "--config", str(work / "p.yaml"), "--checkpoint-dir",
                                str(work / "state"), "--http-port", str(port), *extra], stderr=subprocess.DEVNULL)
    try:
        assert wait_until(lambda: http_get(port, "/healthz")[0] == 200, 15), "tailcar did not answer /healthz"
        written = int(rate * seconds)
        writer = start_writer(work / "logs/app.log", rate, written, per_line)
        started, ticks_before, rss = time.monotonic(), cpu_ticks(tailcar.pid), []
        while writer.poll() is None:
            time.sleep(0.5)  # the sampling interval of the profile
            rss.append(status_kib(tailcar.pid, "VmRSS"))
        wait_until(lambda: metric(port, "tailcar_records_read_total") >= written, 15)
        read = metric(port, "tailcar_records_read_total")
        elapsed, ticks = time.monotonic() - started, cpu_ticks(tailcar.pid) - ticks_before
        peak = max(rss + [status_kib(tailcar.pid, "VmHWM")]) / 1024
        if keep_output:
            keep_output(work)
        return read, written, 100 * ticks / TICKS / elapsed, peak, len(rss)
    finally:
        tailcar.send_signal(signal.SIGTERM)
        tailcar.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


def file_flusher(work):
    return f"  - Type: flusher_file\n    FilePath: {work}/out.jsonl\n"


def delay_run(binary, rate, seconds, extra=()):
    """The same per-line load into flusher_file: (read, written, CPU %, peak MiB, samples, delays in ms)."""
    delays = []
    every = max(1, rate // 10000)
    result = live_run(binary, rate, seconds, per_line=True, flusher=file_flusher, extra=extra,
                      keep_output=lambda work: delays.extend(file_delays(work / "out.jsonl", every)))
    return result + (delays,)


def row(label, results, delay_text):
    read, written = min(r[0] for r in results), results[0][1]
    cpu = [r[2] for r in results]
    return (LIVE, (label, f"{read} / {written}" + ("" if read == written else " **LOST**"),
                   summary(cpu, "{:.1f}") + f" % ({statistics.median(cpu) * 10:.0f} millicores)",
                   summary([r[3] for r in results], "{:.1f}") + " MiB", delay_text, str(results[0][4])))


def case_live(binary, runs, rows):
    """1k, 10k, 100k lines/s from tailcar-gen (a write every 10 ms) into the blackhole."""
    seconds = settings["live_seconds"]
    for rate in RATES:
        results = [live_run(binary, rate, seconds) for _ in range(max(1, runs // 2))]
        rows.append(row(f"{rate:,} lines/s for {seconds:g} s (tailcar-gen, a write every 10 ms) -> blackhole",
                        results, ""))


def case_live_lines(binary, runs, rows):
    """One write(2) per line at 1k, 10k, 100k lines/s into the blackhole (delay from a flusher_file companion
    run) and into flusher_sls (delay at the receiver)."""
    seconds = settings["live_seconds"]
    for rate in RATES:
        results = [live_run(binary, rate, seconds, per_line=True) for _ in range(max(1, runs // 2))]
        delays = delay_run(binary, rate, min(seconds, DELAY_RUN_SECONDS))[5]
        rows.append(row(f"{rate:,} lines/s for {seconds:g} s (one write(2) per line) -> blackhole", results,
                        percentiles(delays) + f" (flusher_file, {min(seconds, DELAY_RUN_SECONDS):g} s)"))
    with sls_receiver() as port:
        for rate in RATES:
            results = []
            for _ in range(max(1, runs // 2)):
                before = receiver_logs(port)
                receiver_get(port, "/_latency")  # starts the delay samples afresh
                result = live_run(binary, rate, seconds, per_line=True, flusher=sls_flusher(port))
                wait_until(lambda: receiver_logs(port) - before >= result[1], 30)
                results.append((receiver_logs(port) - before,) + result[1:])
            delays = json.loads(receiver_get(port, "/_latency"))
            text = f"{delays['p50']:.0f} / {delays['p99']:.0f} ms" if delays["count"] else "n/a"
            rows.append(row(f"{rate:,} lines/s for {seconds:g} s (one write(2) per line) -> flusher_sls lz4 to the "
                            "test receiver", results, text + " (at the receiver, batching included; every tenth log)"))


def receiver_get(port, path):
    """The SLS test receiver may be busy decoding a backlog: a generous timeout."""
    return http_get(port, path, timeout=60)[1]


def receiver_logs(port):
    return json.loads(receiver_get(port, "/_stats"))["logs"]


def case_live_delay(binary, runs, rows):
    """The read delay's trade-off: one write(2) per line at 1k and 10k lines/s into flusher_file, for each
    --read-delay; CPU includes writing the JSON lines."""
    seconds = min(settings["live_seconds"], 20.0)
    for rate in RATES[:2]:
        for delay in DELAY_SETTINGS:
            results = [delay_run(binary, rate, seconds, extra=("--read-delay", str(delay)))
                       for _ in range(max(1, runs // 2))]
            rows.append(row(f"{rate:,} lines/s for {seconds:g} s (one write(2) per line), --read-delay {delay:g} "
                            "-> flusher_file", results, percentiles(results[0][5])))


def sls_flusher(port):
    return f"  - Type: flusher_sls\n    Endpoint: http://127.0.0.1:{port}\n    Project: bench\n    Logstore: live\n"


class sls_receiver:
    """The SLS test receiver (counts only, plus delays) for the duration of a with block; yields its port."""

    def __enter__(self):
        os.environ.update({"ALIBABA_CLOUD_ACCESS_KEY_ID": "mockAccessKeyID",
                           "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "mockAccessKeySecret"})
        python = REPO / ".venv" / "bin" / "python"
        self.process = subprocess.Popen([str(python), str(REPO / "Tests/harness/sls_receiver.py"), "--port", "0",
                                         "--summary", "--latency"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        return int(self.process.stdout.readline().split()[1])

    def __exit__(self, *failure):
        self.process.kill()
        self.process.wait()


def case_live_sls(binary, runs, rows):
    """About 10 MB/s of nginx lines (56k lines/s, tailcar-gen batches) shipped with flusher_sls lz4 to the SLS
    test receiver for live_seconds; arrival counted by the receiver."""
    if not (REPO / ".venv" / "bin" / "python").exists():
        return
    seconds, rate = settings["live_seconds"], 56000
    with sls_receiver() as port:
        results = []
        for _ in range(max(1, runs // 2)):
            before = receiver_logs(port)
            result = live_run(binary, rate, seconds, flusher=sls_flusher(port))
            wait_until(lambda: receiver_logs(port) - before >= result[1], 30)
            results.append((receiver_logs(port) - before,) + result[1:])
        rows.append(row(f"{rate:,} lines/s (~10 MB/s) for {seconds:g} s -> flusher_sls lz4 to the test receiver",
                        results, ""))


CASES = {"live": case_live, "live-lines": case_live_lines, "live-delay": case_live_delay, "live-sls": case_live_sls}
