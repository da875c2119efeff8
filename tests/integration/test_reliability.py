"""Reliability: minirun under concurrency, over many cycles, and with a
hostile state root.

- Concurrency: 16 racers loop over random create / run -d / start / kill /
  delete (--force) / state / list on the same 4 ids; 200 containers created
  and deleted in parallel.  No command may crash, hang or say something
  undocumented, and nothing may be left afterwards.
- Soak (bounded for CI; tests/soak/soak.py is the full one and holds the
  shared code): create/start/state/delete cycles with a pinned init, measuring
  fds, mounts, cgroups, state entries, processes and minirun's peak RSS.
- Hostile state roots: read-only, full (blocks, inodes), a corrupt state.json,
  a root on another filesystem (tmpfs).

The racing tests spawn through soak.Runner, which reaps every child of this
process (a child subreaper, see conftest): commands with their status, and
the container inits re-parented to us.
"""
import collections
import concurrent.futures
import contextlib
import errno
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

from conftest import MINIRUN, REPO, cgroup_dirs, reap

sys.path.insert(0, os.path.join(REPO, "tests", "soak"))
import soak  # noqa: E402
from soak import Runner, minirun_processes, our_children  # noqa: E402

CMD_TIMEOUT = 20


def tag():
    return uuid.uuid4().hex[:8]


