"""linux.resources.cpu.realtimeRuntime/realtimePeriod on cgroup v1 (RT group
scheduling), gap G9: a new cpu cgroup gets cpu.rt_runtime_us 0 and a child
cannot get more than its parent has left, so minirun raises the parents it
made (/minirun, or the levels of a nested cgroupsPath) and never one it did
not make.  The value is read back from cpu.rt_runtime_us (host and container
view), and it binds: a process of the container can be made SCHED_FIFO (the
kernel refuses that with EPERM in a cpu cgroup without realtime runtime;
busybox has no chrt, so the host sets the policy on the container's init).
"""
import os
import uuid

import pytest

from conftest import cgroup_dirs

CPU = "/sys/fs/cgroup/cpu"


def cpu_root():
    """The v1 hierarchy with the cpu controller, if it has RT group scheduling."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ")
            fields, sb = left.split(), right.split()
            if sb[0] == "cgroup" and "cpu" in sb[2].split(","):
                mnt = fields[4]
                return mnt if os.path.exists(f"{mnt}/cpu.rt_runtime_us") else None
    return None


@pytest.fixture(autouse=True)
def rt_host():
    root = cpu_root()
    if root is None:
        pytest.skip("no cgroup v1 cpu hierarchy with RT group scheduling (CONFIG_RT_GROUP_SCHED) on this host")
    # what the root has left for /minirun and this test's own top-level cgroups
    taken = sum(share(e.path) for e in os.scandir(root) if e.is_dir() and e.name != "minirun")
    left = share(root) - taken
    if left < (45 << 20) // 100:
        pytest.skip(f"the cpu hierarchy's root has {left * 100 >> 20}% of a cpu of realtime runtime left for "
                    "new cgroups: these tests need 45%")
    global CPU
    CPU = root


def read(path):
    with open(path) as f:
        return int(f.read().strip())


def share(d):
    """runtime/period of a cpu cgroup in the kernel's fixed point (2^-20 of a
    cpu, to_ratio() in kernel/sched), as it compares parents and children."""
    return (read(f"{d}/cpu.rt_runtime_us") << 20) // read(f"{d}/cpu.rt_period_us")


def new_id():
    return f"rt-{uuid.uuid4().hex[:10]}"


def rt(runtime, period=1000000, path=None):
    def mutate(cfg):
        cfg["linux"].setdefault("resources", {})["cpu"] = {"realtimeRuntime": runtime, "realtimePeriod": period}
        if path:
            cfg["linux"]["cgroupsPath"] = path
    return mutate


def start(mr, mutate, cid=None):
    cid = cid or new_id()
    r = mr.run(mr.bundle(["sleep", "30"], mutate=mutate), "-d", cid=cid)
    assert r.returncode == 0, r.stderr
    return cid, mr.state(cid)["pid"]


def make_fifo(pid):
    os.sched_setscheduler(pid, os.SCHED_FIFO, os.sched_param(1))
    return os.sched_getscheduler(pid)


def remove_left(*paths):
    """Test cleanup: the directories a failing test may leave, deepest first."""
    for d in sorted((d for p in paths for d in cgroup_dirs(p)), key=len, reverse=True):
        try:
            os.rmdir(d)
        except OSError:
            pass


def test_realtime_runtime_below_the_default_minirun_parent(mr):
    cid, pid = start(mr, rt(10000))
    assert read(f"{CPU}/minirun/{cid}/cpu.rt_runtime_us") == 10000
    assert read(f"{CPU}/minirun/{cid}/cpu.rt_period_us") == 1000000
    assert read(f"{CPU}/minirun/cpu.rt_runtime_us") >= 10000  # the parent minirun made got the budget
    assert make_fifo(pid) == os.SCHED_FIFO
    # the container's own view of its cgroup
    r = mr.run(mr.bundle(["cat", "/sys/fs/cgroup/cpu/cpu.rt_runtime_us"], mutate=rt(20000)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "20000"
    assert mr.cmd("delete", "--force", cid).returncode == 0
    assert cgroup_dirs(f"/minirun/{cid}") == []


def test_without_realtime_runtime_sched_fifo_is_refused(mr):
    cid, pid = start(mr, None)
    assert read(f"{CPU}/minirun/{cid}/cpu.rt_runtime_us") == 0
    with pytest.raises(PermissionError):
        make_fifo(pid)
    assert os.sched_getscheduler(pid) == os.SCHED_OTHER


def test_two_containers_share_the_parent_budget(mr):
    a, pa = start(mr, rt(100000))
    b, pb = start(mr, rt(150000, 500000))
    assert read(f"{CPU}/minirun/{a}/cpu.rt_runtime_us") == 100000
    assert read(f"{CPU}/minirun/{b}/cpu.rt_runtime_us") == 150000
    # the kernel's rule: the parent's share holds its children's (10% + 30% of a cpu)
    parent = share(f"{CPU}/minirun")
    assert parent >= share(f"{CPU}/minirun/{a}") + share(f"{CPU}/minirun/{b}"), parent
    assert parent >= (4 << 20) // 10 - 1
    assert make_fifo(pa) == os.SCHED_FIFO and make_fifo(pb) == os.SCHED_FIFO


def test_nested_parents_minirun_made_get_the_budget_and_go(mr):
    top = f"/minirun-rt-{uuid.uuid4().hex[:8]}"
    try:
        cid, pid = start(mr, rt(20000, path=f"{top}/mid/leaf"))
        assert read(f"{CPU}{top}/mid/leaf/cpu.rt_runtime_us") == 20000
        assert read(f"{CPU}{top}/mid/cpu.rt_runtime_us") >= 20000
        assert read(f"{CPU}{top}/cpu.rt_runtime_us") >= 20000
        assert make_fifo(pid) == os.SCHED_FIFO
        assert mr.cmd("delete", "--force", cid).returncode == 0
        assert cgroup_dirs(top) == [], "the parents minirun made are left behind"
    finally:
        remove_left(f"{top}/mid/leaf", f"{top}/mid", top)


def test_update_gives_a_live_container_realtime_runtime(mr):
    cid, pid = start(mr, None)
    r = mr.cmd("update", "--cpu-rt-period", "1000000", "--cpu-rt-runtime", "5000", cid)
    assert r.returncode == 0, r.stderr
    assert read(f"{CPU}/minirun/{cid}/cpu.rt_runtime_us") == 5000
    assert make_fifo(pid) == os.SCHED_FIFO


def test_runtime_above_the_period_is_refused_and_leaves_nothing(mr):
    cid = new_id()
    r = mr.run(mr.bundle(["true"], mutate=rt(2000, 1000)), cid=cid)
    assert r.returncode != 0
    assert "linux.resources.cpu.realtimeRuntime" in r.stderr and "at most the period" in r.stderr, r.stderr
    assert cgroup_dirs(f"/minirun/{cid}") == []


@pytest.fixture
def admin_cpu():
    """A cpu cgroup made by the admin (not minirun): realtime runtime 0."""
    d = f"{CPU}/admin-rt-{uuid.uuid4().hex[:8]}"
    os.mkdir(d)
    yield d
    for sub, _dirs, _files in sorted(os.walk(d), key=lambda t: len(t[0]), reverse=True):
        os.rmdir(sub)


@pytest.mark.parametrize("below", ["", "/mine"])
def test_a_parent_minirun_did_not_make_is_not_raised(mr, admin_cpu, below):
    name = os.path.basename(admin_cpu)
    cid = new_id()
    try:
        r = mr.run(mr.bundle(["true"], mutate=rt(10000, path=f"/{name}{below}/c")), cid=cid)
        assert r.returncode != 0
        assert "linux.resources.cpu.realtimeRuntime" in r.stderr and "Invalid argument" in r.stderr, r.stderr
        if below:
            # minirun made /mine and tried to raise it: the admin's level refused
            assert f"give `{admin_cpu}{below}` (a parent minirun made)" in r.stderr, r.stderr
        else:
            assert f"what `{admin_cpu}` has left" in r.stderr, r.stderr
        assert read(f"{admin_cpu}/cpu.rt_runtime_us") == 0, "minirun changed the admin's cgroup"
        assert cgroup_dirs(f"/{name}{below}/c") == [] and cgroup_dirs(f"/{name}/mine") == []
        assert cgroup_dirs(f"/{name}") == [admin_cpu]
        assert mr.cmd("state", cid).returncode != 0
    finally:
        remove_left(f"/{name}{below}/c", f"/{name}/mine", f"/{name}")
