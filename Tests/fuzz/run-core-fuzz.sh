#!/usr/bin/env bash
# run-core-fuzz.sh BUILD_DIR TARGET SECONDS: fuzzes one target built by build-core-fuzz.sh (config,
# response, parser or watch) for SECONDS, seeded from what the repository already holds: every golden and deploy
# configuration and the ilogtail_config.json samples for `config`, the HTTP answers in
# core/seeds/responses.txt for `response`, the log lines in core/seeds/lines.txt for `parser`, the watch
# answers in core/seeds/watch.txt for `watch`. Exit status 0:
# no crash, hang (10 s per input), or allocation over 512 MB. A finding's reproducer is kept and named.
set -euo pipefail
build="$1"; target="$2"; seconds="$3"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d /tmp/tailcar-$target-fuzz.XXXXXX)"
mkdir -p "$work/corpus"
extra=()
case "$target" in
    config)
        number=0
        for seed in "$repo"/Tests/integration/golden/*/config.* "$repo"/deploy/examples/*.yaml \
                    "$repo"/deploy/kubernetes/pipelines-configmap.yaml "$here"/core/seeds/*.json; do
            cp "$seed" "$work/corpus/seed-$number"; number=$((number + 1))
        done
        extra=(-dict="$here/core/config.dict") ;;
    response)
        python3 - "$here/core/seeds/responses.txt" "$work/corpus" <<'PY'
import sys
from pathlib import Path
for number, line in enumerate(Path(sys.argv[1]).read_text().splitlines()):
    data = line.encode().decode("unicode_escape").encode("latin-1")
    Path(sys.argv[2], f"seed-{number}").write_bytes(bytes([number * 7 % 256]) + data)
PY
        ;;
    watch)
        python3 - "$here/core/seeds/watch.txt" "$work/corpus" <<'PY'
import sys
from pathlib import Path
for number, line in enumerate(Path(sys.argv[1]).read_text().splitlines()):
    data = line.encode().decode("unicode_escape").encode("latin-1")
    for chunk in (0, 6, 255):
        Path(sys.argv[2], f"seed-{number}-{chunk}").write_bytes(bytes([chunk]) + data)
PY
        extra=(-dict="$here/core/config.dict") ;;
    parser)
        python3 - "$here/core/seeds/lines.txt" "$work/corpus" <<'PY'
import sys
from pathlib import Path
for number, line in enumerate(Path(sys.argv[1]).read_text().splitlines()):
    for mode in (0, 1, 3, 5, 0x21, 0x41):
        Path(sys.argv[2], f"seed-{number}-{mode}").write_bytes(bytes([mode, 0x22]) + line.encode())
PY
        ;;
    *) echo "run-core-fuzz.sh: unknown target $target (config, response, parser, watch)" >&2; exit 2 ;;
esac
status=0
(cd "$work" && "$build/$target-fuzz" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
    -malloc_limit_mb=512 -print_final_stats=1 "${extra[@]}" corpus) || status=$?
if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "$target fuzz finding kept in $work" >&2; fi
exit "$status"