def reap_children(timeout=5.0, expected=()):
    """Reap our dead children (container processes re-parented to us) until
    none but `expected` is left or `timeout`; return the pids of those still
    alive."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            while os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG):
                pass
        except ChildProcessError:
            pass
        alive = our_children()
        if not set(alive) - set(expected) or time.monotonic() > deadline:
            return alive
        time.sleep(0.01)


def processes_mentioning(needle):
    """minirun processes (created inits that have not exec'd yet, hung commands) whose command line names `needle`."""
    found = []
    for pid in minirun_processes():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if needle.encode() in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def assert_nothing_left(root, cid, children_before=()):
    assert not os.path.exists(os.path.join(str(root), cid)), f"state directory of {cid} left behind"
    assert cgroup_dirs(f"/minirun/{cid}") == [], f"cgroup of {cid} left behind"
    assert processes_mentioning(cid) == [], f"a minirun process of {cid} is left"
    left = set(reap_children(expected=children_before)) - set(children_before)
    assert not left, f"container processes left behind: {sorted(left)}"


# ------------------------------------------------------------------ concurrency

# (operation, weight) of the racers' random choice
RACE_OPS = [("create", 3), ("run-d", 1), ("start", 2), ("kill-KILL", 2), ("kill", 1), ("delete-force", 3),
            ("delete", 1), ("state", 2), ("list", 1)]

# What a racer may be told (the id is replaced by ID): each documented in docs/cli.md or the code's messages.
DOCUMENTED_ERRORS = [re.compile(p) for p in (
    r"container `ID` already exists \(state in ROOT/ID\)",
    r"container `ID` does not exist",
    r"container `ID` is not running",
    r"cannot start container `ID`: it is (creating|running|paused|stopped), not created",
    r"container `ID` is still being created \(no state yet\)",
    r"cannot delete container `ID`: it is (running|paused) \(stop it first, or use --force\)",
    # a racer killed the waiting init between start's status check and its connect
    r"start `ID`: the container's init is not waiting for start: Connection refused",
)]


def race_argv(op, cid, bundle):
    return {"create": ("create", "-b", bundle, cid), "run-d": ("run", "-d", "-b", bundle, cid),
            "start": ("start", cid), "kill-KILL": ("kill", cid, "KILL"), "kill": ("kill", cid),
            "delete-force": ("delete", "--force", cid), "delete": ("delete", cid), "state": ("state", cid),
            "list": ("list", "--format", "json")}[op]


def normalised(stderr, ids, root):
    """The stderr lines of a command with ids and root replaced by ID and ROOT."""
    lines = []
    for line in stderr.splitlines():
        norm = line.replace(str(root), "ROOT")
        for cid in ids:
            norm = norm.replace(cid, "ID")
        lines.append(norm)
    return lines


def test_racing_commands_on_shared_ids(mr):
    """16 racers, ~3 s each, random lifecycle commands on the same 4 ids;
    then `delete --force` of each id leaves nothing."""
    ids = [f"race{i}-{tag()}" for i in range(4)]
    mr.created.update(ids)
    bundle = str(mr.bundle(["sleep", "1000"]))
    children_before = reap_children(timeout=0)
    ops = [op for op, w in RACE_OPS for _ in range(w)]
    results = []
    results_lock = threading.Lock()

    def racer(seed, runner):
        rnd = random.Random(seed)
        mine = []
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            op, cid = rnd.choice(ops), rnd.choice(ids)
            mine.append((op, runner.run(*race_argv(op, cid, bundle), timeout=CMD_TIMEOUT)))
        with results_lock:
            results.extend(mine)

    try:
        with Runner(mr.root, mr.tmp) as runner:
            threads = [threading.Thread(target=racer, args=(n, runner)) for n in range(16)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=CMD_TIMEOUT + 10)
            assert not any(t.is_alive() for t in threads), "a racer did not finish"
            finals = [runner.run("delete", "--force", cid, timeout=CMD_TIMEOUT) for cid in ids]
            runner.reap_now()

        by_op = collections.Counter()
        ok_by_op = collections.Counter()
        problems, seen = [], collections.Counter()
        for op, r in results + [("final-delete", f) for f in finals]:
            by_op[op] += 1
            if r.hung:
                problems.append(f"hung (> {CMD_TIMEOUT} s): {r!r}")
            elif r.returncode not in (0, 1):
                problems.append(f"crashed or exited with neither 0 nor 1: {r!r}")
            elif r.returncode == 0:
                ok_by_op[op] += 1
            for line in normalised(r.stderr, ids, mr.root):
                seen[(op, line)] += 1
        print(f"{len(results)} racing commands: " + ", ".join(f"{op} {ok_by_op[op]}/{n} ok" for op, n in by_op.items()))
        slow = sorted(results, key=lambda x: -x[1].duration)[:3]
        print("slowest: " + ", ".join(f"{op} {r.duration:.2f} s" for op, r in slow))
        for (op, line), n in sorted(seen.items()):
            documented = any(p.search(line) for p in DOCUMENTED_ERRORS)
            print(f"  {n:4}x {op}: {line}" + ("" if documented else "   <-- UNEXPECTED"))
            if not documented:
                problems.append(f"undocumented message ({n}x) from {op}: {line}")
        for f in finals:
            if f.returncode != 0 and "does not exist" not in f.stderr:
                problems.append(f"final delete --force failed: {f!r}")
        # the race did race: containers were created and deleted
        if ok_by_op["create"] + ok_by_op["run-d"] == 0 or ok_by_op["delete-force"] == 0:
            problems.append(f"no container was created or deleted: {dict(ok_by_op)}")
        for cid in ids:
            if os.path.exists(os.path.join(mr.root, cid)):
                problems.append(f"{cid}: state directory left behind")
            if cgroup_dirs(f"/minirun/{cid}"):
                problems.append(f"{cid}: cgroup left behind: {cgroup_dirs(f'/minirun/{cid}')[:1]}...")
            if processes_mentioning(cid):
                problems.append(f"{cid}: minirun process left: {processes_mentioning(cid)}")
        left = set(reap_children(expected=children_before)) - set(children_before)
        if left:
            problems.append(f"container processes left behind: {sorted(left)}")
        assert problems == [], "\n".join(problems)
    finally:
        for cid in ids:
            kill_leftovers(cid, 0)


def test_create_racing_delete_force_and_create(mr):
    """Rounds of `create X`, `delete --force X` and `create X` started
    together, then `delete --force X` (~6 s): every create succeeds or says
    `already exists`, and after each round nothing is left.  (A `delete
    --force` that runs between a create's mkdir of the state directory and
    its lock sees "no state file" and removes the directory under it.)"""
    cid = f"trio-{tag()}"
    mr.created.add(cid)
    bundle = str(mr.bundle(["sleep", "1000"]))
    children_before = reap_children(timeout=0)
    allowed = {"create": re.compile(r"container `ID` already exists"),
               "delete": re.compile(r"container `ID` does not exist")}
    problems, leaked, rounds = [], False, 0
    try:
        with Runner(mr.root, mr.tmp) as runner, concurrent.futures.ThreadPoolExecutor(3) as pool:
            deadline = time.monotonic() + 6
            while time.monotonic() < deadline and not leaked:  # on after a bad message, to see what it leads to
                rounds += 1
                cmds = [("create", "-b", bundle, cid), ("delete", "--force", cid), ("create", "-b", bundle, cid)]
                results = list(pool.map(lambda a: runner.run(*a), cmds))
                results.append(runner.run("delete", "--force", cid))
                runner.reap_now()
                for r in results:
                    if r.hung or r.returncode not in (0, 1):
                        problems.append(f"round {rounds}: crashed or hung: {r!r}")
                    for line in normalised(r.stderr, [cid], mr.root):
                        if not allowed[r.args[0]].search(line):
                            if not any(line in p for p in problems):
                                problems.append(f"round {rounds}: `{' '.join(r.args[:2])}` said: {line}")
                if os.path.exists(os.path.join(mr.root, cid)):
                    problems.append(f"round {rounds}: state directory left after delete --force")
                    leaked = True
                if cgroup_dirs(f"/minirun/{cid}"):
                    problems.append(f"round {rounds}: cgroup /minirun/{cid} (with its processes) left after the "
                                    f"final delete --force: no state refers to it any more")
                    leaked = True
        left = set(reap_children(timeout=1, expected=children_before)) - set(children_before)
        if left:
            problems.append(f"container processes left behind: {sorted(left)}")
        print(f"{rounds} rounds")
        assert problems == [], "\n".join(problems)
    finally:
        kill_leftovers(cid, 0)


def test_200_containers_in_parallel(mr):
    """200 `run -d` by 16 workers, then 200 `delete --force` by 16 workers."""
    t = tag()
    ids = [f"par-{t}-{i:03d}" for i in range(200)]
    mr.created.update(ids)
    bundle = str(mr.bundle(["sleep", "1000"]))
    children_before = reap_children(timeout=0)
    with Runner(mr.root, mr.tmp) as runner, concurrent.futures.ThreadPoolExecutor(16) as pool:
        t0 = time.monotonic()
        created = list(pool.map(lambda c: runner.run("run", "-d", "-b", bundle, c), ids))
        t_create = time.monotonic() - t0
        listed = runner.run("list", "--format", "json")
        t0 = time.monotonic()
        deleted = list(pool.map(lambda c: runner.run("delete", "--force", c), ids))
        t_delete = time.monotonic() - t0
        after = runner.run("list", "-q")
        runner.reap_now()
    print(f"200 run -d in {t_create:.1f} s, 200 delete --force in {t_delete:.1f} s")
    bad = [r for r in created if r.hung or r.returncode != 0 or r.stderr]
    assert bad == [], f"{len(bad)} creates failed, e.g. {bad[:3]}"
    assert listed.returncode == 0 and listed.stderr == ""
    entries = json.loads(listed.stdout)
    counts = collections.Counter(e["id"] for e in entries)
    assert sorted(counts) == ids and set(counts.values()) == {1}, "list must show each container exactly once"
    assert {e["status"] for e in entries} == {"running"}
    assert len({e["pid"] for e in entries}) == 200
    bad = [r for r in deleted if r.hung or r.returncode != 0 or r.stderr]
    assert bad == [], f"{len(bad)} deletes failed, e.g. {bad[:3]}"
    assert after.returncode == 0 and after.stdout == "" and after.stderr == ""
    assert os.listdir(mr.root) == []
    assert [d for cid in ids for d in cgroup_dirs(f"/minirun/{cid}")] == []
    left = set(reap_children(expected=children_before)) - set(children_before)
    assert not left, f"container processes left behind: {sorted(left)}"


# ------------------------------------------------------------------ soak

def test_soak_pinned_cycles(tmp_path):
    """150 create/start/state/delete cycles, the init pinned at a free host
    pid (container pid 1): nothing grows (tests/soak/soak.py: 1000 cycles)."""
    root = str(tmp_path / "state")
    prefix = f"soak-{tag()}"
    with Runner(root, tmp_path) as runner:
        runner.run("state", "warm-up")
        fig, bad = soak.soak_checked(runner, root, str(tmp_path), 150, prefix)
    print(soak.report(fig))
    # no timing assertion: on a loaded machine (or under ASan) the duration
    # says nothing about minirun; bench/ measures time
    assert bad == [], "\n".join(bad)


# ------------------------------------------------------------------ hostile state roots

def at(root, *args, timeout=30):
    """minirun --root ROOT ARGS, stdio in files (a detached container keeps them open)."""
    argv = [MINIRUN, "--root", str(root)] + [str(a) for a in args]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        rc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, timeout=timeout).returncode
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(argv, rc, out.read(), err.read())


