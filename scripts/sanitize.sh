#!/bin/sh
# sanitize.sh [PYTEST ARGS]: build minirun with AddressSanitizer (with
# LeakSanitizer) and UndefinedBehaviorSanitizer in build-asan
# (-DMINIRUN_SANITIZE=ON, gcc), run the unit tests (ctest) and the
# integration suite (tests/integration, as root) with that binary, and fail
# on any test failure and on any sanitizer report.
#
# Reports also go to files (log_path) under build-asan/sanitizer-logs/, so a
# report from a process whose exit status nobody checks (a forked helper, a
# detached monitor) still fails the run; they are printed at the end.  The
# container init is a clone of minirun that execs the container's program:
# ASan is active in it until the exec.
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD=$REPO/build-asan
LOGS=$BUILD/sanitizer-logs
[ "$(id -u)" = 0 ] || { echo "sanitize.sh: run as root (the integration tests need it)" >&2; exit 1; }

echo "== build $BUILD (ASan + UBSan)"
cmake -S "$REPO" -B "$BUILD" -DMINIRUN_SANITIZE=ON >/dev/null
make -C "$BUILD" -j2 >"$BUILD/sanitize-build.log" 2>&1 || { tail -40 "$BUILD/sanitize-build.log" >&2; exit 1; }

rm -rf "$LOGS"
mkdir -p "$LOGS"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:log_path=$LOGS/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$LOGS/ubsan"
export MINIRUN_BIN="$BUILD/minirun"
status=0

echo "== unit tests (ctest)"
(cd "$BUILD" && ctest --output-on-failure -j2) || status=1

echo "== integration tests (MINIRUN_BIN=$MINIRUN_BIN)"
/usr/bin/python3 -m pytest -q -p no:cacheprovider tests/integration "$@" || status=1

reports=$(find "$LOGS" -type f | sort)
if [ -n "$reports" ]; then
  echo "== sanitizer reports ($(echo "$reports" | wc -l)):"
  for f in $reports; do
    echo "---- $f"
    head -60 "$f"
  done
  status=1
else
  echo "== no sanitizer reports"
fi
exit $status
