#!/usr/bin/env bash
# The demo: installs what is missing, builds Tailcar, then runs it on a demo directory while tailcar-gen
# appends nginx access lines to it and rotates the file. Tailcar prints each record as one JSON object; after
# DEMO_SECONDS (default 10) it gets SIGTERM, drains, and exits 0. Nothing outside a temporary directory
# is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release 2>&1 | grep -E 'error|warning: unre|Compiling|Build' | tail -2 >&2

demo=$(mktemp -d /tmp/tailcar-demo.XXXXXX)
trap 'kill "$generator" "$agent" 2>/dev/null || true; rm -rf "$demo"' EXIT
mkdir -p "$demo/logs"
cat > "$demo/pipeline.yaml" <<YAML
inputs:
  - Type: input_file
    FilePaths: ["$demo/logs/*.log"]
flushers:
  - Type: flusher_stdout
YAML

echo "== tailcar run --config $demo/pipeline.yaml   (records on stdout, events on stderr)" >&2
.build/release/tailcar run --config "$demo/pipeline.yaml" --checkpoint-dir "$demo/state" --stop-delay 5 \
    --http-port 0 > >(tee "$demo/records.jsonl") &
agent=$!

# The generator: nginx access lines, twenty a second, renamed away (logrotate style) every 100 lines.
.build/release/tailcar-gen --log-type=nginx-main --path="$demo/logs/access.log" --logs-per-sec=20 \
    --duration="${DEMO_SECONDS:-10}" --rotate=rename --rotate-records=100 &
generator=$!

sleep "${DEMO_SECONDS:-10}"
kill "$generator" 2>/dev/null || true
kill -TERM "$agent"
wait "$agent"
echo "== tailcar exited $?; checking that every generated line was printed exactly once:" >&2
.build/release/tailcar-gen --verify="$demo/records.jsonl" >&2
