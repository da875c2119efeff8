"""Capability sets of the container process (runtime/security/caps.c): the
config's defaults, each set on its own for a non-root user, ambient kept in
every set, binding port 80 only with CAP_NET_BIND_SERVICE, and an unknown
capability a warning, observed in /proc of the container process.
"""
import re

import pytest

from helpers import helper, helpers_dir, helpers_mount  # noqa: F401 (fixture)
from helpers.lifecycle import sh
from helpers.security import status_fields


def _cap_numbers():
    caps = {}
    with open("/usr/include/linux/capability.h") as f:
        for line in f:
            m = re.match(r"#define\s+(CAP_[A-Z_]+)\s+(\d+)\s*$", line)
            if m:
                caps[m.group(1)] = int(m.group(2))
    assert caps["CAP_NET_BIND_SERVICE"] == 10 and caps["CAP_SYS_ADMIN"] == 21
    return caps


CAPS = _cap_numbers()


def cap_mask(names):
    return sum(1 << CAPS[n] for n in names)


def caps_of(fields):
    return {k: int(fields[k], 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}


def test_default_capabilities_are_the_configs(mr):
    cfg_caps = None

    def mutate(cfg):
        nonlocal cfg_caps
        cfg_caps = cfg["process"]["capabilities"]

    r = mr.run(mr.bundle(["cat", "/proc/self/status"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    got = caps_of(status_fields(r.stdout))
    assert got == {
        "CapBnd": cap_mask(cfg_caps["bounding"]),
        "CapEff": cap_mask(cfg_caps["effective"]),
        "CapPrm": cap_mask(cfg_caps["permitted"]),
        "CapInh": cap_mask(cfg_caps.get("inheritable", [])),
        "CapAmb": cap_mask(cfg_caps.get("ambient", [])),
    }, {k: hex(v) for k, v in got.items()}
    assert got["CapBnd"] == cap_mask(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])


def user_caps(uid, caps, gid=None):
    def mutate(cfg):
        cfg["process"]["user"] = {"uid": uid, "gid": uid if gid is None else gid}
        cfg["process"]["capabilities"] = {k: list(v) for k, v in caps.items()}
    return mutate


def test_non_root_user_with_ambient_capability_keeps_it_in_every_set(mr):
    caps = {k: ["CAP_NET_BIND_SERVICE"] for k in ("bounding", "effective", "permitted", "inheritable", "ambient")}
    r = mr.run(mr.bundle(["cat", "/proc/self/status"], mutate=user_caps(1000, caps)))
    assert r.returncode == 0, r.stderr
    fields = status_fields(r.stdout)
    assert fields["Uid"].split() == ["1000"] * 4, fields["Uid"]
    want = cap_mask(["CAP_NET_BIND_SERVICE"])
    assert caps_of(fields) == {k: want for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")}, fields


def test_each_capability_set_is_set_on_its_own(mr):
    """Different bounding, inheritable and ambient sets for a non-root user.
    After execve of a binary without file capabilities the kernel makes
    permitted = effective = ambient; bounding and inheritable are kept."""
    caps = {
        "bounding": ["CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_CHOWN", "CAP_SETUID"],
        "permitted": ["CAP_NET_BIND_SERVICE", "CAP_KILL", "CAP_CHOWN"],
        "effective": ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
        "inheritable": ["CAP_NET_BIND_SERVICE", "CAP_KILL"],
        "ambient": ["CAP_NET_BIND_SERVICE"],
    }
    r = mr.run(mr.bundle(["cat", "/proc/self/status"], mutate=user_caps(1000, caps)))
    assert r.returncode == 0, r.stderr
    got = caps_of(status_fields(r.stdout))
    amb = cap_mask(caps["ambient"])
    assert got == {"CapBnd": cap_mask(caps["bounding"]), "CapInh": cap_mask(caps["inheritable"]),
                   "CapAmb": amb, "CapPrm": amb, "CapEff": amb}, {k: hex(v) for k, v in got.items()}


@pytest.mark.parametrize("has_cap", [True, False], ids=["with-net-bind-service", "without"])
def test_binding_port_80_needs_net_bind_service(mr, helpers_dir, has_cap):
    names = ["CAP_NET_BIND_SERVICE"] if has_cap else ["CAP_KILL"]
    caps = {k: names for k in ("bounding", "effective", "permitted", "inheritable", "ambient")}

    def mutate(cfg):
        user_caps(1000, caps)(cfg)
        cfg["mounts"].append(helpers_mount(helpers_dir))

    script = (f"cat /proc/sys/net/ipv4/ip_unprivileged_port_start; id -u; {helper('bindport')} 80; "
              f"{helper('bindport')} 8080")
    r = mr.run(mr.bundle(sh(script), mutate=mutate))
    lines = r.stdout.splitlines()
    assert int(lines[0]) > 80, f"ports from {lines[0]} on need no capability in a new netns: test is moot"
    assert lines[1] == "1000"
    if has_cap:
        assert lines[2] == "bound 80", r.stdout + r.stderr
    else:
        assert lines[2] == "bind 80: Permission denied", r.stdout + r.stderr
    assert lines[3] == "bound 8080", r.stdout + r.stderr
    assert r.returncode == 0, r.stderr


def test_an_unknown_capability_is_a_warning_and_the_container_runs(mr):
    """runtime spec: a capability that cannot be mapped MUST be logged as a
    warning and SHOULD NOT fail the container (runc warns, crun runs)."""
    def mutate(cfg):
        for s in ("bounding", "effective", "permitted"):
            cfg["process"]["capabilities"][s] = ["CAP_KILL", "CAP_NOT_REAL", "net_admin"]
    r = mr.run(mr.bundle(["sh", "-c", "grep CapEff /proc/self/status"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert 'warning: process.capabilities.bounding[1]: unknown capability "CAP_NOT_REAL" is ignored' in r.stderr
    assert 'process.capabilities.effective[2]: unknown capability "net_admin" is ignored' in r.stderr, r.stderr
    assert r.stdout.split() == ["CapEff:", "0000000000000020"], r.stdout  # CAP_KILL alone
