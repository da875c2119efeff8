"""The cgroup v2 driver on a pure v2 host (the VM lane's guests: cgroup2 at
/sys/fs/cgroup with every controller, no v1 hierarchy): every resource
minirun's config can set read back from its v2 file after create and after
`update`, and the effects the kernel applies: an OOM kill counted in
memory.events, a fork bomb stopped by pids.max and counted in pids.events,
cpu.max throttling counted in cpu.stat, a device denied by the eBPF program
minirun attaches to the container's cgroup, freezing through cgroup.freeze,
and a rootless container in a cgroup delegated to its user.

test_cgroups.py holds the driver-agnostic tests (they run on v1 on a hybrid
host and on v2 here); this file holds what only a v2 layout can show.  On a
host that is not pure v2 (this project's hybrid development machine) every
test here skips with the reason: run them with scripts/vm-test.sh.
"""
import ctypes
import json
import os
import shutil
import subprocess
import uuid

import pytest

from conftest import ROOTFS, cgroup_dirs
from test_cgroups import detached, foreground, new_id, no_swap, sh, wait_for, with_resources

CG = "/sys/fs/cgroup"


def pure_v2():
    """None on a pure v2 host, else why this is not one."""
    kinds = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            kinds.setdefault(right.split()[0], []).append(left.split()[4])
    if CG not in kinds.get("cgroup2", []):
        where = ", ".join(kinds.get("cgroup2", [])) or "nowhere"
        return f"{CG} is not a cgroup2 mount (cgroup2 is mounted at {where})"
    if kinds.get("cgroup"):
        return f"cgroup v1 hierarchies are mounted too ({', '.join(kinds['cgroup'][:3])} ...)"
    return None


def controllers():
    with open(os.path.join(CG, "cgroup.controllers")) as f:
        return set(f.read().split())


@pytest.fixture(autouse=True)
def _pure_v2():
    why = pure_v2()
    if why:
        pytest.skip(f"not a pure cgroup v2 host: {why} (a hybrid host's v2 tests are in test_cgroups.py; "
                    "these run in the VM lane: scripts/vm-test.sh)")


def need(*ctrls):
    missing = [c for c in ctrls if c not in controllers()]
    if missing:
        pytest.skip(f"cgroup v2 at {CG} has no {' '.join(missing)} controller (cgroup.controllers: "
                    f"{' '.join(sorted(controllers()))})")


_CHILD_FILES = None


def child_files():
    """The files a new child of the root has (what the kernel offers below it)."""
    global _CHILD_FILES
    if _CHILD_FILES is None:
        probe = os.path.join(CG, f"mr-probe-{uuid.uuid4().hex[:8]}")
        os.mkdir(probe)
        try:
            _CHILD_FILES = set(os.listdir(probe))
        finally:
            os.rmdir(probe)
    return _CHILD_FILES


def need_file(name, why):
    if name not in child_files():
        pytest.skip(f"this kernel's cgroup v2 has no {name}: {why}")


def cgdir(cid):
    return os.path.join(CG, "minirun", cid)


def read(cid, name):
    with open(os.path.join(cgdir(cid), name)) as f:
        return f.read().strip()


def kv(cid, name):
    """A flat keyed file (memory.events, cpu.stat, pids.events) as a dict."""
    return {k: int(v) for k, v in (line.split() for line in read(cid, name).splitlines())}


def block_device():
    """major:minor of a disk (virtio, scsi, nvme), or None."""
    for name in sorted(os.listdir("/sys/block")):
        if name.startswith(("loop", "ram", "zram", "dm-", "md", "sr", "fd")):
            continue
        with open(f"/sys/block/{name}/dev") as f:
            return name, f.read().strip()
    return None, None


def stats(mr, cid):
    r = mr.cmd("events", "--stats", cid)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["data"]


# ---------- every resource, read back from its v2 file ----------

MiB = 1 << 20

