"""bench/slspath.py: where flusher_sls's CPU goes and how it scales (issue 15). Every case reads the mode's
file already on tmpfs from byte 0 into flusher_sls on loopback, the reference tools run over the same bytes
in the same run.

- `sls-share`: each mode into the SLS test receiver (--summary: signatures checked, every request decoded and
  its logs counted). Tailcar's own counters split the sealing CPU by stage (tailcar_sls_encode/compress/
  hash_cpu_seconds_total, measured per thread): LogGroup bytes per input byte, compression's share, and the
  rest (reading, framing, parsing, batching, encoding, sending) with and without MD5.
- `sls-codecs`: simple and regex modes at each LZ4Acceleration and ZstdLevel: MB per CPU-second and ratio,
  with the `lz4`/`zstd` tools at the same settings on the input file.
- `sls-cores`: simple mode -> lz4 under `taskset` on one core and on two, into `tailcar sls-sink` (libuv,
  answers every PutLogs with 200 unread), so the sink takes little of the two cores Tailcar is measured on;
  a run ends drained, every batch acknowledged. Wall-clock MB/s and CPU-seconds per GB, for the 273 MB
  nginx file and for a backlog four times as long (1.09 GB, 5.2 M records: start-up, the drained wait and
  the last batches weigh less in it)."""

import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from benchlib import REPO, data_dir, free_port, http_get, measure, summary
from modes import MODES, mode_data, mode_pipeline

SHARE, CODECS, CORES = "sls-share", "sls-codecs", "sls-cores"
CREDENTIALS = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "mockAccessKeyID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "mockAccessKeySecret"}
PYTHON = REPO / ".venv" / "bin" / "python"


