"""The systemd cgroup driver: `--systemd-cgroup` (default cgroupsPath
system.slice:minirun:ID) and a cgroupsPath of the form slice:prefix:name put
the container in a transient scope <prefix>-<name>.scope that minirun starts
through systemd's D-Bus API (Delegate=yes, the resource properties systemd
knows, and the org.systemd.property.* annotations), with the rest written
into the delegated directory; update changes both, delete stops the unit.
podman --cgroup-manager=systemd with minirun as its runtime runs, limits and
stops containers, and passes an annotation on to the scope.

Where systemd is not PID 1 (this project's development host) the flag and a
systemd cgroupsPath fail fast with the reason and leave nothing behind: those
tests run everywhere.  The rest needs systemd as PID 1, its system bus and
cgroup v2, and skips with the reason elsewhere: it runs in the VM lane's
systemd guest (scripts/vm-test.sh --setup systemd -- tests/integration/test_systemd_cgroup.py).
Every test deletes its containers and checks that the unit and its cgroup
are gone; a test slice it makes is stopped at the end.
"""
import json
import os
import re
import subprocess
import uuid

import pytest

from conftest import MINIRUN, ROOTFS, cgroup_dirs
from test_cgroups import no_swap, sh, wait_for, with_resources

CG = "/sys/fs/cgroup"
MiB = 1 << 20
TIMEOUT = 120  # a command under software emulation (the VM lane without KVM) is slow


def new_id():
    return f"sd-{uuid.uuid4().hex[:10]}"


def pid1():
    with open("/proc/1/comm") as f:
        return f.read().strip()


def build_has_driver():
    r = subprocess.run([MINIRUN, "features"], capture_output=True, text=True, timeout=TIMEOUT, check=True)
    return json.loads(r.stdout)["linux"]["cgroup"]["systemd"]


def why_no_systemd():
    """None where these tests can talk to systemd, else why not."""
    if pid1() != "systemd":
        return f"PID 1 is `{pid1()}`, not systemd"
    r = subprocess.run(["busctl", "--system", "call", "org.freedesktop.systemd1", "/org/freedesktop/systemd1",
                        "org.freedesktop.DBus.Peer", "Ping"], capture_output=True, text=True, timeout=TIMEOUT)
    if r.returncode != 0:
        return f"the system bus does not answer (busctl: {r.stderr.strip()})"
    if not os.path.exists(os.path.join(CG, "cgroup.controllers")) or os.path.exists(os.path.join(CG, "unified")):
        return f"{CG} is not cgroup v2 alone"
    if not build_has_driver():
        return "this minirun build has no systemd cgroup driver (built without libsystemd-dev)"
    return None


@pytest.fixture
def systemd():
    why = why_no_systemd()
    if why:
        pytest.skip(f"{why}: the systemd driver's tests run in the VM lane's systemd guest "
                    "(scripts/vm-test.sh --setup systemd)")


def show(unit, *props):
    r = subprocess.run(["systemctl", "show", unit] + [f"--property={p}" for p in props], capture_output=True,
                       text=True, timeout=TIMEOUT)
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def unit_gone(unit):
    s = show(unit, "LoadState", "ActiveState")
    return s.get("LoadState") == "not-found" or s.get("ActiveState") in ("inactive", "")


def scope_dir(unit):
    cg = show(unit, "ControlGroup").get("ControlGroup", "")
    assert cg, f"{unit} has no ControlGroup: {show(unit, 'LoadState', 'ActiveState')}"
    return CG + cg


def read(d, name):
    with open(os.path.join(d, name)) as f:
        return f.read().strip()


def kv(d, name):
    return {k: int(v) for k, v in (line.split() for line in read(d, name).splitlines())}


def procs(d):
    return sorted(int(x) for x in read(d, "cgroup.procs").split())


