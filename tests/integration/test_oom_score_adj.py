"""process.oomScoreAdj: applied, and lowering it without CAP_SYS_RESOURCE
refused, leaving nothing.
"""
import subprocess

import pytest

from helpers.security import assert_nothing_left


def test_oom_score_adj(mr):
    def mutate(cfg):
        cfg["process"]["oomScoreAdj"] = 500

    r = mr.run(mr.bundle(["cat", "/proc/self/oom_score_adj"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "500"


def test_lowering_oom_score_adj_without_cap_sys_resource_fails_and_leaves_nothing(mr):
    with open("/proc/self/oom_score_adj") as f:
        cur = int(f.read())
    target = max(-1000, cur - 100)
    probe = subprocess.run(["sh", "-c", f"echo {target} > /proc/self/oom_score_adj"], capture_output=True)
    if probe.returncode == 0:
        pytest.skip("this process may lower oom_score_adj (CAP_SYS_RESOURCE): nothing to refuse")

    def mutate(cfg):
        cfg["process"]["oomScoreAdj"] = target

    r = mr.run(mr.bundle(["true"], mutate=mutate), cid="oom-low")
    assert r.returncode == 1, r.stderr
    assert "process.oomScoreAdj" in r.stderr and "CAP_SYS_RESOURCE" in r.stderr, r.stderr
    assert_nothing_left(mr, "oom-low")