class Receiver:
    def __init__(self, *extra):
        self.process = subprocess.Popen([str(PYTHON), str(REPO / "Tests/harness/sls_receiver.py"), "--port", "0",
                                         *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self.port = int(self.process.stdout.readline().split()[1])

    def stats(self):
        return json.loads(http_get(self.port, "/_stats")[1])

    def stop(self):
        self.process.kill()
        self.process.wait()


def flusher(port, logstore, compression, setting=""):
    text = (f"  - Type: flusher_sls\n    Endpoint: http://127.0.0.1:{port}\n    Project: bench\n"
            f"    Logstore: {logstore}\n    CompressType: {compression}\n")
    return text + (f"    {setting}\n" if setting else "")


def metrics(port):
    _, text = http_get(port, "/metrics")
    return {l.split()[0]: float(l.split()[1]) for l in text.splitlines() if l and not l.startswith("#")}


def proc_cpu(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_with_metrics(binary, config, work, records, argv_prefix=()):
    """`tailcar run` with its metrics on a free port until every record was sent: (cpu, metrics, VmHWM MiB)."""
    port = free_port()
    process = subprocess.Popen([*argv_prefix, str(binary), "run", "--config", str(config), "--checkpoint-dir",
                                str(work / "state"), "--poll-interval", "0.05", "--http-port", str(port)],
                               env={**os.environ, **CREDENTIALS}, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            time.sleep(0.1)  # polling the agent's metrics, not ordering anything
            try:
                values = metrics(port)
            except OSError:
                continue
            if values.get("tailcar_logs_sent_total", 0) >= records:
                break
        cpu = proc_cpu(process.pid)
        peak = next(int(l.split()[1]) for l in Path(f"/proc/{process.pid}/status").read_text().splitlines()
                    if l.startswith("VmHWM:")) / 1024
        return cpu, values, peak
    finally:
        process.terminate()
        process.wait(timeout=30)
        shutil.rmtree(work / "state", ignore_errors=True)


def tool_cpu(argv, data):
    cpu, _, _, code = measure([*argv, str(data)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert code == 0, f"{argv[0]} exited {code}"
    return cpu


def case_share(binary, runs, rows):
    """Each mode -> lz4: the LogGroup's size against the input, and the CPU by stage."""
    for mode in MODES:
        data, records = mode_data(mode)
        size = data.stat().st_size
        samples = []
        for _ in range(runs):
            receiver = Receiver("--summary")
            work = Path(tempfile.mkdtemp(prefix="tailcar-bench-", dir=data_dir()))
            try:
                config = work / "p.yaml"
                config.write_text(mode_pipeline(mode, [data], flusher(receiver.port, mode, "lz4")))
                cpu, values, peak = run_with_metrics(binary, config, work, records)
                assert receiver.stats()["logs"] == records, "the receiver did not count every log"
                samples.append((cpu, values, peak))
            finally:
                receiver.stop()
                shutil.rmtree(work, ignore_errors=True)
        lz4 = tool_cpu(["lz4", "-1", "-c"], data)
        cpu = [c for c, _, _ in samples]
        compress = [v["tailcar_sls_compress_cpu_seconds_total"] / c for c, v, _ in samples]
        hashing = [v["tailcar_sls_hash_cpu_seconds_total"] / c for c, v, _ in samples]
        encode = [v["tailcar_sls_encode_cpu_seconds_total"] / c for c, v, _ in samples]
        loggroup = samples[0][1]["tailcar_raw_bytes_sent_total"] / size
        rows.append((SHARE, (f"{mode}, {size / 1e6:.0f} MB", summary([size / c / 1e6 for c in cpu], "{:.0f}"),
                             f"{sorted(cpu)[len(cpu) // 2] / lz4:.2f}× ({size / lz4 / 1e6:.0f} MB/CPU-s)",
                             f"{loggroup:.2f}", summary([100 * x for x in compress], "{:.0f}") + " %",
                             summary([100 * x for x in hashing], "{:.0f}") + " %",
                             summary([100 * x for x in encode], "{:.0f}") + " %",
                             summary([100 * (1 - a - b) for a, b in zip(compress, hashing)], "{:.0f}") + " %",
                             summary([p for _, _, p in samples], "{:.1f}") + " MiB")))


CODEC_SETTINGS = [("lz4", ""), ("lz4", "LZ4Acceleration: 4"), ("lz4", "LZ4Acceleration: 16"),
                  ("zstd", "ZstdLevel: -3"), ("zstd", ""), ("zstd", "ZstdLevel: 3"), ("zstd", "ZstdLevel: 9")]
TOOLS = {("lz4", ""): ["lz4", "-1"], ("lz4", "LZ4Acceleration: 4"): ["lz4", "--fast=4"],
         ("lz4", "LZ4Acceleration: 16"): ["lz4", "--fast=16"], ("zstd", "ZstdLevel: -3"): ["zstd", "--fast=3"],
         ("zstd", ""): ["zstd", "-1"], ("zstd", "ZstdLevel: 3"): ["zstd", "-3"], ("zstd", "ZstdLevel: 9"): ["zstd", "-9"]}


def case_codecs(binary, runs, rows):
    """Simple and regex -> each codec setting: throughput and ratio, beside the tool at the same setting."""
    for mode in ("simple", "regex"):
        data, records = mode_data(mode)
        size = data.stat().st_size
        for compression, setting in CODEC_SETTINGS:
            cpu, ratio = [], 0.0
            for _ in range(runs):
                receiver = Receiver("--summary")
                work = Path(tempfile.mkdtemp(prefix="tailcar-bench-", dir=data_dir()))
                try:
                    config = work / "p.yaml"
                    config.write_text(mode_pipeline(mode, [data], flusher(receiver.port, mode, compression, setting)))
                    c, values, _ = run_with_metrics(binary, config, work, records)
                    stats = receiver.stats()
                    assert stats["logs"] == records, "the receiver did not count every log"
                    cpu.append(c)
                    ratio = stats["raw_bytes"] / stats["body_bytes"]
                finally:
                    receiver.stop()
                    shutil.rmtree(work, ignore_errors=True)
            tool = TOOLS[(compression, setting)]
            tool_rate = size / tool_cpu([*tool, "-c"], data) / 1e6
            rows.append((CODECS, (mode, f"{compression} {setting or 'default'}",
                                  summary([size / c / 1e6 for c in cpu], "{:.0f}"), f"{ratio:.2f}",
                                  f"`{' '.join(tool)}`: {tool_rate:.0f} MB/CPU-s")))


def case_cores(binary, runs, rows):
    """Simple -> lz4 pinned to one core, then two: wall-clock MB/s and CPU-seconds per GB."""
    _, full_count = mode_data("simple")
    for count, cpus, extra in ((full_count, "0", []), (full_count, "0,1", []),
                               (full_count, "0,1", ["--max-in-flight-mb", "128"]),
                               (4 * full_count, "0", []), (4 * full_count, "0,1", [])):
        data, _ = mode_data("simple", count=count)
        size = data.stat().st_size
        walls, cpus_used = [], []
        for _ in range(runs):
            sink = subprocess.Popen([str(binary), "sls-sink"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            port = int(sink.stdout.readline().split()[1])
            work = Path(tempfile.mkdtemp(prefix="tailcar-bench-", dir=data_dir()))
            try:
                config = work / "p.yaml"
                config.write_text(mode_pipeline("simple", [data], flusher(port, "simple", "lz4")))
                argv = ["taskset", "-c", cpus, str(binary), "run", "--config", str(config), "--checkpoint-dir",
                        str(work / "state"), "--exit-when-drained", "0.05", "--poll-interval", "0.05",
                        "--http-port", "0", *extra]
                cpu, wall, _, code = measure(argv, env={**os.environ, **CREDENTIALS}, stderr=subprocess.DEVNULL)
                assert code == 0, f"tailcar exited {code} (drained: every batch acknowledged by the sink)"
                walls.append(wall)
                cpus_used.append(cpu)
            finally:
                sink.terminate()
                sink.wait()
                shutil.rmtree(work, ignore_errors=True)
        threads = "on the loop thread" if cpus == "0" else "on 2 sealing threads"
        cap = f", {' '.join(extra)}" if extra else ", the default 32 MB in-flight cap"
        rows.append((CORES, (f"{size / 1e6:,.0f} MB, taskset -c {cpus} (sealed {threads}{cap})",
                             summary([size / w / 1e6 for w in walls], "{:.0f}"),
                             summary(walls) + " s", summary([c / size * 1e9 for c in cpus_used]) + " s")))


CASES = {SHARE: case_share, CODECS: case_codecs, CORES: case_cores}
TABLES = {
    SHARE: ("flusher_sls: where the CPU goes (each mode -> lz4, SLS test receiver decoding every request)",
            ["mode", "input per CPU-second", "CPU vs `lz4 -1` on the input", "LogGroup bytes per input byte",
             "compression", "Content-MD5", "LogGroup encoding", "all but compression and MD5", "peak RSS"]),
    CODECS: ("flusher_sls: CompressType, LZ4Acceleration and ZstdLevel (ratio against CPU)",
             ["mode", "setting", "input per CPU-second", "ratio (LogGroup / body)", "the tool on the input file"]),
    CORES: ("flusher_sls on one core and on two (simple -> lz4, into `tailcar sls-sink`)",
            ["cores", "wall-clock input MB/s", "wall", "CPU-seconds per GB"]),
}