class Sd:
    """minirun with --systemd-cgroup and a private --root; remembers the
    containers (and their units) to delete and check."""

    def __init__(self, mr):
        self.mr = mr
        self.units = {}  # cid -> unit

    def bundle(self, args, resources=None, path=None, mutate=None):
        def m(cfg):
            if resources:
                with_resources(**resources)(cfg)
            if path:
                cfg["linux"]["cgroupsPath"] = path
            if mutate:
                mutate(cfg)
        return self.mr.bundle(args, mutate=m)

    def cmd(self, *args, flag=True, **kw):
        return self.mr.cmd(*(["--systemd-cgroup"] if flag else []), *args, timeout=TIMEOUT, **kw)

    def detached(self, *args, flag=True):
        return self.mr.detached(*(["--systemd-cgroup"] if flag else []), *args, timeout=TIMEOUT)

    def create(self, bundle, cid=None, unit=None, flag=True, start=False):
        cid = cid or new_id()
        self.mr.created.add(cid)
        self.units[cid] = unit or f"minirun-{cid}.scope"
        r = self.detached("create", "-b", bundle, cid, flag=flag)
        assert r.returncode == 0, r.stderr
        if start:
            r = self.cmd("start", cid)
            assert r.returncode == 0, r.stderr
        return cid

    def pid(self, cid):
        return self.mr.state(cid)["pid"]

    def delete(self, cid, force=True):
        r = self.mr.cmd("delete", *(["--force"] if force else []), cid, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr
        self.mr.created.discard(cid)
        self.check_gone(cid)

    def check_gone(self, cid):
        unit = self.units[cid]
        assert unit_gone(unit), f"{unit} still there: {show(unit, 'LoadState', 'ActiveState', 'SubState')}"
        assert not os.path.exists(os.path.join(self.mr.root, cid)), "state left behind"


@pytest.fixture
def sd(systemd, mr):
    s = Sd(mr)
    yield s
    for cid in list(mr.created):
        mr.cmd("delete", "--force", cid, timeout=TIMEOUT)
        mr.created.discard(cid)
    for cid, unit in s.units.items():
        assert unit_gone(unit), f"{unit} left behind"


def stop_slices(*slices):
    for s in slices:
        subprocess.run(["systemctl", "stop", s], capture_output=True, timeout=TIMEOUT)


# ---------- where systemd is not running (this host) ----------

def test_a_systemd_cgroups_path_without_systemd_fails_clearly(mr):
    if pid1() == "systemd":
        pytest.skip("systemd is PID 1 here: the systemd driver's own tests below run instead")
    cid = new_id()
    mr.created.add(cid)
    b = mr.bundle(["true"], mutate=lambda c: c["linux"].__setitem__("cgroupsPath", f"system.slice:minirun:{cid}"))
    r = mr.detached("create", "-b", b, cid)
    assert r.returncode == 1, r.stderr
    assert f"cgroupsPath `system.slice:minirun:{cid}` is for the systemd cgroup driver" in r.stderr, r.stderr
    assert "systemd is not running" in r.stderr or "built without the systemd cgroup driver" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(mr.root, cid))
    assert cgroup_dirs(f"/minirun/{cid}") == []


def test_features_says_whether_this_build_has_the_driver(mr):
    r = mr.cmd("--systemd-cgroup", "list")
    built = "built without the systemd cgroup driver" not in r.stderr
    assert build_has_driver() is built, r.stderr


# ---------- the scope ----------

def test_create_puts_the_init_alone_in_a_delegated_transient_scope(sd):
    cid = sd.create(sd.bundle(["sleep", "60"]))
    unit = f"minirun-{cid}.scope"
    s = show(unit, "ActiveState", "Delegate", "Slice", "Transient", "ControlGroup")
    assert s["ActiveState"] == "active" and s["Delegate"] == "yes" and s["Transient"] == "yes", s
    assert s["Slice"] == "system.slice" and s["ControlGroup"] == f"/system.slice/{unit}", s
    pid = sd.pid(cid)
    with open(f"/proc/{pid}/cgroup") as f:
        assert f.read().strip() == f"0::/system.slice/{unit}"
    # the holder that kept the scope until the init was in it is gone
    assert procs(scope_dir(unit)) == [pid]
    assert sd.mr.state(cid)["status"] == "created"
    r = sd.cmd("start", cid)
    assert r.returncode == 0, r.stderr
    assert sd.mr.state(cid)["status"] == "running"
    d = scope_dir(unit)
    sd.delete(cid)
    assert not os.path.exists(d)


def test_run_in_the_foreground_and_the_unit_goes_with_the_container(sd):
    cid = new_id()
    sd.mr.created.add(cid)
    sd.units[cid] = f"minirun-{cid}.scope"
    r = sd.cmd("run", "-b", sd.bundle(sh("cat /proc/self/cgroup; exit 3")), cid)
    assert r.returncode == 3, r.stderr
    assert r.stdout.strip() == "0::/", r.stdout  # its own cgroup namespace, rooted at the scope
    sd.mr.created.discard(cid)
    sd.check_gone(cid)


