#!/bin/sh
# Build CRIU and libcriu from Debian trixie's source into a private prefix, for
# `minirun checkpoint` / `minirun restore` (called by `scripts/setup.sh --criu`
# and `--test`).
#
# Why: Debian 12's criu 3.17 fails `criu check` on Linux >= 6.13 (vDSO changes)
# and Debian 12 has no libcriu-dev.  Trixie's CRIU 4.1.1 builds on Debian 12
# with Debian 12's own build dependencies.  Only its upstream tarball is
# served (`apt-get source --tar-only`), so it is built with plain make.
#
# Local patches (scripts/criu-patches/*.patch, applied in name order): fixes
# CRIU 4.1.1 needs on the kernels this project runs on, each saying why in its
# own header; a change in them rebuilds the prefix.
#
# What it changes on the system, nothing else:
#   /etc/apt/sources.list.d/minirun-trixie-src.list   a deb-src line for trixie
#   /etc/apt/preferences.d/minirun-trixie              trixie pinned at 50: no
#                                                      binary from it installs
#   Debian 12 packages: the build dependencies listed below (never an upgrade)
# The result: $PREFIX/{bin/criu, lib/libcriu.so, lib/libcriu.a, include/criu,
# lib/pkgconfig/criu.pc}.  A complete prefix whose criu passes `criu check` is
# kept as it is (the cache); --force builds again.
#
#   scripts/build-criu.sh [--prefix DIR] [--force]
#   MINIRUN_CRIU_PREFIX=DIR overrides the default prefix too.
set -eu
. "$(dirname "$0")/as-root.sh"

PREFIX="${MINIRUN_CRIU_PREFIX:-/var/cache/minirun/criu}"
force=no
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="$2"; shift ;;
    --prefix=*) PREFIX="${1#--prefix=}" ;;
    --force) force=yes ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build-criu.sh: unknown option $1 (expected --prefix DIR or --force)" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "build-criu: $*"; }

# One build at a time (several worktrees may run setup.sh at once): the
# others wait here, then find the prefix complete.
mkdir -p "$(dirname "$PREFIX")"
exec 9>"$PREFIX.lock"
flock 9