def delete_at(root, cid):
    """delete --force, then reap the container's processes (re-parented to us)."""
    st = at(root, "state", cid)
    pids = []
    if st.returncode == 0:
        data = json.loads(st.stdout)
        pids = [data["pid"]] + [p["pid"] for p in data.get("minirun", {}).get("processes", [])]
    r = at(root, "delete", "--force", cid)
    for pid in pids:
        if pid:
            reap(pid)
    return r


@contextlib.contextmanager
def tmpfs(path, options):
    """A tmpfs mounted at `path` (created), unmounted whatever happens."""
    os.makedirs(path)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "minirun-reliability", str(path)], check=True)
    try:
        yield str(path)
    finally:
        if subprocess.run(["umount", str(path)]).returncode != 0:
            subprocess.run(["umount", "-l", str(path)], check=True)
        os.rmdir(path)


def test_read_only_state_root(mr, tmp_path):
    bundle = mr.bundle(["sleep", "1000"])
    before = reap_children(timeout=0)
    ro = tmp_path / "ro"
    with tmpfs(ro, "size=1m,mode=0700") as root:
        subprocess.run(["mount", "-o", "remount,ro", root], check=True)
        cid = f"ro-{tag()}"
        # the root itself read-only, then a root still to be made in it
        for state_root, named in ((root, f"{root}/{cid}"), (f"{root}/sub", f"{root}/sub")):
            r = at(state_root, "run", "-d", "-b", bundle, cid)
            assert r.returncode == 1, r
            assert named in r.stderr and "Read-only file system" in r.stderr, r.stderr
            assert r.stderr.count("\n") == 1, f"one clear message expected: {r.stderr}"
            assert_nothing_left(state_root, cid, before)
        r = at(root, "list", "-q")
        assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def fill(path):
    """Write to `path` until the filesystem says ENOSPC."""
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"x" * 4096)
        except OSError as e:
            assert e.errno == errno.ENOSPC, e
        try:
            while True:
                f.write(b"x")
        except OSError as e:
            assert e.errno == errno.ENOSPC, e