def test_limits_go_to_systemd_and_into_the_files(sd):
    res = {"memory": {"limit": 64 * MiB, "reservation": 16 * MiB}, "pids": {"limit": 20},
           "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"}}
    cid = sd.create(sd.bundle(["sleep", "60"], resources=res))
    unit = f"minirun-{cid}.scope"
    s = show(unit, "MemoryMax", "MemoryLow", "TasksMax", "CPUWeight", "CPUQuotaPerSecUSec", "CPUQuotaPeriodUSec",
             "AllowedCPUs", "AllowedMemoryNodes")
    assert s == {"MemoryMax": str(64 * MiB), "MemoryLow": str(16 * MiB), "TasksMax": "20", "CPUWeight": "39",
                 "CPUQuotaPerSecUSec": "500ms", "CPUQuotaPeriodUSec": "100ms", "AllowedCPUs": "0",
                 "AllowedMemoryNodes": "0"}, s
    d = scope_dir(unit)
    files = {f: read(d, f) for f in ("memory.max", "memory.low", "pids.max", "cpu.weight", "cpu.max",
                                     "cpuset.cpus", "cpuset.mems")}
    assert files == {"memory.max": str(64 * MiB), "memory.low": str(16 * MiB), "pids.max": "20",
                     "cpu.weight": "39", "cpu.max": "50000 100000", "cpuset.cpus": "0", "cpuset.mems": "0"}, files
    sd.delete(cid)


def test_update_changes_systemd_and_the_files(sd, tmp_path):
    cid = sd.create(sd.bundle(["sleep", "60"], resources={"memory": {"limit": 64 * MiB}, "pids": {"limit": 20}}),
                    start=True)
    unit = f"minirun-{cid}.scope"
    r = sd.cmd("update", "--memory", "128m", "--pids-limit", "30", "--cpu-quota", "20000", cid)
    assert r.returncode == 0, r.stderr
    s = show(unit, "MemoryMax", "TasksMax", "CPUQuotaPerSecUSec")
    assert s == {"MemoryMax": str(128 * MiB), "TasksMax": "30", "CPUQuotaPerSecUSec": "200ms"}, s
    d = scope_dir(unit)
    assert (read(d, "memory.max"), read(d, "pids.max"), read(d, "cpu.max")) == (str(128 * MiB), "30",
                                                                               "20000 100000")
    # unlimited again, from a resources file
    (tmp_path / "r.json").write_text(json.dumps({"memory": {"limit": -1}, "pids": {"limit": -1}}))
    r = sd.cmd("update", "--resources", tmp_path / "r.json", cid)
    assert r.returncode == 0, r.stderr
    s = show(unit, "MemoryMax", "TasksMax")
    assert s == {"MemoryMax": "infinity", "TasksMax": "infinity"}, s
    assert (read(d, "memory.max"), read(d, "pids.max")) == ("max", "max")
    sd.delete(cid)


def test_a_pids_limit_of_one_counts_only_the_container(sd):
    # the scope's holder is gone before pids.max applies: the init alone fits in 1
    cid = sd.create(sd.bundle(["sleep", "60"], resources={"pids": {"limit": 1}}), start=True)
    d = scope_dir(f"minirun-{cid}.scope")
    assert read(d, "pids.max") == "1" and read(d, "pids.current") == "1"
    assert sd.mr.state(cid)["status"] == "running"
    sd.delete(cid)


def test_pause_and_resume_through_cgroup_freeze(sd):
    cid = sd.create(sd.bundle(["sleep", "60"]), start=True)
    d = scope_dir(f"minirun-{cid}.scope")
    assert sd.cmd("pause", cid).returncode == 0
    assert kv(d, "cgroup.events")["frozen"] == 1 and sd.mr.state(cid)["status"] == "paused"
    assert sd.cmd("resume", cid).returncode == 0
    assert kv(d, "cgroup.events")["frozen"] == 0 and sd.mr.state(cid)["status"] == "running"
    sd.delete(cid)


def test_exec_and_ps_see_the_scope(sd):
    cid = sd.create(sd.bundle(["sleep", "60"]), start=True)
    d = scope_dir(f"minirun-{cid}.scope")
    r = sd.cmd("exec", cid, "sh", "-c", "cat /proc/self/cgroup")
    assert r.returncode == 0 and r.stdout.strip() == "0::/", (r.stdout, r.stderr)
    pidfile = sd.mr.tmp / "exec.pid"
    r = sd.detached("exec", "-d", "--pid-file", pidfile, cid, "sleep", "50")
    assert r.returncode == 0, r.stderr
    pid = int(pidfile.read_text())
    where = open(f"/proc/{pid}/cgroup").read() if os.path.exists(f"/proc/{pid}") else "gone"
    assert pid in procs(d), (pid, where, procs(d), r.stderr)
    r = sd.cmd("ps", "--format", "json", cid)
    assert r.returncode == 0, r.stderr
    assert sorted(json.loads(r.stdout)) == procs(d) and len(procs(d)) == 2, (r.stdout, procs(d))
    sd.delete(cid)


