#!/bin/sh
# Capture a running container's process tree, delete the container, replay
# the tree from the capture, and compare: every process comes back at the
# same pids at every pid-namespace level, with the same parents.
#   examples/restore/restore.sh [MINIRUN]      (run as root)
# The config pins the three processes at host pids 31100-31102; a pid that is
# in use here (a process, process group or session) moves the three to the
# next free ones.  RESTORE_HOST_PIDS="A B C" chooses them instead.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
minirun=${1:-$here/../../build/minirun}
root=$(mktemp -d)
work=$(mktemp -d)
# the id names the cgroup (/minirun/<id>): one per run, so that two runs on
# one machine never meet
id=restore-demo-$$
cleanup() { "$minirun" --root "$root" delete --force "$id" >/dev/null 2>&1 || true; rm -rf "$root" "$work"; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

"$here/../mkrootfs.sh" >/dev/null
# pins in the host namespace must be free now: take the config's or move them up
. "$here/../pid-free.sh"
if [ -n "${RESTORE_HOST_PIDS:-}" ]; then
  set -- $RESTORE_HOST_PIDS
  [ $# = 3 ] || { echo "RESTORE_HOST_PIDS needs three pids" >&2; exit 2; }
  a=$1 b=$2 c=$3
else
  a=31100
  while ! { pid_free $a && pid_free $((a + 1)) && pid_free $((a + 2)); }; do a=$((a + 3)); done
  b=$((a + 1)) c=$((a + 2))
  [ $a = 31100 ] || echo "(host pids 31100-31102 are in use here: pinning $a $b $c instead)"
fi
mkdir -p "$work/bundle"
/usr/bin/python3 - "$here/config.json" "$work/bundle/config.json" "$here/../rootfs" $a $b $c <<'PY'
import json, sys
src, dst, rootfs, a, b, c = sys.argv[1], sys.argv[2], sys.argv[3], *map(int, sys.argv[4:])
cfg = json.load(open(src))
cfg["root"]["path"] = rootfs
m = cfg["minirun"]
m["pids"]["host"] = a
m["processes"][0]["pids"]["host"] = b
m["processes"][1]["pids"]["host"] = c
json.dump(cfg, open(dst, "w"), indent=2)
PY

echo "== original"
"$minirun" --root "$root" run -d -b "$work/bundle" "$id" </dev/null >/dev/null
"$minirun" --root "$root" ps "$id"
"$minirun" --root "$root" ps --format pins "$id" > "$work/captured.json"

echo "== delete, then replay from the capture"
"$minirun" --root "$root" delete --force "$id"
/usr/bin/python3 - "$work/bundle/config.json" "$work/captured.json" <<'PY'
import json, sys
cfg = json.load(open(sys.argv[1]))
cfg["minirun"] = json.load(open(sys.argv[2]))["minirun"]
json.dump(cfg, open(sys.argv[1], "w"), indent=2)
PY
# the old init may still be a zombie until whoever reaps orphans here gets to it
replayed=no
for _ in $(seq 100); do
  if "$minirun" --root "$root" run -d -b "$work/bundle" "$id" </dev/null >/dev/null 2>"$work/err"; then
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
"$minirun" --root "$root" ps "$id"
"$minirun" --root "$root" ps --format pins "$id" > "$work/replayed.json"

if cmp -s "$work/captured.json" "$work/replayed.json"; then
  echo "== identical: every process is back at its pids"
else
  diff "$work/captured.json" "$work/replayed.json" || true
  echo "== the replayed tree differs" >&2
  exit 1
fi
