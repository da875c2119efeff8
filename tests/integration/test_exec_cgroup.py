"""`minirun exec --cgroup`: the exec'd process runs in a sub-cgroup of the
container's cgroup, in runc's two forms: `--cgroup PATH` (every hierarchy)
and `--cgroup CONTROLLER[,CONTROLLER]:PATH` (repeatable; cgroup v1 and the
hybrid layout, where the unified tree's own controllers, hugetlb here, take
it too).  The sub-cgroup must exist, `..` is refused, a controller the
container has no cgroup for is refused, the controller form is refused on
pure cgroup v2; a refusal starts no process and makes no cgroup.

Runs on this host's hybrid layout and on pure v2 (the VM lane's v2 guest,
scripts/vm/v2-tcg-tests.txt); a test for one layout skips on the others
with the reason.  Every container is deleted (its sub-cgroups with it) and
checked gone from every hierarchy.
"""
import os
import signal
import uuid

import pytest

from conftest import cgroup_dirs, reap

CG = "/sys/fs/cgroup"


def layout():
    if os.path.exists(os.path.join(CG, "cgroup.controllers")):
        return "v2"
    if os.path.exists(os.path.join(CG, "unified", "cgroup.controllers")):
        return "hybrid"
    return "v1"


def v1_controllers_of(d):
    """The v1 controllers a container directory is for ("cpu,cpuacct" -> both)."""
    h = os.path.basename(os.path.dirname(d))
    if d.startswith(CG + "/unified/") or h == os.path.basename(CG):
        return []
    return h.split(",")


class Box:
    """A running container with cgroupsPath /minirun-xcg-ID and its directories."""

    def __init__(self, mr):
        self.mr = mr
        self.cid = f"xcg-{uuid.uuid4().hex[:10]}"
        self.path = f"/minirun-{self.cid}"
        b = mr.bundle(["sleep", "1000"], mutate=lambda c: c["linux"].__setitem__("cgroupsPath", self.path))
        r = mr.run(b, "-d", cid=self.cid)
        assert r.returncode == 0, r.stderr
        self.dirs = cgroup_dirs(self.path)
        assert self.dirs, f"the container has no cgroup directory for {self.path}"
        self.init = mr.state(self.cid)["pid"]

    def mksub(self, name, dirs=None):
        """The sub-cgroup `name` in `dirs` (default every hierarchy); a v1
        cpuset child gets its parent's cpus and mems (else no one can join)."""
        for d in dirs or self.dirs:
            sub = os.path.join(d, name)
            os.mkdir(sub)
            for f in ("cpuset.cpus", "cpuset.mems"):
                if "cpuset" in v1_controllers_of(d) and os.path.exists(os.path.join(d, f)):
                    with open(os.path.join(d, f)) as src, open(os.path.join(sub, f), "w") as dst:
                        dst.write(src.read().strip())

    def subdirs(self):
        return sorted(os.path.join(d, e) for d in self.dirs for e in os.listdir(d)
                      if os.path.isdir(os.path.join(d, e)))

    def exec_cgroups(self, *cgroup_args):
        """Run `cat /proc/self/cgroup` with these --cgroup values: the lines
        as {hierarchy: path} (paths inside the container's cgroup namespace)."""
        args = [a for c in cgroup_args for a in ("--cgroup", c)]
        r = self.mr.cmd("exec", *args, self.cid, "cat", "/proc/self/cgroup")
        assert r.returncode == 0, r.stderr
        out = {}
        for line in r.stdout.splitlines():
            _, hier, path = line.split(":", 2)
            out[hier] = path
        return out

    def procs_everywhere(self):
        """The pids in the container's directories and every sub-cgroup of them."""
        pids = set()
        for d, _, files in (w for top in self.dirs for w in os.walk(top)):
            if "cgroup.procs" in files:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    pids |= {int(x) for x in f.read().split()}
        return pids


@pytest.fixture
def box(mr):
    b = Box(mr)
    yield b
    r = mr.cmd("delete", "--force", b.cid)
    assert r.returncode == 0, r.stderr
    mr.created.discard(b.cid)
    assert cgroup_dirs(b.path) == [], "the container's cgroup (or a sub-cgroup of it) was left behind"


def test_a_plain_path_puts_the_process_in_that_sub_cgroup_everywhere(box):
    box.mksub("sub")
    seen = box.exec_cgroups("sub")
    assert seen and all(p == "/sub" for p in seen.values()), seen
    # a leading slash is still below the container's cgroup; "/" is the container's own
    assert box.exec_cgroups("/sub") == seen
    assert all(p == "/" for p in box.exec_cgroups("/").values())


