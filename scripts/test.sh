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
echo "== unit tests"
(cd build && ctest --output-on-failure -j2)
echo "== integration tests"
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration "$@"
