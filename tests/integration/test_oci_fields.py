"""OCI config fields, one test per field or rule that no other test file
checks (docs/oci-conformance.md maps every field to its test).

Real kernel, real assertions: each test runs a container and looks at what
the kernel says from inside it (mountinfo, /proc, the cgroup files) or from
the host.  What this hybrid-cgroup host cannot do is skipped with the
reason."""
import json
import os
import stat
import subprocess
import time

import pytest

from conftest import MINIRUN, ROOTFS, cgroup_dirs, reap


def sh(*script):
    return ["sh", "-c", " ".join(script)]


def mountinfo_line(out, mountpoint):
    """The mountinfo line of `mountpoint` in the output of `cat /proc/self/mountinfo`."""
    lines = [l for l in out.splitlines() if len(l.split()) > 5 and l.split()[4] == mountpoint]
    assert lines, f"{mountpoint} is not mounted:\n{out}"
    return lines[-1]


def mount_opts(line):
    """The per-mount options (field 6) and the super options (last field) of a mountinfo line."""
    fields = line.split()
    return set(fields[5].split(",")), set(fields[-1].split(","))


def add_mount(cfg, **m):
    cfg["mounts"].append(m)


def v1_dir(controller):
    path = f"/sys/fs/cgroup/{controller}"
    if not os.path.isdir(path) or not os.path.exists(f"{path}/cgroup.procs"):
        return None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            parts = line.split(" - ")
            if parts[1].split()[0] == "cgroup" and parts[0].split()[4] == path:
                return path
    return None


# --- mounts -----------------------------------------------------------------


