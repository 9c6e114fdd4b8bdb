#!/usr/bin/env bash
# Builds Tailcar's runtime image offline: the fully static binary on this host, its root filesystem
# staged by deploy/image/stage-rootfs.sh, then `buildah bud` on deploy/image/Containerfile.prebuilt
# (FROM scratch, nothing pulled). Owns no image content; see deploy/README.md.
#
#   scripts/image.sh [--tag NAME] [--binary PATH] [--root DIR] [--runroot DIR] [--archive FILE.tar]
#
#   --tag       image name (default localhost/tailcar:dev)
#   --binary    use this static binary instead of building one (e.g. .build-static/release/tailcar)
#   --root      containers storage root (default .build-image/storage); pass the same --root,
#   --runroot   --runroot and --storage-driver vfs to podman to run the image
#   --archive   also write the image as an OCI archive (podman load / skopeo copy / ctr import)
set -euo pipefail
cd "$(dirname "$0")/.."

tag=localhost/tailcar:dev
binary=""
root="$PWD/.build-image/storage"
runroot="$PWD/.build-image/run"
archive=""
while [ $# -gt 0 ]; do
    case "$1" in
        --tag) tag=$2; shift 2 ;;
        --binary) binary=$2; shift 2 ;;
        --root) root=$2; shift 2 ;;
        --runroot) runroot=$2; shift 2 ;;
        --archive) archive=$2; shift 2 ;;
        *) echo "image.sh: unknown option $1 (see the header of $0)" >&2; exit 2 ;;
    esac
done
command -v buildah >/dev/null || { echo "image.sh: buildah missing; run scripts/setup-containers.sh" >&2; exit 1; }

if [ -z "$binary" ]; then
    echo "== static release build" >&2
    swift build -c release --static-swift-stdlib -Xswiftc -static-executable --scratch-path .build-static \
        --product tailcar 2>&1 | grep -E 'error|Build' | tail -3 >&2
    binary=.build-static/release/tailcar
fi

context=$(mktemp -d "${TMPDIR:-/tmp}/tailcar-image.XXXXXX")
trap 'rm -rf "$context"' EXIT
sh deploy/image/stage-rootfs.sh "$binary" "$context"
cp deploy/image/Containerfile.prebuilt "$context/Containerfile"

storage=(--storage-driver vfs --root "$root" --runroot "$runroot")
echo "== buildah bud $tag" >&2
buildah "${storage[@]}" bud --isolation chroot --layers=false -q -t "$tag" -f "$context/Containerfile" "$context" >&2
if [ -n "$archive" ]; then
    rm -f "$archive"
    buildah "${storage[@]}" push -q "$tag" "oci-archive:$archive:$tag" >&2
fi
buildah "${storage[@]}" inspect --type image --format '{{.FromImageID}}' "$tag"
