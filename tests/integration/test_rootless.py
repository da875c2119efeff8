"""Rootless containers: minirun run by an unprivileged uid, its state under
$XDG_RUNTIME_DIR/minirun, the owner's name (or number), a container pin
that works and a host pin that is refused.
"""
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import uuid

import pytest

from conftest import MINIRUN, ROOTFS, cgroup_dirs, free_host_pids
from helpers.lifecycle import sh


def free_uid(start=23456):
    used = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            used.update(int(x) for x in line.split()[1:])
            except OSError:
                pass
    uid = start
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            if uid not in used:
                return uid
        uid += 1


class Rootless:
    """minirun run by an unprivileged uid (no passwd entry) with its state
    under $XDG_RUNTIME_DIR/minirun; a copy of the busybox rootfs every
    component of whose path that uid can traverse."""

    def __init__(self, pristine, uid=None):
        self.uid = uid if uid is not None else free_uid()
        self.base = tempfile.mkdtemp(prefix="mr-rootless-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.rootfs = os.path.join(self.base, "rootfs")
        subprocess.run(["cp", "-al", pristine, self.rootfs], check=True)
        self.xdg = os.path.join(self.base, "xdg")
        os.mkdir(self.xdg, 0o700)
        os.chown(self.xdg, self.uid, self.uid)
        self.state_root = os.path.join(self.xdg, "minirun")
        self.created = set()

    def argv(self, *args):
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", MINIRUN] + \
            [str(a) for a in args]

    def env(self):
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "XDG_RUNTIME_DIR": self.xdg}

    def cmd(self, *args, cwd=None, timeout=60):
        return subprocess.run(self.argv(*args), capture_output=True, text=True, env=self.env(), cwd=cwd,
                              timeout=timeout)

    def bundle(self, args, mutate=None):
        d = os.path.join(self.base, f"bundle-{uuid.uuid4().hex[:8]}")
        os.mkdir(d)
        os.chown(d, self.uid, self.uid)
        r = self.cmd("spec", "--rootless", "--bundle", d)
        assert r.returncode == 0, r.stderr
        path = os.path.join(d, "config.json")
        with open(path) as f:
            cfg = json.load(f)
        assert cfg["linux"]["uidMappings"] == [{"containerID": 0, "hostID": self.uid, "size": 1}], cfg["linux"]
        cfg["root"]["path"] = self.rootfs
        cfg["process"]["args"] = list(args)
        if mutate:
            mutate(cfg)
        with open(path, "w") as f:
            json.dump(cfg, f, indent=2)
        return d

    def run(self, bundle, cid=None, timeout=60):
        cid = cid or f"rl-{uuid.uuid4().hex[:10]}"
        self.created.add(cid)
        return cid, self.cmd("run", "-b", bundle, cid, cwd=bundle, timeout=timeout)

    def cleanup(self):
        try:
            for cid in self.created:
                self.cmd("delete", "--force", cid)
            left = [e for e in os.listdir(self.state_root) if not e.startswith(".")] if os.path.isdir(self.state_root) else []
            assert left == [], f"rootless state entries left behind: {left}"
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def pristine_rootfs():
    """A copy of the busybox rootfs under a directory every uid can traverse
    (/tmp/pytest-of-root is 0700); each rootless test hard-links it."""
    base = tempfile.mkdtemp(prefix="mr-rootless-pristine-", dir="/tmp")
    os.chmod(base, 0o755)
    path = os.path.join(base, "rootfs")
    subprocess.run(["cp", "-a", ROOTFS, path], check=True)
    yield path
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def rootless(pristine_rootfs):
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to run minirun as an unprivileged uid")
    rl = Rootless(pristine_rootfs)
    yield rl
    rl.cleanup()


def test_rootless_run(rootless):
    b = rootless.bundle(sh("echo hi; id -u; cat /proc/self/uid_map"))
    cid, r = rootless.run(b)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:2] == ["hi", "0"], r.stdout
    assert [int(x) for x in lines[2].split()] == [0, rootless.uid, 1]
    assert not os.path.exists(os.path.join(rootless.state_root, cid))
    assert cgroup_dirs(f"/minirun/{cid}") == []


def test_rootless_state_lives_under_xdg_runtime_dir(rootless):
    b = rootless.bundle(sh("echo up; read line || true"))
    cid = "rl-state"
    rootless.created.add(cid)
    p = subprocess.Popen(rootless.argv("run", "-b", b, cid), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=rootless.env(), cwd=b)
    try:
        line = p.stdout.readline()
        assert line == "up\n", line + p.stderr.read()
        st = os.stat(os.path.join(rootless.state_root, cid))
        assert st.st_uid == rootless.uid
        r = rootless.cmd("state", cid)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["status"] == "running"
        # the owner of a uid without a passwd entry is its number (both builds)
        r = rootless.cmd("list", "--format", "json")
        assert r.returncode == 0, r.stderr
        assert [row["owner"] for row in json.loads(r.stdout) if row["id"] == cid] == [str(rootless.uid)], r.stdout
        p.stdin.close()
        assert p.wait(timeout=30) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            rootless.cmd("kill", cid, "KILL")
            p.wait(timeout=30)


def test_rootless_owner_is_the_users_name_from_passwd(pristine_rootfs):
    """`owner` names the user: getpwuid_r in the default build, a read of
    /etc/passwd in the static build (no NSS modules there)."""
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no `nobody` entry in /etc/passwd to run as")
    rl = Rootless(pristine_rootfs, uid=nobody.pw_uid)
    try:
        b = rl.bundle(["true"])
        cid = "rl-owner"
        rl.created.add(cid)
        # the waiting init keeps create's stdio: no pipes, or they never end
        with tempfile.TemporaryFile("w+") as errf:
            r = subprocess.run(rl.argv("create", "-b", b, cid), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=errf, env=rl.env(), cwd=b, timeout=60)
            errf.seek(0)
            assert r.returncode == 0, errf.read()
        r = rl.cmd("list", "--format", "json")
        assert r.returncode == 0, r.stderr
        assert [row["owner"] for row in json.loads(r.stdout) if row["id"] == cid] == ["nobody"], r.stdout
    finally:
        rl.cleanup()


def test_rootless_container_pin_works(rootless):
    def mutate(cfg):
        cfg["minirun"] = {"pids": {"container": 1}}

    cid, r = rootless.run(rootless.bundle(sh("echo $$"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1"


def test_rootless_host_pin_is_refused(rootless):
    host_pid, = free_host_pids(1)

    def mutate(cfg):
        cfg["minirun"] = {"pids": {"host": host_pid}}

    cid, r = rootless.run(rootless.bundle(["true"], mutate=mutate))
    assert r.returncode == 1, r.stdout + r.stderr
    assert f'pinning pid {host_pid} in pid namespace "host" needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE in the ' \
        "user namespace that owns it" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(rootless.state_root, cid))
