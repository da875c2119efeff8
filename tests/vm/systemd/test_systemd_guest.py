"""The systemd guest itself, and minirun under it: systemd is PID 1 on cgroup
v2 only, the boot settles (running or degraded), and minirun runs, creates,
starts and deletes a busybox container there with limits on the v2 tree
(its own cgroupfs driver under /minirun: `--systemd-cgroup` comes later)."""
import json
import os
import subprocess
import uuid

from conftest import MINIRUN, cgroup_dirs
from systemd_guest import system_state


def test_systemd_is_pid1_on_cgroup_v2_only():
    with open("/proc/1/comm") as f:
        assert f.read().strip() == "systemd"
    with open("/proc/self/mountinfo") as f:
        kinds = [line.split(" - ")[1].split()[0] for line in f]
    assert "cgroup" not in kinds, "a cgroup v1 hierarchy is mounted"
    assert "cgroup2" in kinds
    with open("/sys/fs/cgroup/cgroup.controllers") as f:
        ctrls = set(f.read().split())
    assert {"cpu", "memory", "pids", "io"} <= ctrls, ctrls
    with open("/proc/self/cgroup") as f:
        own = f.read().strip()
    # this test runs in the runner unit's cgroup, which systemd made
    assert own.startswith("0::/system.slice/minirun-vm-runner.service"), own


def test_the_boot_settles_running_or_degraded():
    # the runner waited for `systemctl is-system-running --wait`; ask again now
    state = system_state()
    failed = subprocess.run(["systemctl", "list-units", "--failed", "--plain", "--no-legend"], capture_output=True,
                            text=True, timeout=60).stdout
    assert state in ("running", "degraded"), (state, failed)
    if state == "degraded":
        print(f"degraded: failed units:\n{failed}")


def test_run_prints_and_exits_with_its_status(mr):
    b = mr.bundle(["sh", "-c", "echo hello from $(hostname); exit 7"])
    r = mr.run(b)
    assert r.returncode == 7, r.stderr
    assert "hello from" in r.stdout, r.stdout


def test_create_start_delete_with_limits_on_the_v2_tree(mr):
    def limits(cfg):
        cfg["linux"]["resources"] = {"pids": {"limit": 20}, "memory": {"limit": 64 << 20}}

    cid = f"sd-{uuid.uuid4().hex[:10]}"
    b = mr.bundle(["sleep", "30"], mutate=limits)
    mr.created.add(cid)
    r = mr.detached("create", "-b", b, cid)
    assert r.returncode == 0, r.stderr
    assert mr.state(cid)["status"] == "created"
    d = f"/sys/fs/cgroup/minirun/{cid}"
    with open(f"{d}/pids.max") as f:
        assert f.read().strip() == "20"
    with open(f"{d}/memory.max") as f:
        assert f.read().strip() == str(64 << 20)
    assert mr.cmd("start", cid).returncode == 0
    st = mr.state(cid)
    assert st["status"] == "running"
    with open(f"/proc/{st['pid']}/cgroup") as f:
        assert f.read().strip() == f"0::/minirun/{cid}"
    r = mr.cmd("delete", "--force", cid)
    assert r.returncode == 0, r.stderr
    assert cgroup_dirs(f"/minirun/{cid}") == []
    listed = json.loads(mr.cmd("list", "--format", "json", check=True).stdout)
    assert [c for c in listed if c["id"] == cid] == []
    assert os.access(MINIRUN, os.X_OK)
