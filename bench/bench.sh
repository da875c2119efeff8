#!/bin/sh
# bench/bench.sh: minirun beside crun and runc on one bundle (see bench/README.md).
#   bench/bench.sh              full run (4–6 minutes on 2 cores), writes bench/RESULTS.md
#   bench/bench.sh --quick      about a minute (fewer runs, at most 100 live containers)
#   bench/bench.sh --hyperfine  also cross-check `run` with hyperfine -N (installs it)
# Other options are passed to bench.py (e.g. --scale-minirun-only, --raw FILE,
# --results FILE).  Installs what is missing from Debian (crun, runc, hyperfine
# when asked, the build dependencies), builds minirun (Release: the default
# build in build-bench, the static one, -DMINIRUN_STATIC=ON, in build-bench-static)
# and the busybox rootfs, then runs bench.py as root inside one private mount
# namespace in which, on a hybrid cgroup host, the cgroup2 mount's
# cgroup.controllers is hidden so that crun 1.8.1 accepts the host.
set -eu
werror_note=""
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
build="$top/build-bench"
command="bench/bench.sh $*"

hyperfine=""
pass=""
for arg in "$@"; do
  case "$arg" in
    --hyperfine) hyperfine=1 ;;
    *) pass="$pass $arg" ;;
  esac
done

if [ "$(id -u)" != 0 ]; then
  echo "bench.sh: run as root (the runtimes create cgroups and namespaces)" >&2
  exit 2
fi

want="crun runc gcc libc6-dev make cmake pkg-config libseccomp-dev libcap-dev libjansson-dev libmnl-dev busybox-static python3 util-linux procps"
[ -n "$hyperfine" ] && want="$want hyperfine"
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "bench: installing$missing" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

echo "bench: building minirun (Release) in $build" >&2
if ! { cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMINIRUN_WERROR=ON >/dev/null \
       && cmake --build "$build" -j"$(nproc)" --target minirun >"$build/build.log" 2>&1; }; then
  echo "bench: the Release build fails with -Werror (see $build/build.log); building without -Werror" >&2
  werror_note="--note 'minirun was built with -DMINIRUN_WERROR=OFF: the Release build fails with -Werror ($(grep -m1 'error:' "$build/build.log" | sed "s|$top/||; s/'//g"))'"
  cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DMINIRUN_WERROR=OFF >/dev/null
  cmake --build "$build" -j"$(nproc)" --target minirun >"$build/build.log" 2>&1 \
    || { tail -20 "$build/build.log" >&2; exit 1; }
fi
# The static build (-DMINIRUN_STATIC=ON), measured beside the default one.
sbuild="$top/build-bench-static"
echo "bench: building minirun (Release, -DMINIRUN_STATIC=ON) in $sbuild" >&2
if ! { cmake -S "$top" -B "$sbuild" -DCMAKE_BUILD_TYPE=Release -DMINIRUN_STATIC=ON >/dev/null \
       && cmake --build "$sbuild" -j"$(nproc)" --target minirun >"$sbuild/build.log" 2>&1; }; then
  tail -20 "$sbuild/build.log" >&2
  exit 1
fi
cc -O2 -static -Wall -Wextra -Werror -o "$build/bench-maxrss" "$here/maxrss.c"
"$top/examples/mkrootfs.sh" >/dev/null

# The host's cgroup layout, as seen before the controllers file is hidden.
cg=/sys/fs/cgroup
if [ "$(stat -f -c %T $cg)" = cgroup2fs ]; then
  layout="unified (cgroup2 at $cg, controllers: $(cat $cg/cgroup.controllers))"
  hide=""
elif [ -e $cg/unified/cgroup.controllers ]; then
  v1=$(for d in $cg/*/; do d=${d%/}; if [ "$(stat -f -c %T "$d")" = cgroupfs ]; then printf '%s ' "${d##*/}"; fi; done)
  layout="hybrid (v1 hierarchies: ${v1% }; cgroup2 at $cg/unified, controllers: $(cat $cg/unified/cgroup.controllers))"
  hide="mount --bind /dev/null $cg/unified/cgroup.controllers &&"
else
  layout="legacy (v1 only)"
  hide=""
fi

hfdir=""
if [ -n "$hyperfine" ]; then
  hfdir=$(mktemp -d /tmp/minirun-bench-hf.XXXXXX)
  trap 'rm -rf "$hfdir"' EXIT
fi

# Everything below runs in one private mount namespace (unshare -m makes its
# mounts private), so the bind mount never reaches the host.
# shellcheck disable=SC2086
unshare -m sh -eu -c "
  $hide :
  if [ -n '$hfdir' ]; then
    b=\$(mktemp -d /tmp/minirun-bench-hfb.XXXXXX)
    '$build/minirun' spec -b \"\$b\"
    /usr/bin/python3 - \"\$b/config.json\" '$top/examples/rootfs' '$here/seccomp.json' <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); c['root']['path'] = sys.argv[2]; c['process']['args'] = ['/bin/true']
c['linux']['seccomp'] = json.load(open(sys.argv[3]))
c['linux'].setdefault('resources', {}).update(pids={'limit': 1024}, memory={'limit': 268435456})
json.dump(c, open(sys.argv[1], 'w'))
PY
    for rt in '$build/minirun' '$sbuild/minirun' crun runc; do
      n=\$(basename \$rt); [ \$rt = '$sbuild/minirun' ] && n=minirun-static; mkdir -p \"\$b/state-\$n\"
      hyperfine -N --style basic --warmup 5 --runs 100 --export-json '$hfdir'/\$n.json \
        \"\$rt --root \$b/state-\$n run -b \$b mrbhf-\$n\" >/dev/null
    done
    rm -rf \"\$b\"
  fi
  exec /usr/bin/python3 '$here/bench.py' --minirun '$build/minirun' --minirun-static '$sbuild/minirun' \
    --rootfs '$top/examples/rootfs' \
    --maxrss '$build/bench-maxrss' --host-cgroup '$layout' --command '$command' --tmpfs-state \
    ${hfdir:+--hyperfine '$hfdir'} $werror_note $pass
"
