#!/bin/sh
# podman_setup.sh: make sure podman and conmon (Debian packages) are installed
# for test_podman.py.  Exits 0 when both are there (installing them if
# needed), non-zero with apt's message when they cannot be installed.
set -eu
if command -v podman >/dev/null 2>&1 && command -v conmon >/dev/null 2>&1; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq podman conmon; then
  apt-get update -qq
  apt-get install -y -qq podman conmon
fi
command -v podman >/dev/null 2>&1 && command -v conmon >/dev/null 2>&1
