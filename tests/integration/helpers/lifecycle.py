"""The lifecycle helpers: runs of minirun with bounded commands and a
teardown that survives a hung or broken delete (Lifecycle, lifecycle()
behind the `lc` fixture), and small probes of /proc and the cgroups.

`create` leaves the init waiting before exec; its stdio is the stdio create
was given, so every create here writes to files (a pipe would stay open in
the container and keep subprocess waiting).  Every minirun call has a
timeout: a hang is reported as a failure naming the command, never as a hung
suite.  Each test has its own --root and unique ids (the cgroup tree
/sys/fs/cgroup/*/minirun/ is shared with other test runs); the teardown
deletes what the test created, kills what a broken delete left in the
container's cgroup, and checks that no state or cgroup directory is left.

A test module takes the fixture with `from helpers.lifecycle import lc`.
test_lifecycle.py re-exports these names for the modules that import them
from there (test_hooks.py, test_terminal.py, test_docker.py).
"""
import datetime
import json
import os
import re
import signal
import subprocess
import time
import uuid

import pytest

from conftest import MINIRUN, Minirun, cgroup_dirs, reap, run_delete


CMD_TIMEOUT = 10


def new_id(prefix="lc"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def sh(script):
    return ["sh", "-c", script]


def wait_until(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def proc_state(pid):
    """The one-letter state of /proc/<pid>/stat, or None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return data[data.rindex(")") + 2]


def alive(pid):
    return proc_state(pid) not in (None, "Z", "X")


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().split(b"\0")


def cgroup_pids(cid):
    """Pids in the container's cgroup, in every hierarchy (all created by the test)."""
    pids = set()
    for d in cgroup_dirs(f"/minirun/{cid}"):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return pids


class Lifecycle(Minirun):
    """Minirun with bounded commands, create/start helpers and a teardown
    that survives a hung or broken delete."""

    def cmd(self, *args, timeout=CMD_TIMEOUT, check=False, **kw):
        argv = [MINIRUN, "--root", self.root] + [str(a) for a in args]
        try:
            if args and args[0] == "delete" and not str(args[-1]).startswith("-"):
                # the test process is a child subreaper (conftest): reap what the delete ends
                r = run_delete(argv, self._pids(str(args[-1]), timeout), timeout)
            else:
                r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"`minirun {' '.join(str(a) for a in args)}` did not return within {timeout}s "
                                 "(hung)") from None
        if check and r.returncode != 0:
            raise AssertionError(f"{argv} failed ({r.returncode}):\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def _pids(self, cid, timeout):
        try:
            st = subprocess.run([MINIRUN, "--root", self.root, "state", cid], capture_output=True, text=True,
                                timeout=min(timeout, 3))
        except subprocess.TimeoutExpired:
            return sorted(cgroup_pids(cid))
        if st.returncode != 0:
            return []
        data = json.loads(st.stdout)
        return [p for p in [data.get("pid", 0)] + [p["pid"] for p in data.get("minirun", {}).get("processes", [])]
                if p]

    def create(self, bundle, cid=None, *extra, stdin=None, check=True, timeout=CMD_TIMEOUT):
        """`create` with the container's stdout/stderr in files; returns
        (cid, CompletedProcess, stdout path, stderr path)."""
        cid = cid or new_id()
        self.created.add(cid)
        out = self.tmp / f"{cid}.out"
        err = self.tmp / f"{cid}.err"
        argv = [MINIRUN, "--root", self.root, "create", "-b", str(bundle), *[str(e) for e in extra], cid]
        with open(out, "ab") as o, open(err, "ab") as e:
            try:
                r = subprocess.run(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL, stdout=o,
                                   stderr=e, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"`{' '.join(argv)}` did not return within {timeout}s (hung)") from None
        r.stderr_text = err.read_text()
        if check and r.returncode != 0:
            raise AssertionError(f"{argv} failed ({r.returncode}): {r.stderr_text}")
        return cid, r, out, err

    def start(self, cid, check=True):
        return self.cmd("start", cid, check=check)

    def create_started(self, bundle, cid=None, *extra):
        cid, r, out, err = self.create(bundle, cid, *extra)
        self.start(cid)
        return cid, out, err

    def ids(self):
        return self.cmd("list", "-q", check=True).stdout.split()

    def cleanup(self):
        problems = []
        for cid in sorted(self.created):
            try:
                r = self.cmd("delete", "--force", cid, timeout=8)
                ok = r.returncode == 0 or "does not exist" in r.stderr
                why = r.stderr
            except AssertionError as e:
                ok, why = False, str(e)
            if not ok:
                problems.append(f"delete --force {cid}: {why.strip()}")
                stuck = cgroup_pids(cid)
                for pid in stuck:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                for pid in stuck:
                    reap(pid)
                try:
                    self.cmd("delete", "--force", cid, timeout=15)
                except AssertionError as e:
                    problems.append(str(e))
            for d in cgroup_dirs(f"/minirun/{cid}"):
                problems.append(f"cgroup left behind: {d}")
                try:
                    os.rmdir(d)
                except OSError:
                    pass
        left = [e for e in os.listdir(self.root) if not e.startswith(".")] if os.path.isdir(self.root) else []
        for name in left:
            d = os.path.join(self.root, name)
            for f in os.listdir(d):
                os.unlink(os.path.join(d, f))
            os.rmdir(d)
        assert left == [], f"state entries left behind: {left}"
        # printed, not asserted: the test has usually failed on the same cause
        if problems:
            print("teardown:", *problems, sep="\n  ")


def lifecycle(tmp_path):
    """The body of the `lc` fixture (test_hooks.py and test_terminal.py use it too)."""
    m = Lifecycle(tmp_path)
    yield m
    m.cleanup()


@pytest.fixture
def lc(tmp_path):
    yield from lifecycle(tmp_path)


def assert_gone(lc, cid, pid=None):
    assert not os.path.exists(os.path.join(lc.root, cid)), "state directory left behind"
    assert cgroup_dirs(f"/minirun/{cid}") == [], "cgroup directories left behind"
    if pid:
        wait_until(lambda: not alive(pid), 5, f"process {pid} to be gone")
    r = lc.cmd("state", cid)
    assert r.returncode == 1 and f"container `{cid}` does not exist" in r.stderr, r.stderr


def read_lines(path):
    return path.read_text().splitlines() if path.exists() else []


RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def parse_rfc3339(s):
    assert RFC3339.match(s), s
    s = re.sub(r"\.(\d{6})\d*", r".\1", s).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(s)
