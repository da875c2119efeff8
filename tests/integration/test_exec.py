"""`minirun exec` options that change the new process (the rest of exec is
tested with run, pins and crash: test_run.py, test_pins.py, test_crash.py)."""
import json
import os
import subprocess

import pytest

from conftest import MINIRUN, cgroup_dirs
from test_lifecycle import wait_until


@pytest.fixture
def running(mr):
    r = mr.run(mr.bundle(["sleep", "1000"]), "-d", cid="execopts")
    assert r.returncode == 0, r.stderr
    return "execopts"


def test_exec_additional_gids_repeated_and_as_a_list(mr, running):
    r = mr.cmd("exec", "-g", "1234", "--additional-gids", "55,66", running, "/bin/id", "-G", check=True)
    groups = r.stdout.split()
    for g in ("1234", "55", "66"):
        assert g in groups, (g, r.stdout)


def test_exec_additional_gids_with_a_process_file(mr, running, tmp_path):
    proc = tmp_path / "p.json"
    proc.write_text(json.dumps({"args": ["/bin/id", "-G"], "cwd": "/", "user": {"uid": 0, "gid": 0}}))
    r = mr.cmd("exec", "--additional-gids", "4321", "--process", proc, running, check=True)
    assert "4321" in r.stdout.split(), r.stdout


def test_exec_additional_gids_not_a_number_is_refused(mr, running):
    r = mr.cmd("exec", "-g", "wheel", running, "/bin/true")
    assert r.returncode == 1
    assert "exec --additional-gids `wheel`: expected a numeric gid" in r.stderr, r.stderr


def test_exec_in_a_paused_container_is_refused_without_ignore_paused(mr, running):
    assert mr.cmd("pause", running).returncode == 0
    r = mr.cmd("exec", running, "echo", "hi", timeout=30)
    assert r.returncode == 1
    assert f"cannot exec in container `{running}`: it is paused" in r.stderr and "--ignore-paused" in r.stderr, r.stderr
    assert mr.cmd("resume", running).returncode == 0


def test_exec_ignore_paused_runs_once_the_container_is_resumed(mr, running):
    """runc's --ignore-paused: the exec'd process is made in the frozen
    cgroup, so it runs (and exec returns) only after resume."""
    assert mr.cmd("pause", running).returncode == 0
    procs = [os.path.join(d, "cgroup.procs") for d in cgroup_dirs(f"/minirun/{running}")
             if os.path.exists(os.path.join(d, "cgroup.procs"))]

    def members():
        return max(len(open(f).read().split()) for f in procs)

    p = subprocess.Popen([MINIRUN, "--root", mr.root, "exec", "--ignore-paused", running, "echo", "after-resume"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until(lambda: members() >= 2, what="the exec'd process in the frozen cgroup")
        assert p.poll() is None, ("exec returned while the container was paused", p.returncode, p.communicate())
        assert mr.state(running)["status"] == "paused"
        assert mr.cmd("resume", running).returncode == 0
        out, err = p.communicate(timeout=60)
        assert (p.returncode, out) == (0, "after-resume\n"), err
    finally:
        if p.poll() is None:
            mr.cmd("resume", running)
            p.communicate(timeout=60)
