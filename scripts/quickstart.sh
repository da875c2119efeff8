#!/bin/sh
# Set everything up, then run the example bundles: one plain, one whose init
# is pinned to a host pid (31000, or the next free one if that is taken).
set -eu
. "$(dirname "$0")/as-root.sh"
cd "$(dirname "$0")/.."
scripts/setup.sh

echo
echo "== minirun run examples/hello"
build/minirun run examples/hello

. examples/pid-free.sh
bundle=examples/pinned-host-pid
pin=31000
while ! pid_free $pin; do pin=$((pin + 1)); done
if [ $pin != 31000 ]; then
  bundle=$(mktemp -d)
  sed -e "s/\"host\": 31000/\"host\": $pin/" -e "s#\"../rootfs\"#\"$PWD/examples/rootfs\"#" \
    examples/pinned-host-pid/config.json > "$bundle/config.json"
  echo "(pid 31000 is in use here: pinning $pin instead)"
fi

echo
echo "== minirun run $bundle   (config: \"minirun\": {\"pids\": {\"host\": $pin, \"container\": 1}})"
build/minirun run "$bundle" &
run=$!
for _ in $(seq 50); do [ -e /proc/$pin ] && break; sleep 0.02; done
echo "outside: $(grep NSpid /proc/$pin/status 2>/dev/null || echo "pid $pin not found")   (host pid, container pid)"
wait $run
[ "$bundle" = examples/pinned-host-pid ] || rm -rf "$bundle"
echo
echo "Done: the init ran at host pid $pin and container pid 1."
