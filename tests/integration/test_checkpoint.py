"""Checkpoint and restore through CRIU (the criu that scripts/build-criu.sh
builds), against the real kernel: processes go on from where they stopped,
at their pids inside the container (and on the host for a container without
a pid namespace of its own), with their memory, tmpfs files, TCP connections
and stdio.  What CRIU cannot give is refused before anything changes, and a
failed restore leaves nothing behind: no process, cgroup, mount or state.

Skipped, with the reason, when minirun was built without libcriu or the criu
binary fails `criu check` here.  The containers write only to /dev/shm (a
tmpfs in the image) or to pipes: CRIU accepts a host file as restored stdio
only if it did not change since the checkpoint.
"""
import copy
import json
import os
import shutil
import socket
import subprocess
import time
import uuid

import pytest

from conftest import MINIRUN, cgroup_dirs, free_host_pids, nspid, reap

TIMEOUT = 60
# a pure cgroup v2 host (the VM lane's v2 guest): one hierarchy at /sys/fs/cgroup
CGROUP_V2 = os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def criu_unusable():
    """Why checkpoint/restore cannot be tested here, or None."""
    feats = json.loads(subprocess.run([MINIRUN, "features"], capture_output=True, text=True, check=True).stdout)
    cr = feats.get("minirun", {}).get("checkpointRestore", {})
    if not cr.get("builtIn"):
        return "minirun was built without libcriu: `scripts/setup.sh --criu` builds CRIU, then rebuild minirun"
    criu = cr.get("criu", "criu")
    try:
        r = subprocess.run([criu, "check"], capture_output=True, text=True, timeout=TIMEOUT)
    except OSError as e:
        return f"the criu binary {criu} cannot run: {e}"
    if r.returncode != 0:
        return f"`{criu} check` fails on this kernel: {(r.stdout + r.stderr).strip()[-500:]}"
    return None


@pytest.fixture(scope="module")
def criu():
    why = criu_unusable()
    if why:
        print(why)
        pytest.skip(why)
    feats = json.loads(subprocess.run([MINIRUN, "features"], capture_output=True, text=True, check=True).stdout)
    return feats["minirun"]["checkpointRestore"]["criu"]


