#!/bin/sh
# vm-test.sh: the VM lane.  Boots Debian 12's own kernel (6.1 LTS) with qemu
# in two guests and runs minirun's tests there as root:
#   v2       cgroup v2 only (cgroup_no_v1=all), no systemd: cgroup2 at
#            /sys/fs/cgroup with every controller enabled; the integration
#            suite (under software emulation: the part that matters for v2,
#            see scripts/vm/v2-tcg-tests.txt)
#   systemd  systemd as PID 1 on cgroup v2: tests/vm/systemd and
#            tests/integration/test_systemd_cgroup.py (--systemd-cgroup, podman
#            --cgroup-manager=systemd)
# The guest root is built once from Debian packages and cached
# (scripts/vm/build-root.sh); the tree under test (build/minirun,
# build-crash/minirun, examples/, tests/, scripts/) goes in as a tar through
# a 9p share, and the guest writes back its pytest log, JUnit XML and exit
# code there.  The logs of the last run stay in build-vm/SETUP/.
#
# Usage: scripts/vm-test.sh [--setup v2|systemd|all] [--full] [--accel kvm|tcg]
#                           [--timeout SECONDS] [--rebuild-root] [-- PYTEST ARGS]
#   --setup      which guest(s) (default all)
#   --full       the whole integration suite in the v2 guest even under TCG
#                (default: whole suite under KVM, the v2 subset under TCG)
#   --accel      force an accelerator (default: kvm where /dev/kvm works, else
#                tcg with a warning)
#   --timeout    the limit of one guest's run, boot included (default 1500 s,
#                3600 s with --full under TCG)
#   -- ARGS      pytest arguments for the guests instead of the defaults
# Exit code: 0 when every guest ran and its tests passed; else the first
# failing guest's pytest code (or 1 when a guest gave no exit code).
set -eu
. "$(dirname "$0")/as-root.sh"
cd "$(dirname "$0")/.."
top=$PWD

