"""Namespaces the config does not list are the runtime's (runtime spec,
config-linux.md): a container without a mount namespace (or with no
namespaces at all) runs in minirun's own, as with runc and crun, and
minirun says on stderr what it shares.  Its mounts are made in the runtime's
mount namespace, inside a private bind of the rootfs that `delete` (and a
failed create) detaches with everything in it, so nothing is left mounted.
A uts namespace joined by path gets the config's hostname and domainname.
"""
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import ROOTFS, reap

REAL_ROOTFS = os.path.realpath(ROOTFS)


def mounts_under_rootfs():
    """The mount points of this mount namespace at or under the rootfs."""
    with open("/proc/self/mountinfo") as f:
        points = [line.split()[4] for line in f]
    return sorted(p for p in points if p == REAL_ROOTFS or p.startswith(REAL_ROOTFS + "/"))


def without(*types):
    def mutate(cfg):
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] not in types]
    return mutate


def test_no_mount_namespace_runs_in_the_runtimes_and_leaves_no_mount(mr):
    before = mounts_under_rootfs()
    script = "readlink /proc/self/ns/mnt; grep -c . /proc/self/mountinfo; [ -c /dev/null ] && echo dev-ok; echo $$"
    r = mr.run(mr.bundle(["sh", "-c", script], mutate=without("mount")))
    assert r.returncode == 0, r.stderr
    mnt, _, dev, pid = r.stdout.split()
    assert mnt == os.readlink("/proc/self/ns/mnt"), "the container has a mount namespace of its own"
    assert dev == "dev-ok" and pid == "1", r.stdout
    assert "warning: linux.namespaces has no mount namespace: the container shares the runtime's mount namespace;" \
        in r.stderr, r.stderr
    assert "chroot" in r.stderr
    assert mounts_under_rootfs() == before, "the container's mounts stayed in the runtime's mount namespace"


def test_no_namespaces_at_all_shares_every_one(mr):
    r = mr.run(mr.bundle(["sh", "-c", "echo $$; hostname; readlink /proc/self/ns/net; readlink /proc/self/ns/pid"],
                         mutate=lambda cfg: (cfg["linux"].__setitem__("namespaces", []), cfg.pop("hostname", None))))
    assert r.returncode == 0, r.stderr
    pid, hostname, net, pidns = r.stdout.split()
    assert int(pid) > 1, "the container got a pid namespace of its own"
    assert hostname == socket.gethostname()
    assert net == os.readlink("/proc/self/ns/net") and pidns == os.readlink("/proc/self/ns/pid")
    for t in ("pid", "network", "mount", "ipc", "uts", "cgroup"):
        assert t in r.stderr.split("shares the runtime's")[1].split(";")[0], (t, r.stderr)


def test_created_without_a_mount_namespace_its_mounts_go_at_delete(mr):
    before = mounts_under_rootfs()
    cid = "nomnt-created"
    mr.created.add(cid)
    r = mr.detached("create", "-b", mr.bundle(["sleep", "1000"], mutate=without("mount")), cid)
    assert r.returncode == 0, r.stderr
    during = mounts_under_rootfs()
    assert REAL_ROOTFS in during and REAL_ROOTFS + "/proc" in during, during
    pid = mr.state(cid)["pid"]
    assert mr.cmd("start", cid).returncode == 0
    assert mr.cmd("delete", "--force", cid).returncode == 0
    reap(pid)
    assert mounts_under_rootfs() == before
    assert not os.path.exists(os.path.join(mr.root, cid))


def test_a_failed_create_without_a_mount_namespace_leaves_no_mount(mr):
    before = mounts_under_rootfs()

    def mutate(cfg):
        without("mount")(cfg)
        cfg["mounts"].append({"destination": "/mnt", "type": "bind", "source": "/no/such/source",
                              "options": ["rbind"]})
    r = mr.run(mr.bundle(["true"], mutate=mutate), cid="nomnt-fail")
    assert r.returncode == 1 and "/no/such/source" in r.stderr, r.stderr
    assert mounts_under_rootfs() == before
    assert not os.path.exists(os.path.join(mr.root, "nomnt-fail"))


