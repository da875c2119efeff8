"""Pinned process trees: every pid at every level, checked from the host's /proc."""
import json
import os
import signal
import subprocess

import pytest

from conftest import MINIRUN, cgroup_dirs, free_host_pids, nspid, pid_in_use


def ppid(host_pid):
    with open(f"/proc/{host_pid}/status") as f:
        for line in f:
            if line.startswith("PPid:"):
                return int(line.split()[1])


def start_detached(mr, mutate, args=("sleep", "1000"), cid=None, extra=()):
    cid = cid or "tree"
    b = mr.bundle(list(args), mutate=mutate)
    r = mr.run(b, "-d", *extra, cid=cid)
    assert r.returncode == 0, r.stderr
    return cid, mr.state(cid)


def procs_by_name(st):
    return {p["name"]: p for p in st["minirun"]["processes"]}


def test_chain_every_pid_and_ppid(mr):
    h = free_host_pids(4)

    def mutate(cfg):
        cfg["minirun"] = {
            "pids": {"host": h[0], "container": 1},
            "processes": [
                {"name": "a", "pids": {"container": 10, "host": h[1]}, "args": ["sleep", "1000"]},
                {"name": "b", "parent": "a", "pids": {"container": 11, "host": h[2]}, "args": ["sleep", "1000"]},
                {"name": "c", "parent": "b", "pids": {"container": 12, "host": h[3]}, "args": ["sleep", "1000"]},
            ],
        }

    cid, st = start_detached(mr, mutate)
    assert nspid(h[0]) == [h[0], 1]
    assert nspid(h[1]) == [h[1], 10] and ppid(h[1]) == h[0]
    assert nspid(h[2]) == [h[2], 11] and ppid(h[2]) == h[1]
    assert nspid(h[3]) == [h[3], 12] and ppid(h[3]) == h[2]
    by = procs_by_name(st)
    assert by["c"]["pid"] == h[3] and by["c"]["nspid"] == [h[3], 12]


def test_fan_out(mr):
    h = free_host_pids(5)

    def mutate(cfg):
        cfg["minirun"] = {
            "pids": {"host": h[0]},
            "processes": [{"name": f"w{i}", "pids": {"container": 100 + i, "host": h[i]}, "args": ["sleep", "1000"]}
                          for i in range(1, 5)],
        }

    start_detached(mr, mutate)
    for i in range(1, 5):
        assert nspid(h[i]) == [h[i], 100 + i]
        assert ppid(h[i]) == h[0]


def test_three_nesting_levels(mr):
    h = free_host_pids(3)

    def mutate(cfg):
        cfg["minirun"] = {
            "pids": {"host": h[0], "container": 1},
            "pidNamespaces": {"mid": {"parent": "container"}, "deep": {"parent": "mid"}},
            "processes": [
                {"name": "mid-init", "pidNamespace": "mid", "pids": {"mid": 1, "container": 30, "host": h[1]},
                 "args": ["sleep", "1000"]},
                {"name": "deep-init", "parent": "mid-init", "pidNamespace": "deep",
                 "pids": {"deep": 1, "mid": 5, "container": 31, "host": h[2]}, "args": ["sleep", "1000"]},
                {"name": "deep-work", "parent": "deep-init", "pidNamespace": "deep",
                 "pids": {"deep": 9, "mid": 6, "container": 32}, "args": ["sleep", "1000"]},
            ],
        }

    cid, st = start_detached(mr, mutate)
    by = procs_by_name(st)
    assert nspid(h[1]) == [h[1], 30, 1]
    assert nspid(h[2]) == [h[2], 31, 5, 1]
    work = by["deep-work"]["pid"]
    assert nspid(work)[1:] == [32, 6, 9]
    assert ppid(work) == h[2] and ppid(h[2]) == h[1] and ppid(h[1]) == h[0]