def test_full_state_root(mr, tmp_path):
    """No space (blocks, then inodes) in the state root: `run` fails with
    ENOSPC naming the container, leaves nothing, and a container created
    before the disk filled up stays readable and deletable."""
    bundle = mr.bundle(["sleep", "1000"])
    with tmpfs(tmp_path / "full", "size=64k,mode=0700") as root:
        old = f"old-{tag()}"
        try:
            assert at(root, "run", "-d", "-b", bundle, old).returncode == 0
            before = reap_children(timeout=0)  # with the old container's init
            fill(os.path.join(root, ".filler"))
            assert os.statvfs(root).f_bavail == 0
            cid = f"full-{tag()}"
            r = at(root, "run", "-d", "-b", bundle, cid)
            assert r.returncode == 1, r
            assert "No space left on device" in r.stderr and f"`{cid}`" in r.stderr, r.stderr
            assert_nothing_left(root, cid, before)
            st = at(root, "state", old)
            assert st.returncode == 0 and json.loads(st.stdout)["status"] == "running", st
            ls = at(root, "list", "--format", "json")
            assert ls.returncode == 0 and [(c["id"], c["status"]) for c in json.loads(ls.stdout)] == [(old, "running")]
            r = delete_at(root, old)
            assert r.returncode == 0 and r.stderr == "", r
            before = reap_children(timeout=0)
            assert_nothing_left(root, old, before)
        finally:
            delete_at(root, old)

    with tmpfs(tmp_path / "noinodes", "size=1m,nr_inodes=16,mode=0700") as root:
        n = 0
        with contextlib.suppress(OSError):
            while True:
                open(os.path.join(root, f".f{n}"), "w").close()
                n += 1
        cid = f"noinode-{tag()}"
        r = at(root, "run", "-d", "-b", bundle, cid)
        assert r.returncode == 1, r
        assert f"{root}/{cid}" in r.stderr and "No space left on device" in r.stderr, r.stderr
        assert_nothing_left(root, cid, before)


def corrupt_container(mr):
    bundle = mr.bundle(["sleep", "1000"])
    cid = f"corrupt-{tag()}"
    assert mr.run(bundle, "-d", cid=cid).returncode == 0
    pid = mr.state(cid)["pid"]
    with open(os.path.join(mr.root, cid, "state.json"), "w") as f:
        f.write("\x00garbage{")
    return cid, pid


