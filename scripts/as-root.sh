# as-root.sh: sourced by the scripts that need root (apt-get, namespaces,
# cgroups, mounts).  As root it does nothing; as a normal user it runs the
# calling script again through sudo, with the same arguments; without sudo it
# says what to do.  Usage, right after `set -eu`:  . "$(dirname "$0")/as-root.sh"
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    echo "$(basename "$0"): not root: running it again through sudo" >&2
    exec sudo -- "$0" "$@"
  fi
  echo "$(basename "$0"): needs root (apt-get, namespaces, cgroups, mounts), and sudo is not installed: run it as root" >&2
  exit 1
fi