@pytest.mark.parametrize("option", ["iversion", "noiversion", "silent", "loud"])
def test_mount_options_iversion_and_silent_are_mount_flags_not_data(mr, option):
    """MUST options of the spec: mount(8) flags, never filesystem data (tmpfs
    refuses unknown data with EINVAL)."""
    def mutate(cfg):
        add_mount(cfg, destination="/run", type="tmpfs", source="tmpfs", options=[option, "size=1m"])

    r = mr.run(mr.bundle(sh("cat /proc/self/mountinfo"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    _, sup = mount_opts(mountinfo_line(r.stdout, "/run"))
    assert option not in sup, sup
    assert "size=1024k" in sup, sup


@pytest.mark.parametrize("option", ["rnoexec", "rnosuid", "rnodev", "rnoatime", "rnosymfollow", "rexec",
                                    "rstrictatime"])
def test_recursive_mount_options_minirun_cannot_apply_are_refused(mr, option):
    """Passed on as data they would be dropped without a word for a bind mount
    (the kernel ignores a bind's data): refused with the path and a hint."""
    def mutate(cfg):
        add_mount(cfg, destination="/run", type="bind", source="/tmp", options=["rbind", option])

    r = mr.run(mr.bundle(["true"], mutate=mutate))
    assert r.returncode != 0
    assert (f'mounts[7].options[1]: recursive mount option "{option}" is not supported by minirun '
            f'(only "rro" and "rrw" are); use "{option[1:]}"') in r.stderr, r.stderr


@pytest.mark.parametrize("options,per_mount,super_", [
    (["nosuid", "nodev", "noexec", "noatime"], {"nosuid", "nodev", "noexec", "noatime"}, set()),
    (["strictatime"], set(), set()),
    (["nodiratime", "relatime"], {"nodiratime", "relatime"}, set()),
    (["nosymfollow"], {"nosymfollow"}, set()),
    (["dirsync", "lazytime", "mand"], set(), {"dirsync", "lazytime", "mand"}),
    (["sync"], set(), {"sync"}),
    (["ro", "rw"], {"rw"}, set()),
    (["rw", "ro"], {"ro"}, set()),
    (["noexec", "exec", "nosuid", "suid", "nodev", "dev"], set(), set()),
    (["defaults", "async", "nomand", "nolazytime", "symfollow"], set(), set()),
])
def test_mount_flag_options_reach_the_kernel(mr, options, per_mount, super_):
    """Every flag option of the spec's Linux table; later options win."""
    def mutate(cfg):
        add_mount(cfg, destination="/run", type="tmpfs", source="tmpfs", options=options + ["size=1m"])

    r = mr.run(mr.bundle(sh("cat /proc/self/mountinfo"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    line = mountinfo_line(r.stdout, "/run")
    mnt, sup = mount_opts(line)
    assert per_mount <= mnt, line
    assert super_ <= sup, line
    if options[-1] in ("exec", "suid", "dev") or options == ["noexec", "exec", "nosuid", "suid", "nodev", "dev"]:
        assert not {"noexec", "nosuid", "nodev"} & mnt, line
    if "strictatime" in options:
        assert not {"relatime", "noatime"} & mnt, line


def test_rro_makes_every_submount_read_only(mr, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(src / "sub")], check=True)
    try:
        def mutate(cfg):
            add_mount(cfg, destination="/run", type="bind", source=str(src), options=["rbind", "rro"])

        r = mr.run(mr.bundle(sh("cat /proc/self/mountinfo; touch /run/sub/x 2>/dev/null || echo sub-ro"),
                             mutate=mutate))
        assert r.returncode == 0, r.stderr
        assert "ro" in mount_opts(mountinfo_line(r.stdout, "/run"))[0]
        assert "ro" in mount_opts(mountinfo_line(r.stdout, "/run/sub"))[0]
        assert r.stdout.rstrip().endswith("sub-ro")
    finally:
        subprocess.run(["umount", "-l", str(src / "sub")], check=True)


@pytest.mark.parametrize("prop,tag", [("rshared", "shared:"), ("rslave", "master:"), ("rprivate", None),
                                      ("runbindable", "unbindable")])
def test_mount_propagation_options(mr, tmp_path, prop, tag):
    src = tmp_path / "src"
    src.mkdir()
    # a shared source, so that slave has a master to follow
    subprocess.run(["mount", "--bind", "--make-shared", str(src), str(src)], check=True)
    try:
        def mutate(cfg):
            # minirun makes the container's mounts private by default (runc:
            # rslave), so a slave bind has a master only under an rslave root
            if prop == "rslave":
                cfg["linux"]["rootfsPropagation"] = "rslave"
            add_mount(cfg, destination="/run", type="bind", source=str(src), options=["rbind", prop])

        r = mr.run(mr.bundle(sh("cat /proc/self/mountinfo"), mutate=mutate))
        assert r.returncode == 0, r.stderr
        fields = mountinfo_line(r.stdout, "/run").split()
        optional = fields[6:fields.index("-")]
        if tag is None:
            assert optional == [], fields
        else:
            assert any(o.startswith(tag) for o in optional), fields
    finally:
        subprocess.run(["umount", "-l", str(src)], check=True)


def test_bind_source_relative_to_the_bundle(mr):
    def mutate(cfg):
        add_mount(cfg, destination="/run", type="none", source="rootfs/etc", options=["bind", "ro"])

    r = mr.run(mr.bundle(sh("ls /run; grep -c ' /run ' /proc/self/mountinfo"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert "passwd" in r.stdout.split(), r.stdout


def test_mounts_are_applied_in_the_listed_order(mr):
    """A later mount over an earlier one hides it: the order is the config's."""
    def mutate(cfg):
        add_mount(cfg, destination="/run", type="tmpfs", source="first", options=["size=1m"])
        add_mount(cfg, destination="/run", type="tmpfs", source="second", options=["size=2m"])

    r = mr.run(mr.bundle(sh("cat /proc/self/mountinfo"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    runs = [l.split() for l in r.stdout.splitlines() if l.split()[4] == "/run"]
    assert [f[-2] for f in runs] == ["first", "second"], runs


def test_mount_destination_that_does_not_exist_is_created_inside_the_rootfs(mr, tmp_path):
    rootfs = tmp_path / "rootfs-copy"
    subprocess.run(["cp", "-a", ROOTFS, str(rootfs)], check=True)

    def mutate(cfg):
        cfg["root"]["path"] = str(rootfs)
        add_mount(cfg, destination="/new/a/b", type="tmpfs", source="tmpfs", options=["size=1m"])

    r = mr.run(mr.bundle(sh("cat /proc/self/mountinfo"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    mountinfo_line(r.stdout, "/new/a/b")
    assert (rootfs / "new" / "a" / "b").is_dir()
