#!/bin/sh
# customize-root.sh: what the VM lane changes in the guest root that
# mmdebstrap builds (scripts/vm/build-root.sh runs it as two of mmdebstrap's
# hooks; its text is part of the cache key).
#   customize-root.sh essential ROOT   before the packages of packages.txt:
#       an initramfs with only what finds the root (virtio disk, ext4),
#       gzip-compressed: small, and quick to unpack under software emulation
#   customize-root.sh customize ROOT   after them: the lane's files
#       (root-files/: the boot script, the systemd runner unit), a fixed
#       machine-id (no first-boot questions), the host name, no getty on the
#       serial console (it is the lane's log), no docker/containerd started at
#       boot (the tests start private daemons of their own)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$2
case "$1" in
  essential)
    mkdir -p "$root/etc/initramfs-tools/conf.d" "$root/usr/share/initramfs-tools/modules.d"
    printf 'MODULES=list\nCOMPRESS=gzip\n' >"$root/etc/initramfs-tools/conf.d/minirun-vm.conf"
    printf 'virtio_pci\nvirtio_blk\next4\n' >"$root/usr/share/initramfs-tools/modules.d/minirun-vm"
    ;;
  customize)
    cp -a "$here/root-files/." "$root/"
    chroot "$root" systemd-machine-id-setup >/dev/null
    echo minirun-vm >"$root/etc/hostname"
    printf '127.0.0.1 localhost\n127.0.1.1 minirun-vm\n::1 localhost\n' >"$root/etc/hosts"
    chroot "$root" systemctl enable minirun-vm-runner.service
    chroot "$root" systemctl mask serial-getty@ttyS0.service getty@tty1.service
    for u in docker.service docker.socket containerd.service; do
      chroot "$root" systemctl disable "$u" 2>/dev/null || true
    done
    ;;
  *) echo "customize-root.sh: expected essential or customize, not \`$1'" >&2; exit 2 ;;
esac
