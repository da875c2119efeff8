#!/bin/sh
# guest-systemd.sh: the "systemd as PID 1, cgroup v2" guest of the VM lane
# (run by minirun-vm-runner.service through minirun-vm-boot once the boot
# reached multi-user.target).  Waits for `systemctl is-system-running` to
# settle (running or degraded), records it, runs pytest as root from
# /srv/minirun with the arguments the host wrote to
# /mnt/minirun-vm/pytest-args (by default tests/vm/systemd, the guest-side
# tests that need systemd: add files there, and
# tests/integration/test_systemd_cgroup.py), writes back guest-info,
# pytest.log, junit.xml and rc to the share, and powers the guest off.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
share=/mnt/minirun-vm
tree=/srv/minirun
uptime_start=$(cut -d' ' -f1 /proc/uptime)
echo "guest-systemd: runner started at $uptime_start s since the kernel started"

finish() {
  dmesg >"$share/dmesg.log" 2>&1
  echo "$1" >"$share/rc"
  sync
  systemctl poweroff --no-block || busybox poweroff -f
  exit 0
}

state=$(timeout 600 systemctl is-system-running --wait 2>&1)
echo "guest-systemd: systemctl is-system-running: $state"
{
  echo "setup=systemd"
  echo "kernel=$(uname -r)"
  echo "cmdline=$(cat /proc/cmdline)"
  echo "pid1=$(cat /proc/1/comm)"
  echo "systemd=$(systemctl --version | head -n 1)"
  echo "system_state=$state"
  echo "failed_units=$(systemctl list-units --failed --plain --no-legend | awk '{print $1}' | tr '\n' ' ')"
  echo "boot_time=$(systemd-analyze time 2>/dev/null | head -n 1)"
  echo "cgroup2.controllers=$(cat /sys/fs/cgroup/cgroup.controllers)"
  echo "cgroup2.subtree_control=$(cat /sys/fs/cgroup/cgroup.subtree_control)"
  echo "cgroup_v1_mounts=$(grep -c ' - cgroup ' /proc/self/mountinfo)"
  echo "cpus=$(nproc)"
  echo "memory_kb=$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
  echo "userspace_s=$uptime_start"
  echo "settled_s=$(cut -d' ' -f1 /proc/uptime)"
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
echo "guest-systemd: python3 -m pytest $* (at most $limit s)"
t0=$(cut -d' ' -f1 /proc/uptime)
{
  MINIRUN_VM_SYSTEM_STATE=$state timeout -k 10 "$limit" \
    /usr/bin/python3 -m pytest -q -rs -p no:cacheprovider --junitxml=/tmp/junit.xml "$@"
  echo $? >/tmp/rc
} 2>&1 | tee /tmp/pytest.log
cp /tmp/pytest.log "$share/pytest.log"
[ -f /tmp/junit.xml ] && cp /tmp/junit.xml "$share/junit.xml"
echo "suite_s=$(awk -v a="$t0" '{ printf "%.1f", $1 - a }' /proc/uptime)" >>"$share/guest-info"
finish "$(cat /tmp/rc)"
