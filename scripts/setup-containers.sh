#!/usr/bin/env bash
# Installs what the image build (scripts/image.sh) and the container tests (Tests/container) need on
# Debian 12: buildah and podman, runc (crun cannot run in every sandbox), uidmap, fuse-overlayfs, and what
# the image is staged from (deploy/image/stage-rootfs.sh): busybox-static, tzdata, binutils.
# scripts/test.sh runs it.
set -euo pipefail
exec bash "$(dirname "$0")/setup.sh" buildah podman runc uidmap fuse-overlayfs binutils busybox-static tzdata