# (id, controller, file the kernel must offer, linux.resources, file, value read back)
RESOURCES = [
    ("memory.limit", "memory", None, {"memory": {"limit": 64 * MiB}}, "memory.max", str(64 * MiB)),
    ("memory.reservation", "memory", None, {"memory": {"reservation": 32 * MiB}}, "memory.low", str(32 * MiB)),
    # swap is memory+swap in the OCI config: 96 MiB of it with 64 MiB of memory leave 32 MiB of swap
    ("memory.swap", "memory", "memory.swap.max", {"memory": {"limit": 64 * MiB, "swap": 96 * MiB}},
     "memory.swap.max", str(32 * MiB)),
    ("memory.swap-unlimited", "memory", "memory.swap.max", {"memory": {"limit": 64 * MiB, "swap": -1}},
     "memory.swap.max", "max"),
    # shares 2..262144 map onto weight 1..10000 as runc maps them: 1 + (shares - 2) * 9999 / 262142
    ("cpu.shares", "cpu", None, {"cpu": {"shares": 1024}}, "cpu.weight", "39"),
    ("cpu.quota", "cpu", None, {"cpu": {"quota": 50000, "period": 100000}}, "cpu.max", "50000 100000"),
    ("cpu.quota-unlimited", "cpu", None, {"cpu": {"quota": -1, "period": 50000}}, "cpu.max", "max 50000"),
    ("cpu.burst", "cpu", "cpu.max.burst", {"cpu": {"quota": 50000, "period": 100000, "burst": 10000}},
     "cpu.max.burst", "10000"),
    ("cpu.idle", "cpu", "cpu.idle", {"cpu": {"idle": 1}}, "cpu.idle", "1"),
    ("cpuset.cpus", "cpuset", None, {"cpu": {"cpus": "0"}}, "cpuset.cpus", "0"),
    ("cpuset.mems", "cpuset", None, {"cpu": {"mems": "0"}}, "cpuset.mems", "0"),
    ("pids.limit", "pids", None, {"pids": {"limit": 17}}, "pids.max", "17"),
    ("unified.memory.high", "memory", None, {"unified": {"memory.high": str(48 * MiB)}}, "memory.high",
     str(48 * MiB)),
    ("unified.memory.oom.group", "memory", "memory.oom.group", {"unified": {"memory.oom.group": "1"}},
     "memory.oom.group", "1"),
]


@pytest.mark.parametrize("ctrl,needs,res,file,want", [r[1:] for r in RESOURCES], ids=[r[0] for r in RESOURCES])
def test_each_resource_is_in_its_v2_file(mr, ctrl, needs, res, file, want):
    need(ctrl)
    if needs:
        need_file(needs, f"linux.resources {json.dumps(res)} has nowhere to go")
    cid = detached(mr, mr.bundle(sh("sleep 30"), mutate=with_resources(**res)))
    assert read(cid, file) == want
    # the controller was enabled for the container's cgroup by its parent
    with open(os.path.join(CG, "minirun", "cgroup.subtree_control")) as f:
        assert ctrl in f.read().split()


def test_block_io_weight_and_throttles(mr):
    need("io")
    name, dev = block_device()
    if dev is None:
        pytest.skip("no disk in /sys/block for io.max rules")
    if "io.weight" in child_files():
        wfile, want_weight = "io.weight", "default 4950"  # 1 + (500 - 10) * 9999 / 990
    elif "io.bfq.weight" in child_files():
        wfile, want_weight = "io.bfq.weight", "default 500"  # BFQ keeps blkio's scale
    else:
        pytest.skip("neither io.weight (iocost) nor io.bfq.weight (BFQ) in this kernel's cgroup v2")
    major, minor = (int(x) for x in dev.split(":"))
    res = {"blockIO": {"weight": 500,
                       "throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": MiB}],
                       "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 300}]}}
    cid = detached(mr, mr.bundle(sh("sleep 30"), mutate=with_resources(**res)))
    assert read(cid, wfile).splitlines()[0] == want_weight
    assert read(cid, "io.max").split() == [dev, f"rbps={MiB}", "wbps=max", "riops=max", "wiops=300"], name


