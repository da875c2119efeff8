"""Shared fixtures for minirun's integration tests.

Every test runs as root against the real kernel: real namespaces, cgroups,
mounts and pids. Each test gets its own state root (--root) so `list` and
leftovers are isolated, and a teardown that deletes every container it
created and checks nothing was left behind.
"""
import copy
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid

import pytest

# Like conmon, the test process is a child subreaper: a detached container's
# init is re-parented to it, and it reaps the init as soon as the container is
# deleted, so its pids are free again at once (this machine's pid 1 reaps
# orphans only every few seconds).
import ctypes

_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def reap(pid, timeout=3.0):
    """Reap `pid` if it is (or becomes) our zombie child; give up quietly if it
    is not our child."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return
        if done == pid:
            return
        time.sleep(0.005)


def reap_container_zombies():
    """Reap our zombie children that lived in a pid namespace below ours: a
    container's processes re-parented to us (we are a subreaper), such as one
    an `exec -d` left; our own commands (minirun, podman) live in ours."""
    me = str(os.getpid())
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                fields = dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid") == me and fields.get("State", "").startswith("Z") and \
                len(fields.get("NSpid", "").split()) > 1:
            try:
                os.waitpid(int(entry), os.WNOHANG)
            except ChildProcessError:
                pass


def run_delete(argv, pids, timeout):
    """Run a `minirun delete` (argv), reaping the container's processes `pids`
    and the container zombies re-parented to us while it runs, as conmon (a
    subreaper too) does: an exec'd process whose `minirun exec -d` is gone is
    our child, and the init the delete kills cannot finish exiting until every
    process of its pid namespace is reaped.  Reaps what is left of `pids` once
    it succeeded; raises subprocess.TimeoutExpired after `timeout` s."""
    pids = set(pids) - {0}
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    rounds = 0
    while p.poll() is None:
        if time.monotonic() > deadline:
            p.kill()
            p.communicate()
            raise subprocess.TimeoutExpired(argv, timeout)
        for pid in list(pids):
            try:
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    pids.discard(pid)
            except ChildProcessError:
                pids.discard(pid)  # not ours (or reaped): nothing to do
        rounds += 1
        if rounds % 10 == 0:  # a process that exited before: a zombie no longer listed
            reap_container_zombies()
        time.sleep(0.002)
    out, err = p.communicate()
    if p.returncode == 0:
        for pid in pids:
            reap(pid)
    return subprocess.CompletedProcess(argv, p.returncode, out, err)


def run_reaping(argv, timeout=120, **kw):
    """Run a program that starts detached containers and deletes them itself:
    their inits are re-parented to us (the subreaper), so reap every child of
    ours that exits while the program runs, except the program itself."""
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)
    deadline = time.monotonic() + timeout
    while p.poll() is None:
        if time.monotonic() > deadline:
            p.kill()
            p.wait()
            raise AssertionError(f"{argv} timed out")
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                info = None
            if info is None or info.si_pid == p.pid:
                break
            os.waitpid(info.si_pid, 0)
        time.sleep(0.01)
    out = p.stdout.read()
    return subprocess.CompletedProcess(argv, p.returncode, out, "")


REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MINIRUN = os.environ.get("MINIRUN_BIN", os.path.join(REPO, "build", "minirun"))
ROOTFS = os.environ.get("MINIRUN_ROOTFS", os.path.join(REPO, "examples", "rootfs"))


def pytest_configure(config):
    if os.geteuid() != 0:
        raise pytest.UsageError("minirun's integration tests run as root (real namespaces, cgroups, mounts)")
    if not os.access(MINIRUN, os.X_OK):
        raise pytest.UsageError(f"minirun binary not found at {MINIRUN}: build first (or set MINIRUN_BIN)")
    if not os.path.exists(os.path.join(ROOTFS, "bin", "busybox")):
        subprocess.run([os.path.join(REPO, "examples", "mkrootfs.sh"), ROOTFS], check=True)


def default_config():
    """The config `minirun spec` writes, loaded once."""
    tmp = tempfile.mkdtemp()
    try:
        subprocess.run([MINIRUN, "spec", "--bundle", tmp], check=True)
        with open(os.path.join(tmp, "config.json")) as f:
            return json.load(f)
    finally:
        shutil.rmtree(tmp)


_DEFAULT = None


def base_config():
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = default_config()
    return copy.deepcopy(_DEFAULT)


def proc_stats():
    """(pid, fields) for every process: the fields of /proc/PID/stat after
    the command name (fields[0] is the state, [1] the ppid, [2] the process
    group, [3] the session)."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
        except OSError:
            continue
        yield int(entry), data[data.rindex(")") + 2:].split()


def pid_in_use(pid):
    """A pid is in use if a process (or zombie) has it, or it is a live
    process group or session id."""
    if os.path.exists(f"/proc/{pid}"):
        return True
    return any(int(f[2]) == pid or int(f[3]) == pid for _, f in proc_stats())


