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


def pid_in_use(pid):
    """A pid is in use if a process (or zombie) has it, or it is a live
    process group or session id."""
    if os.path.exists(f"/proc/{pid}"):
        return True
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                data = f.read()
        except OSError:
            continue
        fields = data[data.rindex(")") + 2:].split()
        if int(fields[2]) == pid or int(fields[3]) == pid:
            return True
    return False


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
        argv = [MINIRUN, "--root", self.root] + [str(a) for a in args]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input, env=env, **kw)
        if check and r.returncode != 0:
            raise AssertionError(f"{argv} failed ({r.returncode}):\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

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
        return self.cmd("run", "-b", bundle, *extra, cid, timeout=timeout, **kw)

    def state(self, cid):
        r = self.cmd("state", cid, check=True)
        return json.loads(r.stdout)

    def cleanup(self):
        for cid in list(self.created):
            self.cmd("delete", "--force", cid)
        if os.path.isdir(self.root):
            left = os.listdir(self.root)
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