def test_update_rewrites_the_v2_files(mr, tmp_path):
    need("memory", "cpu", "cpuset", "pids")
    cid = detached(mr, mr.bundle(sh("sleep 30"), mutate=with_resources(
        memory={"limit": 64 * MiB}, cpu={"shares": 1024}, pids={"limit": 20})))
    args = ["--memory", "128m", "--memory-reservation", "16m", "--cpu-share", "2048", "--cpu-quota", "30000",
            "--cpu-period", "100000", "--cpuset-cpus", "0", "--pids-limit", "33"]
    if "memory.swap.max" in child_files():
        args += ["--memory-swap", "256m"]
    r = mr.cmd("update", *args, cid)
    assert r.returncode == 0, r.stderr
    assert read(cid, "memory.max") == str(128 * MiB)
    assert read(cid, "memory.low") == str(16 * MiB)
    if "memory.swap.max" in child_files():
        assert read(cid, "memory.swap.max") == str(128 * MiB)  # 256m of memory+swap, 128m of it memory
    assert read(cid, "cpu.weight") == "79"  # 1 + (2048 - 2) * 9999 / 262142
    assert read(cid, "cpu.max") == "30000 100000"
    assert read(cid, "cpuset.cpus") == "0"
    assert read(cid, "pids.max") == "33"
    r = mr.cmd("update", "-r", "-", cid, input=json.dumps({"unified": {"memory.high": str(100 * MiB)},
                                                            "pids": {"limit": -1}}))
    assert r.returncode == 0, r.stderr
    assert read(cid, "memory.high") == str(100 * MiB)
    assert read(cid, "pids.max") == "max"
    st = stats(mr, cid)
    assert st["memory"]["usage"]["limit"] == 128 * MiB, st["memory"]


def test_what_v2_cannot_apply_is_refused_and_leaves_nothing(mr):
    need("memory", "cpu")
    cases = [({"memory": {"limit": 64 * MiB, "swap": 32 * MiB}},
              "linux.resources.memory.swap (33554432) must be >= memory.limit (67108864): it is memory+swap"),
             ({"cpu": {"realtimeRuntime": 10000}},
              "linux.resources.cpu.realtimeRuntime: realtime scheduling limits are not supported on cgroup v2")]
    for res, error in cases:
        cid = new_id()
        r = mr.run(mr.bundle(["true"], mutate=with_resources(**res)), cid=cid)
        assert r.returncode == 1 and error in r.stderr, (res, r.stderr)
        assert cgroup_dirs(f"/minirun/{cid}") == []
        assert not os.path.exists(os.path.join(mr.root, cid))


def test_what_v2_has_no_file_for_is_a_warning(mr):
    need("memory", "io")
    res = {"memory": {"limit": 64 * MiB, "swappiness": 10, "disableOOMKiller": True, "useHierarchy": False,
                      "kernel": 64 * MiB},
           "blockIO": {"leafWeight": 300}}
    r = mr.run(mr.bundle(["true"], mutate=with_resources(**res)))
    assert r.returncode == 0, r.stderr
    for warning in ("linux.resources.memory.swappiness ignored: cgroup v2 has no per-cgroup swappiness",
                    "linux.resources.memory.disableOOMKiller ignored: cgroup v2 cannot disable the OOM killer",
                    "linux.resources.memory.useHierarchy=false ignored: cgroup v2 is always hierarchical",
                    "linux.resources.memory.kernel ignored: kernel memory limits were removed in Linux 5.16",
                    "linux.resources.blockIO.leafWeight ignored: cgroup v2 has no leaf weight"):
        assert warning in r.stderr, r.stderr


