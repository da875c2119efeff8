"""The bundles in examples/ run as documented."""
import os

import pytest

from conftest import MINIRUN, REPO, free_host_pids, pid_in_use, run_reaping


def test_hello(mr):
    r = mr.cmd("run", os.path.join(REPO, "examples", "hello"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "hello from hello: I am pid 1 in my pid namespace"


def test_reproducible_ci_gives_the_same_pids_every_run(mr):
    outputs = []
    for _ in range(2):
        r = mr.cmd("run", os.path.join(REPO, "examples", "reproducible-ci"))
        assert r.returncode == 0, r.stderr
        outputs.append(r.stdout)
    assert outputs[0] == outputs[1]
    rows = [line.split(None, 2) for line in outputs[0].splitlines()[2:]]
    assert [(int(p), int(pp)) for p, pp, _ in rows] == [(1, 0), (10, 1), (11, 10), (20, 1), (30, 1), (31, 30)]


def test_pinned_host_pid_example(mr):
    if pid_in_use(31000):
        pytest.skip("host pid 31000 (the example's pin) is in use on this machine right now")
    r = mr.cmd("run", "--pid-file", mr.tmp / "p", os.path.join(REPO, "examples", "pinned-host-pid"))
    assert r.returncode == 0, r.stderr
    assert int((mr.tmp / "p").read_text()) == 31000
    assert "inside: my pid is 1" in r.stdout


def test_restore_example_round_trip():
    # host pins chosen free now, not the example's 31100-31102
    pins = free_host_pids(3)
    r = run_reaping([os.path.join(REPO, "examples", "restore", "restore.sh"), MINIRUN],
                    env=dict(os.environ, RESTORE_HOST_PIDS=" ".join(map(str, pins))))
    assert r.returncode == 0, r.stdout
    for p in pins:
        assert f"{p}" in r.stdout, (p, r.stdout)
    assert "identical: every process is back at its pids" in r.stdout