setups="v2 systemd"
full=no
accel=
limit=
rebuild=
custom=no
while [ $# -gt 0 ]; do
  case "$1" in
    --setup)
      case "${2:-}" in
        v2|systemd) setups=$2 ;;
        all) setups="v2 systemd" ;;
        *) echo "vm-test.sh: --setup: invalid value \`${2:-}' (expected v2, systemd or all)" >&2; exit 2 ;;
      esac
      shift 2 ;;
    --full) full=yes; shift ;;
    --accel)
      case "${2:-}" in
        kvm|tcg) accel=$2 ;;
        *) echo "vm-test.sh: --accel: invalid value \`${2:-}' (expected kvm or tcg)" >&2; exit 2 ;;
      esac
      shift 2 ;;
    --timeout)
      case "${2:-}" in
        ''|*[!0-9]*) echo "vm-test.sh: --timeout: invalid value \`${2:-}' (expected seconds, e.g. 1500)" >&2; exit 2 ;;
      esac
      limit=$2; shift 2 ;;
    --rebuild-root) rebuild=--rebuild; shift ;;
    --) shift; custom=yes; break ;;
    -h|--help) sed -n "2,28p" "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "vm-test.sh: unknown option \`$1' (see --help)" >&2; exit 2 ;;
  esac
done

say() { echo "vm-test: $*"; }

# ---- what the host needs
missing=""
for p in qemu-system-x86 mmdebstrap e2fsprogs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing$missing"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
if [ ! -x build/minirun ] || [ ! -e examples/rootfs/bin/busybox ]; then
  say "no build/minirun or examples/rootfs here: run scripts/setup.sh --test first"
  exit 1
fi

# ---- the accelerator: KVM where /dev/kvm opens read-write, else TCG
if [ -z "$accel" ]; then
  if [ -c /dev/kvm ] && (exec 3<>/dev/kvm) 2>/dev/null; then
    accel=kvm
  else
    accel=tcg
    why="no /dev/kvm"
    [ -e /dev/kvm ] && why="/dev/kvm cannot be opened read-write"
    grep -qE '\b(vmx|svm)\b' /proc/cpuinfo || why="$why; the CPU shows no vmx/svm flag (no nested virtualisation)"
    say "WARNING: $why: the guests run under TCG software emulation (much slower);" \
        "the v2 guest runs the v2 part of the suite, not all of it (scripts/vm/v2-tcg-tests.txt; --full for all)"
  fi
fi
if [ $accel = kvm ]; then
  qaccel="-accel kvm -cpu host"
else
  qaccel="-accel tcg,thread=multi -cpu max"
fi

entry=$(scripts/vm/build-root.sh $rebuild)
kernel=$(sed -n 's/^kernel=//p' "$entry/stamp")

# ---- the tree the guests test
payload_dirs="examples tests scripts config-schema bench docs"
for f in build/minirun build-crash/minirun; do
  [ -x "$f" ] && payload_dirs="$payload_dirs $f"
done
[ -x build-crash/minirun ] || say "no build-crash/minirun (cmake -DMINIRUN_CRASH_HOOKS=ON): the crash tests skip in the guests"
# the CRIU the minirun under test was built against (scripts/build-criu.sh):
# the guests install it at the same path, so checkpoint/restore runs there
criu_prefix=$(sed -n 's/^MINIRUN_CRIU_PREFIX:PATH=//p' build/CMakeCache.txt 2>/dev/null)
criu_prefix=${criu_prefix:-/var/cache/minirun/criu}
if [ -x "$criu_prefix/bin/criu" ]; then
  criu_payload="-C $criu_prefix bin/criu"
else
  criu_payload=""
  say "no CRIU at $criu_prefix (scripts/setup.sh --criu): the checkpoint tests skip in the guests"
fi

pytest_args() {  # $1 = setup: the guest's pytest arguments, one a line
  if [ $custom = yes ]; then
    echo "$custom_args"
    return
  fi
  case "$1" in
    v2)
      if [ $accel = kvm ] || [ $full = yes ]; then
        echo tests/integration
      else
        sed -e 's/#.*//' -e '/^[[:space:]]*$/d' scripts/vm/v2-tcg-tests.txt
      fi ;;
    systemd)
      echo tests/vm/systemd
      [ -f tests/integration/test_systemd_cgroup.py ] && echo tests/integration/test_systemd_cgroup.py
      ;;
  esac
}
custom_args=$(printf '%s\n' "$@")

runs=""
final=0
for setup in $setups; do
  run="$top/build-vm/$setup"
  rm -rf "$run"
  mkdir -p "$run"
  # shellcheck disable=SC2086
  tar -C "$top" --exclude=__pycache__ --exclude='*.pyc' -cf "$run/tree.tar" $payload_dirs
  if [ -n "$criu_payload" ]; then
    echo "$criu_prefix" >"$run/criu-prefix"
    # shellcheck disable=SC2086
    tar --transform 's,^bin/criu$,criu/bin/criu,' -rf "$run/tree.tar" $criu_payload
  fi
  pytest_args "$setup" >"$run/pytest-args"
  if [ -n "$limit" ]; then
    glimit=$limit
  elif [ $setup = v2 ] && [ $accel = tcg ] && [ $full = yes ]; then
    glimit=3600
  else
    glimit=1500
  fi
  echo $((glimit - 60)) >"$run/guest-timeout"
  cmdline="$(sed -e 's/#.*//' "scripts/vm/$setup.cmdline" | tr -s ' \n' '  ')"
  say "$setup guest: Linux $kernel, $accel, 2 cpus, 4 GiB; pytest $(tr '\n' ' ' <"$run/pytest-args")"
  t0=$(date +%s)
  set +e
  # shellcheck disable=SC2086
  timeout -k 10 "$glimit" qemu-system-x86_64 $qaccel -smp 2 -m 4096 -nodefaults -no-reboot \
    -display none -monitor none -serial "file:$run/console.log" -nic none \
    -kernel "$entry/vmlinuz" -initrd "$entry/initrd.img" -append "$cmdline" \
    -drive "file=$entry/root.img,if=virtio,format=raw,snapshot=on" \
    -virtfs "local,path=$run,mount_tag=minirun-vm,security_model=none,id=share" \
    >"$run/qemu.log" 2>&1
  qrc=$?
  set -e
  wall=$(( $(date +%s) - t0 ))
  rm -f "$run/tree.tar"
  if [ $qrc = 124 ] || [ $qrc = 137 ]; then
    say "$setup guest: stopped after $glimit s (--timeout)"
  elif [ $qrc != 0 ]; then
    say "$setup guest: qemu failed ($qrc):"
    tail -n 20 "$run/qemu.log"
  fi
  if [ -f "$run/rc" ]; then
    grc=$(cat "$run/rc")
  else
    grc=none
    say "$setup guest: no exit code came back; the end of its console ($run/console.log):"
    tail -n 40 "$run/console.log" 2>/dev/null || true
  fi
  /usr/bin/python3 scripts/vm/summary.py report "$setup" "$run" "$accel" "$wall" "$grc"
  if [ $setup = v2 ] && [ $custom = no ] && [ $accel = tcg ] && [ $full = no ]; then
    left=""
    for f in tests/integration/test_*.py; do
      if grep -q "^$f::" "$run/pytest-args"; then
        left="$left $(basename "$f")(the rest)"
      elif ! grep -qx "$f" "$run/pytest-args"; then
        left="$left $(basename "$f")"
      fi
    done
    say "left out of the v2 guest under TCG (software emulation: the whole suite takes ~11 min there;" \
        "they run on the host, and in the guest under KVM or with --full):$left"
  fi
  runs="$runs $run"
  if [ "$grc" != 0 ] && [ $final = 0 ]; then
    case "$grc" in
      ''|*[!0-9]*) final=1 ;;
      *) final=$grc ;;
    esac
  fi
done
/usr/bin/python3 scripts/vm/summary.py total $runs
exit $final