def own_cgroup():
    with open("/proc/self/cgroup") as f:
        return next(line.strip()[3:] for line in f if line.startswith("0::"))


@pytest.mark.parametrize("kind", ["absolute", "relative"])
def test_cgroups_path_on_v2(mr, kind):
    """Absolute: that path below the cgroup2 root; relative: below the
    caller's own cgroup.  minirun makes the parents, marks them as its own,
    and the container's delete removes them with its cgroup."""
    top = f"mr-cgp-{uuid.uuid4().hex[:8]}"
    path = f"/{top}/mid/ctr" if kind == "absolute" else f"{top}/mid/ctr"
    want = path if kind == "absolute" else os.path.join(own_cgroup(), path)
    cid = new_id()

    def mutate(cfg):
        cfg["linux"]["cgroupsPath"] = path
        cfg["linux"]["resources"] = {"pids": {"limit": 21}}

    try:
        detached(mr, mr.bundle(sh("sleep 30"), mutate=mutate), cid)
        with open(f"/proc/{mr.state(cid)['pid']}/cgroup") as f:
            assert f.read().strip() == f"0::{want}"
        with open(f"{CG}{want}/pids.max") as f:
            assert f.read().strip() == "21"
        assert mr.cmd("delete", "--force", cid).returncode == 0
        assert not os.path.exists(f"{CG}{os.path.dirname(os.path.dirname(want))}"), "a parent minirun made is left"
    finally:
        mr.cmd("delete", "--force", cid)
        base = f"{CG}{os.path.dirname(os.path.dirname(want))}"
        for sub in (f"{base}/mid/ctr", f"{base}/mid", base):
            try:
                os.rmdir(sub)
            except OSError:
                pass


# ---------- effects ----------

def test_oom_kill_is_counted_in_memory_events(mr):
    need("memory")
    mem = {"limit": 32 * MiB}
    if not no_swap() and "memory.swap.max" in child_files():
        mem["swap"] = 32 * MiB
    cid = new_id()
    b = mr.bundle(sh("read go; (echo 1000 > /proc/self/oom_score_adj; head -c 200m /dev/zero | tail); "
                     "echo rc=$?; read done"), mutate=with_resources(memory=mem))
    run = foreground(mr, b, cid)
    assert kv(cid, "memory.events")["oom_kill"] == 0
    run.stdin.write("go\n")
    run.stdin.flush()
    wait_for(lambda: kv(cid, "memory.events")["oom_kill"] >= 1, timeout=60, what="an oom_kill in memory.events")
    ev = kv(cid, "memory.events")
    assert ev["oom"] >= 1 and ev["max"] >= 1, ev
    st = stats(mr, cid)
    assert st["memory"]["usage"]["limit"] == 32 * MiB and st["memory"]["usage"]["failcnt"] >= 1, st["memory"]
    out, err = run.communicate("done\n", timeout=60)
    assert run.returncode == 0, err
    assert "rc=137" in out, (out, err)


def test_fork_bomb_is_stopped_by_pids_max_and_counted(mr):
    need("pids")
    cid = new_id()
    script = ("(for i in $(seq 30); do sleep 300 & done) 2>&1; n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; "
              "echo n=$n; read done")
    run = foreground(mr, mr.bundle(sh(script), mutate=with_resources(pids={"limit": 10})), cid)
    wait_for(lambda: kv(cid, "pids.events")["max"] >= 1, timeout=60, what="a refused fork in pids.events")
    assert read(cid, "pids.max") == "10"
    assert int(read(cid, "pids.current")) <= 10
    st = stats(mr, cid)
    assert st["pids"]["limit"] == 10 and 1 <= st["pids"]["current"] <= 10, st["pids"]
    out, err = run.communicate("done\n", timeout=60)
    assert run.returncode == 0, err
    assert "can't fork" in out, out
    assert "n=9" in out, out  # the init and the 8 sleeps next to it and the subshell