def test_any_in_a_new_namespace_is_deterministic(mr):
    h = free_host_pids(1)

    def mutate(cfg):
        cfg["minirun"] = {
            "pids": {"host": h[0]},
            "processes": [
                {"name": "x", "pids": {"container": "any"}, "args": ["sleep", "1000"]},
                {"name": "y", "pids": {"container": 2}, "args": ["sleep", "1000"]},
                {"name": "z", "args": ["sleep", "1000"]},
            ],
        }

    seen = []
    for i in range(2):
        cid, st = start_detached(mr, mutate, cid=f"det{i}")
        by = procs_by_name(st)
        seen.append([by[n]["nspid"][-1] for n in ("x", "y", "z")])
        mr.cmd("delete", "--force", cid, check=True)
    # "any" takes the lowest number no one pinned: 2 is y's, so x gets 3, z 4
    assert seen == [[3, 2, 4], [3, 2, 4]]


def test_pins_at_pid_max_minus_one(mr):
    with open("/proc/sys/kernel/pid_max") as f:
        top = int(f.read()) - 1
    if pid_in_use(top):
        pytest.skip(f"host pid {top} (pid_max-1) is in use on this machine right now")
    release = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
    if release < (6, 14) and top < 4194303:
        pytest.skip(f"Linux {os.uname().release}: pid_max ({top + 1}) is one for every pid namespace before 6.14, "
                    "so the container cannot have pid 4194303")

    def mutate(cfg):
        cfg["minirun"] = {"pids": {"host": top},
                          "processes": [{"name": "top", "pids": {"container": 4194303}, "args": ["sleep", "1000"]}]}

    cid, st = start_detached(mr, mutate)
    assert nspid(top) == [top, 1]
    assert procs_by_name(st)["top"]["nspid"][-1] == 4194303


def assert_nothing_left(mr, cid, before_pids):
    assert not os.path.exists(os.path.join(mr.root, cid))
    assert cgroup_dirs(f"/minirun/{cid}") == []
    for p in set(os.listdir("/proc")) - before_pids:
        if p.isdigit():
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    assert not f.read().startswith(MINIRUN.encode()), "a minirun process was left behind"
            except (FileNotFoundError, ProcessLookupError):
                pass


