"""linux.intelRdt: the container's resctrl group (Intel RDT / AMD PQoS).

This machine's CPU has no RDT (no resctrl filesystem), so here the tests
check the clear refusal and that a refused create leaves nothing; the group
itself (made, the init's tasks in it, removed at delete) is tested where a
resctrl filesystem is mounted and skipped with the reason elsewhere.  The
group's logic is unit-tested on a resctrl-shaped directory
(tests/unit/test_resctrl.c)."""
import os

import pytest

from helpers.security import assert_nothing_left


def resctrl_mount():
    with open("/proc/self/mountinfo") as f:
        for line in f:
            if " - resctrl " in line:
                return line.split()[4]
    return None


def with_rdt(**rdt):
    def mutate(c):
        c["linux"]["intelRdt"] = rdt
    return mutate


@pytest.mark.skipif(resctrl_mount() is not None, reason="this host has a resctrl filesystem: the refusal is for hosts without one")
def test_intel_rdt_without_resctrl_is_refused_clearly_and_leaves_nothing(mr):
    r = mr.run(mr.bundle(["true"], mutate=with_rdt(l3CacheSchema="L3:0=ff")), cid="rdt-none")
    assert r.returncode == 1, r.stderr
    assert "linux.intelRdt: this host has no resctrl filesystem mounted" in r.stderr, r.stderr
    assert_nothing_left(mr, "rdt-none")


def test_intel_rdt_bad_clos_id_is_a_config_error(mr):
    r = mr.run(mr.bundle(["true"], mutate=with_rdt(closID="../escape")), cid="rdt-bad")
    assert r.returncode == 1, r.stderr
    assert "linux.intelRdt.closID" in r.stderr and "not a resctrl group name" in r.stderr, r.stderr
    assert_nothing_left(mr, "rdt-bad")


def test_update_rdt_schemata_without_a_group_fails_clearly(mr):
    r = mr.run(mr.bundle(["sleep", "100"]), "-d", cid="rdt-upd")
    assert r.returncode == 0, r.stderr
    r = mr.cmd("update", "--l3-cache-schema", "L3:0=f", "rdt-upd")
    assert r.returncode == 1
    assert "has no resctrl group" in r.stderr, r.stderr


@pytest.mark.skipif(resctrl_mount() is None, reason="no resctrl filesystem on this host (a CPU without Intel RDT / AMD PQoS)")
def test_intel_rdt_group_holds_the_container_and_goes_with_it(mr):
    root = resctrl_mount()
    r = mr.run(mr.bundle(["sleep", "100"], mutate=with_rdt(enableMonitoring=True)), "-d", cid="rdt-own")
    assert r.returncode == 0, r.stderr
    group = os.path.join(root, "rdt-own")
    pid = mr.state("rdt-own")["pid"]
    with open(os.path.join(group, "tasks")) as f:
        assert str(pid) in f.read().split()
    with open(os.path.join(group, "mon_groups", "rdt-own", "tasks")) as f:
        assert str(pid) in f.read().split()
    with open(os.path.join(root, "tasks")) as f:
        assert str(os.getpid()) in f.read().split()  # minirun's own launcher went back; we never moved
    assert mr.cmd("delete", "--force", "rdt-own").returncode == 0
    assert not os.path.exists(group)