def test_exec_into_a_sub_cgroup_of_the_scope(sd):
    """exec --cgroup through the systemd driver: the plain form below the
    scope's delegated directory; the controller form is refused (v2)."""
    cid = sd.create(sd.bundle(["sleep", "60"]), start=True)
    d = scope_dir(f"minirun-{cid}.scope")
    os.mkdir(os.path.join(d, "sub"))
    r = sd.cmd("exec", "--cgroup", "sub", cid, "cat", "/proc/self/cgroup", flag=False)
    assert r.returncode == 0 and r.stdout.strip() == "0::/sub", (r.stdout, r.stderr)
    r = sd.cmd("exec", "--cgroup", "memory:sub", cid, "true", flag=False)
    assert r.returncode == 1 and "on cgroup v2 every controller is in one tree" in r.stderr, r.stderr
    r = sd.cmd("exec", "--cgroup", "missing", cid, "true", flag=False)
    assert r.returncode == 1 and "no sub-cgroup `missing`" in r.stderr, r.stderr
    assert procs(d) == [sd.pid(cid)]
    sd.delete(cid)


def test_a_nested_slice_of_the_cgroups_path(sd):
    cid = new_id()
    slice_ = "minirun-test.slice"
    try:
        cid = sd.create(sd.bundle(["sleep", "60"], path=f"{slice_}:mrt:{cid}"), cid=cid, unit=f"mrt-{cid}.scope",
                        flag=False)
        unit = f"mrt-{cid}.scope"
        assert show(unit, "Slice")["Slice"] == slice_
        d = scope_dir(unit)
        assert d == f"{CG}/minirun.slice/minirun-test.slice/{unit}", d
        assert procs(d) == [sd.pid(cid)]
        sd.delete(cid)
    finally:
        stop_slices(slice_, "minirun.slice")


def test_the_same_cgroups_path_twice_is_refused(sd):
    cid = sd.create(sd.bundle(["sleep", "60"], path="system.slice:mrdup:one"), unit="mrdup-one.scope", flag=False)
    other = new_id()
    sd.mr.created.add(other)
    r = sd.detached("create", "-b", sd.bundle(["true"], path="system.slice:mrdup:one"), other, flag=False)
    assert r.returncode == 1
    assert "already has a unit `mrdup-one.scope`" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(sd.mr.root, other))
    sd.mr.created.discard(other)
    assert show("mrdup-one.scope", "ActiveState")["ActiveState"] == "active"
    assert procs(scope_dir("mrdup-one.scope")) == [sd.pid(cid)]
    sd.delete(cid)


def test_a_failure_after_the_unit_started_stops_it(sd):
    cid = new_id()
    sd.mr.created.add(cid)
    sd.units[cid] = f"minirun-{cid}.scope"
    b = sd.bundle(["true"], resources={"memory": {"limit": 64 * MiB}, "unified": {"memory.no_such_file": "1"}})
    r = sd.detached("create", "-b", b, cid)
    assert r.returncode == 1
    assert "memory.no_such_file" in r.stderr, r.stderr
    sd.mr.created.discard(cid)
    sd.check_gone(cid)


@pytest.mark.parametrize("path, words", [
    ("/minirun/x", "is a path, not systemd's slice:prefix:name"),
    ("nonsense:minirun:x", "the slice must be a name ending in .slice"),
    ("system.slice:minirun:x.slice", "a name ending in .slice (the container as a slice) is not supported"),
])
def test_a_cgroups_path_the_driver_cannot_use_is_refused(sd, path, words):
    cid = new_id()
    sd.mr.created.add(cid)
    r = sd.detached("create", "-b", sd.bundle(["true"], path=path), cid)
    assert r.returncode == 1
    assert words in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(sd.mr.root, cid))
    sd.mr.created.discard(cid)


# ---------- org.systemd.property.* annotations ----------

def annotate(**props):
    def m(cfg):
        cfg.setdefault("annotations", {}).update({f"org.systemd.property.{k}": v for k, v in props.items()})
    return m