@pytest.mark.parametrize("case", ["zombie", "pgrp", "range", "first-not-1", "non-ancestor", "dup", "cycle"])
def test_error_classes_leave_nothing(mr, case):
    h = free_host_pids(2)
    holder = None
    expect = None
    procs = [{"name": "w", "pids": {"container": 5, "host": h[1]}, "args": ["sleep", "1000"]}]
    if case == "zombie":
        # a child that exited but was never reaped keeps its pid
        holder = subprocess.Popen(["sh", "-c", "exit 0"])
        os.waitid(os.P_PID, holder.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: a zombie
        assert open(f"/proc/{holder.pid}/stat").read().split(") ")[1][0] == "Z"
        procs[0]["pids"]["host"] = holder.pid
        expect = f'process "w": pid {holder.pid} is already in use in pid namespace "host" (held by an unreaped zombie'
    elif case == "pgrp":
        leader = subprocess.Popen(["sh", "-c", "sleep 30 & exit 0"], start_new_session=True)
        leader.wait()
        holder = leader
        procs[0]["pids"]["host"] = leader.pid
        expect = f'pid {leader.pid} is already in use in pid namespace "host" (held by the process group of process'
    elif case == "range":
        procs[0]["pids"]["container"] = 4194304
        expect = 'process "w": pid 4194304 in pid namespace "container" is outside 1..4194303'
    elif case == "first-not-1":
        procs = [{"name": "n", "pidNamespace": "inner", "pids": {"inner": 3}, "args": ["true"]}]
        expect = 'process "n": it is the first process in pid namespace "inner", so its pid there must be 1 (config says 3)'
    elif case == "non-ancestor":
        procs.append({"name": "n", "pidNamespace": "inner", "pids": {"inner": 1}, "args": ["true"]})
        procs[0]["pids"]["inner"] = 4
        expect = 'process "w": pid namespace "inner" is not "container" or one of its ancestors'
    elif case == "dup":
        procs.append({"name": "v", "pids": {"container": 5}, "args": ["true"]})
        expect = 'process "v": pid 5 in pid namespace "container" is pinned by another process too'
    elif case == "cycle":
        procs = [{"name": "a", "parent": "b", "args": ["true"]}, {"name": "b", "parent": "a", "args": ["true"]}]
        expect = "the parents form a cycle"

    def mutate(cfg):
        cfg["minirun"] = {"pids": {"host": h[0]}, "processes": procs}
        if any(p.get("pidNamespace") == "inner" for p in procs):
            cfg["minirun"]["pidNamespaces"] = {"inner": {"parent": "container"}}

    before = set(os.listdir("/proc"))
    try:
        r = mr.run(mr.bundle(["sleep", "1000"], mutate=mutate), cid=f"err-{case}")
        assert r.returncode == 1
        assert expect in r.stderr, r.stderr
        assert_nothing_left(mr, f"err-{case}", before)
        assert not os.path.exists(f"/proc/{h[0]}"), "the init was left behind"
    finally:
        if case == "zombie":
            holder.wait()
        elif case == "pgrp":
            subprocess.run(["pkill", "-KILL", "-g", str(holder.pid)])  # our own process group only


def test_a_failing_child_takes_the_whole_container_down(mr):
    h = free_host_pids(3)

    def mutate(cfg):
        cfg["minirun"] = {"pids": {"host": h[0]}, "processes": [
            {"name": "ok", "pids": {"container": 7, "host": h[1]}, "args": ["sleep", "1000"]},
            {"name": "bad", "pids": {"host": h[2]}, "cwd": "/no/such/dir", "args": ["sleep", "1000"]},
        ]}

    before = set(os.listdir("/proc"))
    r = mr.run(mr.bundle(["sleep", "1000"], mutate=mutate), cid="badchild")
    assert r.returncode == 1
    assert 'process "bad": setup step "cwd"' in r.stderr and "/no/such/dir" in r.stderr, r.stderr
    for p in h:
        assert not os.path.exists(f"/proc/{p}")
    assert_nothing_left(mr, "badchild", before)


def test_same_config_twice_gives_identical_pids(mr):
    h = free_host_pids(3)

    def mutate(cfg):
        cfg["minirun"] = {"pids": {"host": h[0]}, "processes": [
            {"name": "db", "pids": {"container": 50, "host": h[1]}, "args": ["sleep", "1000"]},
            {"name": "web", "parent": "db", "pids": {"container": 51, "host": h[2]}, "args": ["sleep", "1000"]},
        ]}

    layouts = []
    for i in range(2):
        cid, st = start_detached(mr, mutate, cid=f"twice{i}")
        layouts.append(sorted((p["name"], p["pid"], tuple(p["nspid"])) for p in st["minirun"]["processes"]))
        mr.cmd("delete", "--force", cid, check=True)
    assert layouts[0] == layouts[1]


def test_exec_at_pinned_pids(mr):
    h = free_host_pids(2)
    cid, st = start_detached(mr, lambda cfg: None)
    r = mr.cmd("exec", "--pid", f"container=77,host={h[0]}", cid, "sh", "-c", "echo $$")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "77"
    r = mr.detached("exec", "-d", "--pid-file", mr.tmp / "ep", "--pid", f"host={h[1]},container=any", cid, "sleep", "100")
    assert r.returncode == 0, r.stderr
    assert int((mr.tmp / "ep").read_text()) == h[1]
    assert nspid(h[1])[0] == h[1] and len(nspid(h[1])) == 2
    # the pin is checked like the init's: in use -> refused
    r = mr.cmd("exec", "--pid", "container=77", cid, "true")
    assert r.returncode == 0, r.stderr  # 77 was released when the first exec exited
    r = mr.cmd("exec", "--pid", f"host={h[1]}", cid, "true")
    assert r.returncode == 1 and f"pid {h[1]} is already in use" in r.stderr, r.stderr


def test_joined_pid_namespace_pins_the_init_with_any_emulation(mr):
    h = free_host_pids(2)
    cid, st = start_detached(mr, lambda cfg: None, cid="owner")
    owner_pid = st["pid"]

    def mutate(cfg):
        for ns in cfg["linux"]["namespaces"]:
            if ns["type"] == "pid":
                ns["path"] = f"/proc/{owner_pid}/ns/pid"
        cfg["minirun"] = {"pids": {"host": h[0], "container": 333},
                          "processes": [{"name": "w", "pids": {"host": h[1], "container": "any"},
                                         "args": ["sleep", "1000"]}]}

    cid2, st2 = start_detached(mr, mutate, cid="joiner")
    assert nspid(h[0]) == [h[0], 333]
    w = procs_by_name(st2)["w"]
    assert w["pid"] == h[1] and nspid(h[1])[0] == h[1] and nspid(h[1])[1] not in (1, 333)


def test_capture_and_replay_give_the_same_layout(mr):
    h = free_host_pids(3)

    def mutate(cfg):
        cfg["minirun"] = {"pids": {"host": h[0], "container": 1},
                          "pidNamespaces": {"inner": {"parent": "container"}},
                          "processes": [
                              {"name": "svc", "pids": {"container": 40, "host": h[1]}, "args": ["sleep", "1000"]},
                              {"name": "nested", "pidNamespace": "inner", "pids": {"inner": 1, "container": 41,
                                                                                   "host": h[2]},
                               "args": ["sleep", "1000"]},
                          ]}

    b = mr.bundle(["sleep", "1000"], mutate=mutate)
    assert mr.run(b, "-d", cid="orig").returncode == 0
    r = mr.cmd("ps", "--format", "pins", "orig", check=True)
    captured = json.loads(r.stdout)
    layout = sorted((p["name"], tuple(p["pids"].items())) for p in captured["minirun"]["processes"])
    mr.cmd("delete", "--force", "orig", check=True)

    cfg = json.loads((b / "config.json").read_text())
    cfg["minirun"] = captured["minirun"]
    (b / "config.json").write_text(json.dumps(cfg))
    assert mr.run(b, "-d", cid="replay").returncode == 0
    again = json.loads(mr.cmd("ps", "--format", "pins", "replay", check=True).stdout)
    assert sorted((p["name"], tuple(p["pids"].items())) for p in again["minirun"]["processes"]) == layout
    assert again["minirun"]["pids"] == captured["minirun"]["pids"] == {"host": h[0], "container": 1}
    assert nspid(h[2]) == [h[2], 41, 1]


def test_legacy_ns_last_pid_mode_verifies_its_result(mr):
    h = free_host_pids(1)

    def mutate(cfg):
        cfg["minirun"] = {"pids": {"host": h[0]}, "legacyNsLastPid": True}

    env = dict(os.environ, MINIRUN_FORCE_LEGACY_PINS="1")
    b = mr.bundle(["sh", "-c", "echo $$"], mutate=mutate)
    r = mr.run(b, "--pid-file", mr.tmp / "lp", env=env)
    assert r.returncode == 0, r.stderr
    assert int((mr.tmp / "lp").read_text()) == h[0]
    # two levels cannot be steered through ns_last_pid: a clear error, not a wrong pid
    def mutate2(cfg):
        cfg["minirun"] = {"pids": {"host": h[0]}, "legacyNsLastPid": True,
                          "processes": [{"name": "w", "pids": {"container": 9, "host": h[0] + 1}, "args": ["true"]}]}
    r = mr.run(mr.bundle(["true"], mutate=mutate2), env=env, cid="leg2")
    assert r.returncode == 1
    assert 'process "w": legacy pinning (minirun.legacyNsLastPid) can pin only the pid namespace its parent lives in' in r.stderr, r.stderr


def test_pins_without_the_opt_in_never_use_ns_last_pid(mr):
    # the legacy path must never be taken silently: without legacyNsLastPid the
    # forcing hook changes nothing and set_tid is used
    h = free_host_pids(1)
    b = mr.bundle(["true"], mutate=lambda c: c.__setitem__("minirun", {"pids": {"host": h[0]}}))
    with open("/proc/sys/kernel/ns_last_pid") as f:
        before = int(f.read())
    r = mr.run(b, "--pid-file", mr.tmp / "p", env=dict(os.environ, MINIRUN_FORCE_LEGACY_PINS="1"))
    assert r.returncode == 0, r.stderr
    assert int((mr.tmp / "p").read_text()) == h[0]


# ---------- a new user namespace: children can pin only in namespaces the container creates ----------

def _add_userns(cfg, shared_pidns=False):
    cfg["linux"]["namespaces"].append({"type": "user"})
    if shared_pidns:
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "pid"]
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    return next(i for i, n in enumerate(cfg["linux"]["namespaces"]) if n["type"] == "user")


