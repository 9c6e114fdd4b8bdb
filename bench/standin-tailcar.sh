#!/usr/bin/env bash
# bench/standin-tailcar.sh: a stand-in for `tailcar run` to test the harness before the real binary
# exists. Accepts `run --config PATH --checkpoint-dir DIR [--exit-when-drained SECONDS]`, cats every
# file the config's FilePaths glob matches to /dev/null, waits the drain SECONDS and exits; without
# --exit-when-drained it waits (like an idle collector) until SIGTERM. Not a collector; numbers from it measure `cat`.
set -euo pipefail
[ "${1:-}" = run ] || { echo "usage: $0 run --config PATH --checkpoint-dir DIR [--exit-when-drained S]" >&2; exit 2; }
shift
config="" drained=""
while [ $# -gt 0 ]; do
    case "$1" in
        --config) config="$2"; shift 2 ;;
        --checkpoint-dir) shift 2 ;;
        --exit-when-drained) drained="$2"; shift 2 ;;
        *) echo "standin: unknown argument $1" >&2; exit 2 ;;
    esac
done
for pattern in $(sed -n 's/^ *- \(\/.*\)$/\1/p' "$config"); do
    for file in $pattern; do [ -f "$file" ] && cat "$file" > /dev/null; done
done
if [ -n "$drained" ]; then
    sleep "$drained"
else
    trap 'exit 0' TERM
    while true; do sleep 0.2; done
fi
