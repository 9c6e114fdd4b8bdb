#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs the Swift unit/oracle tests, builds the static
# binary, then runs the Python tiers (integration and model tests against the real binary, the SLS test
# receiver, the generator's tests). Exit status is non-zero if any tier fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/venv.sh

echo "== swift build"
swift build --build-tests 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\]' || true
echo "== swift test"
swift test --skip-build --parallel 2>&1 | grep -vE '^(◇|✔ Test ".*" passed|\[[0-9]+/[0-9]+\])' 

echo "== static release build"
swift build -c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-static \
    2>&1 | grep -E 'error|Compiling|Build' | tail -3
export TAILCAR_BIN="$PWD/.build/debug/tailcar"
export TAILCAR_GEN="$PWD/.build/debug/tailcar-gen"
export TAILCAR_STATIC_BIN="$PWD/.build-static/release/tailcar"

echo "== python tiers"
targets=()
for t in Tests/integration Tests/harness Tests/deploy Tests/container Tests/fuzz bench/test_gen.py bench/test_bench.py; do [ -e "$t" ] && targets+=("$t"); done
.venv/bin/python -m pytest -q -p no:cacheprovider "${targets[@]}"
