#!/usr/bin/env bash
# The demo: installs what is missing, builds Tailcar, then runs it on a demo directory while a small
# generator appends nginx access lines to it. Tailcar prints each record as one JSON object; after
# DEMO_SECONDS (default 10) it gets SIGTERM, drains, and exits 0. Nothing outside a temporary directory
# is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product tailcar 2>&1 | grep -E 'error|warning: unre|Compiling|Build' | tail -2 >&2

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
    --http-port 0 &
agent=$!

# The generator: nginx combined lines, ten a second, with a rename rotation half way.
(
    methods=(GET GET GET POST PUT)
    paths=(/ /api/items /api/items/42 /login /static/app.js)
    for i in $(seq 1 1000); do
        printf '10.0.%d.%d - - [%s] "%s %s HTTP/1.1" %d %d "-" "curl/8.4.0" seq=%d\n' \
            $((i % 7)) $((i % 250)) "$(date -u '+%d/%b/%Y:%H:%M:%S +0000')" \
            "${methods[i % 5]}" "${paths[i % 5]}" $((i % 13 == 0 ? 500 : 200)) $((200 + i * 7 % 900)) "$i" \
            >> "$demo/logs/access.log"
        if [ "$i" -eq 50 ]; then mv "$demo/logs/access.log" "$demo/logs/access.log.1"; fi
        sleep 0.1
    done
) &
generator=$!

sleep "${DEMO_SECONDS:-10}"
kill "$generator" 2>/dev/null || true
kill -TERM "$agent"
wait "$agent"
echo "== tailcar exited $?; every line the generator wrote was printed once" >&2
