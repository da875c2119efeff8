#!/bin/sh
# docker_setup.sh: make sure Debian's docker.io (dockerd 20.10, its client
# /usr/bin/docker, and containerd with containerd-shim-runc-v2) is installed
# for test_docker.py.  Exits 0 when everything is there (installing docker.io
# if needed), non-zero with apt's message when it cannot be installed.
# The package's service is not started here: the tests start a private
# dockerd of their own.
set -eu
have() {
  [ -x /usr/bin/docker ] && [ -x /usr/sbin/dockerd ] && command -v containerd >/dev/null 2>&1 &&
    command -v containerd-shim-runc-v2 >/dev/null 2>&1
}
if have; then
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -qq docker.io; then
  apt-get update -qq
  apt-get install -y -qq docker.io
fi
have