def wait_until(pred, timeout=20.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


COUNTER = "sleep 1000 & i=0; while :; do i=$((i+1)); echo $i > /dev/shm/count; sleep 0.05; done"


def count(mr, cid):
    r = mr.cmd("exec", cid, "cat", "/dev/shm/count")
    return int(r.stdout) if r.returncode == 0 and r.stdout.strip() else None


def state_pids(mr, cid):
    r = mr.cmd("state", cid)
    if r.returncode != 0:
        return []
    st = json.loads(r.stdout)
    return [st["pid"]] + [p["pid"] for p in st.get("minirun", {}).get("processes", [])]


def container_pids(mr, cid, check=True):
    r = mr.cmd("ps", "--format", "json", cid, check=check)
    return json.loads(r.stdout) if r.returncode == 0 else []


def ppid(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("PPid:"):
                return int(line.split()[1])


def tree(mr, cid):
    """{pid inside the container: (its parent's pid inside, argv[0])} for
    the long-lived processes: not the forks of a counter loop's shell (its
    short sleeps come and go), but the `sleep 1000` it started."""
    host = {}
    for p in container_pids(mr, cid):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                host[p] = (nspid(p), ppid(p), f.read().split(b"\0"))
        except (OSError, AssertionError):
            continue
    out = {}
    for p, (ns, parent, argv) in host.items():
        parent_argv = host[parent][2] if parent in host else []
        if argv[:2] != [b"sleep", b"1000"] and (not argv[0] or parent_argv[:1] == [b"sh"]):
            continue
        out[ns[-1]] = (host[parent][0][-1] if parent in host else 0, argv[0].decode())
    return out


def checkpoint(mr, cid, image, *extra, check=True):
    """minirun checkpoint; the processes CRIU killed are our zombies (we are
    the subreaper): reaped here, as a supervisor would."""
    pids = [] if "--leave-running" in extra or "--pre-dump" in extra else container_pids(mr, cid, check=False)
    r = mr.cmd("checkpoint", "--image-path", image, *extra, cid, timeout=TIMEOUT)
    if check and r.returncode != 0:
        raise AssertionError(f"checkpoint {cid} failed:\n{r.stderr}")
    if r.returncode == 0:
        for p in pids:
            reap(p)
    return r


def restore(mr, bundle, cid, image, *extra, check=True):
    mr.created.add(cid)
    r = mr.detached("restore", "-d", "--image-path", image, "-b", bundle, *extra, cid, timeout=TIMEOUT)
    if check and r.returncode != 0:
        raise AssertionError(f"restore {cid} failed:\n{r.stderr}")
    return r


def start(mr, args, mutate=None, cid=None, extra=()):
    cid = cid or f"cr-{uuid.uuid4().hex[:8]}"
    b = mr.bundle(args, mutate=mutate)
    r = mr.run(b, "-d", *extra, cid=cid)
    assert r.returncode == 0, r.stderr
    return cid, b


def assert_nothing_left(mr, cid, pids=()):
    assert not os.path.exists(os.path.join(mr.root, cid)), "state entry left behind"
    assert cgroup_dirs(f"/minirun/{cid}") == [], "cgroup left behind"
    with open("/proc/self/mountinfo") as f:
        mounts = [line.split()[4] for line in f]
    assert not [m for m in mounts if f"/{cid}/" in m], "criu-root mount left behind"
    for p in pids:
        assert not os.path.exists(f"/proc/{p}") or open(f"/proc/{p}/stat").read().split(") ")[1][0] == "Z"
    r = mr.cmd("state", cid)
    assert r.returncode == 1 and "does not exist" in r.stderr, r.stderr


def without_host(x):
    """A pin fragment without its host pids (what CRIU cannot restore)."""
    if isinstance(x, dict):
        return {k: without_host(v) for k, v in x.items() if k != "host"}
    if isinstance(x, list):
        return [without_host(v) for v in x]
    return x


def no_pidns(cfg):
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "pid"]


# ---------------------------------------------------------------- the basics


def test_counter_and_child_carry_on_with_restores_stdio(mr, criu, tmp_path):
    """A counter loop with a child: the restored loop prints the very next
    number, on the pipe `restore` was given; the child keeps its pid and
    parent inside the container; state, ps, exec, pause, kill and delete work
    on the restored container."""
    script = "sleep 1000 & i=0; while :; do i=$((i+1)); echo $i; sleep 0.05; done"
    b = mr.bundle(["sh", "-c", script])
    cid = f"cr-{uuid.uuid4().hex[:8]}"
    mr.created.add(cid)
    run = subprocess.Popen([MINIRUN, "--root", mr.root, "run", "-d", "-b", b, cid], stdout=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert run.wait(TIMEOUT) == 0
    assert [run.stdout.readline() for _ in range(3)] == [b"1\n", b"2\n", b"3\n"]
    before = tree(mr, cid)
    img = tmp_path / "img"
    checkpoint(mr, cid, img)
    assert_nothing_left(mr, cid)
    last = int(run.stdout.read().split()[-1])  # EOF: every writer is gone

    rest = subprocess.Popen([MINIRUN, "--root", mr.root, "restore", "-d", "--image-path", img, "-b", b, cid],
                            stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    assert rest.wait(TIMEOUT) == 0, rest.stderr.read()
    rest.stderr.close()
    assert rest.stdout.readline() == f"{last + 1}\n".encode(), "the loop did not go on from where it stopped"
    assert int(rest.stdout.readline()) == last + 2
    after = tree(mr, cid)
    assert after[1] == before[1] and after[1][1] == "sh"
    sleeper = [p for p, (parent, argv0) in before.items() if argv0 == "sleep" and parent == 1 and p != 1]
    assert sleeper and [p for p in sleeper if after.get(p) == (1, "sleep")], (before, after)

    st = mr.state(cid)
    assert st["status"] == "running" and st["bundle"] == str(b)
    assert nspid(st["pid"])[-1] == 1
    assert mr.cmd("exec", cid, "sh", "-c", "echo $$ ok", check=True).stdout.split()[1] == "ok"
    mr.cmd("pause", cid, check=True)
    assert mr.state(cid)["status"] == "paused"
    mr.cmd("resume", cid, check=True)
    n = int(rest.stdout.readline())
    assert int(rest.stdout.readline()) == n + 1
    mr.cmd("kill", cid, "KILL", check=True)
    wait_until(lambda: mr.state(cid)["status"] == "stopped", what="the restored init to die")
    pids = state_pids(mr, cid)
    mr.cmd("delete", cid, check=True)
    assert_nothing_left(mr, cid, pids)
    rest.stdout.close()
    run.stdout.close()


def test_features_and_help_say_it_is_built_in(mr, criu):
    feats = json.loads(mr.cmd("features", check=True).stdout)
    assert feats["annotations"]["org.opencontainers.runc.checkpoint.enabled"] == "true"
    assert feats["minirun"]["checkpointRestore"]["builtIn"] is True
    for cmd in ("checkpoint", "restore"):
        r = mr.cmd(cmd, "--help")
        assert r.returncode == 0 and "Built in: libcriu" in r.stdout, r.stdout


def test_foreground_restore_waits_and_exits_with_the_status(mr, criu, tmp_path):
    cid, b = start(mr, ["sh", "-c", "while [ ! -e /dev/shm/stop ]; do sleep 0.05; done; exit 7"])
    img = tmp_path / "img"
    checkpoint(mr, cid, img)
    out = open(tmp_path / "fg.out", "w")
    p = subprocess.Popen([MINIRUN, "--root", mr.root, "restore", "--image-path", img, "-b", b, cid],
                         stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
    mr.created.add(cid)
    wait_until(lambda: mr.cmd("state", cid).returncode == 0 and mr.state(cid)["status"] == "running",
               what="the restored container")
    mr.cmd("exec", cid, "touch", "/dev/shm/stop", check=True)
    assert p.wait(TIMEOUT) == 7, (tmp_path / "fg.out").read_text()
    out.close()
    assert_nothing_left(mr, cid)


# ---------------------------------------------------------------- pins


def test_pinned_tree_every_pid_and_ppid_inside(mr, criu, tmp_path):
    """init -> a -> b -> c at pinned container pids: after restore every
    process has its pid and its parent at every level inside the container,
    and `ps --format pins` is the one before but for the host pids (which
    the kernel chooses for a container with a pid namespace of its own)."""
    def mutate(cfg):
        cfg["minirun"] = {
            "pids": {"container": 1},
            "processes": [
                {"name": "a", "pids": {"container": 10}, "args": ["sleep", "1000"]},
                {"name": "b", "parent": "a", "pids": {"container": 11}, "args": ["sleep", "1000"]},
                {"name": "c", "parent": "b", "pids": {"container": 12}, "args": ["sh", "-c", "sleep 1000 & wait"]},
            ],
        }

    cid, b = start(mr, ["sleep", "1000"], mutate)
    wait_until(lambda: len(container_pids(mr, cid)) == 5, what="c's child")
    pins_before = json.loads(mr.cmd("ps", "--format", "pins", cid, check=True).stdout)
    tree_before = tree(mr, cid)
    assert {p: tree_before[p] for p in (1, 10, 11, 12)} == {1: (0, "sleep"), 10: (1, "sleep"), 11: (10, "sleep"),
                                                            12: (11, "sh")}
    img = tmp_path / "img"
    checkpoint(mr, cid, img)
    restore(mr, b, cid, img)
    assert tree(mr, cid) == tree_before
    pins_after = json.loads(mr.cmd("ps", "--format", "pins", cid, check=True).stdout)
    assert without_host(pins_after) == without_host(pins_before)
    procs = {p["name"]: p for p in mr.state(cid)["minirun"]["processes"]}
    assert {n: (p["pins"], p["nspid"][1:]) for n, p in procs.items()} == {
        "init": ("container=1", [1]), "a": ("container=10", [10]), "b": ("container=11", [11]),
        "c": ("container=12", [12])}


def test_without_a_pid_namespace_the_host_pids_come_back(mr, criu, tmp_path):
    """A container in the host's pid namespace: CRIU restores its host pids
    exactly, so the pin fragment is the same, host pids included.  Right
    after the checkpoint the killed processes still hold their pids as
    zombies (here until we, their subreaper, reap them): restore waits."""
    h = free_host_pids(3)

    def mutate(cfg):
        no_pidns(cfg)
        cfg["minirun"] = {"pids": {"host": h[0]}, "processes": [
            {"name": "a", "pids": {"host": h[1]}, "args": ["sleep", "1000"]},
            {"name": "b", "parent": "a", "pids": {"host": h[2]}, "args": ["sleep", "1000"]}]}

    cid, b = start(mr, ["sleep", "1000"], mutate)
    pins_before = json.loads(mr.cmd("ps", "--format", "pins", cid, check=True).stdout)
    img = tmp_path / "img"
    pids = container_pids(mr, cid)
    assert sorted(pids) == sorted(h)
    r = mr.cmd("checkpoint", "--image-path", img, cid, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    # the zombies are ours: restore must wait for them, then succeed
    err = tmp_path / "restore.err"
    mr.created.add(cid)
    with open(err, "w") as fe:
        p = subprocess.Popen([MINIRUN, "--root", mr.root, "--debug", "restore", "-d", "--image-path", img, "-b", b,
                              cid], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=fe)
        wait_until(lambda: f"waiting for pid {h[0]}" in err.read_text() or p.poll() is not None,
                   what="restore to wait for the zombie")
        assert p.poll() is None, err.read_text()
        for pid in pids:
            reap(pid)
        assert p.wait(TIMEOUT) == 0, err.read_text()
    assert sorted(container_pids(mr, cid)) == sorted(h)
    assert json.loads(mr.cmd("ps", "--format", "pins", cid, check=True).stdout) == pins_before
    assert ppid(h[2]) == h[1] and ppid(h[1]) == h[0]


def test_host_pin_with_a_pid_namespace_is_refused_then_restored_without_it(mr, criu, tmp_path):
    h = free_host_pids(1)[0]

    def pinned(cfg):
        cfg["minirun"] = {"pids": {"host": h, "container": 1}}

    cid, b = start(mr, ["sh", "-c", COUNTER], pinned)
    wait_until(lambda: count(mr, cid), what="the counter")
    img = tmp_path / "img"
    checkpoint(mr, cid, img)
    r = restore(mr, b, cid, img, check=False)
    assert r.returncode == 1
    assert f'process "init": the bundle pins host pid {h}' in r.stderr and "cannot honour" in r.stderr, r.stderr
    assert_nothing_left(mr, cid)
    # the same bundle without the host pin: the container pins hold
    cfg = json.loads((b / "config.json").read_text())
    cfg["minirun"] = {"pids": {"container": 1}}
    b2 = mr.bundle(config=cfg)
    restore(mr, b2, cid, img)
    st = mr.state(cid)
    assert nspid(st["pid"])[-1] == 1 and st["minirun"]["processes"][0]["pins"] == "container=1"


def test_nested_pid_namespaces_are_refused_before_dumping(mr, criu, tmp_path):
    def mutate(cfg):
        cfg["minirun"] = {"pidNamespaces": {"inner": {"parent": "container"}}, "processes": [
            {"name": "inner-init", "pidNamespace": "inner", "pids": {"inner": 1, "container": 20},
             "args": ["sleep", "1000"]}]}

    cid, b = start(mr, ["sh", "-c", COUNTER], mutate)
    img = tmp_path / "img"
    r = checkpoint(mr, cid, img, check=False)
    assert r.returncode == 1
    assert 'process "inner-init"' in r.stderr and "nested" in r.stderr and '"inner"' in r.stderr, r.stderr
    assert not (img / "inventory.img").exists()
    assert mr.state(cid)["status"] == "running"
    n = wait_until(lambda: count(mr, cid), what="the counter")
    wait_until(lambda: (count(mr, cid) or 0) > n, what="the counter to go on (not frozen)")


# ---------------------------------------------------------------- CRIU options


def test_tcp_connection_goes_on_with_tcp_established(mr, criu, tmp_path):
    """A listener and an established connection inside the container: the
    checkpoint is refused without --tcp-established (the container runs on),
    and with it the same connection carries on after restore, while the
    listener still accepts new ones."""
    script = ("nc -ll -p 5000 -e /bin/cat & sleep 0.3; i=0; "
              "while :; do i=$((i+1)); echo $i; sleep 0.05; done | nc 127.0.0.1 5000 > /dev/shm/recv")
    cid, b = start(mr, ["sh", "-c", script])

    def received():
        r = mr.cmd("exec", cid, "tail", "-n", "1", "/dev/shm/recv")
        return int(r.stdout) if r.returncode == 0 and r.stdout.strip().isdigit() else None

    n = wait_until(received, what="data through the connection")
    img = tmp_path / "img"
    r = checkpoint(mr, cid, img, check=False)
    assert r.returncode == 1 and "--tcp-established" in r.stderr, r.stderr
    wait_until(lambda: (received() or 0) > n, what="the connection to go on after the refused checkpoint")
    checkpoint(mr, cid, img, "--tcp-established")
    restore(mr, b, cid, img, "--tcp-established")
    n = wait_until(received, what="the restored connection")
    wait_until(lambda: (received() or 0) > n, what="data through the restored connection")
    r = mr.cmd("exec", cid, "sh", "-c", "echo hello | nc -w 2 127.0.0.1 5000", check=True)
    assert r.stdout == "hello\n"


def test_leave_running_and_two_restores_from_one_image(mr, criu, tmp_path):
    cid, b = start(mr, ["sh", "-c", COUNTER])
    n = wait_until(lambda: count(mr, cid), what="the counter")
    pid = mr.state(cid)["pid"]
    img = tmp_path / "img"
    checkpoint(mr, cid, img, "--leave-running")
    st = mr.state(cid)
    assert st["status"] == "running" and st["pid"] == pid
    wait_until(lambda: (count(mr, cid) or 0) > n, what="the original to go on")
    copies = [f"{cid}-r{i}" for i in (1, 2)]
    for c in copies:
        restore(mr, b, c, img, "--pid-file", tmp_path / f"{c}.pid")
    for c in copies:
        assert mr.state(c)["status"] == "running"
        assert int((tmp_path / f"{c}.pid").read_text()) == mr.state(c)["pid"]
        v = wait_until(lambda: count(mr, c), what=f"the counter of {c}")
        assert v >= n
        wait_until(lambda: (count(mr, c) or 0) > v, what=f"the counter of {c} to move")
        assert cgroup_dirs(f"/minirun/{c}"), f"no cgroup for {c}"
        assert set(container_pids(mr, c)).isdisjoint(container_pids(mr, cid))
    for c in [cid] + copies:
        pids = state_pids(mr, c)
        mr.cmd("delete", "--force", c, check=True)
        assert_nothing_left(mr, c, pids)


def test_checkpoint_of_a_paused_container(mr, criu, tmp_path):
    cid, b = start(mr, ["sh", "-c", COUNTER])
    wait_until(lambda: count(mr, cid), what="the counter")
    mr.cmd("pause", cid, check=True)
    checkpoint(mr, cid, tmp_path / "keep", "--leave-running")
    assert mr.state(cid)["status"] == "paused", "--leave-running thawed a paused container"
    checkpoint(mr, cid, tmp_path / "img")
    assert_nothing_left(mr, cid)
    restore(mr, b, cid, tmp_path / "img")
    assert mr.state(cid)["status"] == "running"
    n = wait_until(lambda: count(mr, cid), what="the restored counter")
    wait_until(lambda: (count(mr, cid) or 0) > n, what="the restored counter to move")


def test_pre_dump_and_parent_path_need_dirty_memory_tracking(mr, criu, tmp_path):
    tracks = subprocess.run([criu, "check", "--feature", "mem_dirty_track"], capture_output=True).returncode == 0
    cid, b = start(mr, ["sh", "-c", COUNTER])
    n = wait_until(lambda: count(mr, cid), what="the counter")
    img = tmp_path / "img"
    if not tracks:
        for extra in (["--pre-dump"], ["--parent-path", "../pre"]):
            (tmp_path / "pre").mkdir(exist_ok=True)
            r = checkpoint(mr, cid, img, *extra, check=False)
            assert r.returncode == 1 and extra[0] in r.stderr and "dirty" in r.stderr, r.stderr
        assert mr.state(cid)["status"] == "running"
        wait_until(lambda: (count(mr, cid) or 0) > n, what="the counter to go on")
        return
    checkpoint(mr, cid, tmp_path / "pre", "--pre-dump")
    assert mr.state(cid)["status"] == "running"
    checkpoint(mr, cid, img, "--parent-path", "../pre")
    restore(mr, b, cid, img)
    assert (count(mr, cid) or 0) >= n


def test_terminal_restore_hands_the_new_pty_to_the_console_socket(mr, criu, tmp_path):
    from test_terminal import ConsoleSocket, read_until

    def mutate(cfg):
        cfg["process"]["terminal"] = True
        cfg["process"]["args"] = ["sh"]

    console = ConsoleSocket(tmp_path / "console.sock")
    cid = f"cr-{uuid.uuid4().hex[:8]}"
    b = mr.bundle(mutate=mutate)
    mr.created.add(cid)
    assert mr.detached("run", "-d", "-b", b, "--console-socket", console.path, cid).returncode == 0
    master, _ = console.receive()
    os.write(master, b"x=41; echo ready-$((x+1))\n")
    read_until(master, b"ready-42")
    checkpoint(mr, cid, tmp_path / "img")
    os.close(master)
    r = restore(mr, b, cid, tmp_path / "img", "--console-socket", console.path)
    master, msg = console.receive()
    try:
        assert msg.rstrip(b"\0").startswith(b"/dev/pts/"), msg
        os.write(master, b"echo again-$((x+1))\n")  # the shell's variable came back
        read_until(master, b"again-42")
    finally:
        os.close(master)
        console.close()
    assert r.returncode == 0


# ---------------------------------------------------------------- bad input


def test_restore_from_a_missing_image_directory(mr, criu, tmp_path):
    b = mr.bundle(["sleep", "1000"])
    r = restore(mr, b, "missing", tmp_path / "nowhere", check=False)
    assert r.returncode == 1 and f"--image-path `{tmp_path / 'nowhere'}`" in r.stderr, r.stderr
    assert_nothing_left(mr, "missing")
    os.mkdir(tmp_path / "empty")
    r = restore(mr, b, "empty", tmp_path / "empty", check=False)
    assert r.returncode == 1 and "holds no CRIU checkpoint" in r.stderr, r.stderr
    assert_nothing_left(mr, "empty")


def test_restore_from_a_corrupt_image_leaves_nothing(mr, criu, tmp_path):
    cid, b = start(mr, ["sh", "-c", COUNTER])
    wait_until(lambda: count(mr, cid), what="the counter")
    img = tmp_path / "img"
    checkpoint(mr, cid, img)
    # minirun's record damaged
    bad = tmp_path / "bad-record"
    shutil.copytree(img, bad)
    (bad / "minirun.json").write_text("{ not json")
    r = restore(mr, b, cid, bad, check=False)
    assert r.returncode == 1 and "minirun.json is corrupt" in r.stderr, r.stderr
    assert_nothing_left(mr, cid)
    # CRIU's own images damaged: CRIU fails, minirun undoes everything
    bad = tmp_path / "bad-images"
    shutil.copytree(img, bad)
    for name in os.listdir(bad):
        if name.startswith(("pstree", "core-")):
            (bad / name).write_bytes(b"\xff" * 64)
    r = restore(mr, b, cid, bad, check=False)
    assert r.returncode == 1 and "CRIU restore failed" in r.stderr and "restore.log" in r.stderr, r.stderr
    assert_nothing_left(mr, cid)
    # the good image still restores
    restore(mr, b, cid, img)
    assert mr.state(cid)["status"] == "running"


def test_an_image_from_another_bundle_is_refused(mr, criu, tmp_path):
    cid, b = start(mr, ["sh", "-c", COUNTER])
    wait_until(lambda: count(mr, cid), what="the counter")
    img = tmp_path / "img"
    checkpoint(mr, cid, img)
    other = mr.bundle(["sleep", "1000"])
    r = restore(mr, other, cid, img, check=False)
    assert r.returncode == 1 and "process.args" in r.stderr and str(other) in r.stderr, r.stderr
    assert_nothing_left(mr, cid)


def test_a_restore_whose_pins_are_taken_names_the_pid(mr, criu, tmp_path):
    h = free_host_pids(2)

    def mutate(cfg):
        no_pidns(cfg)
        cfg["minirun"] = {"pids": {"host": h[0]},
                          "processes": [{"name": "w", "pids": {"host": h[1]}, "args": ["sleep", "1000"]}]}

    cid, b = start(mr, ["sleep", "1000"], mutate)
    img = tmp_path / "img"
    checkpoint(mr, cid, img, "--leave-running")
    copy_id = f"{cid}-copy"
    r = restore(mr, b, copy_id, img, check=False)
    assert r.returncode == 1
    assert f"pid {h[0]}" in r.stderr and "is in use" in r.stderr and "--leave-running" in r.stderr, r.stderr
    assert_nothing_left(mr, copy_id)
    assert sorted(container_pids(mr, cid)) == sorted(h)


def test_what_cannot_be_checkpointed_or_asked_is_refused(mr, criu, tmp_path):
    b = mr.bundle(["sleep", "1000"])
    cid = "created-only"
    mr.created.add(cid)
    assert mr.detached("create", "-b", b, cid).returncode == 0
    r = checkpoint(mr, cid, tmp_path / "img", check=False)
    assert r.returncode == 1 and "it is created" in r.stderr, r.stderr
    r = checkpoint(mr, "no-such", tmp_path / "img", check=False)
    assert r.returncode == 1 and "does not exist" in r.stderr, r.stderr
    for cmd, flags, words in [
        ("restore", ["--no-pivot"], "--no-pivot cannot be honoured"),
        ("restore", ["--lsm-profile", "x"], "no LSM"),
        ("checkpoint", ["--lazy-pages"], "--lazy-pages is not supported"),
        ("checkpoint", ["--status-fd", "5"], "--status-fd"),
        ("checkpoint", ["--page-server", "1.2.3.4:5"], "--page-server"),
        ("checkpoint", ["--empty-ns", "pid"], "only `network`"),
        ("checkpoint", ["--manage-cgroups-mode", "bogus"], "expected soft, full, strict or ignore"),
    ]:
        r = mr.cmd(cmd, *flags, cid)
        assert r.returncode == 1 and words in r.stderr, (flags, r.stderr)
    r = checkpoint(mr, cid, tmp_path / "img", "--parent-path", "/abs", check=False)
    assert r.returncode == 1


def test_a_container_without_a_mount_namespace_is_refused(mr, criu, tmp_path):
    def mutate(cfg):
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "mount"]
        cfg["mounts"] = [m for m in cfg["mounts"] if m["destination"] in ("/proc",)]
        cfg["linux"].pop("maskedPaths", None)
        cfg["linux"].pop("readonlyPaths", None)

    cid, b = start(mr, ["sleep", "1000"], mutate)
    r = checkpoint(mr, cid, tmp_path / "img", check=False)
    assert r.returncode == 1 and "no mount namespace of its own" in r.stderr, r.stderr
    assert mr.state(cid)["status"] == "running"


def test_without_libcriu_both_commands_say_so(mr, tmp_path):
    """A minirun built without libcriu (cmake -DMINIRUN_CRIU=OFF, or no CRIU
    found): the commands and their --help exit 1 saying so (podman reads
    `checkpoint --help` to know whether a runtime can checkpoint)."""
    feats = json.loads(mr.cmd("features", check=True).stdout)
    if feats["minirun"]["checkpointRestore"]["builtIn"]:
        pytest.skip("this minirun has checkpoint/restore built in; a build without libcriu is needed for this check")
    assert feats["annotations"]["org.opencontainers.runc.checkpoint.enabled"] == "false"
    for cmd in ("checkpoint", "restore"):
        r = mr.cmd(cmd, "some-id")
        assert r.returncode == 1 and "built without libcriu" in r.stderr, r.stderr
        r = mr.cmd(cmd, "--help")
        assert r.returncode == 1 and "NOT built in" in r.stdout, r.stdout


# ---------------------------------------------------------------- mounts, cgroups, namespaces


@pytest.mark.parametrize("mode", ["soft", "full", "strict", "ignore"])
def test_restored_processes_are_in_the_new_containers_cgroup(mr, criu, tmp_path, mode):
    """Whatever --manage-cgroups-mode, the restored tree lives in the new
    container's cgroup in every hierarchy (with `ignore` CRIU leaves it where
    the restoring process is: minirun restores from inside that cgroup), and
    the container's /sys/fs/cgroup shows that cgroup."""
    cid, b = start(mr, ["sh", "-c", COUNTER])
    wait_until(lambda: count(mr, cid), what="the counter")
    img = tmp_path / "img"
    checkpoint(mr, cid, img, "--manage-cgroups-mode", mode)
    new = f"{cid}-{mode}"
    if mode == "strict":
        # CRIU's strict mode aborts on a cgroup that exists, and minirun makes
        # the container's first (with its limits): refused before anything
        r = restore(mr, b, new, img, "--manage-cgroups-mode", mode, check=False)
        assert r.returncode == 1 and "strict" in r.stderr and "use soft" in r.stderr, r.stderr
        assert_nothing_left(mr, new)
        return
    restore(mr, b, new, img, "--manage-cgroups-mode", mode)
    pids = container_pids(mr, new)
    assert len(pids) >= 2, pids  # the loop and its sleep 1000, at least
    checked = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/cgroup") as f:
                paths = [line.rstrip("\n").split(":", 2)[2] for line in f]
        except (FileNotFoundError, ProcessLookupError):
            continue  # the loop's `sleep 1` of the moment, gone since the list was taken
        assert paths and all(x == f"/minirun/{new}" for x in paths), (p, paths)
        checked += 1
    assert checked >= 2, (pids, checked)  # the loop and its sleep 1000 are always there
    with open(f"/proc/{os.getpid()}/cgroup") as f:
        assert f"/minirun/{new}" not in f.read()
    # the container's view: its pids hierarchy on v1, its one cgroup on v2
    procs = "/sys/fs/cgroup/cgroup.procs" if CGROUP_V2 else "/sys/fs/cgroup/pids/cgroup.procs"
    r = mr.cmd("exec", new, "cat", procs, check=True)
    assert len(r.stdout.split()) >= 2, r.stdout


def test_bind_mounts_come_from_the_restoring_bundle_and_paths_stay_masked(mr, criu, tmp_path):
    """A config bind mount is external to CRIU: the restored container gets
    the bundle's source at the same destination (a new bundle may move it, as
    podman's --import does); masked and read-only paths are as they were."""
    a, b_dir = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b_dir.mkdir()
    (a / "who").write_text("a\n")
    (b_dir / "who").write_text("b\n")

    def bind(src):
        def mutate(cfg):
            cfg["mounts"].append({"destination": "/data", "type": "bind", "source": str(src),
                                  "options": ["rbind", "rw"]})
        return mutate

    cid, bundle = start(mr, ["sh", "-c", COUNTER], bind(a))
    assert mr.cmd("exec", cid, "cat", "/data/who", check=True).stdout == "a\n"
    img = tmp_path / "img"
    checkpoint(mr, cid, img)
    other = mr.bundle(["sh", "-c", COUNTER], mutate=bind(b_dir))
    restore(mr, other, cid, img)
    assert mr.cmd("exec", cid, "cat", "/data/who", check=True).stdout == "b\n"
    mr.cmd("exec", cid, "sh", "-c", "echo written > /data/new", check=True)
    assert (b_dir / "new").read_text() == "written\n"
    # masked: /proc/keys (a file: /dev/null over it), /proc/acpi (a directory: an empty tmpfs)
    assert mr.cmd("exec", cid, "cat", "/proc/keys", check=True).stdout == ""
    assert mr.cmd("exec", cid, "ls", "-A", "/proc/acpi", check=True).stdout == ""
    r = mr.cmd("exec", cid, "sh", "-c", "echo 1 > /proc/sys/kernel/ns_last_pid")
    assert r.returncode != 0 and "Read-only" in r.stderr, r.stderr
    r = mr.cmd("exec", cid, "touch", "/bin/new-file")
    assert r.returncode != 0, "root.readonly is lost"


def test_a_network_namespace_joined_by_path_is_joined_again(mr, criu, tmp_path):
    name = f"mrcr-{uuid.uuid4().hex[:8]}"
    if subprocess.run(["ip", "netns", "add", name], capture_output=True).returncode != 0:
        pytest.skip("`ip netns add` does not work here")
    try:
        path = f"/run/netns/{name}"

        def mutate(cfg):
            cfg["linux"]["namespaces"] = [n if n["type"] != "network" else {"type": "network", "path": path}
                                          for n in cfg["linux"]["namespaces"]]

        cid, b = start(mr, ["sh", "-c", COUNTER], mutate)
        img = tmp_path / "img"
        checkpoint(mr, cid, img)
        restore(mr, b, cid, img)
        pid = mr.state(cid)["pid"]
        assert os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(path).st_ino
        pids = state_pids(mr, cid)
        mr.cmd("delete", "--force", cid, check=True)
        assert_nothing_left(mr, cid, pids)
    finally:
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


def test_the_criu_binary_comes_from_criu_flag_or_environment(mr, criu, tmp_path):
    cid, b = start(mr, ["sh", "-c", COUNTER])
    n = wait_until(lambda: count(mr, cid), what="the counter")
    img = tmp_path / "img"
    r = mr.cmd("--criu", "/nonexistent/criu", "checkpoint", "--image-path", img, cid)
    assert r.returncode == 1 and "`/nonexistent/criu` is not there or not executable" in r.stderr, r.stderr
    r = mr.cmd("checkpoint", "--image-path", img, cid, env={**os.environ, "MINIRUN_CRIU": "/bin/true"})
    assert r.returncode == 1 and "does not answer a version request" in r.stderr, r.stderr
    assert mr.state(cid)["status"] == "running"
    wait_until(lambda: (count(mr, cid) or 0) > n, what="the counter to go on")
    # the real one, by flag
    pids = container_pids(mr, cid)
    r = mr.cmd("--criu", criu, "checkpoint", "--image-path", img, cid, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    for p in pids:
        reap(p)


REAPER = """
import os, time
while True:
    try:
        os.wait()
    except ChildProcessError:
        time.sleep(0.05)
"""


def test_a_pid_namespace_joined_by_path_gets_the_same_pids_back(mr, criu, tmp_path):
    """A pid namespace given by path is external to CRIU: the restored
    processes go back into it at their pids there (the init pinned at 50); a
    pid still in use there is refused by name, a zombie waited for."""
    holder = subprocess.Popen(["unshare", "--pid", "--fork", "--kill-child", "/usr/bin/python3", "-c", REAPER],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        init = wait_until(lambda: open(f"/proc/{holder.pid}/task/{holder.pid}/children").read().split(),
                          what="the namespace's init")[0]
        path = f"/proc/{init}/ns/pid"

        def mutate(cfg):
            cfg["linux"]["namespaces"] = [n if n["type"] != "pid" else {"type": "pid", "path": path}
                                          for n in cfg["linux"]["namespaces"]]
            cfg["minirun"] = {"pids": {"container": 50}}

        cid, b = start(mr, ["sh", "-c", COUNTER], mutate)
        img = tmp_path / "img"
        checkpoint(mr, cid, img, "--leave-running")
        r = restore(mr, b, f"{cid}-copy", img, check=False)
        assert r.returncode == 1 and "pid 50" in r.stderr and "in use in the joined pid namespace" in r.stderr, \
            r.stderr
        assert_nothing_left(mr, f"{cid}-copy")
        pids = state_pids(mr, cid)
        mr.cmd("delete", "--force", cid, check=True)
        restore(mr, b, cid, img)
        pid = mr.state(cid)["pid"]
        assert nspid(pid)[-1] == 50 and os.stat(f"/proc/{pid}/ns/pid").st_ino == os.stat(path).st_ino
        assert pid not in pids
        n = wait_until(lambda: count(mr, cid), what="the restored counter")
        wait_until(lambda: (count(mr, cid) or 0) > n, what="the restored counter to move")
        mr.cmd("delete", "--force", cid, check=True)
    finally:
        holder.kill()
        holder.wait()
        if "init" in locals():
            reap(int(init))
