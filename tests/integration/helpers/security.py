"""What the security tests share (test_capabilities.py, test_user.py,
test_rlimits.py, test_oom_score_adj.py, test_security.py, test_seccomp.py,
test_seccomp_notify.py, test_userns.py, test_rootless.py): /proc/PID/status
as a dict, the check that a refused container left nothing behind, and a
seccomp profile as a config mutation.
"""
import os

from conftest import cgroup_dirs


def status_fields(text):
    """/proc/PID/status as a dict of its fields."""
    out = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v.strip()
    return out


def assert_nothing_left(mr, cid):
    assert not os.path.exists(os.path.join(mr.root, cid)), "state directory left behind"
    assert cgroup_dirs(f"/minirun/{cid}") == [], "cgroup left behind"
    with open("/proc/self/mountinfo") as f:
        assert cid not in f.read(), "mount left behind"


def with_seccomp(*rules, default="SCMP_ACT_ALLOW", **extra):
    def mutate(cfg):
        cfg["linux"]["seccomp"] = dict({"defaultAction": default, "syscalls": list(rules)}, **extra)
    return mutate
