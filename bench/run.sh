#!/usr/bin/env bash
# bench/run.sh: builds Tailcar in release (dynamic and fully static), generates the benchmark data
# once per seed, runs the cases and writes bench/RESULTS.md. See bench/README.md.
#
#   bench/run.sh                 # every case: gen simple idle
#   bench/run.sh simple          # one case
#   TAILCAR_BIN=/path/to/tailcar bench/run.sh simple   # skip the build, measure that binary
#
# Environment: TAILCAR_BIN, TAILCAR_GEN, RUNS (5), SEED (1), DATA_MB (1024), DATA_DIR, BUILD (static|dynamic),
# RESULTS (bench/RESULTS.md).
set -euo pipefail

BENCH="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(dirname "$BENCH")"
RUNS="${RUNS:-5}"
SEED="${SEED:-1}"
DATA_MB="${DATA_MB:-1024}"
BUILD="${BUILD:-static}"
RESULTS="${RESULTS:-$BENCH/RESULTS.md}"
OUT="$BENCH/out"
CASES=("$@")
[ ${#CASES[@]} -eq 0 ] && CASES=(gen simple idle)
mkdir -p "$OUT"
JSONL="$OUT/results.jsonl"
: > "$JSONL"

build() {
    cd "$ROOT"
    if [ -z "${TAILCAR_BIN:-}" ]; then
        swift build -c release --scratch-path .build-bench-dynamic
        swift build -c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-bench-static
        TAILCAR_BIN="$ROOT/.build-bench-$BUILD/release/tailcar"
    elif [ -z "${TAILCAR_GEN:-}" ]; then
        swift build -c release --product tailcar-gen --scratch-path .build-bench-dynamic
    fi
    TAILCAR_GEN="${TAILCAR_GEN:-$ROOT/.build-bench-dynamic/release/tailcar-gen}"
    echo "tailcar: $TAILCAR_BIN ($(stat -c %s "$TAILCAR_BIN") bytes)"
}

choose_data_dir() {
    if [ -n "${DATA_DIR:-}" ]; then return; fi
    local free_mb
    free_mb=$(df -Pm /dev/shm 2>/dev/null | awk 'NR==2 {print $4}')
    if [ -n "$free_mb" ] && [ "$free_mb" -gt $((DATA_MB * 3)) ]; then
        DATA_DIR=/dev/shm/tailcar-bench-data
    else
        DATA_DIR="$BENCH/data"
    fi
}

# nginx lines (the sidecar demo's layout) totalling about DATA_MB MiB, once per seed and size.
generate_data() {
    mkdir -p "$DATA_DIR/simple"
    DATA_FILE="$DATA_DIR/simple/nginx-s$SEED.log"
    local stamp="$DATA_FILE.done-$DATA_MB"
    if [ -f "$stamp" ]; then return; fi
    rm -f "$DATA_DIR/simple/"nginx*.log "$DATA_DIR/simple/"*.done-*
    local sample_bytes count
    sample_bytes=$("$TAILCAR_GEN" --log-type=nginx --seed="$SEED" --total-count=100000 --stdout=true | wc -c)
    count=$(( DATA_MB * 1048576 * 100000 / sample_bytes ))
    "$TAILCAR_GEN" --log-type=nginx --seed="$SEED" --total-count="$count" --path="$DATA_FILE" --stats
    touch "$stamp"
}

measure() {  # measure LABEL GROUP INPUT_BYTES [--stdout-null] [--prepare CMD] -- COMMAND...
    local label="$1" group="$2" bytes="$3"
    shift 3
    python3 "$BENCH/measure.py" --runs "$RUNS" --label "$label" --input-bytes "$bytes" "$@" \
        | python3 -c 'import json,sys; r=json.load(sys.stdin); r["group"]=sys.argv[1]; print(json.dumps(r))' "$group" \
        | tee -a "$JSONL"
}

case_simple() {
    local size config checkpoints
    size=$(stat -c %s "$DATA_FILE")
    config="$OUT/simple-blackhole.yaml"
    checkpoints="$OUT/checkpoints-simple"
    sed "s|@DATA_DIR@|$DATA_DIR/simple|" "$BENCH/configs/simple-blackhole.yaml" > "$config"
    cat "$DATA_FILE" > /dev/null   # warm the page cache once, for every command alike
    measure "tailcar run (simple-blackhole)" simple "$size" --prepare "rm -rf '$checkpoints' && mkdir -p '$checkpoints'" \
        -- "$TAILCAR_BIN" run --config "$config" --checkpoint-dir "$checkpoints" --exit-when-drained 1
    python3 - "$JSONL" <<'CHECK'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
run = [r for r in rows if r.get("label", "").startswith("tailcar run (simple")][-1]
if run["wall_s"]["min"] < 1.0:
    note = ("warning: a 'tailcar run --exit-when-drained 1' finished in under 1 s of wall time, "
            "so it cannot have waited the drain period: check that the binary really read the data")
    print(note, file=sys.stderr)
    with open(sys.argv[1], "a") as out:
        out.write(json.dumps({"note": note}) + "\n")
CHECK
    measure "cat > /dev/null" simple "$size" --stdout-null -- cat "$DATA_FILE"
    measure "wc -l" simple "$size" --stdout-null -- wc -l "$DATA_FILE"
    measure "lz4 -1 -c > /dev/null" simple "$size" --stdout-null -- lz4 -1 -c "$DATA_FILE"
    measure "zstd -1 -c > /dev/null" simple "$size" --stdout-null -- zstd -1 -c "$DATA_FILE"
}

case_idle() {
    local empty="$OUT/idle-empty" config="$OUT/idle.yaml" checkpoints="$OUT/checkpoints-idle"
    rm -rf "$empty" "$checkpoints" && mkdir -p "$empty" "$checkpoints"
    sed "s|@DATA_DIR@|$empty|" "$BENCH/configs/idle.yaml" > "$config"
    python3 "$BENCH/idle_rss.py" --label "tailcar run (empty directory)" --after 2 \
        -- "$TAILCAR_BIN" run --config "$config" --checkpoint-dir "$checkpoints" | tee -a "$JSONL"
}

# tailcar-gen's own speed: 2,000,000 nginx records to /dev/null (through --stdout) and to a tmpfs file.
case_gen() {
    local target=/dev/shm/tailcar-bench-gen.log
    [ -d /dev/shm ] || target="$OUT/gen.log"
    for destination in devnull file; do
        local rates=()
        for _ in $(seq "$RUNS"); do
            local line
            if [ "$destination" = devnull ]; then
                line=$("$TAILCAR_GEN" --log-type=nginx --seed="$SEED" --total-count=2000000 --stdout=true --stats 2>&1 >/dev/null)
            else
                line=$("$TAILCAR_GEN" --log-type=nginx --seed="$SEED" --total-count=2000000 --path="$target" --stats 2>&1)
            fi
            rates+=("$(sed 's/.*MB\/s=//' <<<"$line")")
        done
        rm -f "$target"
        python3 -c 'import json,statistics,sys; v=[float(x) for x in sys.argv[2:]]
print(json.dumps({"label": sys.argv[1], "gen_mb_s": {"median": statistics.median(v), "min": min(v), "max": max(v)}}))' \
            "tailcar-gen nginx -> $([ "$destination" = devnull ] && echo /dev/null || echo "$target")" "${rates[@]}" | tee -a "$JSONL"
    done
}

build
choose_data_dir
for name in "${CASES[@]}"; do
    case "$name" in
        simple) generate_data; case_simple ;;
        idle) case_idle ;;
        gen) case_gen ;;
        *) echo "run.sh: unknown case '$name' (gen, simple, idle)" >&2; exit 2 ;;
    esac
done
[ -n "${BENCH_NOTE:-}" ] && python3 -c 'import json,sys; print(json.dumps({"note": sys.argv[1]}))' "$BENCH_NOTE" >> "$JSONL"
python3 "$BENCH/report.py" "$JSONL" "${BENCH_COMMAND:-TAILCAR_BIN=$TAILCAR_BIN RUNS=$RUNS bench/run.sh ${CASES[*]}}" > "$RESULTS"
echo "wrote $RESULTS"
