"""What the container process loses (runtime/security/security.h):
no_new_privs, and the settings refused with the field named and nothing
left behind (ambient not permitted, AppArmor or SELinux missing, a user or
group not mapped in the user namespace).  The other security features have
their own files: test_capabilities.py, test_user.py, test_rlimits.py,
test_oom_score_adj.py, test_seccomp.py, test_seccomp_notify.py,
test_userns.py and test_rootless.py (helpers in helpers/security.py).
"""
import os

import pytest

from helpers.security import assert_nothing_left


# -------------------------------------------------------------- no_new_privs

@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(mr, nnp):
    def mutate(cfg):
        cfg["process"]["noNewPrivileges"] = nnp

    r = mr.run(mr.bundle(["grep", "^NoNewPrivs:", "/proc/self/status"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["NoNewPrivs:", "1" if nnp else "0"]


# -------------------------------------------------- refused security settings

def _userns(cfg, user):
    cfg["linux"]["namespaces"].append({"type": "user"})
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 1000}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 1000}]
    cfg["process"]["user"] = user


REFUSED = {
    "ambient-not-permitted": (
        lambda c: c["process"]["capabilities"].__setitem__("ambient", ["CAP_SYS_ADMIN"]),
        ["process.capabilities.ambient: CAP_SYS_ADMIN must also be in process.capabilities.permitted"]),
    "apparmor-missing": (
        lambda c: c["process"].__setitem__("apparmorProfile", "sectests-profile"),
        ["process.apparmorProfile", "sectests-profile"]),
    "selinux-missing": (
        lambda c: c["process"].__setitem__("selinuxLabel", "system_u:system_r:container_t:s0"),
        ["process.selinuxLabel"]),
    "uid-not-mapped": (
        lambda c: _userns(c, {"uid": 5000, "gid": 0}),
        ['container setup step "security"', "setresuid 5000 (process.user.uid)", "linux.uidMappings"]),
    "gid-not-mapped": (
        lambda c: _userns(c, {"uid": 100, "gid": 100, "additionalGids": [5000]}),
        ['container setup step "security"', "setgroups [5000] (process.user.additionalGids)"]),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_refused_security_settings_name_the_field_and_leave_nothing(mr, case):
    if case == "apparmor-missing" and os.path.exists("/sys/kernel/security/apparmor"):
        pytest.skip("AppArmor is enabled here: the profile would be looked up, not refused")
    if case == "selinux-missing" and os.path.exists("/sys/fs/selinux"):
        pytest.skip("SELinux is present here: the label would be applied, not refused")
    mutate, expect = REFUSED[case]
    r = mr.run(mr.bundle(["true"], mutate=mutate), cid=f"refused-{case}")
    assert r.returncode == 1, r.stdout + r.stderr
    for text in expect:
        assert text in r.stderr, r.stderr
    assert_nothing_left(mr, f"refused-{case}")
