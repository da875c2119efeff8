"""Crash anywhere: minirun killed (SIGKILL) at each step of create, start, exec
and delete leaves nothing behind once `delete --force` has run, and `list` /
`state` tell the truth in between.  Needs the build with -DMINIRUN_CRASH_HOOKS=ON
(MINIRUN_CRASH_BIN, built by scripts/test.sh)."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import REPO, cgroup_dirs, free_host_pids, reap

CRASH_BIN = os.environ.get("MINIRUN_CRASH_BIN", os.path.join(REPO, "build-crash", "minirun"))

pytestmark = pytest.mark.skipif(not os.access(CRASH_BIN, os.X_OK),
                                reason=f"no crash-hook build at {CRASH_BIN} (cmake -DMINIRUN_CRASH_HOOKS=ON)")


def crash_cmd(mr, point, *args, timeout=30):
    env = dict(os.environ, MINIRUN_CRASH_AT=point)
    argv = [CRASH_BIN, "--root", mr.root] + [str(a) for a in args]
    with open(mr.tmp / "crash.out", "w") as out:
        return subprocess.run(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                              timeout=timeout).returncode


def plain(mr, *args):
    return subprocess.run([CRASH_BIN, "--root", mr.root] + [str(a) for a in args], capture_output=True, text=True,
                          timeout=30, stdin=subprocess.DEVNULL)


def live_pids_of(root_pid_file_host_pins):
    return [p for p in root_pid_file_host_pins if os.path.exists(f"/proc/{p}")]


def assert_all_gone(mr, cid, pins):
    assert not os.path.exists(os.path.join(mr.root, cid)), "state directory left behind"
    assert cgroup_dirs(f"/minirun/{cid}") == [], "cgroup left behind"
    for p in pins:
        reap(p, timeout=1.0)
    deadline = time.monotonic() + 5
    while live_pids_of(pins) and time.monotonic() < deadline:
        # a process whose launcher died was re-parented to us (the subreaper):
        # until we reap it, a dying pid namespace waits for it
        try:
            while os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG):
                pass
        except ChildProcessError:
            pass
        time.sleep(0.02)
    assert live_pids_of(pins) == [], "a container process was left behind"
    with open("/proc/self/mountinfo") as f:
        mounts = f.read()
    assert f"/minirun/{cid}" not in mounts and os.path.join(mr.root, cid) not in mounts


def pinned_bundle(mr, args=("sleep", "1000")):
    h = free_host_pids(2)

    def mutate(cfg):
        cfg["minirun"] = {"pids": {"host": h[0]},
                          "processes": [{"name": "w", "pids": {"container": 9, "host": h[1]}, "args": ["sleep", "1000"]}]}

    return mr.bundle(list(args), mutate=mutate), h


@pytest.mark.parametrize("point", ["create:state-dir", "create:state-creating", "create:cgroup", "create:clone",
                                   "create:ready", "create:created"])
def test_create_crash(mr, point):
    b, pins = pinned_bundle(mr)
    cid = "c-" + point.split(":")[1]
    mr.created.add(cid)
    assert crash_cmd(mr, point, "create", "-b", b, cid) == -signal.SIGKILL
    listed = json.loads(plain(mr, "list", "--format", "json").stdout)
    assert [c["id"] for c in listed] == [cid]
    status = listed[0]["status"]
    if point == "create:created":
        assert status == "created"
        st = json.loads(plain(mr, "state", cid).stdout)
        assert st["pid"] == pins[0] and os.path.exists(f"/proc/{pins[0]}")
    elif point == "create:ready":
        assert status == "creating"  # set up and waiting, but its creation was never recorded as finished
    else:
        assert status in ("creating", "stopped")
    r = plain(mr, "delete", "--force", cid)
    assert r.returncode == 0, r.stderr
    assert_all_gone(mr, cid, pins)


@pytest.mark.parametrize("point", ["start:connected", "start:signalled"])
def test_start_crash(mr, point):
    b, pins = pinned_bundle(mr)
    cid = "s-" + point.split(":")[1]
    mr.created.add(cid)
    assert mr.detached("create", "-b", b, cid).returncode == 0
    assert crash_cmd(mr, point, "start", cid) == -signal.SIGKILL
    st = json.loads(plain(mr, "state", cid).stdout)
    if point == "start:signalled":
        # the init exec'd: state must say running even though start never recorded it
        deadline = time.monotonic() + 5
        while st["status"] != "running" and time.monotonic() < deadline:
            time.sleep(0.02)
            st = json.loads(plain(mr, "state", cid).stdout)
        assert st["status"] == "running"
    else:
        assert st["status"] == "created"
        r = plain(mr, "start", cid)  # the next command still works
        assert r.returncode == 0, r.stderr
    r = plain(mr, "delete", "--force", cid)
    assert r.returncode == 0, r.stderr
    assert_all_gone(mr, cid, pins)


@pytest.mark.parametrize("point", ["delete:killed", "delete:cgroup"])
def test_delete_crash(mr, point):
    b, pins = pinned_bundle(mr)
    cid = "d-" + point.split(":")[1]
    mr.created.add(cid)
    assert mr.detached("run", "-d", "-b", b, cid).returncode == 0
    assert crash_cmd(mr, point, "delete", "--force", cid) == -signal.SIGKILL
    for p in pins:
        reap(p, timeout=1.0)
    st = plain(mr, "state", cid)
    assert st.returncode == 0 and json.loads(st.stdout)["status"] == "stopped"
    r = plain(mr, "delete", cid)  # stopped now: no --force needed
    assert r.returncode == 0, r.stderr
    assert_all_gone(mr, cid, pins)


def test_exec_crash(mr):
    b, pins = pinned_bundle(mr)
    mr.created.add("exec-crash")
    assert mr.detached("run", "-d", "-b", b, "exec-crash").returncode == 0
    assert crash_cmd(mr, "exec:clone", "exec", "exec-crash", "sleep", "77") == -signal.SIGKILL
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        cmds = [open(f"/proc/{p}/cmdline").read() for p in json.loads(plain(mr, "ps", "--format", "json", "exec-crash").stdout)
                if os.path.exists(f"/proc/{p}/cmdline")]
        if not any("77" in c for c in cmds):
            break
        time.sleep(0.02)
    assert not any("77" in c for c in cmds), "the exec'd process outlived its crashed launcher before exec"
    assert json.loads(plain(mr, "state", "exec-crash").stdout)["status"] == "running"
    r = plain(mr, "delete", "--force", "exec-crash")
    assert r.returncode == 0, r.stderr
    assert_all_gone(mr, "exec-crash", pins)
