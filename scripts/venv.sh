#!/usr/bin/env bash
# Creates .venv with the Python packages the test harnesses use (PyPI only; never the product).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
requirements=()
for f in Tests/integration/requirements.txt Tests/harness/requirements.txt bench/requirements.txt; do
    [ -f "$f" ] && requirements+=(-r "$f")
done
stamp=.venv/.requirements
want=$(cat Tests/integration/requirements.txt Tests/harness/requirements.txt bench/requirements.txt 2>/dev/null | sha256sum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/pip install -q --disable-pip-version-check pytest "${requirements[@]}"
    echo "$want" > "$stamp"
fi
