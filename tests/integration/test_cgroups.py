"""cgroups through the minirun binary on the real kernel: limits that bind
(pids, memory with the OOM killer, cpu quota, device rules), pause/resume,
update, events and stats, nothing left behind after delete or a failed
create, and the cgroup v2 driver on what this host's v2 tree has (on a hybrid
host: /sys/fs/cgroup/unified with hugetlb only; the v2 memory/pids/cpu tests
skip there with the reason).
"""
import json
import os
import re
import subprocess
import time
import uuid

import pytest

from conftest import MINIRUN, cgroup_dirs, free_host_pids


def sh(script):
    return ["sh", "-c", script]


def new_id():
    return f"cg-{uuid.uuid4().hex[:10]}"


def cg_file(cid, name):
    """The contents of controller file `name` of the container's cgroup, from
    whichever hierarchy has it (None if none has)."""
    for d in cgroup_dirs(f"/minirun/{cid}"):
        p = os.path.join(d, name)
        if os.path.exists(p):
            with open(p) as f:
                return f.read().strip()
    return None


def v2_mount():
    """(mount point, controllers) of the cgroup2 tree, or (None, set())."""
    for cand in ("/sys/fs/cgroup", "/sys/fs/cgroup/unified"):
        p = os.path.join(cand, "cgroup.controllers")
        if os.path.exists(p) and not os.path.exists(os.path.join(cand, "tasks")):
            with open(p) as f:
                return cand, set(f.read().split())
    return None, set()


def no_swap():
    with open("/proc/swaps") as f:
        return len(f.read().strip().splitlines()) <= 1


def wait_for(pred, timeout=3.0, step=0.01, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}")


def detached(mr, bundle, cid=None, out=None):
    """`run -d`: the container's stdout goes to `out` (a path) or nowhere, so
    no pipe stays open after minirun returns."""
    cid = cid or new_id()
    mr.created.add(cid)
    errfile = mr.tmp / f"{cid}.stderr"
    with open(out or os.devnull, "w") as o, open(errfile, "w") as e:
        r = subprocess.run([MINIRUN, "--root", mr.root, "run", "-d", "-b", str(bundle), cid], stdin=subprocess.DEVNULL,
                           stdout=o, stderr=e, timeout=30)
    assert r.returncode == 0, errfile.read_text()
    return cid


def last_number(path):
    with open(path) as f:
        nums = re.findall(r"\d+", f.read())
    return int(nums[-1]) if nums else None


def with_resources(**res):
    def mutate(cfg):
        cfg["linux"].setdefault("resources", {}).update(res)
    return mutate


# ---------- limits that bind ----------

def test_pids_limit_stops_a_fork_bomb(mr):
    # The subshell forks sleeps until the limit refuses (busybox sh gives up on
    # "can't fork"); then the init counts the processes of its pid namespace.
    script = ("(for i in $(seq 30); do sleep 2 & done) 2>&1; "
              "n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo n=$n")
    r = mr.run(mr.bundle(sh(script), mutate=with_resources(pids={"limit": 10})))
    assert r.returncode == 0, r.stderr
    assert "can't fork" in r.stdout, r.stdout
    # init + the 8 sleeps that fit next to it and the subshell (gone by now)
    assert "n=9" in r.stdout, r.stdout


def memory_limit(limit):
    mem = {"limit": limit}
    if not no_swap():
        mem["swap"] = limit
    return with_resources(memory=mem)