def kill_leftovers(cid, pid):
    """What a delete --force of a corrupt state leaves: kill it (we created it) and remove its cgroups."""
    pids = {pid} - {0}
    for d in cgroup_dirs(f"/minirun/{cid}"):
        with contextlib.suppress(OSError), open(os.path.join(d, "cgroup.procs")) as f:
            pids.update(int(x) for x in f.read().split())
    for p in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(p, signal.SIGKILL)
    for p in pids:
        reap(p)
    for d in cgroup_dirs(f"/minirun/{cid}"):
        for _ in range(100):
            try:
                os.rmdir(d)
                break
            except OSError:
                time.sleep(0.02)


def test_corrupt_state_file(mr):
    """A garbage state.json: state/kill/delete say so and name `delete
    --force`; list shows the container as unknown; delete --force removes the
    state."""
    cid, pid = corrupt_container(mr)
    try:
        for args in (("state", cid), ("kill", cid, "KILL"), ("delete", cid)):
            r = mr.cmd(*args)
            assert r.returncode == 1, (args, r)
            assert f"the state file of container `{cid}` is corrupt" in r.stderr, r.stderr
            assert f"`minirun delete --force {cid}` removes it" in r.stderr, r.stderr
        ls = mr.cmd("list", "--format", "json")
        assert ls.returncode == 0 and ls.stderr == ""
        assert [(c["id"], c["status"], c["pid"]) for c in json.loads(ls.stdout)] == [(cid, "unknown", 0)]
        r = mr.cmd("delete", "--force", cid)
        assert r.returncode == 0, r
        assert not os.path.exists(os.path.join(mr.root, cid))
        r = mr.cmd("state", cid)
        assert r.returncode == 1 and "does not exist" in r.stderr
    finally:
        kill_leftovers(cid, pid)


def test_delete_force_of_a_corrupt_state_stops_the_container(mr):
    """BUG (reported): `delete --force` of a running container whose
    state.json is corrupt exits 0 and says nothing, but its init keeps running
    and its cgroups (/minirun/ID, every hierarchy) stay.  The default cgroup
    path can be found from the id alone."""
    cid, pid = corrupt_container(mr)
    try:
        r = mr.cmd("delete", "--force", cid)
        assert r.returncode == 0, r
        reap(pid, timeout=2)
        still = [p for p in [pid] if os.path.exists(f"/proc/{p}")]
        cgroups = cgroup_dirs(f"/minirun/{cid}")
        # expected: the container stopped and its cgroups gone, or at least a
        # failure/warning naming what was left (`/minirun/ID`)
        assert (still == [] and cgroups == []) or f"/minirun/{cid}" in r.stderr, (
            f"`delete --force` of a corrupt state exited {r.returncode} with stderr {r.stderr!r} but left the "
            f"init {still} running and {len(cgroups)} cgroup dirs: {cgroups[:2]}...")
    finally:
        kill_leftovers(cid, pid)


def test_state_root_on_another_filesystem(mr, tmp_path):
    """--root on a tmpfs (not the bundle's filesystem), in a directory to be
    created: run -d, list, state, exec, kill, delete, and a foreground run."""
    bundle = mr.bundle(["sleep", "1000"])
    before = reap_children(timeout=0)
    with tmpfs(tmp_path / "other", "size=4m,mode=0700") as mnt:
        root = os.path.join(mnt, "deeper", "state")
        cid = f"otherfs-{tag()}"
        try:
            r = at(root, "run", "-d", "-b", bundle, cid)
            assert (r.returncode, r.stderr) == (0, ""), r
            ls = at(root, "list", "--format", "json")
            assert [(c["id"], c["status"]) for c in json.loads(ls.stdout)] == [(cid, "running")]
            st = json.loads(at(root, "state", cid).stdout)
            assert st["status"] == "running" and os.path.exists(f"/proc/{st['pid']}")
            r = at(root, "exec", cid, "sh", "-c", "echo hi")
            assert (r.returncode, r.stdout) == (0, "hi\n"), r
            assert at(root, "kill", cid, "KILL").returncode == 0
            reap(st["pid"])
            assert json.loads(at(root, "state", cid).stdout)["status"] == "stopped"
            r = at(root, "delete", cid)
            assert (r.returncode, r.stderr) == (0, ""), r
            assert_nothing_left(root, cid, before)
            fg = f"otherfg-{tag()}"
            r = at(root, "run", "-b", mr.bundle(["sh", "-c", "exit 7"]), fg)
            assert r.returncode == 7, r
            assert_nothing_left(root, fg, before)
            assert os.listdir(root) == []
        finally:
            delete_at(root, cid)