def test_annotations_become_properties_of_the_scope(sd):
    b = sd.bundle(["sleep", "60"], mutate=annotate(
        TimeoutStopUSec="uint64 123456789", CollectMode="'inactive-or-failed'",
        Description="'an annotated minirun container'", RuntimeMaxSec="600", SendSIGHUP="true",
        Documentation="['https://example.com/minirun', 'man:minirun(1)']"))
    cid = sd.create(b)
    unit = f"minirun-{cid}.scope"
    s = show(unit, "TimeoutStopUSec", "CollectMode", "Description", "RuntimeMaxUSec", "SendSIGHUP",
             "Documentation", "Delegate", "Slice")
    # systemctl quotes a list item with parentheses
    assert s == {"TimeoutStopUSec": "2min 3.456789s", "CollectMode": "inactive-or-failed",
                 "Description": "an annotated minirun container", "RuntimeMaxUSec": "10min", "SendSIGHUP": "yes",
                 "Documentation": 'https://example.com/minirun "man:minirun(1)"', "Delegate": "yes",
                 "Slice": "system.slice"}, json.dumps(s)
    assert procs(scope_dir(unit)) == [sd.pid(cid)]
    sd.delete(cid)


def test_an_annotated_device_list_is_systemds_too(sd):
    """An a(ss) value: DeviceAllow with the devices of the container's /dev
    (systemd adds its own device filter to the scope: minirun's mknods must
    still pass it)."""
    devs = ", ".join(f"('/dev/{d}', 'rwm')" for d in ("null", "zero", "full", "random", "urandom", "tty"))
    b = sd.bundle(sh("head -c 4 /dev/zero | wc -c; sleep 60"),
                  mutate=annotate(DeviceAllow=f"[{devs}, ('/dev/ptmx', 'rwm'), ('char-pts', 'rw')]"))
    cid = sd.create(b, start=True)
    unit = f"minirun-{cid}.scope"
    r = subprocess.run(["systemctl", "show", unit, "--property=DeviceAllow"], capture_output=True, text=True,
                       timeout=TIMEOUT)
    allow = sorted(line.split("=", 1)[1] for line in r.stdout.splitlines() if line.startswith("DeviceAllow="))
    want = [f"/dev/{d} rwm" for d in ("full", "null", "ptmx", "random", "tty", "urandom", "zero")] + ["char-pts rw"]
    assert allow == sorted(want), r.stdout
    r = sd.cmd("exec", cid, "sh", "-c", "head -c 3 /dev/urandom | wc -c")
    assert r.returncode == 0 and r.stdout.strip() == "3", r.stderr
    sd.delete(cid)


@pytest.mark.parametrize("name, value, words", [
    ("CollectMode", "inactive-or-failed", "value `inactive-or-failed`: expected true, false, a number"),
    ("TimeoutStopSec", "'soon'", "a NAMESec property takes a number of seconds"),
    ("Slice", "'machine.slice'", "minirun sets Slice itself"),
    ("Ab", "1", "must be at least 3 ASCII letters"),
    ("CPUWeight", "'heavy'", "systemd D-Bus call StartTransientUnit"),
])
def test_an_annotation_that_does_not_parse_or_systemd_refuses_fails_the_create(sd, name, value, words):
    cid = new_id()
    sd.mr.created.add(cid)
    sd.units[cid] = f"minirun-{cid}.scope"
    r = sd.detached("create", "-b", sd.bundle(["true"], mutate=annotate(**{name: value})), cid)
    assert r.returncode == 1, r.stderr
    assert words in r.stderr, r.stderr
    if "StartTransientUnit" not in words:
        assert f"annotation org.systemd.property.{name}" in r.stderr, r.stderr
    sd.mr.created.discard(cid)
    sd.check_gone(cid)
    assert cgroup_dirs(f"/system.slice/minirun-{cid}.scope") == []


CRASH_BIN = os.environ.get("MINIRUN_CRASH_BIN", os.path.join(os.path.dirname(MINIRUN), "..", "build-crash",
                                                              "minirun"))


@pytest.mark.parametrize("point", ["create:cgroup", "create:clone", "create:ready"])
def test_delete_force_after_a_crashed_create_leaves_no_unit(sd, point):
    """minirun SIGKILLed after the scope started (its holder dies with it),
    after the init went in, and at the end of setup: delete --force stops
    what is left."""
    if not os.access(CRASH_BIN, os.X_OK):
        pytest.skip(f"no crash-hook build at {CRASH_BIN} (cmake -DMINIRUN_CRASH_HOOKS=ON)")
    cid = new_id()
    sd.mr.created.add(cid)
    sd.units[cid] = f"minirun-{cid}.scope"
    r = subprocess.run([CRASH_BIN, "--root", sd.mr.root, "--systemd-cgroup", "create", "-b",
                        str(sd.bundle(["sleep", "60"])), cid], env=dict(os.environ, MINIRUN_CRASH_AT=point),
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=TIMEOUT)
    assert r.returncode == -9, f"the crash hook did not fire at {point} ({r.returncode})"
    sd.delete(cid)


