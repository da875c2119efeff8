#!/bin/sh
# Static checks that must report nothing (called by scripts/test.sh):
#   1. the house rules: scripts/check-layers.py (floors, no include or call
#      cycle, the CLI on the public headers only, file sizes)
#   2. clang-tidy with the project's .clang-tidy (bugprone, cert, the clang
#      static analyzer) over every runtime/ and cmd/ file
#   3. cppcheck's warning and portability checks
# Usage: scripts/tidy.sh [BUILD_DIR]   (default build/, configured by setup.sh:
# it holds compile_commands.json and the objects check-layers reads)
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
[ -f "$build/compile_commands.json" ] || { echo "tidy: no $build/compile_commands.json (run scripts/setup.sh)" >&2; exit 2; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
status=0

echo "-- check-layers"
python3 scripts/check-layers.py "$build" || status=1

echo "-- clang-tidy"
git ls-files 'runtime/*.c' 'cmd/*.c' |
  xargs -P "$(nproc)" -n 4 clang-tidy -p "$build" --quiet 2>/dev/null |
  grep -E '^[^ ].*: (warning|error):' | sort -u >"$out/tidy" || true
if [ -s "$out/tidy" ]; then
  cat "$out/tidy"
  echo "clang-tidy: $(wc -l <"$out/tidy") finding(s)"
  status=1
else
  echo "clang-tidy: no findings in $(git ls-files 'runtime/*.c' 'cmd/*.c' | wc -l) files"
fi

echo "-- cppcheck"
# ctuuninitvar: cppcheck takes a struct whose buffer the callee fills
# (mr_fdpath) for a read of uninitialized memory
cppcheck -q --enable=warning,portability --inline-suppr --error-exitcode=1 \
  -D_GNU_SOURCE -I include -I runtime --suppress=missingIncludeSystem \
  --suppress=ctuuninitvar runtime cmd || status=1
[ $status -eq 0 ] && echo "tidy: clean"
exit $status
