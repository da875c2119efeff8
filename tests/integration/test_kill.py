"""`kill`: TERM by default, signals by name, SIG-name and number, --all to
every process of the container, unknown signals refused, and a stopped
container refused.
"""
import pytest

from helpers.lifecycle import alive, assert_gone, cgroup_pids, lc, read_lines, sh, wait_until  # noqa: F401 (fixture)


def test_kill_defaults_to_term(lc):
    cid, out, _ = lc.create_started(lc.bundle(sh("trap 'echo term; exit 0' TERM; while :; do sleep 0.05; done")))
    pid = lc.state(cid)["pid"]
    lc.cmd("kill", cid, check=True)
    wait_until(lambda: not alive(pid), what="the init to exit")
    assert read_lines(out) == ["term"]
    assert lc.state(cid)["status"] == "stopped"


@pytest.mark.parametrize("form", ["KILL", "SIGKILL", "9"])
def test_kill_by_name_and_number(lc, form):
    cid, _, _ = lc.create_started(lc.bundle(["sleep", "1000"]))
    pid = lc.state(cid)["pid"]
    r = lc.cmd("kill", cid, form)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    wait_until(lambda: not alive(pid), what="the init to die")
    assert lc.state(cid)["status"] == "stopped"
    lc.cmd("delete", cid, check=True)
    assert_gone(lc, cid)


def test_kill_all_signals_every_process(lc, tmp_path):
    cid, out, _ = lc.create_started(lc.bundle(sh("sleep 1000 & echo $!; wait")))
    pid = lc.state(cid)["pid"]
    wait_until(lambda: read_lines(out), what="the child's pid")
    pids = wait_until(lambda: cgroup_pids(cid) if len(cgroup_pids(cid)) == 2 else None, what="two processes")
    assert pid in pids
    lc.cmd("kill", "--all", cid, "KILL", check=True)
    for p in pids:
        wait_until(lambda: not alive(p), what=f"process {p} to die")
    lc.cmd("delete", cid, check=True)
    assert_gone(lc, cid)


@pytest.mark.parametrize("bad", ["FOO", "SIGFOO", "0", "-1", "65", "9x", ""])
def test_bad_signal(lc, bad):
    cid, _, _ = lc.create_started(lc.bundle(["sleep", "1000"]))
    pid = lc.state(cid)["pid"]
    r = lc.cmd("kill", cid, bad)
    assert r.returncode == 1
    assert f"unknown signal `{bad}`" in r.stderr, r.stderr
    assert lc.state(cid)["status"] == "running" and alive(pid)


def test_kill_of_a_stopped_container(lc):
    cid, _, _ = lc.create_started(lc.bundle(["true"]))
    wait_until(lambda: lc.state(cid)["status"] == "stopped", what="the container to stop")
    r = lc.cmd("kill", cid, "KILL")
    assert r.returncode == 1
    assert f"container `{cid}` is not running" in r.stderr, r.stderr
    lc.cmd("delete", cid, check=True)
    assert_gone(lc, cid)
