#!/usr/bin/env bash
# Creates .venv with the Python packages the test harnesses use (PyPI only; never the product).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
requirements=()
present=()
for f in Tests/integration/requirements.txt Tests/harness/requirements.txt Tests/deploy/requirements.txt Tests/controller/requirements.txt \
         Tests/container/requirements.txt bench/requirements.txt; do
    if [ -f "$f" ]; then requirements+=(-r "$f"); present+=("$f"); fi
done
stamp=.venv/.requirements
want=$(cat "${present[@]}" /dev/null | sha256sum)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    .venv/bin/pip install -q --disable-pip-version-check pytest "${requirements[@]}"
    echo "$want" > "$stamp"
fi
