"""linux.seccomp (runtime/security/seccomp.c): an errno rule, a filter that
holds across the uid change without no_new_privs, argument conditions, an
unknown syscall skipped with a warning, a big allowlist compiled once and
then loaded from the cache, and an invalid action refused.
"""
import errno
import json
import os

from conftest import REPO
from helpers import helper, helpers_dir, helpers_mount  # noqa: F401 (fixture)
from helpers.lifecycle import sh
from helpers.security import assert_nothing_left, status_fields, with_seccomp


def test_seccomp_errno_rule(mr):
    # control: without the filter, mkdir fails on the read-only root
    r = mr.run(mr.bundle(sh("mkdir /tmp/x; echo rc=$?; grep '^Seccomp:' /proc/self/status")))
    assert "Read-only file system" in r.stderr and "rc=1" in r.stdout, r.stdout + r.stderr
    assert r.stdout.split()[-2:] == ["Seccomp:", "0"]

    rule = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSYS}
    r = mr.run(mr.bundle(sh("mkdir /tmp/x; echo rc=$?; grep '^Seccomp:' /proc/self/status"),
                         mutate=with_seccomp(rule)))
    assert r.returncode == 0, r.stderr
    assert "mkdir: can't create directory '/tmp/x': Function not implemented" in r.stderr, r.stderr
    assert r.stdout.split() == ["rc=1", "Seccomp:", "2"]


def test_seccomp_without_no_new_privileges_for_a_non_root_user(mr):
    """Without no_new_privs the filter is loaded while still privileged,
    before the uid change: it must hold after it."""
    rule = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.ENOSYS}

    def mutate(cfg):
        with_seccomp(rule)(cfg)
        cfg["process"]["noNewPrivileges"] = False
        cfg["process"]["user"] = {"uid": 1000, "gid": 1000}

    r = mr.run(mr.bundle(sh("mkdir /tmp/x; grep -E '^(Uid|NoNewPrivs|Seccomp):' /proc/self/status"),
                         mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert "Function not implemented" in r.stderr, r.stderr
    fields = status_fields(r.stdout)
    assert fields["Uid"].split() == ["1000"] * 4
    assert fields["NoNewPrivs"] == "0" and fields["Seccomp"] == "2", fields


def test_seccomp_rule_with_argument_conditions(mr, helpers_dir):
    rules = [
        {"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EACCES,
         "args": [{"index": 0, "value": 0xFFFFFFFF, "op": "SCMP_CMP_EQ"}]},
        # two conditions on the same argument: either one matches
        {"names": ["kill"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno.EPERM,
         "args": [{"index": 1, "value": 10, "op": "SCMP_CMP_EQ"},
                  {"index": 1, "value": 12, "op": "SCMP_CMP_EQ"}]},
    ]

    def mutate(cfg):
        with_seccomp(*rules)(cfg)
        cfg["mounts"].append(helpers_mount(helpers_dir))

    s = helper("sysc")
    r = mr.run(mr.bundle(sh(f"{s} personality 0xffffffff; {s} personality 0; {s} kill 10; {s} kill 12; "
                            f"{s} kill 23; {s} kill 0"), mutate=mutate))
    lines = r.stdout.splitlines()
    assert len(lines) == 6, r.stdout + r.stderr
    assert lines[0] == f"err {errno.EACCES} Permission denied", "personality(0xffffffff) must be denied"
    assert lines[1].startswith("ok "), "personality(0) has another argument: must be allowed"
    assert lines[2] == f"err {errno.EPERM} Operation not permitted", "kill(SIGUSR1) must be denied"
    assert lines[3] == f"err {errno.EPERM} Operation not permitted", "kill(SIGUSR2) must be denied"
    assert lines[4] == "ok 0", "kill(SIGURG) must be allowed"
    assert lines[5] == "ok 0", "kill(0) must be allowed"


def test_seccomp_unknown_syscall_is_skipped_with_a_warning(mr):
    rule = {"names": ["no_such_syscall_xyz", "mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
            "errnoRet": errno.ENOSYS}
    r = mr.run(mr.bundle(sh("echo running; mkdir /tmp/x"), mutate=with_seccomp(rule)))
    assert r.stdout == "running\n"
    assert "linux.seccomp.syscalls[0].names[0]" in r.stderr and "no_such_syscall_xyz" in r.stderr, r.stderr
    assert "warning" in r.stderr
    # the other names of the same rule still apply
    assert "Function not implemented" in r.stderr, r.stderr


def test_seccomp_allowlist_profile_compiled_then_cached(mr):
    """A default-deny allowlist of ~140 syscalls for three architectures (the
    benchmark's profile, compiled by libseccomp into a binary tree of syscall
    numbers): every listed syscall the shell needs works, an unlisted one
    gets the default errno, and the second run, which loads the program kept
    in <root>/.seccomp-cache, behaves the same.  A changed profile is a
    different program: the cache is matched on the whole profile."""
    with open(os.path.join(REPO, "bench", "seccomp.json")) as f:
        profile = json.load(f)
    allowed = [n for n in profile["syscalls"][0]["names"] if n not in ("mkdir", "mkdirat")]
    assert len(allowed) > 100, "the benchmark profile shrank; this test wants a big allowlist"
    cache = os.path.join(mr.root, ".seccomp-cache")
    script = sh("echo hi | cat; ls /bin/busybox; mkdir /tmp/x; echo rc=$?; grep '^Seccomp:' /proc/self/status")

    def deny_mkdir(cfg):
        cfg["linux"]["seccomp"] = dict(profile, syscalls=[{"names": allowed, "action": "SCMP_ACT_ALLOW"}],
                                       defaultErrnoRet=errno.EACCES)

    outs = []
    for attempt in range(2):
        r = mr.run(mr.bundle(script, mutate=deny_mkdir))
        assert r.returncode == 0, r.stdout + r.stderr
        assert "Permission denied" in r.stderr, r.stderr
        outs.append(r.stdout)
        assert len(os.listdir(cache)) == 1, os.listdir(cache)
    assert outs[0] == outs[1] == "hi\n/bin/busybox\nrc=1\nSeccomp:\t2\n", outs

    def allow_mkdir(cfg):
        deny_mkdir(cfg)
        cfg["linux"]["seccomp"]["syscalls"][0]["names"] += ["mkdir", "mkdirat"]

    r = mr.run(mr.bundle(script, mutate=allow_mkdir))
    # mkdir is allowed now: it reaches the kernel, which refuses the read-only root
    assert "Read-only file system" in r.stderr, r.stdout + r.stderr
    assert len(os.listdir(cache)) == 2, os.listdir(cache)


def test_seccomp_invalid_action_names_the_rule_and_leaves_nothing(mr):
    rules = [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"},
             {"names": ["kill"], "action": "SCMP_ACT_NOPE"}]
    r = mr.run(mr.bundle(["true"], mutate=with_seccomp(*rules)), cid="badact")
    assert r.returncode == 1
    assert "linux.seccomp.syscalls[1].action" in r.stderr and "SCMP_ACT_NOPE" in r.stderr, r.stderr
    assert_nothing_left(mr, "badact")
