#!/usr/bin/env bash
# Opt-in: installs what the image build (scripts/image.sh) and the container test (Tests/container)
# need on Debian 12: buildah and podman, runc (crun cannot run in every sandbox), uidmap, fuse-overlayfs.
# Not part of scripts/setup.sh: the default test run skips the container test when these are missing.
set -euo pipefail
packages=(buildah podman runc uidmap fuse-overlayfs binutils)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup-containers: installing ${missing[*]}" >&2
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