def _require_user_namespaces():
    try:
        with open("/proc/sys/user/max_user_namespaces") as f:
            if int(f.read()) < 2:
                pytest.skip("user namespaces are disabled here (/proc/sys/user/max_user_namespaces < 2)")
    except FileNotFoundError:
        pytest.skip("this kernel has no user namespaces (no /proc/sys/user/max_user_namespaces)")


def test_userns_container_pins_its_own_namespaces(mr):
    """The control for the refusals below: with a new user namespace the init
    pins host (minirun clones it) and a child pins the container's namespace."""
    _require_user_namespaces()
    h = free_host_pids(1)

    def mutate(cfg):
        _add_userns(cfg)
        cfg["minirun"] = {"pids": {"host": h[0], "container": 1},
                          "processes": [{"name": "w", "pids": {"container": 42}, "args": ["sleep", "1000"]}]}

    cid, st = start_detached(mr, mutate, cid="userns-ok")
    assert nspid(h[0]) == [h[0], 1]
    w = procs_by_name(st)["w"]
    assert w["nspid"][1:] == [42] and ppid(w["pid"]) == h[0], st


@pytest.mark.parametrize("case", ["host", "container-is-host", "grandchild"])
def test_userns_child_pinned_outside_is_refused_before_anything_exists(mr, tmp_path, case):
    _require_user_namespaces()
    h = free_host_pids(2)
    marker = tmp_path / "hook-ran"
    procs = [{"name": "w", "pids": {"container": 5, "host": h[1]}, "args": ["sleep", "1000"]}]
    ns_decl = None
    where = ("w", "init", "0", "host", "host")  # who, parent, index, config key, namespace
    if case == "container-is-host":
        # no pid namespace: "container" is "host"
        procs = [{"name": "w", "pids": {"container": h[1]}, "args": ["sleep", "1000"]}]
        where = ("w", "init", "0", "container", "host")
    elif case == "grandchild":
        ns_decl = {"inner": {"parent": "container"}}
        procs = [{"name": "i", "pidNamespace": "inner", "args": ["sleep", "1000"]},
                 {"name": "g", "parent": "i", "pidNamespace": "inner", "pids": {"inner": 7, "host": h[1]},
                  "args": ["sleep", "1000"]}]
        where = ("g", "i", "1", "host", "host")
    hook = {"path": "/bin/sh", "args": ["sh", "-c", f"cat >> {marker}"]}
    index = {}

    def mutate(cfg):
        index["user"] = _add_userns(cfg, shared_pidns=case == "container-is-host")
        # the init would exist at h[0], and these hooks would write its state
        cfg["minirun"] = {"pids": {"host": h[0]}, "processes": procs}
        if case != "container-is-host":
            cfg["minirun"]["pids"]["container"] = 1
        if ns_decl:
            cfg["minirun"]["pidNamespaces"] = ns_decl
        cfg["hooks"] = {"createRuntime": [hook], "prestart": [hook]}

    cid = f"userns-{case}"
    before = set(os.listdir("/proc"))
    r = mr.run(mr.bundle(["sleep", "1000"], mutate=mutate), cid=cid)
    who, parent, idx, key, ns = where
    assert r.returncode == 1, r.stderr
    expect = (f'process "{who}": minirun.processes[{idx}].pids.{key}: pinning pid {h[1]} in pid namespace "{ns}" '
              "needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE in the user namespace that owns it, which a process "
              f"inside the container's new user namespace (linux.namespaces[{index['user']}]) never has "
              f'("{who}" is created by "{parent}", inside it)')
    assert expect in r.stderr, r.stderr
    # found while validating, not by a clone inside the container
    assert "setup step" not in r.stderr and "clone" not in r.stderr, r.stderr
    assert not marker.exists(), f"a hook ran, so the init existed: {marker.read_text()}"
    assert not pid_in_use(h[0]) and not pid_in_use(h[1])
    assert_nothing_left(mr, cid, before)
    assert mr.cmd("state", cid).returncode != 0