patches_dir="$(cd "$(dirname "$0")" && pwd)/criu-patches"
patch_sum=$(cat "$patches_dir"/*.patch 2>/dev/null | sha256sum | cut -d' ' -f1)

# The cache: every file minirun needs is there, built with these patches, and
# the binary accepts this kernel.
complete() {
  [ -x "$PREFIX/bin/criu" ] && [ -e "$PREFIX/lib/libcriu.so" ] &&
    [ "$(cat "$PREFIX/minirun-patches" 2>/dev/null)" = "$patch_sum" ] &&
    [ -e "$PREFIX/lib/libcriu.a" ] && [ -e "$PREFIX/include/criu/criu.h" ] &&
    [ -e "$PREFIX/lib/pkgconfig/criu.pc" ] &&
    "$PREFIX/bin/criu" check >/dev/null 2>&1
}
if [ $force = no ] && complete; then
  say "$PREFIX is complete ($("$PREFIX/bin/criu" --version | head -n1)); criu check passes"
  exit 0
fi

# 1. Debian 12 build dependencies (only those missing; apt-get never upgrades
#    an installed package here: install of a missing one, --no-upgrade).
deps="gcc make pkg-config protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev protobuf-compiler
      libnl-3-dev libnet1-dev libbsd-dev libnftables-dev libcap-dev libgnutls28-dev uuid-dev
      xz-utils patch"
missing=""
for p in $deps; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done

# 2. The trixie source entry, on the mirror the host already uses.
mirror=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/\{0,1\}$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=$(sed -n 's/^deb \(http[^ ]*debian\)\/\{0,1\} .*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian
list=/etc/apt/sources.list.d/minirun-trixie-src.list
pref=/etc/apt/preferences.d/minirun-trixie
updated=no
if [ ! -e "$pref" ]; then
  printf 'Package: *\nPin: release n=trixie\nPin-Priority: 50\n' > "$pref"
fi
if [ ! -e "$list" ] || ! grep -q "^deb-src $mirror trixie main" "$list"; then
  echo "deb-src $mirror trixie main" > "$list"
  say "added $list (deb-src $mirror trixie main), pinned at 50 by $pref"
  updated=yes
fi
export DEBIAN_FRONTEND=noninteractive
if [ $updated = yes ] || [ -n "$missing" ]; then
  apt-get update -qq
fi
if [ -n "$missing" ]; then
  say "installing$missing (Debian 12)"
  apt-get install -y -qq --no-upgrade -t bookworm $missing >/dev/null
fi

# 3. The upstream tarball.
work="${MINIRUN_CRIU_WORK:-/var/cache/minirun/criu-src}"
mkdir -p "$work"
cd "$work"
tarball=$(ls criu_*.orig.tar.* 2>/dev/null | sort -V | tail -n1 || true)
if [ -z "$tarball" ]; then
  say "downloading the criu source from trixie (apt-get source --tar-only criu/trixie)"
  apt-get source -qq --tar-only criu/trixie >/dev/null
  tarball=$(ls criu_*.orig.tar.* | sort -V | tail -n1)
fi
version=$(echo "$tarball" | sed 's/^criu_\(.*\)\.orig\.tar\..*/\1/')
src="$work/criu-$version"
if [ "$(cat "$src/.minirun-patches" 2>/dev/null)" != "$patch_sum" ]; then
  rm -rf "$src"
  mkdir -p "$src"
  tar -xf "$tarball" -C "$src" --strip-components=1
  for p in "$patches_dir"/*.patch; do
    [ -e "$p" ] || continue
    say "applying $(basename "$p")"
    patch -s -d "$src" -p1 < "$p"
  done
  echo "$patch_sum" > "$src/.minirun-patches"
fi

# 4. Build: the criu binary and libcriu (lib/c), no docs, no python tools.
say "building criu $version in $src (make -j$(nproc) criu lib/c/libcriu.so lib/c/libcriu.a)"
cd "$src"
start=$(date +%s)
make -j"$(nproc)" criu lib/c/libcriu.so lib/c/libcriu.a >build.log 2>&1 || {
  tail -n 30 build.log >&2
  say "make failed; the whole log is $src/build.log" >&2
  exit 1
}
# Install only what minirun uses, into a fresh directory moved into place at
# the end, so an interrupted run never leaves a prefix that looks complete.
# (CRIU's own install-lib would also build and pip-install its python module.)
tmp="$PREFIX.new"
rm -rf "$tmp"
mkdir -p "$tmp/bin" "$tmp/lib/pkgconfig" "$tmp/include/criu"
install -m 755 criu/criu "$tmp/bin/criu"
so=$(sed -n 's/^CRIU_SO_VERSION_MAJOR[^0-9]*\([0-9]*\)/\1/p' Makefile.versions)
so_minor=$(sed -n 's/^CRIU_SO_VERSION_MINOR[^0-9]*\([0-9]*\)/\1/p' Makefile.versions)
install -m 755 lib/c/libcriu.so "$tmp/lib/libcriu.so.$so.$so_minor"
ln -s "libcriu.so.$so.$so_minor" "$tmp/lib/libcriu.so.$so"
ln -s "libcriu.so.$so.$so_minor" "$tmp/lib/libcriu.so"
install -m 644 lib/c/libcriu.a "$tmp/lib/libcriu.a"
install -m 644 lib/c/criu.h images/rpc.proto images/rpc.pb-c.h criu/include/version.h "$tmp/include/criu/"
sed -e "s,@version@,$version," -e "s,@libdir@,$PREFIX/lib," -e "s,@includedir@,$PREFIX/include/," \
  lib/c/criu.pc.in > "$tmp/lib/pkgconfig/criu.pc"
echo "$patch_sum" > "$tmp/minirun-patches"
# libcriu.a needs protobuf-c too when linked statically
echo "Libs.private: -lprotobuf-c" >> "$tmp/lib/pkgconfig/criu.pc"
rm -rf "$PREFIX"
mv "$tmp" "$PREFIX"
say "built in $(( $(date +%s) - start )) s"
if ! complete; then
  "$PREFIX/bin/criu" check >&2 || true
  say "$PREFIX is incomplete or its criu fails 'criu check' (see above)" >&2
  exit 1
fi
say "$PREFIX: $("$PREFIX/bin/criu" --version | head -n1); criu check passes"
