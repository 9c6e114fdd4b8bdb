#!/bin/sh
# Stages the runtime image's root filesystem from a static tailcar binary: the one definition of what
# the image holds, used by the Dockerfile's build stage and by scripts/image.sh (offline builds).
# It owns the file layout only; building the binary and building the image are the callers' business.
# Needs, on the build machine, Debian's busybox-static, tzdata and ca-certificates.
#
#   stage-rootfs.sh BINARY STAGE
#
# STAGE/rootfs/usr/local/bin/tailcar   the binary, stripped when `strip` is available
# STAGE/rootfs/etc/passwd, etc/group    the user and group `tailcar` (65532), so tools show a name
# STAGE/rootfs/etc/ssl/certs/ca-certificates.crt
#                                       the build machine's CA bundle (Debian's ca-certificates), so
#                                       https endpoints are verified; required, https is the default
# STAGE/rootfs/tmp                      mode 1777; /var/lib owned by root
# STAGE/rootfs/bin/busybox + applets    Debian's busybox-static, one link per applet: sh (ash, which has
#                                       [[ ]] and until: the vendor manifests run `sh -c` scripts), sleep,
#                                       touch, date, cat, ...
# STAGE/rootfs/bin/bash                 a two-line script running busybox's sh, for `/bin/bash -c`
# STAGE/rootfs/usr/local/ilogtail/run_logtail.sh, etc/init.d/ilogtaild, etc/init.d/loongcollectord,
# usr/local/loongcollector/loongcollector_control.sh, usr/local/lib/tailcar/{agent,initd}.sh
#                                       the vendor's commands (deploy/image/vendor/)
# STAGE/rootfs/usr/share/zoneinfo       Debian's tzdata without the right/ and posix/ copies (TZ=Asia/Shanghai)
# STAGE/state/                          empty: the image copies it to /var/lib/tailcar as 65532:65532,
#                                       the default checkpoint directory (a separate COPY --chown, so
#                                       that only this directory belongs to the user)
set -eu
binary=$1
stage=$2
rootfs=$stage/rootfs
[ -x "$binary" ] || { echo "stage-rootfs: $binary is not an executable file" >&2; exit 1; }
vendor=$(dirname "$0")/vendor
for file in /bin/busybox /usr/share/zoneinfo/UTC "$vendor/agent.sh"; do
    [ -r "$file" ] || { echo "stage-rootfs: $file is missing (install busybox-static tzdata)" >&2; exit 1; }
done
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

mkdir -p "$rootfs/bin"
cp /bin/busybox "$rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
done
cp "$vendor/bash" "$rootfs/bin/bash"
mkdir -p "$rootfs/usr/local/ilogtail" "$rootfs/usr/local/loongcollector" "$rootfs/usr/local/lib/tailcar" \
    "$rootfs/etc/init.d" "$rootfs/usr/share"
cp "$vendor/run_logtail.sh" "$rootfs/usr/local/ilogtail/run_logtail.sh"
cp "$vendor/ilogtaild" "$vendor/loongcollectord" "$rootfs/etc/init.d/"
cp "$vendor/loongcollector_control.sh" "$rootfs/usr/local/loongcollector/loongcollector_control.sh"
cp "$vendor/agent.sh" "$vendor/initd.sh" "$rootfs/usr/local/lib/tailcar/"
chmod 0755 "$rootfs/bin/bash" "$rootfs/bin/busybox" "$rootfs/usr/local/ilogtail/run_logtail.sh" \
    "$rootfs/etc/init.d/ilogtaild" "$rootfs/etc/init.d/loongcollectord" \
    "$rootfs/usr/local/loongcollector/loongcollector_control.sh"
chmod 0644 "$rootfs/usr/local/lib/tailcar/agent.sh" "$rootfs/usr/local/lib/tailcar/initd.sh"
cp -R /usr/share/zoneinfo "$rootfs/usr/share/zoneinfo"
rm -rf "$rootfs/usr/share/zoneinfo/right" "$rootfs/usr/share/zoneinfo/posix"
chmod 1777 "$rootfs/tmp"
