"""linux.mountLabel: where SELinux is on, the label is the context= of every
mount that takes one (as runc); this host has no SELinux, so there the run
goes on with a warning that says the label is not applied (runc would fail
the mount, crun ignores it silently).  The data the mounts get is
unit-tested (tests/unit/test_rootfs.c, "mount label")."""
import os

import pytest

LABEL = "system_u:object_r:container_file_t:s0"


def selinux_on():
    return os.path.exists("/sys/fs/selinux/enforce")


@pytest.mark.skipif(selinux_on(), reason="SELinux is on here: the label is applied, not warned about")
def test_mount_label_without_selinux_runs_with_a_warning(mr):
    def mutate(c):
        c["linux"]["mountLabel"] = LABEL

    r = mr.run(mr.bundle(["/bin/sh", "-c", "grep ' /tmp \\| /dev/shm ' /proc/self/mountinfo"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert f'linux.mountLabel "{LABEL}" is not applied: SELinux is not enabled' in r.stderr, r.stderr
    assert "context=" not in r.stdout, r.stdout


@pytest.mark.skipif(not selinux_on(), reason="no SELinux on this host (no selinuxfs at /sys/fs/selinux)")
def test_mount_label_with_selinux_labels_the_tmpfs(mr):
    def mutate(c):
        c["linux"]["mountLabel"] = LABEL

    r = mr.run(mr.bundle(["/bin/ls", "-Zd", "/dev/shm"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert "container_file_t" in r.stdout, r.stdout
