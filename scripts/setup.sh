#!/bin/sh
# Install what minirun needs on a fresh Debian 12 machine (idempotent), build
# it, and build the example busybox rootfs.
#   scripts/setup.sh            build dependencies + build + rootfs
#   scripts/setup.sh --test     + everything the test suite needs
#   scripts/setup.sh --bench    + crun and runc for bench/
#   scripts/setup.sh --criu     + CRIU and libcriu built from Debian's source into
#                               a private prefix (scripts/build-criu.sh), for
#                               checkpoint/restore; --test does it too
set -eu
. "$(dirname "$0")/as-root.sh"
cd "$(dirname "$0")/.."

want="gcc libc6-dev make cmake pkg-config libseccomp-dev libcap-dev libjansson-dev libmnl-dev libsystemd-dev busybox-static"
criu=no
for arg in "$@"; do
  case "$arg" in
    --criu) criu=yes ;;
    --test) [ $criu = yes ] || criu=test; want="$want python3-pytest python3-jsonschema iproute2 util-linux procps valgrind clang libclang-rt-14-dev libfuzzer-14-dev clang-tidy cppcheck podman conmon docker.io crun runc time strace" ;;
    --bench) want="$want crun runc hyperfine python3 procps util-linux" ;;
    *) echo "setup.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "setup: installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq $missing >/dev/null
fi

# CRIU before configuring, so that CMake finds libcriu.  With --test a CRIU
# that does not build leaves checkpoint/restore out (its tests then skip and
# say why); with --criu it is an error.
if [ $criu = yes ]; then
  scripts/build-criu.sh
elif [ $criu = test ] && ! scripts/build-criu.sh; then
  echo "setup: CRIU could not be built (see above): minirun is built without checkpoint/restore" >&2
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
examples/mkrootfs.sh >/dev/null
echo "setup: built build/minirun and examples/rootfs"
