#!/bin/sh
# fuzz.sh [SECONDS]: build the libFuzzer targets (tests/fuzz/fuzz_*.c) in
# build-fuzz with clang, replay every saved crash in tests/fuzz/regressions/
# (the regression test), then run each fuzzer for its share of SECONDS
# (default 60, split evenly; 0 = replay only) on a temporary copy of its seed
# corpus (tests/fuzz/corpus/<target>/, plus tests/configs/bad/*.json for
# fuzz_config), so the committed corpus never grows by itself.  Prints executions and coverage (cov:/ft:) per target and exits
# non-zero if a regression input still crashes or a new crash is found; new
# crash inputs are kept under build-fuzz/crashes/.
#
# Regression files are routed by name: pins-* goes to fuzz_pins, everything
# else to fuzz_config.  To grow the committed corpus on purpose:
#   build-fuzz/fuzz_config -merge=1 tests/fuzz/corpus/config <new inputs dir>
# MINIRUN_FUZZ_IGNORE=id,... (see fuzz_config.c) skips known-broken
# invariants while exploring; this script clears it for the regressions.
set -eu
cd "$(dirname "$0")/.."
REPO=$(pwd)
BUILD=$REPO/build-fuzz
SECONDS_TOTAL=${1:-60}
case $SECONDS_TOTAL in
  '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

command -v clang >/dev/null || { echo "fuzz.sh: clang is missing (apt-get install clang libclang-rt-14-dev libfuzzer-14-dev)" >&2; exit 1; }

# The library must be instrumented too, or libFuzzer sees only the harness
# and ASan checks nothing inside the parser: -fsanitize=fuzzer-no-link.
# -Wformat-nonliteral (from -Wformat=2) fires under clang on the vprintf
# wrappers in error.c and log.c; keep it a warning here.
echo "== build $BUILD"
CC=clang cmake -S "$REPO" -B "$BUILD" -DMINIRUN_FUZZ=ON \
  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -Wno-error=format-nonliteral" \
  >"$BUILD.cmake.log" 2>&1 || { cat "$BUILD.cmake.log" >&2; exit 1; }
rm -f "$BUILD.cmake.log"
TARGETS=""
for src in tests/fuzz/fuzz_*.c; do
  TARGETS="$TARGETS $(basename "$src" .c)"
done
# shellcheck disable=SC2086
make -C "$BUILD" -j2 $TARGETS >"$BUILD/fuzz-build.log" 2>&1 || { tail -40 "$BUILD/fuzz-build.log" >&2; exit 1; }

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
status=0

# ---- the regression test: every saved crash input must now pass ----
echo "== regressions (tests/fuzz/regressions)"
n_reg=0
for f in tests/fuzz/regressions/*; do
  [ -f "$f" ] || continue
  n_reg=$((n_reg + 1))
  case $(basename "$f") in
    pins-*) t=fuzz_pins ;;
    *) t=fuzz_config ;;
  esac
  if env -u MINIRUN_FUZZ_IGNORE "$BUILD/$t" -runs=1 "$f" >"$BUILD/regression.log" 2>&1; then
    echo "ok    $f"
  else
    echo "FAIL  $f ($t):"
    grep -E "invariant|ERROR|SUMMARY|fuzz_pins:|runtime error" "$BUILD/regression.log" | head -5 | sed 's/^/      /'
    status=1
  fi
done
echo "$n_reg regression input(s)"
rm -f "$BUILD/regression.log"

[ "$SECONDS_TOTAL" -gt 0 ] || exit $status

# ---- fuzzing ----
# shellcheck disable=SC2086
set -- $TARGETS
share=$((SECONDS_TOTAL / $#))
[ "$share" -ge 1 ] || share=1
WORK=$(mktemp -d /tmp/minirun-fuzz.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$BUILD/crashes"
total_execs=0
for t in $TARGETS; do
  name=${t#fuzz_}
  corpus=$WORK/$name
  mkdir -p "$corpus"
  if [ -d "tests/fuzz/corpus/$name" ]; then
    cp -r "tests/fuzz/corpus/$name/." "$corpus/"
  fi
  # the bad-config corpus: one seed per error path of the parser and planner
  if [ "$name" = config ]; then
    for f in tests/configs/bad/*.json; do
      cp "$f" "$corpus/bad-$(basename "$f")"
    done
  fi
  seeds=$(find "$corpus" -type f | wc -l)
  opts="-max_total_time=$share -timeout=10 -print_final_stats=1 -artifact_prefix=$BUILD/crashes/$name-"
  [ -f "tests/fuzz/$name.dict" ] && opts="$opts -dict=tests/fuzz/$name.dict"
  [ "$name" = config ] && opts="$opts -max_len=16384"
  echo "== $t: ${share}s, $seeds seed input(s)"
  log=$WORK/$name.log
  # shellcheck disable=SC2086
  if "$BUILD/$t" $opts "$corpus" >"$log" 2>&1; then
    rc=0
  else
    rc=$?
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
  cov=$(echo "$last" | sed -n 's/.*cov: \([0-9]*\).*/\1/p')
  ft=$(echo "$last" | sed -n 's/.*ft: \([0-9]*\).*/\1/p')
  corp=$(echo "$last" | sed -n 's/.*corp: \([0-9]*\/[0-9a-zA-Z]*\).*/\1/p')
  echo "$t: executions ${execs:-?}, cov: ${cov:-?} ft: ${ft:-?}, corpus ${corp:-?} (from $seeds seeds)"
  total_execs=$((total_execs + ${execs:-0}))
  if [ "$rc" -ne 0 ]; then
    echo "$t: CRASH (exit $rc):"
    grep -E "invariant|ERROR:|SUMMARY|fuzz_pins:|runtime error|Test unit written" "$log" | head -10 | sed 's/^/    /'
    echo "    full log: $BUILD/crashes/$name.log; save the input as tests/fuzz/regressions/<name> and report it"
    cp "$log" "$BUILD/crashes/$name.log"
    status=1
  fi
done
echo "== total executions: $total_execs"
exit $status
