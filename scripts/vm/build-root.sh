#!/bin/sh
# build-root.sh: the VM lane's guest, built from Debian 12 packages on this
# machine and cached (scripts/vm-test.sh calls it; it can run alone).
#   scripts/vm/build-root.sh            print the cache directory, building it first if needed
#   scripts/vm/build-root.sh --rebuild  throw the cached entry away and build it again
# The cache directory ($MINIRUN_VM_CACHE, default /var/cache/minirun/vm) has
# one entry per key, the sha256 of the package list and of the files that
# shape the root (customize-root.sh, root-files/): KEY/root.img (ext4, the whole
# root, booted read-only through qemu's snapshot=on), KEY/vmlinuz and
# KEY/initrd.img (Debian's linux-image-amd64 from that root), KEY/stamp
# (written last: an entry without it is unfinished).  A new entry removes
# all older ones but the newest (another work tree may still use it).
# The root comes from mmdebstrap (Debian's apt-based debootstrap) with the
# host's own Debian apt sources ($MINIRUN_VM_SOURCES, default
# /etc/apt/sources.list.d/debian.sources), so it fetches what apt-get would.
set -eu
. "$(dirname "$0")/../as-root.sh"
here=$(cd "$(dirname "$0")" && pwd)
cache=${MINIRUN_VM_CACHE:-/var/cache/minirun/vm}
sources=${MINIRUN_VM_SOURCES:-/etc/apt/sources.list.d/debian.sources}
suite=bookworm
rebuild=no
case "${1:-}" in
  --rebuild) rebuild=yes ;;
  "") ;;
  -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "build-root.sh: unknown option \`$1' (expected --rebuild or --help)" >&2; exit 2 ;;
esac

need() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="${missing:-} $p"
  done
}
missing=""
need mmdebstrap e2fsprogs
if [ -n "$missing" ]; then
  echo "build-root: installing$missing" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ ! -r "$sources" ]; then
  echo "build-root: no apt sources file at $sources: set MINIRUN_VM_SOURCES to a sources.list or .sources file" \
       "that names Debian 12 (bookworm)" >&2
  exit 1
fi

packages=$(sed -e 's/#.*//' "$here/packages.txt" | tr -s ' \n' '  ' | sed 's/^ //; s/ $//')
key=$( (echo "$suite"; echo "$packages"; cat "$here/customize-root.sh";
        cd "$here/root-files" && find . -type f | LC_ALL=C sort | while read -r f; do echo "$f"; cat "$f"; done) \
      | sha256sum | cut -c1-16)
entry="$cache/$key"

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
if [ $rebuild = yes ]; then
  rm -rf "$entry"
fi
if [ -f "$entry/stamp" ]; then
  echo "$entry"
  exit 0
fi

rm -rf "$entry"
mkdir -p "$entry"
tree="$entry/root.d"
trap 'rm -rf "$tree" "$entry.tmp.img"; [ -f "$entry/stamp" ] || rm -rf "$entry"' EXIT
start=$(date +%s)
echo "build-root: building the guest root $key (Debian $suite, mmdebstrap; a few minutes, once)" >&2
mmdebstrap --variant=minbase --mode=root --format=directory \
  --include="$packages" \
  --essential-hook="'$here/customize-root.sh' essential \"\$1\"" \
  --customize-hook="'$here/customize-root.sh' customize \"\$1\"" \
  "$suite" "$tree" "$sources" >"$entry/mmdebstrap.log" 2>&1 || {
    echo "build-root: mmdebstrap failed; the end of its log ($entry/mmdebstrap.log):" >&2
    tail -n 30 "$entry/mmdebstrap.log" >&2
    trap - EXIT
    rm -rf "$tree"
    exit 1
  }

kver=$(ls "$tree/lib/modules" | sort -V | tail -n 1)
if [ -z "$kver" ] || [ ! -f "$tree/boot/vmlinuz-$kver" ] || [ ! -f "$tree/boot/initrd.img-$kver" ]; then
  echo "build-root: the root has no kernel and initramfs in /boot (linux-image-amd64 not installed?)" >&2
  exit 1
fi
cp "$tree/boot/vmlinuz-$kver" "$entry/vmlinuz"
cp "$tree/boot/initrd.img-$kver" "$entry/initrd.img"
# The image: the root's size plus 2 GiB of room for the tests' writes (they
# land in qemu's temporary overlay, snapshot=on: the image never changes).
used=$(du -s -m "$tree" | cut -f1)
mke2fs -q -t ext4 -L minirun-vm -d "$tree" "$entry.tmp.img" "$((used + 2048))M" >/dev/null
mv "$entry.tmp.img" "$entry/root.img"
{
  echo "key=$key"
  echo "suite=$suite"
  echo "kernel=$kver"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ) in $(( $(date +%s) - start )) s"
  echo "packages=$packages"
} >"$entry/stamp.tmp"
mv "$entry/stamp.tmp" "$entry/stamp"
# older entries: keep this one and the newest other (another tree may use it)
ls -dt "$cache"/*/ 2>/dev/null | grep -v "^$entry/\$" | tail -n +2 | while read -r old; do
  rm -rf "$old"
done
echo "build-root: built $entry (kernel $kver, ${used} MiB) in $(( $(date +%s) - start )) s" >&2
echo "$entry"