def test_the_host_sees_the_exec_process_in_the_sub_cgroup(box, tmp_path):
    box.mksub("a")
    box.mksub("a/b")
    pidfile = tmp_path / "exec.pid"
    r = box.mr.detached("exec", "-d", "--pid-file", pidfile, "--cgroup", "a/b", box.cid, "sleep", "300")
    assert r.returncode == 0, r.stderr
    pid = int(pidfile.read_text())
    try:
        with open(f"/proc/{pid}/cgroup") as f:
            lines = [line.strip().split(":", 2) for line in f]
        assert lines and all(path == f"{box.path}/a/b" for _, _, path in lines), lines
        for d in box.dirs:
            with open(os.path.join(d, "a", "b", "cgroup.procs")) as f:
                assert pid in [int(x) for x in f.read().split()], d
    finally:
        os.kill(pid, signal.SIGKILL)  # the exec'd sleep this test started
        reap(pid, timeout=10)  # re-parented to us (the subreaper) when exec -d returned


def test_per_controller_paths_on_cgroup_v1(box):
    if layout() == "v2":
        pytest.skip("CONTROLLER:PATH is for cgroup v1 hierarchies; this host is pure cgroup v2")
    mem = [d for d in box.dirs if "memory" in v1_controllers_of(d)]
    cpu = [d for d in box.dirs if "cpu" in v1_controllers_of(d) or "pids" in v1_controllers_of(d)]
    if not mem or not cpu:
        pytest.skip(f"no v1 memory, cpu and pids hierarchies here: {box.dirs}")
    box.mksub("m", mem)
    box.mksub("c", cpu)
    seen = box.exec_cgroups("memory:m", "cpu,pids:/c")
    for hier, path in seen.items():
        ctls = hier.split(",")
        want = "/m" if "memory" in ctls else "/c" if ("cpu" in ctls or "pids" in ctls) else "/"
        assert path == want, (hier, seen)


def test_a_controller_of_the_unified_tree_on_a_hybrid_host(box):
    if layout() != "hybrid":
        pytest.skip(f"the hybrid layout only (v1 controllers plus a unified tree with its own); this host: {layout()}")
    with open(os.path.join(CG, "unified", "cgroup.controllers")) as f:
        own = f.read().split()
    if not own:
        pytest.skip("the unified tree has no controller of its own here")
    unified = [d for d in box.dirs if d.startswith(CG + "/unified/")]
    box.mksub("u", unified)
    seen = box.exec_cgroups(f"{own[0]}:u")
    assert seen[""] == "/u", seen
    assert all(p == "/" for h, p in seen.items() if h != ""), seen


def test_the_controller_form_is_refused_on_pure_v2(box):
    if layout() != "v2":
        pytest.skip(f"pure cgroup v2 only (the VM lane's v2 guest); this host: {layout()}")
    box.mksub("sub")
    r = box.mr.cmd("exec", "--cgroup", "memory:sub", box.cid, "true")
    assert r.returncode == 1
    assert "exec --cgroup `memory:sub`: on cgroup v2 every controller is in one tree: give a plain PATH" in r.stderr, \
        r.stderr


@pytest.mark.parametrize("args, words", [
    (["missing"], "exec --cgroup `missing`: no sub-cgroup `missing` in the container's cgroup"),
    (["../escape"], "exec --cgroup `../escape`: a `..` would leave the container's cgroup"),
    (["sub/../../escape"], "a `..` would leave the container's cgroup"),
    (["memory:.."], "a `..` would leave the container's cgroup"),
    (["nosuchcontroller:sub"], "the container has no cgroup for the controller `nosuchcontroller`"),
    (["memory:sub", "sub"], "exec --cgroup `sub`: a PATH without CONTROLLER: must be the only --cgroup"),
    (["memory:sub", "pids,memory:sub"], "the controller `memory` is given more than once"),
    ([",memory:sub"], "an empty controller name"),
])
def test_a_bad_cgroup_is_refused_and_starts_nothing(box, args, words):
    box.mksub("sub")
    before_subs, before_procs = box.subdirs(), box.procs_everywhere()
    argv = [a for c in args for a in ("--cgroup", c)]
    r = box.mr.cmd("exec", *argv, box.cid, "sh", "-c", "echo started")
    if layout() == "v2" and args == ["nosuchcontroller:sub"]:
        words = "on cgroup v2 every controller is in one tree"  # any controller form is refused there
    assert r.returncode == 1, r.stdout
    assert words in r.stderr, r.stderr
    assert "started" not in r.stdout
    assert box.subdirs() == before_subs, "a refused exec made or removed a cgroup"
    assert box.procs_everywhere() == before_procs == {box.init}, "a refused exec left a process"
