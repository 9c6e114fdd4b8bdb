#!/usr/bin/env bash
# run-regex-fuzz.sh [SECONDS]: builds Tests/fuzz/RegexFuzzTarget.swift with the TailcarRegex sources
# under libFuzzer (swiftc -sanitize=fuzzer, PCRE2 as the oracle), seeds it with real log patterns and
# lines (regex-seeds.txt: pattern TAB line) and the syntax dictionary (regex.dict), and fuzzes for
# SECONDS (default 60). Exit status 0: no crash, hang or disagreement with PCRE2. On a finding,
# libFuzzer's report names the pattern and subject and the reproducer is kept in the work directory.
set -euo pipefail
seconds="${1:-60}"
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
work="$(mktemp -d /tmp/tailcar-regex-fuzz.XXXXXX)"
swiftc -O -sanitize=fuzzer -parse-as-library -module-name RegexFuzz -I "$repo/CSources/CPCRE2" \
    "$repo"/Sources/TailcarRegex/*.swift "$here/RegexFuzzTarget.swift" -lpcre2-8 -o "$work/regex-fuzz"
mkdir -p "$work/corpus"
python3 - "$here/regex-seeds.txt" "$work/corpus" <<'PY'
import sys
from pathlib import Path
for number, line in enumerate(Path(sys.argv[1]).read_text().splitlines()):
    pattern, subject = line.split("\t", 1)
    data = pattern.encode()
    Path(sys.argv[2], f"seed-{number}").write_bytes(bytes([len(data)]) + data + subject.encode())
PY
status=0
(cd "$work" && ./regex-fuzz -max_total_time="$seconds" -max_len=512 -timeout=10 -rss_limit_mb=1024 \
    -dict="$here/regex.dict" -print_final_stats=1 corpus) || status=$?
if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "regex fuzz finding kept in $work" >&2; fi
exit "$status"
