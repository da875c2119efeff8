"""process.rlimits: applied (seen in /proc/PID/limits), and a hard limit
above the runtime's refused without CAP_SYS_RESOURCE, leaving nothing.
"""
import os
import resource

import pytest

from helpers.security import assert_nothing_left


def limits_table(text):
    """/proc/PID/limits: {"Max open files": ("512", "512"), ...}"""
    out = {}
    for line in text.splitlines()[1:]:
        name = line[:26].strip()
        parts = line[26:].split()
        out[name] = (parts[0], parts[1])
    return out


def test_rlimits_are_visible_in_proc_limits(mr):
    def mutate(cfg):
        cfg["process"]["rlimits"] = [
            {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 512},
            {"type": "RLIMIT_STACK", "soft": 4194304, "hard": 6291456},
            {"type": "RLIMIT_CORE", "soft": 0, "hard": 4096},
        ]

    r = mr.run(mr.bundle(["cat", "/proc/self/limits"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    t = limits_table(r.stdout)
    assert t["Max open files"] == ("512", "512")
    assert t["Max stack size"] == ("4194304", "6291456")
    assert t["Max core file size"] == ("0", "4096")


def can_raise_hard_limit(res, hard):
    """Whether this test process could raise `res` to `hard` (it needs
    CAP_SYS_RESOURCE): tried in a throwaway child."""
    pid = os.fork()
    if pid == 0:
        try:
            soft, _ = resource.getrlimit(res)
            resource.setrlimit(res, (soft, hard))
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, st = os.waitpid(pid, 0)
    return os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0


def test_rlimit_above_the_hard_limit_is_refused_and_leaves_nothing(mr):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with open("/proc/sys/fs/nr_open") as f:
        nr_open = int(f.read())
    want = hard + 1
    if hard == resource.RLIM_INFINITY or want > nr_open:
        pytest.skip(f"RLIMIT_NOFILE hard limit {hard} cannot be exceeded below fs.nr_open {nr_open}")
    if can_raise_hard_limit(resource.RLIMIT_NOFILE, want):
        pytest.skip("this process has CAP_SYS_RESOURCE: raising the hard limit would succeed")

    def mutate(cfg):
        cfg["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": want, "hard": want}]

    r = mr.run(mr.bundle(["true"], mutate=mutate), cid="rlim-high")
    assert r.returncode == 1, r.stderr
    assert "process.rlimits[0]" in r.stderr and "RLIMIT_NOFILE" in r.stderr, r.stderr
    assert f"hard={want}" in r.stderr and "CAP_SYS_RESOURCE" in r.stderr, r.stderr
    assert_nothing_left(mr, "rlim-high")
