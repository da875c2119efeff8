#!/bin/sh
# Build a small busybox root filesystem from Debian's busybox-static.
#   examples/mkrootfs.sh [DIR]      (default: examples/rootfs)
# Idempotent: an existing rootfs with the same busybox is left as it is.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
dest=${1:-$here/rootfs}
busybox=/bin/busybox

if ! dpkg -s busybox-static >/dev/null 2>&1 || ! "$busybox" --list >/dev/null 2>&1; then
  echo "mkrootfs: busybox-static is not installed (apt-get install busybox-static)" >&2
  exit 1
fi

if [ -x "$dest/bin/busybox" ] && cmp -s "$busybox" "$dest/bin/busybox"; then
  exit 0
fi

mkdir -p "$dest"
for d in bin sbin etc proc sys dev tmp root run var/tmp usr/bin usr/sbin home; do
  mkdir -p "$dest/$d"
done
chmod 1777 "$dest/tmp" "$dest/var/tmp"
cp "$busybox" "$dest/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] && continue
  [ -e "$dest/bin/$applet" ] || ln -s busybox "$dest/bin/$applet"
done
cat > "$dest/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$dest/etc/group" <<'GROUP'
root:x:0:
tty:x:5:
nogroup:x:65534:
GROUP
echo "minirun" > "$dest/etc/hostname"
: > "$dest/etc/resolv.conf"
echo "rootfs ready: $dest"
