"""`start` of a container that is not `created` (running, stopped): an error
naming the status, and no effect.
"""
from helpers.lifecycle import alive, lc, wait_until  # noqa: F401 (fixture)


def test_start_of_a_running_container(lc):
    cid, _, _ = lc.create_started(lc.bundle(["sleep", "1000"]))
    pid = lc.state(cid)["pid"]
    r = lc.start(cid, check=False)
    assert r.returncode == 1
    assert f"cannot start container `{cid}`: it is running, not created" in r.stderr, r.stderr
    assert lc.state(cid)["status"] == "running" and alive(pid)


def test_start_of_a_stopped_container(lc):
    cid, _, _ = lc.create_started(lc.bundle(["true"]))
    wait_until(lambda: lc.state(cid)["status"] == "stopped", what="the container to stop")
    r = lc.start(cid, check=False)
    assert r.returncode == 1
    assert f"cannot start container `{cid}`: it is stopped, not created" in r.stderr, r.stderr