# ---------- the controllers' effects, through the scope ----------

def test_oom_kill_is_counted_and_the_scope_lives_on(sd):
    mem = {"limit": 32 * MiB}
    if not no_swap():
        mem["swap"] = 32 * MiB
    script = "(echo 1000 > /proc/self/oom_score_adj; head -c 200m /dev/zero | tail); sleep 60"
    cid = sd.create(sd.bundle(sh(script), resources={"memory": mem}))
    d = scope_dir(f"minirun-{cid}.scope")
    assert kv(d, "memory.events")["oom_kill"] == 0
    assert sd.cmd("start", cid).returncode == 0
    wait_for(lambda: kv(d, "memory.events")["oom_kill"] >= 1, timeout=60, what="an oom_kill in memory.events")
    assert show(f"minirun-{cid}.scope", "ActiveState")["ActiveState"] == "active"
    r = sd.cmd("events", "--stats", cid)
    assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)["data"]
    assert st["memory"]["usage"]["limit"] == 32 * MiB and st["memory"]["usage"]["failcnt"] >= 1, st["memory"]
    sd.delete(cid)


def test_fork_bomb_is_stopped_by_pids_max(sd):
    cid = sd.create(sd.bundle(sh("(for i in $(seq 30); do sleep 300 & done) 2>&1; sleep 300"),
                              resources={"pids": {"limit": 10}}), start=True)
    d = scope_dir(f"minirun-{cid}.scope")
    wait_for(lambda: kv(d, "pids.events")["max"] >= 1, timeout=60, what="a refused fork in pids.events")
    assert read(d, "pids.max") == "10" and int(read(d, "pids.current")) <= 10
    sd.delete(cid)


def test_cpu_max_throttling_is_counted(sd):
    cid = sd.create(sd.bundle(sh("while :; do :; done"), resources={"cpu": {"quota": 10000, "period": 100000}}),
                    start=True)
    d = scope_dir(f"minirun-{cid}.scope")
    assert read(d, "cpu.max") == "10000 100000"
    wait_for(lambda: kv(d, "cpu.stat")["nr_throttled"] >= 2, timeout=60, step=0.1, what="throttled periods")
    assert kv(d, "cpu.stat")["throttled_usec"] > 0
    sd.delete(cid)


def test_a_device_outside_the_rules_is_denied(sd):
    def mutate(cfg):
        caps = cfg["process"]["capabilities"]
        for k in ("bounding", "effective", "permitted"):
            caps[k] = sorted(set(caps.get(k, [])) | {"CAP_MKNOD"})
        cfg["linux"].setdefault("resources", {})["devices"] = [
            {"allow": False, "access": "rwm"}, {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}]

    cid = new_id()
    sd.mr.created.add(cid)
    sd.units[cid] = f"minirun-{cid}.scope"
    script = "mknod /dev/mykmsg c 1 11 && echo made; (exec 3>/dev/mykmsg) 2>&1 && echo kmsg-ok; " \
             "echo x >/dev/null && echo null-ok"
    r = sd.cmd("run", "-b", sd.bundle(sh(script), mutate=mutate), cid)
    assert r.returncode == 0, r.stderr
    assert "made" in r.stdout and "Operation not permitted" in r.stdout and "kmsg-ok" not in r.stdout, r.stdout
    assert "null-ok" in r.stdout, r.stdout
    sd.mr.created.discard(cid)
    sd.check_gone(cid)