def start_events(mr, cid, *extra):
    p = subprocess.Popen([MINIRUN, "--root", mr.root, "events", "--interval", "100ms", *extra, cid],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = json.loads(p.stdout.readline())  # the OOM count baseline is taken before the first stats
    assert first["type"] == "stats" and first["id"] == cid, first
    return p


def foreground(mr, bundle, cid, **kw):
    mr.created.add(cid)
    p = subprocess.Popen([MINIRUN, "--root", mr.root, "run", "-b", str(bundle), cid], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    wait_for(lambda: mr.cmd("state", cid).returncode == 0 and mr.state(cid)["status"] == "running",
             what=f"{cid} running")
    return p


def test_memory_limit_oom_kills_and_events_reports_it(mr):
    # The container outlives the kill until the test has read the event: a
    # container that exits at once has its cgroup removed by `run`, and an
    # events process the machine has not scheduled by then finds no counter.
    cid = new_id()
    # The pipeline asks to be the OOM killer's choice (oom_score_adj 1000 is
    # inherited): after tail is killed, head may hit the limit again before
    # tail's memory is freed, and the kernel would otherwise pick the init.
    b = mr.bundle(sh("read go; (echo 1000 > /proc/self/oom_score_adj; head -c 200m /dev/zero | tail);"
                     " echo rc=$?; read done"),
                  mutate=memory_limit(32 << 20))
    run = foreground(mr, b, cid)
    ev = start_events(mr, cid)
    run.stdin.write("go\n")
    run.stdin.flush()
    seen = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = ev.stdout.readline()
        if not line:
            break
        seen.append(json.loads(line))
        if seen[-1]["type"] == "oom":
            break
    assert {"type": "oom", "id": cid} in seen, seen
    out, err = run.communicate("done\n", timeout=20)
    assert run.returncode == 0, err
    assert "rc=137" in out, (out, err)
    rest, everr = ev.communicate(timeout=10)
    assert ev.returncode == 0, everr


def test_oom_kill_of_the_init_is_reported_before_events_exits(mr):
    # The container stops with the kill and `run` removes its cgroup at once:
    # events must have counted the kill by then.
    cid = new_id()
    b = mr.bundle(sh("read go; exec awk 'BEGIN { s = \"x\"; while (1) s = s s }'"), mutate=memory_limit(32 << 20))
    run = foreground(mr, b, cid)
    ev = start_events(mr, cid)
    _, err = run.communicate("go\n", timeout=20)
    assert run.returncode == 137, err
    rest, everr = ev.communicate(timeout=10)
    assert ev.returncode == 0, everr
    assert {"type": "oom", "id": cid} in [json.loads(x) for x in rest.splitlines()], rest


def test_cpu_quota_is_in_the_cgroup(mr):
    cid = detached(mr, mr.bundle(sh("sleep 10"), mutate=with_resources(cpu={"quota": 25000, "period": 100000})))
    v1 = cg_file(cid, "cpu.cfs_quota_us")
    v2 = cg_file(cid, "cpu.max")
    assert v1 == "25000" or v2 == "25000 100000", (v1, v2)
    if v1 is not None:
        assert cg_file(cid, "cpu.cfs_period_us") == "100000"


def v1_cpuset_dir(path):
    return next((d for d in cgroup_dirs(path) if os.path.exists(os.path.join(d, "cpuset.cpus"))
                 and os.path.exists(os.path.join(d, "tasks"))), None)


def test_v1_cpuset_gets_the_parents_cpus_and_no_load_balancing_of_its_own(mr):
    """A new v1 cpuset cgroup gets its parent's cpus and mems, and, under a
    load-balancing ancestor (the root cpuset balances unless someone
    partitioned the machine), sched_load_balance 0 before its cpus: a
    balancing cpuset with cpus makes the kernel rebuild the scheduling
    domains over every cpuset when it goes away (the flag itself changes no
    scheduling there).  This covers the container's own level, below the
    shared /minirun level."""
    root = next((d for d in cgroup_dirs("/") if os.path.exists(os.path.join(d, "cpuset.sched_load_balance"))),
                None)
    if root is None:
        pytest.skip("no cgroup v1 cpuset hierarchy on this host: the v2 path has no sched_load_balance")
    cid = detached(mr, mr.bundle(sh("sleep 10")))
    d = v1_cpuset_dir(f"/minirun/{cid}")
    assert d is not None, cgroup_dirs(f"/minirun/{cid}")

    def read(path, name):
        with open(os.path.join(path, name)) as f:
            return f.read().strip()

    parent = os.path.dirname(d)
    assert read(d, "cpuset.cpus") == read(parent, "cpuset.cpus") != ""
    assert read(d, "cpuset.mems") == read(parent, "cpuset.mems") != ""
    ancestors, p = [], parent
    while os.path.exists(os.path.join(p, "cpuset.sched_load_balance")):
        ancestors.append(read(p, "cpuset.sched_load_balance"))
        p = os.path.dirname(p)
    want = "0" if "1" in ancestors else "1"
    assert read(d, "cpuset.sched_load_balance") == want, (d, ancestors)


def test_the_container_sees_its_own_cgroup_at_the_root_of_each_mount(mr):
    """The spec's cgroup mount inside the container's cgroup namespace: each
    hierarchy is rooted at the container's cgroup (its limit, its processes,
    "/" in /proc/self/cgroup and as the mount's root in mountinfo), read-only."""
    limit = 96 * 1024 * 1024
    v1 = os.path.isdir("/sys/fs/cgroup/memory") and os.path.exists("/sys/fs/cgroup/memory/tasks")
    limit_file = "/sys/fs/cgroup/memory/memory.limit_in_bytes" if v1 else "/sys/fs/cgroup/memory.max"
    procs_file = "/sys/fs/cgroup/memory/cgroup.procs" if v1 else "/sys/fs/cgroup/cgroup.procs"
    mnt = "/sys/fs/cgroup/memory" if v1 else "/sys/fs/cgroup"
    script = (f"cat {limit_file}; echo --; cat {procs_file}; echo --; cat /proc/self/cgroup; echo --; "
              f"awk '$5 == \"{mnt}\" {{print $4}}' /proc/self/mountinfo; echo --; "
              f"mkdir {mnt}/x 2>&1 || echo refused")
    r = mr.run(mr.bundle(sh(script), mutate=with_resources(memory={"limit": limit})))
    assert r.returncode == 0, r.stderr
    limit_out, procs, cgroups, roots, mk = r.stdout.split("--\n")
    assert limit_out.split()[0] == str(limit), r.stdout
    assert "1" in procs.split(), r.stdout  # the container's init, as its own pid namespace numbers it
    for line in cgroups.split():
        assert line.split(":", 2)[2] == "/", cgroups
    assert roots.split() == ["/"], roots
    assert "Read-only file system" in mk and "refused" in mk, mk


def device_bundle(mr, allow_kmsg):
    # /dev/kmsg (c 1 11) is not among the devices every container gets, and
    # opening it write-only needs no capability: with mknod allowed (CAP_MKNOD,
    # the default "c *:* m" rule) only the device cgroup can refuse the open.
    def mutate(cfg):
        caps = cfg["process"]["capabilities"]
        for k in ("bounding", "effective", "permitted"):
            caps[k] = sorted(set(caps.get(k, [])) | {"CAP_MKNOD"})
        rules = [{"allow": False, "access": "rwm"}]
        if allow_kmsg:
            rules.append({"allow": True, "type": "c", "major": 1, "minor": 11, "access": "w"})
        cfg["linux"].setdefault("resources", {})["devices"] = rules

    script = ("mknod /dev/mykmsg c 1 11 && echo made; "
              "(exec 3>/dev/mykmsg) 2>&1 && echo kmsg-ok; "
              "echo x >/dev/null && echo null-ok")
    return mr.bundle(sh(script), mutate=mutate)


def test_device_outside_the_allow_list_cannot_be_opened(mr):
    r = mr.run(device_bundle(mr, allow_kmsg=False))
    assert "made" in r.stdout, (r.stdout, r.stderr)
    assert re.search(r"can't (open|create) /dev/mykmsg: Operation not permitted", r.stdout), r.stdout
    assert "kmsg-ok" not in r.stdout, r.stdout
    assert "null-ok" in r.stdout, r.stdout


def test_device_allowed_by_a_rule_can_be_opened(mr):
    r = mr.run(device_bundle(mr, allow_kmsg=True))
    assert "kmsg-ok" in r.stdout and "null-ok" in r.stdout, (r.stdout, r.stderr)


# ---------- pause / resume ----------

COUNTER = "i=0; while :; do i=$((i+1)); echo $i; sleep 0.01; done"


def advancing(path, pause=0.15):
    a = last_number(path)
    time.sleep(pause)
    return last_number(path) != a


def test_pause_freezes_and_resume_thaws(mr, tmp_path):
    out = tmp_path / "counter"
    cid = detached(mr, mr.bundle(sh(COUNTER)), out=out)
    wait_for(lambda: last_number(out), what="the counter")
    assert advancing(out)

    r = mr.cmd("pause", cid)
    assert r.returncode == 0, r.stderr
    assert mr.state(cid)["status"] == "paused"
    assert f"{cid} " in mr.cmd("list").stdout and "paused" in mr.cmd("list").stdout
    listed = json.loads(mr.cmd("list", "--format", "json", check=True).stdout)
    assert [c["status"] for c in listed if c["id"] == cid] == ["paused"], listed
    assert cg_file(cid, "freezer.state") in ("FROZEN", None)
    assert not advancing(out, 0.3)

    r = mr.cmd("resume", cid)
    assert r.returncode == 0, r.stderr
    assert mr.state(cid)["status"] == "running"
    assert advancing(out)


def test_pause_and_resume_refuse_the_wrong_status(mr):
    cid = detached(mr, mr.bundle(sh("sleep 10")))
    r = mr.cmd("resume", cid)
    assert r.returncode == 1 and f"cannot resume container `{cid}`: it is running, not paused" in r.stderr, r.stderr
    assert mr.cmd("pause", cid).returncode == 0
    r = mr.cmd("pause", cid)
    assert r.returncode == 1 and f"cannot pause container `{cid}`: it is already paused" in r.stderr, r.stderr
    assert mr.cmd("resume", cid).returncode == 0

    created = new_id()
    mr.created.add(created)
    errfile = mr.tmp / "create.stderr"
    with open(os.devnull, "w") as null, open(errfile, "w") as e:
        c = subprocess.run([MINIRUN, "--root", mr.root, "create", "-b", str(mr.bundle(["true"])), created],
                           stdout=null, stderr=e, timeout=30)
    assert c.returncode == 0, errfile.read_text()
    r = mr.cmd("pause", created)
    assert r.returncode == 1 and "it is created, not running" in r.stderr, r.stderr

    stopped = detached(mr, mr.bundle(["true"]))
    wait_for(lambda: mr.state(stopped)["status"] == "stopped", what="stopped")
    r = mr.cmd("pause", stopped)
    assert r.returncode == 1 and "it is stopped, not running" in r.stderr, r.stderr
    r = mr.cmd("resume", stopped)
    assert r.returncode == 1 and "it is stopped, not paused" in r.stderr, r.stderr

    r = mr.cmd("pause", "no-such-container")
    assert r.returncode == 1 and "no-such-container" in r.stderr, r.stderr


def test_delete_force_of_a_paused_container(mr):
    cid = detached(mr, mr.bundle(sh("sleep 10")))
    pid = mr.state(cid)["pid"]
    assert mr.cmd("pause", cid).returncode == 0
    # (not through mr.cmd: its delete waits to reap processes that stay alive here)
    r = subprocess.run([MINIRUN, "--root", mr.root, "delete", cid], capture_output=True, text=True, timeout=30)
    assert r.returncode == 1 and "it is paused" in r.stderr, r.stderr
    r = mr.cmd("delete", "--force", cid)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(f"/proc/{pid}")
    assert cgroup_dirs(f"/minirun/{cid}") == []
    assert not os.path.exists(os.path.join(mr.root, cid))


# ---------- update ----------

FORKER = ("while :; do (for i in 1 2 3 4 5 6; do sleep 0.05 & done; wait; echo ok) 2>/dev/null || echo fail; "
          "sleep 0.02; done")


def test_update_raises_the_pids_limit_live(mr, tmp_path):
    out = tmp_path / "forks"
    cid = detached(mr, mr.bundle(sh(FORKER), mutate=with_resources(pids={"limit": 5})), out=out)
    assert cg_file(cid, "pids.max") == "5"
    wait_for(lambda: "fail" in out.read_text(), what="a refused fork")
    assert "ok" not in out.read_text()

    r = mr.cmd("update", "--pids-limit", "20", cid)
    assert r.returncode == 0, r.stderr
    assert cg_file(cid, "pids.max") == "20"
    mark = len(out.read_text())
    wait_for(lambda: "ok" in out.read_text()[mark:], what="forks to succeed")

    assert mr.cmd("update", "--pids-limit", "-1", cid).returncode == 0
    assert cg_file(cid, "pids.max") == "max"


def test_update_memory_with_suffixes_and_from_a_file(mr, tmp_path):
    cid = detached(mr, mr.bundle(sh("sleep 10"), mutate=with_resources(memory={"limit": 64 << 20})))
    v1 = cg_file(cid, "memory.limit_in_bytes") is not None
    mem_file = "memory.limit_in_bytes" if v1 else "memory.max"
    assert cg_file(cid, mem_file) == str(64 << 20)

    r = mr.cmd("update", "--memory", "128m", "--memory-reservation", "1.5m", cid)
    assert r.returncode == 0, r.stderr
    assert cg_file(cid, mem_file) == str(128 << 20)
    assert cg_file(cid, "memory.soft_limit_in_bytes" if v1 else "memory.low") == str(3 << 19)  # 1.5 MiB
    r = mr.cmd("update", "--memory-reservation", "0.000001g", cid)  # a millionth of a GiB: 1073 bytes
    assert r.returncode == 0, r.stderr

    res = tmp_path / "res.json"
    res.write_text(json.dumps({"memory": {"limit": 96 << 20}, "pids": {"limit": 33}}))
    r = mr.cmd("update", "-r", res, cid)
    assert r.returncode == 0, r.stderr
    assert cg_file(cid, mem_file) == str(96 << 20)
    assert cg_file(cid, "pids.max") == "33"

    r = mr.cmd("update", "--resources", "-", cid, input=json.dumps({"pids": {"limit": 44}}))
    assert r.returncode == 0, r.stderr
    assert cg_file(cid, "pids.max") == "44"

    # a paused container can be updated too
    assert mr.cmd("pause", cid).returncode == 0
    assert mr.cmd("update", "--memory", "1g", cid).returncode == 0
    assert cg_file(cid, mem_file) == str(1 << 30)
    assert mr.cmd("resume", cid).returncode == 0


def test_update_cpu_burst_and_idle(mr):
    """runc's --cpu-burst and --cpu-idle: cpu.cfs_burst_us / cpu.idle on v1,
    cpu.max.burst / cpu.idle on v2, each where the kernel has the file."""
    cid = detached(mr, mr.bundle(sh("sleep 10"), mutate=with_resources(cpu={"quota": 50000, "period": 100000})))
    burst_file = next((f for f in ("cpu.cfs_burst_us", "cpu.max.burst") if cg_file(cid, f) is not None), None)
    have_idle = cg_file(cid, "cpu.idle") is not None
    if burst_file is None and not have_idle:
        pytest.skip("the kernel has neither CFS burst nor cpu.idle (Linux >= 5.14 / 5.15)")
    args = (["--cpu-burst", "20000"] if burst_file else []) + (["--cpu-idle", "1"] if have_idle else [])
    r = mr.cmd("update", *args, cid)
    assert r.returncode == 0, r.stderr
    if burst_file:
        assert cg_file(cid, burst_file) == "20000"
        assert mr.cmd("update", "--cpu-burst", "0", cid).returncode == 0  # 0 is a value: no burst
        assert cg_file(cid, burst_file) == "0"
    if have_idle:
        assert cg_file(cid, "cpu.idle") == "1"
        assert mr.cmd("update", "--cpu-idle", "0", cid).returncode == 0
        assert cg_file(cid, "cpu.idle") == "0"
    r = mr.cmd("update", "--cpu-idle", "2", cid)
    assert r.returncode == 1 and "--cpu-idle: invalid value `2` (expected 0 or 1)" in r.stderr, r.stderr
    r = mr.cmd("update", "--cpu-burst", "-5", cid)
    assert r.returncode == 1 and "--cpu-burst: invalid value `-5`" in r.stderr, r.stderr


def test_update_bad_values_give_clear_errors(mr, tmp_path):
    cid = detached(mr, mr.bundle(sh("sleep 10"), mutate=with_resources(pids={"limit": 50})))

    r = mr.cmd("update", "--memory", "lots", cid)
    assert r.returncode == 1
    assert "--memory: invalid value `lots`" in r.stderr and "512m" in r.stderr, r.stderr

    r = mr.cmd("update", "--pids-limit", "many", cid)
    assert r.returncode == 1 and "--pids-limit: invalid value `many`" in r.stderr, r.stderr

    r = mr.cmd("update", "--cpuset-cpus", "999", cid)
    assert r.returncode == 1
    assert f"update container `{cid}`" in r.stderr and "cpuset.cpus" in r.stderr and "`999`" in r.stderr, r.stderr

    bad = tmp_path / "bad.json"
    bad.write_text('{"pids": {"limit": "x"}}')
    r = mr.cmd("update", "-r", bad, cid)
    assert r.returncode == 1 and f"{bad}: pids.limit: expected an integer" in r.stderr, r.stderr
    bad.write_text('{"pids": ')
    r = mr.cmd("update", "-r", bad, cid)
    assert r.returncode == 1 and "invalid JSON" in r.stderr, r.stderr

    r = mr.cmd("update", cid)
    assert r.returncode == 1 and "nothing to update" in r.stderr, r.stderr
    assert cg_file(cid, "pids.max") == "50"  # nothing changed

    stopped = detached(mr, mr.bundle(["true"]))
    wait_for(lambda: mr.state(stopped)["status"] == "stopped", what="stopped")
    r = mr.cmd("update", "--pids-limit", "5", stopped)
    assert r.returncode == 1 and "it is stopped" in r.stderr, r.stderr


# ---------- events / stats ----------

def test_events_stats_once(mr):
    cid = detached(mr, mr.bundle(sh("sleep 10 & sleep 10"), mutate=with_resources(pids={"limit": 40})))
    r = mr.cmd("events", "--stats", cid)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 1
    ev = json.loads(lines[0])
    assert ev["type"] == "stats" and ev["id"] == cid
    d = ev["data"]
    assert d["memory"]["usage"]["usage"] > 0, d["memory"]
    assert d["pids"]["current"] >= 1 and d["pids"]["limit"] == 40, d["pids"]
    assert d["cpu"]["usage"]["total"] > 0, d["cpu"]
    assert set(d) >= {"cpu", "memory", "pids", "hugetlb"}


def test_events_streams_until_the_container_stops(mr):
    cid = new_id()
    run = foreground(mr, mr.bundle(sh("read go; exit 3")), cid)
    ev = start_events(mr, cid)
    second = json.loads(ev.stdout.readline())
    assert second["type"] == "stats"
    run.communicate("go\n", timeout=10)
    assert run.returncode == 3
    ev.communicate(timeout=5)
    assert ev.returncode == 0


def test_events_of_a_stopped_container_fails(mr):
    stopped = detached(mr, mr.bundle(["true"]))
    wait_for(lambda: mr.state(stopped)["status"] == "stopped", what="stopped")
    r = mr.cmd("events", "--stats", stopped)
    assert r.returncode == 1 and "is not running" in r.stderr, r.stderr
    r = mr.cmd("events", "--interval", "soon", stopped)
    assert r.returncode == 1 and "invalid duration `soon`" in r.stderr, r.stderr


def test_help_texts(mr):
    for cmd in ("pause", "resume", "update", "events"):
        r = mr.cmd(cmd, "--help")
        assert r.returncode == 0 and r.stdout.startswith(f"Usage: minirun {cmd}"), (cmd, r.stdout, r.stderr)


# ---------- nothing left behind ----------

def test_no_cgroup_left_after_delete(mr):
    cid = detached(mr, mr.bundle(sh("sleep 10"), mutate=with_resources(pids={"limit": 20},
                                                                           memory={"limit": 64 << 20})))
    assert cgroup_dirs(f"/minirun/{cid}") != []
    assert mr.cmd("delete", "--force", cid).returncode == 0
    assert cgroup_dirs(f"/minirun/{cid}") == []


def test_no_cgroup_left_after_a_failed_create(mr):
    cid = new_id()
    r = mr.run(mr.bundle(["true"], mutate=with_resources(cpu={"cpus": "999"})), cid=cid)
    assert r.returncode == 1
    assert "linux.resources.cpu.cpus" in r.stderr and "999" in r.stderr, r.stderr
    assert cgroup_dirs(f"/minirun/{cid}") == []
    assert not os.path.exists(os.path.join(mr.root, cid))


# ---------- the v2 driver ----------

def test_v2_process_is_in_the_unified_cgroup(mr):
    mnt, _ = v2_mount()
    if mnt is None:
        pytest.skip("no cgroup2 mounted (legacy host): nothing for the v2 driver to do")
    cid = detached(mr, mr.bundle(sh("sleep 10")))
    pid = mr.state(cid)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        lines = f.read().splitlines()
    assert f"0::/minirun/{cid}" in lines, lines
    with open(os.path.join(mnt, "minirun", cid, "cgroup.procs")) as f:
        assert str(pid) in f.read().split()


def test_v2_hugetlb_limit(mr):
    mnt, ctrls = v2_mount()
    if mnt is None or "hugetlb" not in ctrls or not os.path.isdir("/sys/kernel/mm/hugepages/hugepages-2048kB"):
        pytest.skip("no hugetlb controller with 2MB pages in cgroup v2 here")
    cid = detached(mr, mr.bundle(sh("sleep 10"), mutate=with_resources(
        hugepageLimits=[{"pageSize": "2MB", "limit": 4 << 20}])))
    with open(os.path.join(mnt, "minirun", cid, "hugetlb.2MB.max")) as f:
        assert f.read().strip() == str(4 << 20)
    r = mr.cmd("update", "-r", "-", cid, input=json.dumps({"hugepageLimits": [{"pageSize": "2MB", "limit": 8 << 20}]}))
    assert r.returncode == 0, r.stderr
    with open(os.path.join(mnt, "minirun", cid, "hugetlb.2MB.max")) as f:
        assert f.read().strip() == str(8 << 20)


@pytest.mark.parametrize("ctrl,res,file,want", [
    ("memory", {"memory": {"limit": 64 << 20}}, "memory.max", str(64 << 20)),
    ("pids", {"pids": {"limit": 17}}, "pids.max", "17"),
    ("cpu", {"cpu": {"quota": 20000, "period": 100000}}, "cpu.max", "20000 100000"),
])
def test_v2_limits(mr, ctrl, res, file, want):
    mnt, ctrls = v2_mount()
    if mnt is None:
        pytest.skip("no cgroup2 mounted (legacy host)")
    if ctrl not in ctrls:
        pytest.skip(f"cgroup v2 at {mnt} has no {ctrl} controller (cgroup.controllers: {' '.join(sorted(ctrls))}): "
                    f"on this hybrid host {ctrl} limits go to the v1 hierarchy, tested above")
    if mnt != "/sys/fs/cgroup" and os.path.isdir(f"/sys/fs/cgroup/{ctrl}"):
        pytest.skip(f"{ctrl} is also a v1 hierarchy here: the v1 driver applies it")
    cid = detached(mr, mr.bundle(sh("sleep 10"), mutate=with_resources(**res)))
    with open(os.path.join(mnt, "minirun", cid, file)) as f:
        assert f.read().strip() == want


# ---------- only what minirun created is removed ----------

V1_MEMORY = "/sys/fs/cgroup/memory"


def v1_has(ctrl):
    return os.path.exists(f"/sys/fs/cgroup/{ctrl}/tasks")


def read_file(path):
    with open(path) as f:
        return f.read().strip()


class AdminCgroups:
    """Cgroups an admin made before any container (what `docker run
    --cgroup-parent=/admin-slice` points at), each with a limit written into
    it; remove() takes away what is left (deepest first), also after a
    failure."""

    def __init__(self):
        self.made = []

    def make(self, path, limits):
        os.mkdir(path)
        self.made.append(path)
        for name, value in limits.items():
            with open(os.path.join(path, name), "w") as f:
                f.write(value)
        return path

    def remove(self):
        for d in sorted(self.made, key=len, reverse=True):
            if os.path.isdir(d):
                for sub, _dirs, _files in sorted(os.walk(d), key=lambda t: len(t[0]), reverse=True):
                    os.rmdir(sub)


@pytest.fixture
def admin():
    a = AdminCgroups()
    yield a
    a.remove()


def admin_parent(admin, name):
    """/<name> made by the admin with a limit in the v1 memory hierarchy (64 MiB),
    the v1 pids hierarchy (pids.max 77) and the v2 hierarchy of this host
    (cgroup.max.descendants 9: a core file every v2 cgroup has, whatever the
    unified mount's controllers).  Returns {dir: {file: value}}."""
    want = {}
    if v1_has("memory"):
        want[f"{V1_MEMORY}/{name}"] = {"memory.limit_in_bytes": str(64 << 20)}
    if v1_has("pids"):
        want[f"/sys/fs/cgroup/pids/{name}"] = {"pids.max": "77"}
    mnt, _ = v2_mount()
    if mnt is not None:
        want[f"{mnt}/{name}"] = {"cgroup.max.descendants": "9"}
    if not want:
        pytest.skip("no v1 memory/pids hierarchy and no cgroup v2 mounted: nowhere to put an admin's limit")
    for d, limits in want.items():
        admin.make(d, limits)
    return want


def assert_admin_intact(want):
    for d, limits in want.items():
        assert os.path.isdir(d), f"the admin's cgroup {d} was removed"
        for name, value in limits.items():
            assert read_file(os.path.join(d, name)) == value, f"{d}/{name} changed"


def in_cgroup_path(cgroups_path):
    def mutate(cfg):
        cfg["linux"]["cgroupsPath"] = cgroups_path
    return mutate


def both(*mutators):
    def mutate(cfg):
        for m in mutators:
            m(cfg)
    return mutate


def test_a_preexisting_parent_survives_run_and_delete(mr, admin):
    name = f"admin-{uuid.uuid4().hex[:8]}"
    want = admin_parent(admin, name)
    cid = new_id()
    b = mr.bundle(sh("sleep 10"), mutate=in_cgroup_path(f"/{name}/{cid}"))
    detached(mr, b, cid)
    pid = mr.state(cid)["pid"]
    with open(f"/proc/{pid}/cgroup") as f:
        lines = f.read().splitlines()
    if v1_has("memory"):
        assert any(l.endswith(f":memory:/{name}/{cid}") for l in lines), lines
    assert mr.cmd("delete", "--force", cid).returncode == 0
    assert cgroup_dirs(f"/{name}/{cid}") == []
    assert_admin_intact(want)
    # where minirun made /<name> itself (every other hierarchy), it is gone
    assert sorted(cgroup_dirs(f"/{name}")) == sorted(want), cgroup_dirs(f"/{name}")

    # a container that exits by itself (`run` removes its cgroup) keeps it too,
    # and it was under the admin's limit: 100 MiB do not fit in 64 MiB
    r = mr.run(mr.bundle(sh("head -c 100m /dev/zero | tail; echo rc=$?"), mutate=both(
        in_cgroup_path(f"/{name}/second"), memory_limit(256 << 20))))
    assert r.returncode == 0, r.stderr
    if v1_has("memory") and no_swap():
        assert "rc=0" not in r.stdout, r.stdout
    assert_admin_intact(want)
    assert sorted(cgroup_dirs(f"/{name}")) == sorted(want)


def test_a_preexisting_leaf_keeps_itself_and_its_limit(mr, admin):
    if not v1_has("memory"):
        pytest.skip("no v1 memory hierarchy to pre-create a leaf with a limit in")
    name = f"admin-{uuid.uuid4().hex[:8]}"
    admin.make(f"{V1_MEMORY}/{name}", {})
    leaf = admin.make(f"{V1_MEMORY}/{name}/ctr", {"memory.limit_in_bytes": str(48 << 20)})
    cid = new_id()
    detached(mr, mr.bundle(sh("sleep 10"), mutate=in_cgroup_path(f"/{name}/ctr")), cid)
    os.mkdir(f"{leaf}/made-by-the-container")  # as a container with its own cgroup manager would
    assert mr.cmd("delete", "--force", cid).returncode == 0
    assert os.path.isdir(leaf)
    assert read_file(f"{leaf}/memory.limit_in_bytes") == str(48 << 20)
    assert not [x for x in os.listxattr(leaf) if x.endswith("minirun")], "minirun's mark left on the admin's leaf"
    assert not os.path.exists(f"{leaf}/made-by-the-container")
    assert cgroup_dirs(f"/{name}/ctr") == [leaf]  # made by minirun everywhere else: removed
    assert cgroup_dirs(f"/{name}") == [f"{V1_MEMORY}/{name}"]


def test_parents_minirun_made_are_removed_by_the_last_container(mr):
    name = f"mine-{uuid.uuid4().hex[:8]}"
    try:
        a = detached(mr, mr.bundle(sh("sleep 10"), mutate=in_cgroup_path(f"/{name}/mid/a")))
        b = detached(mr, mr.bundle(sh("sleep 10"), mutate=in_cgroup_path(f"/{name}/mid/b")))
        assert cgroup_dirs(f"/{name}/mid/a") != [] and cgroup_dirs(f"/{name}/mid/b") != []
        assert mr.cmd("delete", "--force", a).returncode == 0
        assert cgroup_dirs(f"/{name}/mid/a") == []
        assert len(cgroup_dirs(f"/{name}/mid")) == len(cgroup_dirs(f"/{name}/mid/b")) > 0  # still used by b
        assert mr.cmd("delete", "--force", b).returncode == 0
        assert cgroup_dirs(f"/{name}") == [], "an empty parent minirun made is left behind"
    finally:
        for d in sorted(cgroup_dirs(f"/{name}/mid/a") + cgroup_dirs(f"/{name}/mid/b") + cgroup_dirs(f"/{name}/mid")
                        + cgroup_dirs(f"/{name}"), key=len, reverse=True):
            try:
                os.rmdir(d)
            except OSError:
                pass


def test_the_default_minirun_parent_goes_with_the_last_container(mr):
    if cgroup_dirs("/minirun"):
        pytest.skip("/minirun exists (another container runs on this host): its removal cannot be observed now")
    cid = detached(mr, mr.bundle(sh("sleep 10")))
    assert cgroup_dirs("/minirun") != []
    assert mr.cmd("delete", "--force", cid).returncode == 0
    left = cgroup_dirs("/minirun")
    if any(e.is_dir() for d in left for e in os.scandir(d)):
        pytest.skip("another container was started under /minirun meanwhile")
    assert left == [], "the empty /minirun parent minirun made is left behind"


def bad_cpus(cfg):
    cfg["linux"].setdefault("resources", {})["cpu"] = {"cpus": "999"}


def pin_in_use(cfg):
    # the init at a free host pid, its worker at this test's own pid (in use)
    h = free_host_pids(1)
    cfg["minirun"] = {"pids": {"host": h[0]},
                      "processes": [{"name": "w", "pids": {"container": 9, "host": os.getpid()},
                                     "args": ["sleep", "10"]}]}


@pytest.mark.parametrize("bad,error", [(bad_cpus, "linux.resources.cpu.cpus"), (pin_in_use, "already in use")])
def test_a_failed_create_leaves_the_preexisting_parent_intact(mr, admin, bad, error):
    name = f"admin-{uuid.uuid4().hex[:8]}"
    want = admin_parent(admin, name)
    cid = new_id()
    r = mr.run(mr.bundle(["true"], mutate=both(in_cgroup_path(f"/{name}/{cid}"), bad)), cid=cid)
    assert r.returncode == 1 and error in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(mr.root, cid))
    assert cgroup_dirs(f"/{name}/{cid}") == []
    assert_admin_intact(want)
    assert sorted(cgroup_dirs(f"/{name}")) == sorted(want), cgroup_dirs(f"/{name}")


CRASH_BIN = os.environ.get("MINIRUN_CRASH_BIN", os.path.join(os.path.dirname(MINIRUN), "..", "build-crash",
                                                              "minirun"))


@pytest.mark.parametrize("point", ["create:cgroup", "create:clone"])
def test_delete_force_after_a_crashed_create_keeps_the_preexisting_parent(mr, admin, point):
    if not os.access(CRASH_BIN, os.X_OK):
        pytest.skip(f"no crash-hook build at {CRASH_BIN} (cmake -DMINIRUN_CRASH_HOOKS=ON)")
    name = f"admin-{uuid.uuid4().hex[:8]}"
    want = admin_parent(admin, name)
    cid = new_id()
    mr.created.add(cid)
    b = mr.bundle(sh("sleep 10"), mutate=in_cgroup_path(f"/{name}/{cid}"))
    env = dict(os.environ, MINIRUN_CRASH_AT=point)
    r = subprocess.run([CRASH_BIN, "--root", mr.root, "create", "-b", str(b), cid], env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)
    assert r.returncode == -9, r.returncode
    assert cgroup_dirs(f"/{name}/{cid}") != [], "the crash came after the cgroup was made"
    r = subprocess.run([CRASH_BIN, "--root", mr.root, "delete", "--force", cid], capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, r.stderr
    assert not os.path.exists(os.path.join(mr.root, cid))
    assert cgroup_dirs(f"/{name}/{cid}") == []
    assert_admin_intact(want)
    assert sorted(cgroup_dirs(f"/{name}")) == sorted(want)


# ---------- kernelTCP ----------

KMEM_TCP = "memory.kmem.tcp.limit_in_bytes"


def test_kernel_tcp_is_applied_and_updated(mr, tmp_path):
    if not v1_has("memory"):
        pytest.skip("no v1 memory hierarchy: kernelTCP has no home (cgroup v2 has no TCP buffer limit)")
    if not os.path.exists(f"{V1_MEMORY}/{KMEM_TCP}"):
        pytest.skip(f"this kernel's v1 memory controller has no {KMEM_TCP}")
    cid = new_id()
    errfile = mr.tmp / f"{cid}.stderr"
    detached(mr, mr.bundle(sh("sleep 10"), mutate=with_resources(memory={"kernelTCP": 8 << 20})), cid)
    assert "kernelTCP" not in errfile.read_text(), errfile.read_text()
    assert cg_file(cid, KMEM_TCP) == str(8 << 20)

    r = mr.cmd("update", "--kernel-memory-tcp", "16m", cid)
    assert r.returncode == 0 and "kernelTCP" not in r.stderr, r.stderr
    assert cg_file(cid, KMEM_TCP) == str(16 << 20)

    r = mr.cmd("update", "-r", "-", cid, input=json.dumps({"memory": {"kernelTCP": 4 << 20}}))
    assert r.returncode == 0, r.stderr
    assert cg_file(cid, KMEM_TCP) == str(4 << 20)

    r = mr.cmd("update", "--kernel-memory-tcp", "-1", cid)
    assert r.returncode == 0, r.stderr
    assert int(cg_file(cid, KMEM_TCP)) > 1 << 60  # unlimited: the page counter's maximum

    r = mr.cmd("update", "--kernel-memory-tcp", "lots", cid)
    assert r.returncode == 1 and "--kernel-memory-tcp: invalid value `lots`" in r.stderr, r.stderr


def test_kernel_tcp_on_cgroup_v2_is_a_warning(mr):
    mnt, ctrls = v2_mount()
    if mnt is None or "memory" not in ctrls or v1_has("memory"):
        pytest.skip("the memory controller is not on cgroup v2 here (hybrid host: it is on v1, where kernelTCP "
                    "is applied, tested above)")
    cid = new_id()
    r = mr.run(mr.bundle(["true"], mutate=with_resources(memory={"kernelTCP": 8 << 20})), cid=cid)
    assert r.returncode == 0, r.stderr
    assert "linux.resources.memory.kernelTCP ignored: cgroup v2 has no TCP buffer limit" in r.stderr, r.stderr
