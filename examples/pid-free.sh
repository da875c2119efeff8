# examples/pid-free.sh: sourced by the scripts that pin host pids.
# pid_free N: true when N is not in use as a pid, a process group or a
# session (any of them keeps the number taken for clone3 set_tid).
pid_free() {
  [ ! -e "/proc/$1" ] || return 1
  ! awk -v p="$1" '{ sub(/.*\) /, ""); if ($3 == p || $4 == p) found=1 } END { exit !found }' \
    /proc/[0-9]*/stat 2>/dev/null
}