def test_cpu_max_throttling_is_counted_in_cpu_stat(mr):
    need("cpu")
    cid = detached(mr, mr.bundle(sh("while :; do :; done"),
                                 mutate=with_resources(cpu={"quota": 10000, "period": 100000})))
    assert read(cid, "cpu.max") == "10000 100000"
    wait_for(lambda: kv(cid, "cpu.stat")["nr_throttled"] >= 2, timeout=60, step=0.1,
             what="throttled periods in cpu.stat")
    st = kv(cid, "cpu.stat")
    assert st["throttled_usec"] > 0 and st["nr_periods"] >= st["nr_throttled"], st
    th = stats(mr, cid)["cpu"]["throttling"]
    assert th["throttledPeriods"] >= 2 and th["throttledTime"] > 0 and th["periods"] >= th["throttledPeriods"], th


BPF_PROG_QUERY = 16
BPF_CGROUP_DEVICE = 6


def device_programs(directory):
    """How many eBPF programs of type BPF_CGROUP_DEVICE are attached to the
    cgroup `directory` itself (bpf(BPF_PROG_QUERY) with no flags)."""
    libc = ctypes.CDLL(None, use_errno=True)
    # union bpf_attr's query member: target_fd, attach_type, query_flags,
    # attach_flags, prog_ids (u64), prog_cnt, padding, prog_attach_flags (u64)
    attr = (ctypes.c_uint32 * 10)()
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        attr[0], attr[1] = fd, BPF_CGROUP_DEVICE
        if libc.syscall(321, BPF_PROG_QUERY, ctypes.byref(attr), ctypes.sizeof(attr)) != 0:  # __NR_bpf (x86_64)
            e = ctypes.get_errno()
            raise OSError(e, f"bpf(BPF_PROG_QUERY) on {directory}: {os.strerror(e)}")
    finally:
        os.close(fd)
    return attr[6]