def test_hugetlb_which_systemd_does_not_delegate(sd):
    ctrls = read(CG, "cgroup.controllers").split()
    if "hugetlb" not in ctrls or not os.path.exists("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        pytest.skip(f"no hugetlb controller with 2MB pages here (cgroup.controllers: {' '.join(ctrls)})")
    cid = sd.create(sd.bundle(["sleep", "60"], resources={"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]}))
    d = scope_dir(f"minirun-{cid}.scope")
    assert read(d, "hugetlb.2MB.max") == "0"
    sd.delete(cid)


# ---------- rootless: the user's own systemd ----------

@pytest.fixture
def user_systemd(systemd, tmp_path):
    """A user of its own with lingering on: its `systemd --user` runs
    (user@UID.service); removed again afterwards."""
    import pwd
    name = f"mrsd{uuid.uuid4().hex[:6]}"
    r = subprocess.run(["useradd", "--create-home", "--shell", "/bin/sh", name], capture_output=True, text=True,
                       timeout=TIMEOUT)
    if r.returncode != 0:
        pytest.skip(f"useradd cannot make a user here: {r.stderr.strip()}")
    uid = pwd.getpwnam(name).pw_uid
    try:
        r = subprocess.run(["loginctl", "enable-linger", name], capture_output=True, text=True, timeout=TIMEOUT)
        assert r.returncode == 0, r.stderr
        wait_for(lambda: os.path.exists(f"/run/user/{uid}/systemd/private"), timeout=TIMEOUT, step=0.2,
                 what=f"user@{uid}.service (the user's systemd)")
        yield uid
    finally:
        subprocess.run(["loginctl", "disable-linger", name], capture_output=True, timeout=TIMEOUT)
        subprocess.run(["systemctl", "stop", f"user@{uid}.service"], capture_output=True, timeout=TIMEOUT)
        subprocess.run(["userdel", "--remove", name], capture_output=True, timeout=TIMEOUT)


class UserRootless:
    """minirun as the user `uid` with its own systemd (XDG_RUNTIME_DIR
    /run/user/UID), in a scope of that systemd (systemd-run --user --scope)
    or not (`inside=False`), on a copy of the rootfs it can traverse."""

    def __init__(self, uid, base):
        from test_rootless import Rootless
        self.uid = uid
        self.xdg = f"/run/user/{uid}"
        rootfs = os.path.join(str(base), "pristine")
        subprocess.run(["cp", "-a", ROOTFS, rootfs], check=True)
        self.rl = Rootless(rootfs, uid=uid)
        self.rl.env = lambda: {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "XDG_RUNTIME_DIR": self.xdg}
        self.rl.state_root = os.path.join(self.xdg, "minirun")

    def run(self, *args, inside=True, stdout=subprocess.PIPE):
        argv = self.rl.argv(*args)
        if inside:
            argv = argv[:4] + ["systemd-run", "--user", "--scope", "--quiet", "--"] + argv[4:]
        return subprocess.run(argv, env=self.rl.env(), stdin=subprocess.DEVNULL, stdout=stdout,
                              stderr=subprocess.STDOUT if stdout is not subprocess.PIPE else subprocess.PIPE,
                              text=True, timeout=TIMEOUT)


def test_rootless_gets_a_scope_from_the_users_own_systemd(user_systemd, tmp_path):
    uid = user_systemd
    u = UserRootless(uid, tmp_path.parent)
    try:
        cid = f"rl-{uuid.uuid4().hex[:8]}"
        u.rl.created.add(cid)
        b = u.rl.bundle(["sleep", "60"], mutate=with_resources(pids={"limit": 20}, memory={"limit": 64 * MiB}))
        with open(tmp_path / "out", "w") as out:
            r = u.run("--systemd-cgroup", "run", "-d", "-b", b, cid, stdout=out)
        assert r.returncode == 0, (tmp_path / "out").read_text()
        st = json.loads(u.run("state", cid, inside=False).stdout)
        with open(f"/proc/{st['pid']}/cgroup") as f:
            cg = f.read().strip()
        # the user manager's scope, in that manager's user.slice, with the limits
        d = f"{CG}/user.slice/user-{uid}.slice/user@{uid}.service/user.slice/minirun-{cid}.scope"
        assert cg == "0::" + d[len(CG):], cg
        assert procs(d) == [st["pid"]]
        assert (read(d, "pids.max"), read(d, "memory.max")) == ("20", str(64 * MiB))
        assert os.stat(d).st_uid == uid, "the scope is not the user's"
        r = u.run("delete", "--force", cid, inside=False)
        assert r.returncode == 0, r.stderr
        u.rl.created.discard(cid)
        assert not os.path.exists(d)
    finally:
        u.rl.cleanup()


def test_rootless_outside_the_users_systemd_is_refused_clearly(user_systemd, tmp_path):
    u = UserRootless(user_systemd, tmp_path.parent)
    try:
        cid = f"rl-{uuid.uuid4().hex[:8]}"
        u.rl.created.add(cid)
        r = u.run("--systemd-cgroup", "run", "-b", u.rl.bundle(["true"]), cid, inside=False)
        assert r.returncode == 1
        assert "outside what the user's systemd manages" in r.stderr and "systemd-run --user --scope" in r.stderr, \
            r.stderr
        assert not os.path.exists(os.path.join(u.rl.state_root, cid))
        u.rl.created.discard(cid)
    finally:
        u.rl.cleanup()


# ---------- podman --cgroup-manager=systemd ----------

@pytest.fixture(scope="module")
def podman_sd(tmp_path_factory):
    why = why_no_systemd()
    if why:
        pytest.skip(f"{why}: podman with the systemd cgroup manager runs in the VM lane's systemd guest")
    import test_podman  # the podman harness: private storage, the logging runtime wrapper, the teardown

    class PodmanSd(test_podman.Podman):
        def argv(self, *args, driver=None):
            return [a if a != "--cgroup-manager=cgroupfs" else "--cgroup-manager=systemd"
                    for a in super().argv(*args, driver=driver)]

    if test_podman.ensure_podman():
        pytest.skip(test_podman.ensure_podman())
    p = PodmanSd(tmp_path_factory.mktemp("podman-sd"))
    tar = subprocess.run(["tar", "-C", ROOTFS, "-c", "."], capture_output=True, timeout=TIMEOUT, check=True).stdout
    for driver in ("overlay", "vfs"):
        r = subprocess.run(p.argv("import", "-", test_podman.IMAGE, driver=driver), input=tar, capture_output=True,
                           timeout=600)
        if r.returncode == 0:
            p.driver = driver
            break
    if p.driver is None:
        p.cleanup()
        pytest.fail(f"podman import failed: {r.stderr.decode(errors='replace')}")
    yield p
    problems = p.cleanup()
    assert not [x for x in problems if "killed leftover" in x], problems


def podman_ok(p, *args, timeout=300):
    r = p(*args, timeout=timeout)
    assert r.returncode == 0, f"podman {' '.join(map(str, args))}: {r.stderr}\n{p.explain()}"
    return r.stdout


def test_podman_runs_a_limited_container_in_a_systemd_scope(podman_sd):
    import test_podman
    out = podman_ok(podman_sd, "run", "--rm", "--network=none", *test_podman.ULIMITS, "--memory", "64m",
                    "--pids-limit", "50", test_podman.IMAGE, "sh", "-c",
                    "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /proc/self/cgroup")
    assert out.split() == [str(64 * MiB), "50", "0::/"], out
    calls = "\n".join(a for _, a in podman_sd.calls())
    assert re.search(r"--systemd-cgroup .*\bcreate\b", calls), calls


def test_podman_starts_pauses_and_stops_a_container_and_its_unit(podman_sd):
    import test_podman
    cid = podman_ok(podman_sd, "run", "-d", "--network=none", *test_podman.ULIMITS, "--memory", "32m",
                    test_podman.IMAGE, "sleep", "300").strip()
    unit = f"libpod-{cid}.scope"
    try:
        s = show(unit, "ActiveState", "Slice", "MemoryMax", "Delegate")
        assert s == {"ActiveState": "active", "Slice": "machine.slice", "MemoryMax": str(32 * MiB),
                     "Delegate": "yes"}, s
        pid = int(podman_ok(podman_sd, "inspect", "--format", "{{.State.Pid}}", cid).strip())
        d = scope_dir(unit)
        assert procs(d) == [pid]
        podman_ok(podman_sd, "pause", cid)
        assert kv(d, "cgroup.events")["frozen"] == 1
        podman_ok(podman_sd, "unpause", cid)
        assert kv(d, "cgroup.events")["frozen"] == 0
        podman_ok(podman_sd, "stop", "-t", "1", cid)
        wait_for(lambda: unit_gone(unit), timeout=60, step=0.2, what=f"{unit} to go")
        assert not os.path.exists(d)
    finally:
        podman_sd("rm", "-f", "-t", "0", cid)
    assert unit_gone(unit)


def test_podman_passes_a_systemd_property_annotation_to_the_scope(podman_sd):
    import test_podman
    cid = podman_ok(podman_sd, "run", "-d", "--network=none", *test_podman.ULIMITS,
                    "--annotation", "org.systemd.property.TimeoutStopUSec=uint64 7000000",
                    "--annotation", "org.systemd.property.CollectMode='inactive-or-failed'",
                    test_podman.IMAGE, "sleep", "300").strip()
    unit = f"libpod-{cid}.scope"
    try:
        s = show(unit, "ActiveState", "TimeoutStopUSec", "CollectMode")
        assert s == {"ActiveState": "active", "TimeoutStopUSec": "7s", "CollectMode": "inactive-or-failed"}, s
    finally:
        podman_sd("rm", "-f", "-t", "0", cid)
    wait_for(lambda: unit_gone(unit), timeout=60, step=0.2, what=f"{unit} to go")
