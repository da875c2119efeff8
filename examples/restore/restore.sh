#!/bin/sh
# Capture a running container's process tree, delete the container, replay
# the tree from the capture, and compare: every process comes back at the
# same pids at every pid-namespace level, with the same parents.
#   examples/restore/restore.sh [MINIRUN]      (run as root)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
minirun=${1:-$here/../../build/minirun}
root=$(mktemp -d)
work=$(mktemp -d)
trap '"$minirun" --root "$root" delete --force restore-demo >/dev/null 2>&1 || true; rm -rf "$root" "$work"' EXIT

"$here/../mkrootfs.sh" >/dev/null
# pins in the host namespace must be free now: take the config's or move them up
sed "s#\"../rootfs\"#\"$here/../rootfs\"#" "$here/config.json" > "$work/config.json"
mkdir -p "$work/bundle" && mv "$work/config.json" "$work/bundle/"

echo "== original"
"$minirun" --root "$root" run -d -b "$work/bundle" restore-demo </dev/null >/dev/null
"$minirun" --root "$root" ps restore-demo
"$minirun" --root "$root" ps --format pins restore-demo > "$work/captured.json"

echo "== delete, then replay from the capture"
"$minirun" --root "$root" delete --force restore-demo
/usr/bin/python3 - "$work/bundle/config.json" "$work/captured.json" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["minirun"] = json.load(open(sys.argv[2]))["minirun"]
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
PY
# the old init may still be a zombie until whoever reaps orphans here gets to it
replayed=no
for _ in $(seq 100); do
  if "$minirun" --root "$root" run -d -b "$work/bundle" restore-demo </dev/null >/dev/null 2>"$work/err"; then
    replayed=yes
    break
  fi
  grep -q "already in use" "$work/err" || break
  sleep 0.1
done
if [ $replayed = no ]; then
  cat "$work/err" >&2
  exit 1
fi
"$minirun" --root "$root" ps restore-demo
"$minirun" --root "$root" ps --format pins restore-demo > "$work/replayed.json"

if cmp -s "$work/captured.json" "$work/replayed.json"; then
  echo "== identical: every process is back at its pids"
else
  diff "$work/captured.json" "$work/replayed.json" || true
  echo "== the replayed tree differs" >&2
  exit 1
fi
