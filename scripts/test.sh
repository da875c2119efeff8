#!/bin/sh
# Set everything up and run every test:
#   1. unit tests (ctest), then the static checks at zero findings
#      (scripts/tidy.sh: the house rules, clang-tidy, cppcheck)
#   2. the fuzzers for a bounded time (60 s) plus every saved regression input
#   3. valgrind over the main commands
#   4. the whole integration suite under ASan + UBSan (+ LeakSanitizer)
#   5. the integration suite (pytest, as root, against the real kernel)
#   6. the integration suite again with the static build (-DMINIRUN_STATIC=ON)
# Quick mode, the integration suite only: scripts/test.sh --quick [PYTEST ARGS]
set -eu
. "$(dirname "$0")/as-root.sh"
cd "$(dirname "$0")/.."
quick=no
if [ "${1:-}" = --quick ]; then
  quick=yes
  shift
fi
scripts/setup.sh --test
# a second build with the crash-anywhere test hook (never in the release binary)
cmake -S . -B build-crash -DMINIRUN_CRASH_HOOKS=ON >/dev/null
cmake --build build-crash -j"$(nproc)" --target minirun >/dev/null
export MINIRUN_CRASH_BIN="$PWD/build-crash/minirun"

if [ $quick = no ]; then
  echo "== unit tests"
  (cd build && ctest --output-on-failure -j2)
  echo "== static checks (house rules, clang-tidy, cppcheck)"
  scripts/tidy.sh build
  echo "== fuzzing (60 s) and the saved regressions"
  scripts/fuzz.sh 60
  echo "== valgrind over the main commands"
  VALGRIND_CORPUS=0 scripts/valgrind.sh
  echo "== integration suite under ASan + UBSan"
  scripts/sanitize.sh -q -rs -p no:cacheprovider
fi
echo "== integration tests"
/usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/integration "$@"
if [ $quick = no ]; then
  echo "== integration tests, static build (build-static: -DMINIRUN_STATIC=ON)"
  cmake -S . -B build-static -DCMAKE_BUILD_TYPE=Release -DMINIRUN_STATIC=ON >/dev/null
  cmake --build build-static -j"$(nproc)" --target minirun >/dev/null
  MINIRUN_BIN="$PWD/build-static/minirun" \
    /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider tests/integration "$@"
fi