def test_a_device_outside_the_rules_is_denied_by_the_ebpf_program(mr):
    if os.uname().machine != "x86_64":
        pytest.skip("the bpf syscall number used here is x86_64's")
    cid = new_id()

    def mutate(cfg):
        caps = cfg["process"]["capabilities"]
        for k in ("bounding", "effective", "permitted"):
            caps[k] = sorted(set(caps.get(k, [])) | {"CAP_MKNOD"})
        cfg["linux"].setdefault("resources", {})["devices"] = [
            {"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}]

    # /dev/kmsg (c 1 11) made inside: only the device filter can refuse the open
    script = ("read go; mknod /dev/mykmsg c 1 11 && echo made; (exec 3>/dev/mykmsg) 2>&1 && echo kmsg-ok; "
              "echo x >/dev/null && echo null-ok; read done")
    run = foreground(mr, mr.bundle(sh(script), mutate=mutate), cid)
    assert "devices.list" not in os.listdir(cgdir(cid)), "a devices controller on cgroup v2?"
    assert device_programs(cgdir(cid)) >= 1, "no BPF_CGROUP_DEVICE program on the container's cgroup"
    out, err = run.communicate("go\ndone\n", timeout=60)
    assert run.returncode == 0, err
    assert "made" in out and "Operation not permitted" in out and "kmsg-ok" not in out, out
    assert "null-ok" in out, out


def test_pause_freezes_through_cgroup_freeze(mr):
    cid = detached(mr, mr.bundle(sh("sleep 30")))
    assert read(cid, "cgroup.freeze") == "0"
    assert mr.cmd("pause", cid).returncode == 0
    assert read(cid, "cgroup.freeze") == "1"
    assert "frozen 1" in read(cid, "cgroup.events").splitlines()
    assert mr.cmd("resume", cid).returncode == 0
    assert read(cid, "cgroup.freeze") == "0"
    assert "frozen 0" in read(cid, "cgroup.events").splitlines()


def test_delete_force_kills_every_process_of_the_cgroup(mr):
    # the init's children and a grandchild re-parented to the init (daemonised)
    cid = detached(mr, mr.bundle(sh("sleep 300 & sleep 300 & (sleep 300 &) ; exec sleep 300")))
    wait_for(lambda: len(read(cid, "cgroup.procs").split()) >= 4, timeout=30, what="four processes")
    pids = [int(p) for p in read(cid, "cgroup.procs").split()]
    assert "cgroup.kill" in os.listdir(cgdir(cid))
    r = mr.cmd("delete", "--force", cid)
    assert r.returncode == 0, r.stderr
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            continue
        assert state in ("Z", "X"), f"pid {pid} of the container still runs ({state})"
    assert cgroup_dirs(f"/minirun/{cid}") == []


# ---------- rootless, in a cgroup delegated to the user ----------

def test_rootless_in_a_delegated_cgroup_gets_its_limits(tmp_path):
    need("pids", "memory")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to run minirun as an unprivileged uid")
    from test_rootless import Rootless
    pristine = tmp_path / "pristine"
    subprocess.run(["cp", "-a", ROOTFS, str(pristine)], check=True)
    rl = Rootless(str(pristine))
    # What a delegating manager (systemd's Delegate=yes) gives a user: a
    # subtree it owns (the directory, cgroup.procs, cgroup.subtree_control,
    # cgroup.threads), with the user's processes in a leaf below it.
    deleg = os.path.join(CG, f"deleg-{uuid.uuid4().hex[:8]}")
    launcher = os.path.join(deleg, "launcher")
    made = []
    try:
        os.mkdir(deleg)
        made.append(deleg)
        for f in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            os.chown(os.path.join(deleg, f), rl.uid, rl.uid)
        os.mkdir(launcher)
        made.append(launcher)
        for f in ("", "cgroup.procs", "cgroup.threads"):
            os.chown(os.path.join(launcher, f), rl.uid, rl.uid)
        name = os.path.basename(deleg)

        def limits(cfg):
            cfg["linux"]["cgroupsPath"] = f"/{name}/ctr"
            cfg["linux"]["resources"] = {"pids": {"limit": 10}, "memory": {"limit": 64 * MiB}}

        b = rl.bundle(sh("read go; (for i in $(seq 30); do sleep 300 & done) 2>&1; echo forked; read done"),
                      mutate=limits)
        cid = f"rl-{uuid.uuid4().hex[:10]}"
        rl.created.add(cid)

        def into_launcher():
            with open(os.path.join(launcher, "cgroup.procs"), "w") as f:
                f.write("0")

        p = subprocess.Popen(rl.argv("run", "-b", b, cid), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=rl.env(), cwd=b, preexec_fn=into_launcher)
        try:
            ctr = os.path.join(deleg, "ctr")
            wait_for(lambda: os.path.exists(os.path.join(ctr, "cgroup.procs"))
                     and read_path(ctr, "cgroup.procs").split(), timeout=60, what="the container in ctr")
            assert os.stat(ctr).st_uid == rl.uid, "ctr was not made by the user"
            assert read_path(ctr, "pids.max") == "10"
            assert read_path(ctr, "memory.max") == str(64 * MiB)
            assert set(read_path(deleg, "cgroup.subtree_control").split()) >= {"pids", "memory"}
            out, err = p.communicate("go\ndone\n", timeout=120)
            assert p.returncode == 0, err
            assert "can't fork" in out and "forked" in out, out
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert not os.path.exists(os.path.join(deleg, "ctr")), "the container's cgroup is left behind"
    finally:
        try:
            rl.cleanup()
        finally:
            for d in reversed(made):
                for sub, _dirs, _files in sorted(os.walk(d), key=lambda t: len(t[0]), reverse=True):
                    try:
                        os.rmdir(sub)
                    except OSError:
                        pass


def read_path(d, name):
    with open(os.path.join(d, name)) as f:
        return f.read().strip()
