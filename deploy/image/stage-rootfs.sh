#!/bin/sh
# Stages the runtime image's root filesystem from a static tailcar binary: the one definition of what
# the image holds, used by the Dockerfile's build stage and by scripts/image.sh (offline builds).
# It owns the file layout only; building the binary and building the image are the callers' business.
#
#   stage-rootfs.sh BINARY STAGE
#
# STAGE/rootfs/usr/local/bin/tailcar   the binary, stripped when `strip` is available
# STAGE/rootfs/etc/passwd, etc/group    the user and group `tailcar` (65532), so tools show a name
# STAGE/rootfs/etc/ssl/certs/ca-certificates.crt
#                                       the build machine's CA bundle (Debian's ca-certificates), so
#                                       https endpoints are verified; required, https is the default
# STAGE/rootfs/tmp                      mode 1777; /var/lib owned by root
# STAGE/state/                          empty: the image copies it to /var/lib/tailcar as 65532:65532,
#                                       the default checkpoint directory (a separate COPY --chown, so
#                                       that only this directory belongs to the user)
set -eu
binary=$1
stage=$2
rootfs=$stage/rootfs
[ -x "$binary" ] || { echo "stage-rootfs: $binary is not an executable file" >&2; exit 1; }
rm -rf "$rootfs" "$stage/state"
mkdir -p "$rootfs/usr/local/bin" "$rootfs/etc" "$rootfs/var/lib" "$rootfs/tmp" "$stage/state"
cp "$binary" "$rootfs/usr/local/bin/tailcar"
if command -v strip >/dev/null 2>&1; then strip "$rootfs/usr/local/bin/tailcar"; fi
chmod 0755 "$rootfs/usr/local/bin/tailcar"
printf 'root:x:0:0:root:/:/sbin/nologin\ntailcar:x:65532:65532:tailcar:/var/lib/tailcar:/sbin/nologin\n' \
    > "$rootfs/etc/passwd"
printf 'root:x:0:\ntailcar:x:65532:\n' > "$rootfs/etc/group"
bundle=/etc/ssl/certs/ca-certificates.crt
[ -r "$bundle" ] || { echo "stage-rootfs: $bundle is missing (install ca-certificates)" >&2; exit 1; }
mkdir -p "$rootfs/etc/ssl/certs"
cp "$bundle" "$rootfs/etc/ssl/certs/ca-certificates.crt"
chmod 0644 "$rootfs/etc/passwd" "$rootfs/etc/group" "$rootfs/etc/ssl/certs/ca-certificates.crt"
chmod 0755 "$rootfs/var/lib" "$stage/state"
chmod 1777 "$rootfs/tmp"
