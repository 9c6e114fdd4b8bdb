"""bench/sinks.py: the issue 16 sinks. `otlp`: each mode into flusher_otlp with gzip to the OTLP test receiver
(Tests/harness/otlp_receiver.py --summary, which gunzips and decodes every request with opentelemetry-proto
and counts the records, which must equal the input's after every run). `clickhouse`: each mode into
flusher_clickhouse (JSONEachRow; lz4 in ClickHouse's compressed blocks, the default, for both modes, and gzip for
simple mode) against a real clickhouse-server started on a free port with its data in a temporary directory
(Tests/integration/clickhouse_support.py); `SELECT count()` must equal the records after every run. CPU is
tailcar's alone (the receiver and the server share the machine). Each row is shown against the command-line
tool of its algorithm (`gzip -1` and `libdeflate-gzip -1`, or `lz4 -1`) over the same input, measured once
per mode."""

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from benchlib import REPO, data_dir, http_get, measure, run_tailcar, summary
from modes import mode_data, mode_pipeline

THROUGHPUT = "throughput"
SINK_MODES = ("simple", "regex")
_tool_rates = {}


def tool_floor(mode, data, tool="gzip"):
    """MB/CPU-s of `TOOL -1 -c > /dev/null` over the mode's data (`gzip`, `libdeflate-gzip` from Debian's
    libdeflate-tools, the library flusher_otlp and flusher_clickhouse gzip with, or `lz4`), once per
    invocation; None when the tool is missing."""
    if (tool, mode) not in _tool_rates:
        if shutil.which(tool) is None:
            return None
        cpu, _, _, _ = measure([tool, "-1", "-c", str(data)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _tool_rates[(tool, mode)] = data.stat().st_size / cpu / 1e6
    return _tool_rates[(tool, mode)]


def sink_row(label, mode, data, records, cpu, wall, rss, algorithm="gzip"):
    size = data.stat().st_size
    rates = [size / c / 1e6 for c in cpu]
    median = sorted(rates)[len(rates) // 2]
    if algorithm == "lz4":
        floor = tool_floor(mode, data, "lz4")
        gzip = tool_floor(mode, data)
        versus = (f"{median / floor:.2f}× lz4 -1 ({floor:.0f} MB/CPU-s on the same bytes); "
                  f"{median / gzip:.1f}× gzip -1 ({gzip:.0f} MB/CPU-s)")
    else:
        floor = tool_floor(mode, data)
        versus = f"{median / floor:.1f}× gzip -1 ({floor:.0f} MB/CPU-s on the same bytes)"
        deflate = tool_floor(mode, data, "libdeflate-gzip")
        if deflate is not None:
            versus += f"; {median / deflate:.2f}× libdeflate-gzip -1 ({deflate:.0f} MB/CPU-s)"
    return (THROUGHPUT, (label, summary(rates, "{:.0f}") + " MB/CPU-s", summary([records / c / 1e6 for c in cpu]) + " M/CPU-s",
                         summary(wall) + " s", summary([r / 2**20 for r in rss], "{:.1f}") + " MiB", versus))


def case_otlp(binary, runs, rows):
    python = REPO / ".venv" / "bin" / "python"
    if not python.exists():
        rows.append((THROUGHPUT, ("flusher_otlp: skipped, no .venv (bash scripts/venv.sh)", "", "", "", "")))
        return
    for mode in SINK_MODES:
        data, records = mode_data(mode)
        receiver = subprocess.Popen([str(python), str(REPO / "Tests/harness/otlp_receiver.py"), "--port", "0",
                                     "--summary"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        try:
            port = int(receiver.stdout.readline().split()[1])
            work = Path(tempfile.mkdtemp(prefix="tailcar-bench-", dir=data_dir()))
            config = work / f"{mode}-otlp.yaml"
            config.write_text(mode_pipeline(mode, [data], flusher=(
                f"  - Type: flusher_otlp\n    Endpoint: http://127.0.0.1:{port}\n    Compression: gzip\n")))
            stats = {}

            def check(run):
                stats.update(json.loads(http_get(port, "/_stats")[1]))
                assert stats["records"] == records * (run + 1), f"receiver has {stats['records']} records after run {run}"

            cpu, wall, rss = run_tailcar(binary, config, work, runs, after_each=check)
            shutil.rmtree(work, ignore_errors=True)
            ratio = stats["raw_bytes"] / max(1, stats["body_bytes"])
            rows.append(sink_row(f"{mode}, {data.stat().st_size / 1e6:.0f} MB -> flusher_otlp gzip to the OTLP test "
                                 f"receiver ({stats['requests'] // runs} requests a run, protobuf {stats['raw_bytes'] // runs / 1e6:.0f} MB, "
                                 f"ratio {ratio:.1f}, every record counted)", mode, data, records, cpu, wall, rss))
        finally:
            receiver.kill()
            receiver.wait()


def case_clickhouse(binary, runs, rows):
    sys.path.insert(0, str(REPO / "Tests" / "integration"))
    from clickhouse_support import ClickHouse, available
    if not available():
        rows.append((THROUGHPUT, ("flusher_clickhouse: skipped, no clickhouse-server (bash scripts/setup.sh)", "", "", "", "")))
        return
    for mode, compression in [(mode, "lz4") for mode in SINK_MODES] + [("simple", "gzip")]:
        data, records = mode_data(mode)
        work = Path(tempfile.mkdtemp(prefix="tailcar-bench-", dir=data_dir()))
        server = ClickHouse(work)
        try:
            config = work / f"{mode}-clickhouse.yaml"
            config.write_text(mode_pipeline(mode, [data], flusher=(
                f"  - Type: flusher_clickhouse\n    Endpoint: {server.endpoint}\n    Database: bench\n    Table: {mode}\n"
                f"    Compression: {compression}\n")))

            def check(run):
                count = int(server.query(f"SELECT count() FROM bench.{mode}"))
                assert count == records * (run + 1), f"ClickHouse has {count} rows after run {run}"

            cpu, wall, rss = run_tailcar(binary, config, work, runs, after_each=check)
            stored = server.query(f"SELECT sum(data_compressed_bytes) FROM system.parts WHERE database = 'bench' "
                                  f"AND table = '{mode}' AND active").strip()
            framing = " (ClickHouse's compressed blocks)" if compression == "lz4" else ""
            rows.append(sink_row(f"{mode}, {data.stat().st_size / 1e6:.0f} MB -> flusher_clickhouse {compression}"
                                 f"{framing} JSONEachRow to clickhouse-server 18.16 (every row counted; "
                                 f"{int(stored) / runs / 1e6:.0f} MB a run on disk)",
                                 mode, data, records, cpu, wall, rss, compression))
        finally:
            server.stop()
            shutil.rmtree(work, ignore_errors=True)


CASES = {"otlp": case_otlp, "clickhouse": case_clickhouse}
