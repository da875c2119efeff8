"""`delete`: a created container's init is killed, a running one is refused
without --force and deleted with it, and `delete --force` of an unknown id
succeeds (as runc's).
"""
import os

import pytest

from conftest import cgroup_dirs
from helpers.lifecycle import alive, assert_gone, lc, new_id  # noqa: F401 (fixture)


def test_delete_of_a_created_container_kills_its_init(lc):
    cid, _, _, _ = lc.create(lc.bundle(["true"]))
    pid = lc.state(cid)["pid"]
    r = lc.cmd("delete", cid)
    assert r.returncode == 0, r.stderr
    assert_gone(lc, cid, pid)


@pytest.mark.parametrize("force", ["--force", "-f"])
def test_delete_force_of_an_unknown_id_succeeds(lc, force):
    """As runc's: what is not there is deleted already (podman and containerd
    run `delete --force` to be sure, and print the error otherwise)."""
    cid = new_id("nope")
    r = lc.cmd("delete", force, cid)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), r
    assert not os.path.exists(os.path.join(lc.root, cid))
    # an invalid id is still an error, with or without --force
    r = lc.cmd("delete", force, "bad/id")
    assert r.returncode == 1 and "invalid container id" in r.stderr, r


def test_delete_of_a_running_container(lc):
    cid, _, _ = lc.create_started(lc.bundle(["sleep", "1000"]))
    pid = lc.state(cid)["pid"]
    r = lc.cmd("delete", cid)
    assert r.returncode == 1
    assert f"cannot delete container `{cid}`: it is running (stop it first, or use --force)" in r.stderr, r.stderr
    assert lc.state(cid)["status"] == "running" and alive(pid)
    assert cgroup_dirs(f"/minirun/{cid}") != []
    lc.cmd("kill", cid, "USR2", check=True)  # still signalable through its state

    r = lc.cmd("delete", "--force", cid)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert_gone(lc, cid, pid)
