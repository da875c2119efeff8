#!/bin/sh
# Set everything up and run every test: unit tests (ctest), then the
# integration suite (pytest, as root, against the real kernel).
set -eu
cd "$(dirname "$0")/.."
scripts/setup.sh --test
if [ "$(id -u)" != 0 ]; then
  echo "test.sh: the integration tests need root (real namespaces, cgroups, mounts)" >&2
  exit 1
fi
# a second build with the crash-anywhere test hook (never in the release binary)
cmake -S . -B build-crash -DMINIRUN_CRASH_HOOKS=ON >/dev/null
cmake --build build-crash -j"$(nproc)" --target minirun >/dev/null
export MINIRUN_CRASH_BIN="$PWD/build-crash/minirun"

echo "== unit tests"
(cd build && ctest --output-on-failure -j2)
echo "== integration tests"
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration "$@"
