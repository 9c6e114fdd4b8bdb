#!/usr/bin/env bash
# Opt-in: installs what the image build (scripts/image.sh) and the container test (Tests/container)
# need on Debian 12: buildah and podman, runc (crun cannot run in every sandbox), uidmap, fuse-overlayfs.
# Not part of the default setup: the default test run skips the container test when these are missing.
set -euo pipefail
exec bash "$(dirname "$0")/setup.sh" buildah podman runc uidmap fuse-overlayfs binutils
