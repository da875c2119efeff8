#!/bin/sh
# guest-v2.sh: the "cgroup v2 only, no systemd" guest of the VM lane (run by
# minirun-vm-boot as PID 1; it puts tini in front of itself as the reaper).
# Sets up what an init would (tmpfs mounts, loopback, cgroup2 at
# /sys/fs/cgroup with every controller enabled in the root's
# subtree_control; the kernel runs with cgroup_no_v1=all), then runs pytest
# as root from /srv/minirun with the arguments the host wrote to
# /mnt/minirun-vm/pytest-args (one a line), and writes back to the share:
# guest-info (kernel, cgroup layout, boot time), pytest.log, junit.xml and
# rc (pytest's exit code), then powers off.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
if [ $$ = 1 ]; then
  exec tini -- "$0" "$@"
fi
share=/mnt/minirun-vm
tree=/srv/minirun
exec >/dev/console 2>&1

finish() {
  dmesg >"$share/dmesg.log" 2>&1
  echo "$1" >"$share/rc"
  sync
  busybox poweroff -f
  sleep 30
}

echo "guest-v2: userspace at $(cut -d' ' -f1 /proc/uptime) s since the kernel started"
uptime_start=$(cut -d' ' -f1 /proc/uptime)
mountpoint -q /run || mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
mountpoint -q /tmp || mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
mkdir -p /dev/pts /dev/shm /dev/mqueue
mountpoint -q /dev/pts || mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mountpoint -q /dev/shm || mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
mountpoint -q /dev/mqueue || mount -t mqueue mqueue /dev/mqueue
[ -e /dev/ptmx ] || ln -s pts/ptmx /dev/ptmx
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup || {
  echo "guest-v2: mount of cgroup2 at /sys/fs/cgroup failed"
  finish 3
}
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do
  echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control || echo "guest-v2: cannot enable the $c controller"
done
hostname minirun-vm
ip link set lo up

{
  echo "setup=v2"
  echo "kernel=$(uname -r)"
  echo "cmdline=$(cat /proc/cmdline)"
  echo "cgroup2.controllers=$(cat /sys/fs/cgroup/cgroup.controllers)"
  echo "cgroup2.subtree_control=$(cat /sys/fs/cgroup/cgroup.subtree_control)"
  echo "cgroup_v1_mounts=$(grep -c ' - cgroup ' /proc/self/mountinfo)"
  echo "cpus=$(nproc)"
  echo "memory_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
  echo "userspace_s=$uptime_start"
} >"$share/guest-info"

# the host's CRIU, packed with the tree by scripts/vm-test.sh: at the path the
# minirun under test was built to run it from
if [ -x "$tree/criu/bin/criu" ] && [ -f "$share/criu-prefix" ]; then
  criu_prefix=$(cat "$share/criu-prefix")
  mkdir -p "$criu_prefix/bin" && cp "$tree/criu/bin/criu" "$criu_prefix/bin/criu" ||
    echo "guest: cannot install CRIU at $criu_prefix/bin/criu"
fi
cd "$tree" || finish 3
set --
while IFS= read -r arg; do
  [ -n "$arg" ] && set -- "$@" "$arg"
done <"$share/pytest-args"
limit=$(cat "$share/guest-timeout" 2>/dev/null || echo 3600)
echo "guest-v2: python3 -m pytest $* (at most $limit s)"
MINIRUN_CRASH_BIN=$tree/build-crash/minirun
export MINIRUN_CRASH_BIN
t0=$(cut -d' ' -f1 /proc/uptime)
{
  timeout -k 10 "$limit" /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider --junitxml=/tmp/junit.xml "$@"
  echo $? >/tmp/rc
} 2>&1 | tee /tmp/pytest.log
cp /tmp/pytest.log "$share/pytest.log"
[ -f /tmp/junit.xml ] && cp /tmp/junit.xml "$share/junit.xml"
echo "suite_s=$(awk -v a="$t0" '{ printf "%.1f", $1 - a }' /proc/uptime)" >>"$share/guest-info"
finish "$(cat /tmp/rc)"
