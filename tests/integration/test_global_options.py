"""The other global options: --systemd-cgroup refused clearly where systemd
is not running (the systemd driver itself: test_systemd_cgroup.py), and
--root keeping containers apart.
"""
import json
import os
import subprocess

import pytest

from conftest import MINIRUN, cgroup_dirs
from helpers.lifecycle import CMD_TIMEOUT, lc, new_id  # noqa: F401 (fixture)


def test_systemd_cgroup_is_refused_clearly_without_systemd(lc, tmp_path):
    with open("/proc/1/comm") as f:
        if f.read().strip() == "systemd":
            pytest.skip("systemd is PID 1 here: --systemd-cgroup works (test_systemd_cgroup.py)")
    log = tmp_path / "l"
    cid = new_id()
    lc.created.add(cid)
    r = lc.cmd("--systemd-cgroup", "--log", log, "--log-format", "json", "create", "-b", lc.bundle(["true"]), cid)
    assert r.returncode == 1
    assert "--systemd-cgroup: " in r.stderr and "cgroupfs driver" in r.stderr, r.stderr
    assert "systemd is not running here (PID 1 is `" in r.stderr or "built without the systemd" in r.stderr, r.stderr
    assert json.loads(log.read_text().splitlines()[-1])["level"] == "error"
    assert not os.path.exists(os.path.join(lc.root, cid))
    assert cgroup_dirs(f"/minirun/{cid}") == []


def test_root_option_separates_containers(lc, tmp_path):
    cid, _, _, _ = lc.create(lc.bundle(["true"]))
    other = str(tmp_path / "other-root")
    r = subprocess.run([MINIRUN, "--root", other, "state", cid], capture_output=True, text=True, timeout=CMD_TIMEOUT)
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = subprocess.run([MINIRUN, "--root", other, "list", "-q"], capture_output=True, text=True, timeout=CMD_TIMEOUT)
    assert r.returncode == 0 and r.stdout == ""
    assert os.path.isdir(os.path.join(lc.root, cid))


def test_a_result_that_cannot_be_written_fails_the_command(mr):
    """The answer on stdout is the command's result: a write error (here a
    full disk, /dev/full) is a failure with the reason, not exit 0."""
    for args in (["features"], ["--version"], ["spec", "--help"]):
        with open("/dev/full", "w") as full:
            r = subprocess.run([MINIRUN, "--root", mr.root, *args], stdout=full, stderr=subprocess.PIPE, text=True)
        assert r.returncode == 1, (args, r.stderr)
        assert "write the result to stdout" in r.stderr, (args, r.stderr)