def test_root_propagation_needs_a_mount_namespace(mr):
    def mutate(cfg):
        without("mount")(cfg)
        cfg["linux"]["rootfsPropagation"] = "rshared"
    before = mounts_under_rootfs()
    r = mr.run(mr.bundle(["true"], mutate=mutate), cid="nomnt-prop")
    assert r.returncode == 1
    assert "linux.rootfsPropagation needs a mount namespace of the container's own" in r.stderr, r.stderr
    assert mounts_under_rootfs() == before


@pytest.fixture
def uts_holder():
    """A process in a uts namespace of its own, for a config to join by path."""
    p = subprocess.Popen(["unshare", "--uts", "sleep", "1000"])
    deadline = time.monotonic() + 5
    while os.readlink(f"/proc/{p.pid}/ns/uts") == os.readlink("/proc/self/ns/uts"):
        assert time.monotonic() < deadline, "unshare --uts did not get its namespace"
        time.sleep(0.01)
    yield p.pid
    p.send_signal(signal.SIGKILL)
    p.wait()


def test_hostname_is_set_in_a_uts_namespace_joined_by_path(mr, uts_holder):
    host_name = socket.gethostname()

    def mutate(cfg):
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "uts"]
        cfg["linux"]["namespaces"].append({"type": "uts", "path": f"/proc/{uts_holder}/ns/uts"})
        cfg["hostname"] = "joined-name"
        cfg["domainname"] = "joined.domain"
    r = mr.run(mr.bundle(["sh", "-c", "hostname; cat /proc/sys/kernel/domainname"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["joined-name", "joined.domain"]
    seen = subprocess.run(["nsenter", "-t", str(uts_holder), "-u", "hostname"], capture_output=True, text=True)
    assert seen.stdout.strip() == "joined-name"
    assert socket.gethostname() == host_name, "the host was renamed"


def test_hostname_without_a_uts_namespace_is_refused(mr):
    r = mr.run(mr.bundle(["true"], mutate=without("uts")), cid="no-uts")
    assert r.returncode == 1
    assert "hostname is set but the container has no uts namespace of its own" in r.stderr, r.stderr


def test_two_containers_without_a_mount_namespace_on_one_rootfs(mr):
    """The second one's bind of the rootfs would cover the first one's, which
    then could not be detached at delete (it used to stay mounted, with the
    first container's mounts, after both were deleted): the second is refused
    while the first one's bind is there, and each delete detaches exactly its
    own bind."""
    before = mounts_under_rootfs()
    bundle = mr.bundle(["sleep", "1000"], mutate=without("mount"))
    mr.created.update({"nomnt-a", "nomnt-b"})
    r = mr.detached("create", "-b", bundle, "nomnt-a")
    assert r.returncode == 0, r.stderr
    pid_a = mr.state("nomnt-a")["pid"]
    with_a = mounts_under_rootfs()

    r = mr.detached("create", "-b", bundle, "nomnt-b")
    assert r.returncode != 0
    assert (f"the rootfs `{REAL_ROOTFS}` is in use by container `nomnt-a`, which has no mount namespace of its own "
            "either") in r.stderr, r.stderr
    assert "give this container a mount namespace" in r.stderr
    assert mounts_under_rootfs() == with_a, "the refused create changed the mounts"
    assert not os.path.exists(os.path.join(mr.root, "nomnt-b"))

    # one with a mount namespace of its own may share the rootfs meanwhile
    r = mr.run(mr.bundle(["true"]))
    assert r.returncode == 0, r.stderr

    assert mr.cmd("delete", "--force", "nomnt-a").returncode == 0
    reap(pid_a)
    assert mounts_under_rootfs() == before
    # once the first is gone, the second may come, and goes as cleanly
    r = mr.detached("create", "-b", bundle, "nomnt-b")
    assert r.returncode == 0, r.stderr
    pid_b = mr.state("nomnt-b")["pid"]
    assert mounts_under_rootfs() != before
    assert mr.cmd("delete", "--force", "nomnt-b").returncode == 0
    reap(pid_b)
    assert mounts_under_rootfs() == before