def free_host_pids(count=1, low=20000):
    """`count` consecutive-ish free host pids, chosen now (never assumed)."""
    with open("/proc/sys/kernel/pid_max") as f:
        pid_max = int(f.read())
    found = []
    start = low + (os.getpid() * 37 + int(time.time() * 1000)) % max(1, (pid_max - low - 1000))
    candidate = start
    while len(found) < count:
        if candidate >= pid_max - 1:
            candidate = low
        if not pid_in_use(candidate):
            found.append(candidate)
        candidate += 1
    return found


def nspid(host_pid):
    with open(f"/proc/{host_pid}/status") as f:
        for line in f:
            if line.startswith("NSpid:"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError(f"no NSpid for {host_pid}")


class Minirun:
    """Runs minirun with a private --root and remembers what to clean up."""

    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.root = str(tmp_path / "state")
        self.created = set()
        self.bundles = []

    def cmd(self, *args, check=False, timeout=60, input=None, env=None, **kw):
        if args and args[0] == "delete":
            return self._delete(*args, check=check, timeout=timeout)
        argv = [MINIRUN, "--root", self.root] + [str(a) for a in args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input, env=env, **kw)
        if check and r.returncode != 0:
            raise AssertionError(f"{argv} failed ({r.returncode}):\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def _delete(self, *args, check=False, timeout=60):
        """delete, reaping what it ends (run_delete)."""
        cid = str(args[-1])
        pids = set()
        st = subprocess.run([MINIRUN, "--root", self.root, "state", cid], capture_output=True, text=True)
        if st.returncode == 0:
            data = json.loads(st.stdout)
            pids = {data.get("pid", 0)} | {p["pid"] for p in data.get("minirun", {}).get("processes", [])}
            ps = subprocess.run([MINIRUN, "--root", self.root, "ps", "--format", "json", cid], capture_output=True,
                                text=True)
            if ps.returncode == 0:
                pids |= set(json.loads(ps.stdout))
        pids.discard(0)
        argv = [MINIRUN, "--root", self.root] + [str(a) for a in args]
        try:
            r = run_delete(argv, pids, timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{argv} did not return within {timeout}s") from None
        if check and r.returncode != 0:
            raise AssertionError(f"{argv} failed ({r.returncode}):\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def detached(self, *args, timeout=60, **kw):
        """Run minirun when a container outlives the call (run -d, create):
        stdio goes to files, since the container keeps inherited pipes open."""
        argv = [MINIRUN, "--root", self.root] + [str(a) for a in args]
        out = self.tmp / f"out-{uuid.uuid4().hex[:8]}"
        err = self.tmp / f"err-{uuid.uuid4().hex[:8]}"
        with open(out, "w") as fo, open(err, "w") as fe:
            rc = subprocess.run(argv, stdout=fo, stderr=fe, stdin=subprocess.DEVNULL, timeout=timeout, **kw).returncode
        return subprocess.CompletedProcess(argv, rc, out.read_text(), err.read_text())

    def bundle(self, args=None, config=None, mutate=None, name=None):
        """Write a bundle whose rootfs is the shared busybox rootfs (bind of
        the same directory through a symlink, read-only root)."""
        cfg = config if config is not None else base_config()
        if args is not None:
            cfg["process"]["args"] = list(args)
        if mutate:
            mutate(cfg)
        d = self.tmp / (name or f"bundle-{uuid.uuid4().hex[:8]}")
        d.mkdir()
        os.symlink(ROOTFS, d / "rootfs")
        (d / "config.json").write_text(json.dumps(cfg, indent=2))
        self.bundles.append(d)
        return d

    def run(self, bundle, *extra, cid=None, timeout=60, **kw):
        cid = cid or f"t-{uuid.uuid4().hex[:10]}"
        self.created.add(cid)
        if "-d" in extra or "--detach" in extra:
            return self.detached("run", "-b", bundle, *extra, cid, timeout=timeout, **kw)
        return self.cmd("run", "-b", bundle, *extra, cid, timeout=timeout, **kw)

    def state(self, cid):
        r = self.cmd("state", cid, check=True)
        return json.loads(r.stdout)

    def cleanup(self):
        for cid in list(self.created):
            self.cmd("delete", "--force", cid)
        if os.path.isdir(self.root):
            # dot entries are not containers (.seccomp-cache: compiled filters)
            left = [e for e in os.listdir(self.root) if not e.startswith(".")]
            assert left == [], f"state entries left behind: {left}"


@pytest.fixture
def mr(tmp_path):
    m = Minirun(tmp_path)
    yield m
    m.cleanup()


def cgroup_dirs(path):
    """Every directory `path` would have in any mounted cgroup hierarchy."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split(" - ")
            fstype = parts[1].split()[0]
            if fstype not in ("cgroup", "cgroup2"):
                continue
            mnt = parts[0].split()[4]
            cand = mnt + path
            if os.path.isdir(cand):
                found.append(cand)
    return found
