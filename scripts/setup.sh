#!/usr/bin/env bash
# Installs what Tailcar needs to build and test on Debian 12 with Swift, skipping what is present.
# Further Debian package names given as arguments are installed too (scripts/setup-containers.sh).
# Debian packages: the C libraries Tailcar links (libuv, zstd, lz4, libdeflate, libyaml, OpenSSL) and PCRE2, the
# reference the regex engine is tested against; clickhouse-server, the real server flusher_clickhouse's
# tests start and stop themselves (Tests/integration/clickhouse_support.py; it is never run as a service).
# Python packages: only for the test harnesses.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(pkg-config libuv1-dev libzstd-dev liblz4-dev libdeflate-dev libyaml-dev libssl-dev ca-certificates libpcre2-dev zstd lz4 libdeflate-tools time
          clickhouse-server
          python3-venv "$@")
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing ${missing[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
