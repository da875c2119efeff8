"""Mount options that need more than mount(2): the recursive attributes
(rnoexec, rnosuid, ... with mount_setattr(AT_RECURSIVE)), tmpcopyup (a tmpfs
that starts with a copy of what it covers) and idmapped mounts
(mounts[].uidMappings/gidMappings, "idmap", "ridmap").

Real kernel, real assertions: each test looks at /proc/self/mountinfo, stat
or what a command can do inside the container, and at the host afterwards.
What this machine cannot do is skipped with the reason."""
import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import ROOTFS

# Filesystems (stat -f -c %T) that take idmapped mounts on Linux 6.x.
IDMAP_FS = {"ext2/ext3", "xfs", "btrfs", "tmpfs", "overlayfs", "vfat", "f2fs", "erofs"}
KERNEL = tuple(int(x) for x in os.uname().release.split("-")[0].split(".")[:2])
# tmpfs takes idmapped mounts since Linux 6.3 (the VM lane's 6.1 guest has not)
TMPFS_IDMAP = KERNEL >= (6, 3)


def idmappable(fs):
    """Does a filesystem of this `stat -f` type take idmapped mounts on this kernel?"""
    return fs in IDMAP_FS and (fs != "tmpfs" or TMPFS_IDMAP)


def need_tmpfs_idmap():
    if not TMPFS_IDMAP:
        pytest.skip(f"tmpfs takes idmapped mounts since Linux 6.3; this kernel is {os.uname().release}")


def sh(*script):
    return ["sh", "-c", " ".join(script)]


def add_mount(cfg, **m):
    cfg["mounts"].append(m)


def mountinfo_line(out, mountpoint):
    lines = [l for l in out.splitlines() if len(l.split()) > 5 and l.split()[4] == mountpoint]
    assert lines, f"{mountpoint} is not mounted:\n{out}"
    return lines[-1]


def per_mount(out, mountpoint):
    return set(mountinfo_line(out, mountpoint).split()[5].split(","))


def mount(*args):
    subprocess.run(["mount", *args], check=True)


def umount_all(path):
    subprocess.run(["umount", "-R", "-l", str(path)], check=False, capture_output=True)


@pytest.fixture
def tree():
    """src (a tmpfs) with a tmpfs at src/sub, both mounted with the options
    asked for, in a directory any uid may traverse (a container in a user
    namespace opens it); unmounted and removed afterwards."""
    top = tempfile.mkdtemp(prefix="minirun-mounts-", dir="/tmp")
    os.chmod(top, 0o755)
    made = []

    def make(options=""):
        src = Path(top) / f"src{len(made)}"
        src.mkdir()
        made.append(src)
        mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(src))
        (src / "sub").mkdir()
        mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(src / "sub"))
        shutil.copy(os.path.join(ROOTFS, "bin", "busybox"), src / "sub" / "busybox")
        (src / "sub" / "target").write_text("reached\n")
        os.symlink("target", src / "sub" / "link")
        if options:
            mount("-o", f"remount,bind,{options}", str(src / "sub"))
            mount("-o", f"remount,bind,{options}", str(src))
        return src

    yield make
    for src in reversed(made):
        umount_all(src)
    shutil.rmtree(top, ignore_errors=True)


# --- G2: recursive mount attributes -------------------------------------------

# option -> (options of the host mounts, flag that must be on both mounts, flags that must be on neither)
RECURSIVE = {
    "rro": ("", {"ro"}, set()),
    "rnosuid": ("", {"nosuid"}, set()),
    "rnodev": ("", {"nodev"}, set()),
    "rnoexec": ("", {"noexec"}, set()),
    "rnodiratime": ("", {"nodiratime"}, set()),
    "rnosymfollow": ("", {"nosymfollow"}, set()),
    "rnoatime": ("", {"noatime"}, {"relatime"}),
    "rrelatime": ("noatime", {"relatime"}, {"noatime"}),
    "rstrictatime": ("noatime", set(), {"noatime", "relatime"}),
    "rnorelatime": ("", set(), {"noatime", "relatime"}),
    "ratime": ("noatime", {"relatime"}, {"noatime"}),
    "rnostrictatime": ("strictatime", {"relatime"}, {"noatime"}),
    "rrw": ("ro", {"rw"}, {"ro"}),
    "rsuid": ("nosuid", set(), {"nosuid"}),
    "rdev": ("nodev", set(), {"nodev"}),
    "rexec": ("noexec", set(), {"noexec"}),
    "rdiratime": ("nodiratime", set(), {"nodiratime"}),
    "rsymfollow": ("nosymfollow", set(), {"nosymfollow"}),
}


@pytest.mark.parametrize("option", sorted(RECURSIVE))
def test_recursive_option_reaches_the_submount(mr, tree, option):
    host_opts, present, absent = RECURSIVE[option]
    src = tree(host_opts)

    def mutate(cfg):
        add_mount(cfg, destination="/run", type="bind", source=str(src), options=["rbind", option])

    r = mr.run(mr.bundle(sh("cat /proc/self/mountinfo"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    for point in ("/run", "/run/sub"):
        opts = per_mount(r.stdout, point)
        assert present <= opts, (option, point, opts)
        assert not absent & opts, (option, point, opts)
    if host_opts:
        # the host's mounts keep their flags: the change is the container's copy's
        with open("/proc/self/mountinfo") as f:
            host = f.read()
        kept = per_mount(host, str(src / "sub"))
        if host_opts == "strictatime":  # shown as neither relatime nor noatime
            assert not {"relatime", "noatime"} & kept, kept
        else:
            assert set(host_opts.split(",")) <= kept, kept


def test_rnoexec_and_rnosymfollow_hold_in_the_submount(mr, tree):
    src = tree()

    def mutate(cfg):
        add_mount(cfg, destination="/run", type="bind", source=str(src), options=["rbind", "rnoexec", "rnosymfollow"])

    r = mr.run(mr.bundle(sh("/run/sub/busybox true && echo ran || echo exec-refused;",
                            "cat /run/sub/link 2>/dev/null || echo link-refused; cat /run/sub/target"),
                         mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["exec-refused", "link-refused", "reached"], r.stdout


def test_later_recursive_option_wins(mr, tree):
    src = tree()

    def mutate(cfg):
        add_mount(cfg, destination="/run", type="bind", source=str(src), options=["rbind", "rnoexec", "rexec", "rro"])

    r = mr.run(mr.bundle(sh("cat /proc/self/mountinfo"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    opts = per_mount(r.stdout, "/run/sub")
    assert "noexec" not in opts and "ro" in opts, opts


def test_recursive_option_the_kernel_refuses_names_the_option(mr, tree):
    """In a user namespace the read-only flag of a host mount is locked:
    clearing it is EPERM, and the error says which option of which mount."""
    src = tree("ro")

    def mutate(cfg):
        cfg["linux"]["namespaces"].append({"type": "user"})
        cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        add_mount(cfg, destination="/run", type="bind", source=str(src), options=["rbind", "rrw"])

    r = mr.run(mr.bundle(["true"], mutate=mutate))
    assert r.returncode != 0
    assert ('mounts[7].options[1] "rrw" (the mount on /run): mount_setattr(AT_RECURSIVE, clear MOUNT_ATTR_RDONLY): '
            'Operation not permitted') in r.stderr, r.stderr


# --- G3: tmpcopyup --------------------------------------------------------------

def test_tmpcopyup_over_an_image_directory(mr):
    """podman's use: a writable tmpfs /etc that starts as the image's."""
    with open(os.path.join(ROOTFS, "etc", "passwd")) as f:
        passwd = f.read()

    def mutate(cfg):
        add_mount(cfg, destination="/etc", type="tmpfs", source="tmpfs", options=["tmpcopyup", "size=1m"])

    r = mr.run(mr.bundle(sh("cat /etc/passwd; echo ===; touch /etc/new && echo written;",
                            "grep ' /etc ' /proc/self/mountinfo"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    copied, rest = r.stdout.split("===\n")
    assert copied == passwd
    assert rest.startswith("written\n") and " - tmpfs " in rest, rest
    assert not os.path.exists(os.path.join(ROOTFS, "etc", "new")), "the write reached the image"


@pytest.mark.parametrize("size,owner", [(65536, "65534"), (1000, "0")])
def test_tmpcopyup_in_a_user_namespace(mr, size, owner):
    """The image's files belong to host root, which the user namespace does
    not map: they show as the overflow uid 65534.  With 65534 mapped, the
    copy is chowned to it (the owner it had in the container's eyes); without,
    the chown is refused and the copy stays the container root's.  Contents
    and modes are copied either way."""
    def mutate(cfg):
        cfg["linux"]["namespaces"].append({"type": "user"})
        cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": size}]
        cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": size}]
        add_mount(cfg, destination="/etc", type="tmpfs", source="tmpfs", options=["tmpcopyup", "size=1m"])

    r = mr.run(mr.bundle(sh("head -1 /etc/passwd; stat -c '%a %u' /etc/passwd"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    mode = stat.S_IMODE(os.stat(os.path.join(ROOTFS, "etc", "passwd")).st_mode)
    assert r.stdout.splitlines() == ["root:x:0:0:root:/root:/bin/sh", f"{mode:o} {owner}"], r.stdout


@pytest.fixture
def image_tree(tmp_path):
    """A directory with every kind of entry tmpcopyup copies, with modes,
    owners, times and xattrs, a symlink that points out of the rootfs, and a
    mount below it."""
    t = tmp_path / "tree"
    t.mkdir(mode=0o711)
    os.chmod(t, 0o711)
    (t / "dir").mkdir()
    os.chmod(t / "dir", 0o750)
    (t / "dir" / "file").write_text("content\n")
    os.chmod(t / "dir" / "file", 0o640)
    os.chown(t / "dir" / "file", 1234, 5678)
    (t / "suid").write_text("x")
    os.chmod(t / "suid", 0o4755)
    os.symlink("/", t / "escape")
    os.symlink("dir/file", t / "rel")
    os.mkfifo(t / "fifo")
    os.chmod(t / "fifo", 0o620)
    os.utime(t / "dir" / "file", (1000000000, 1000000000))
    try:
        os.setxattr(t / "dir" / "file", "user.minirun", b"kept")
        has_xattr = True
    except OSError:
        has_xattr = False
    (t / "mnt").mkdir()
    mount("-t", "tmpfs", "-o", "size=1m", "tmpfs", str(t / "mnt"))
    (t / "mnt" / "other-mount").write_text("not copied\n")
    yield t, has_xattr
    umount_all(t / "mnt")


def test_tmpcopyup_copies_every_kind_of_entry_without_following_symlinks(mr, image_tree):
    t, has_xattr = image_tree
    script = ("cd /opt/tree; stat -c '%n %a %u %g %F' . dir dir/file suid fifo escape rel mnt;"
              "readlink escape; readlink rel; cat dir/file; ls mnt | wc -l; stat -c %Y dir/file;"
              "touch /opt/tree/new; sleep 30")

    def mutate(cfg):
        # the tree at /opt/tree, and a tmpfs with its copy over it
        add_mount(cfg, destination="/opt/tree", type="bind", source=str(t), options=["rbind"])
        add_mount(cfg, destination="/opt/tree", type="tmpfs", source="tmpfs", options=["tmpcopyup", "size=4m"])

    cid = "copyup"
    r = mr.run(mr.bundle(sh(script), mutate=mutate), "-d", cid=cid)
    assert r.returncode == 0, r.stderr
    pid = mr.state(cid)["pid"]
    root = f"/proc/{pid}/root/opt/tree"
    # the copy is made before the container runs; its write comes after
    for _ in range(400):
        if os.path.exists(f"{root}/new"):
            break
        subprocess.run(["sleep", "0.05"])
    assert os.path.exists(f"{root}/new"), "the container's script did not get to write to the copy"
    st = {name: os.lstat(f"{root}/{name}") for name in (".", "dir", "dir/file", "suid", "fifo", "escape", "rel", "mnt")}
    assert stat.S_IMODE(st["."].st_mode) == 0o711, "the tmpfs did not get the directory's mode"
    assert stat.S_IMODE(st["dir"].st_mode) == 0o750 and stat.S_ISDIR(st["dir"].st_mode)
    f = st["dir/file"]
    assert stat.S_IMODE(f.st_mode) == 0o640 and (f.st_uid, f.st_gid) == (1234, 5678)
    assert int(f.st_mtime) == 1000000000
    assert stat.S_IMODE(st["suid"].st_mode) == 0o4755
    assert stat.S_ISFIFO(st["fifo"].st_mode) and stat.S_IMODE(st["fifo"].st_mode) == 0o620
    assert stat.S_ISLNK(st["escape"].st_mode) and os.readlink(f"{root}/escape") == "/"
    assert stat.S_ISLNK(st["rel"].st_mode) and os.readlink(f"{root}/rel") == "dir/file"
    assert stat.S_ISDIR(st["mnt"].st_mode) and os.listdir(f"{root}/mnt") == [], "another mount was entered"
    with open(f"{root}/dir/file") as fh:
        assert fh.read() == "content\n"
    if has_xattr:
        assert os.getxattr(f"{root}/dir/file", "user.minirun") == b"kept"
    with open(f"/proc/{pid}/mountinfo") as fh:
        assert any(l.split()[4] == "/opt/tree" and " - tmpfs " in l for l in fh)
    assert not (t / "new").exists(), "a write to the copy reached the source"
    assert mr.cmd("delete", "--force", cid).returncode == 0
    if not has_xattr:
        pytest.skip("the test directory's filesystem takes no user.* xattrs: xattr copy not checked")


def test_tmpcopyup_mode_option_and_read_only(mr, image_tree):
    t, _ = image_tree

    def mutate(cfg):
        add_mount(cfg, destination="/opt/tree", type="bind", source=str(t), options=["rbind"])
        add_mount(cfg, destination="/opt/tree", type="tmpfs", source="tmpfs",
                  options=["tmpcopyup", "ro", "mode=755", "size=4m"])

    r = mr.run(mr.bundle(sh("stat -c %a /opt/tree; cat /opt/tree/suid; echo;",
                            "touch /opt/tree/x 2>/dev/null && echo writable || echo read-only"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["755", "x", "read-only"], (r.stdout, r.stderr)


# --- G4: idmapped mounts --------------------------------------------------------

def fs_type(path):
    return subprocess.run(["stat", "-f", "-c", "%T", str(path)], capture_output=True, text=True,
                          check=True).stdout.strip()


@pytest.fixture
def owned_dir():
    """A directory (traversable by any uid: user namespaces must reach it)
    with a file owned by 1000:1000 and one owned by root."""
    top = next((t for t in ("/tmp", "/var/tmp") if os.path.isdir(t) and idmappable(fs_type(t))), None)
    if top is None:
        pytest.skip(f"/tmp is on {fs_type('/tmp')} and /var/tmp on {fs_type('/var/tmp')}: neither takes "
                    f"idmapped mounts on Linux {os.uname().release} (as far as this test knows)")
    d = tempfile.mkdtemp(prefix="minirun-idmap-", dir=top)
    os.chmod(d, 0o755)
    with open(f"{d}/user", "w") as f:
        f.write("u\n")
    os.chown(f"{d}/user", 1000, 1000)
    with open(f"{d}/root", "w") as f:
        f.write("r\n")
    os.chown(d, 1000, 1000)  # so that the mapped root may create files in it
    yield d
    shutil.rmtree(d, ignore_errors=True)


MAP_1000_TO_0 = [{"containerID": 1000, "hostID": 0, "size": 1}]


@pytest.mark.parametrize("how", ["fields", "crun-option"])
def test_idmapped_bind_shows_the_mapped_owner_and_writes_through_it(mr, owned_dir, how):
    def mutate(cfg):
        if how == "fields":
            add_mount(cfg, destination="/data", type="bind", source=owned_dir, options=["rbind", "idmap"],
                      uidMappings=MAP_1000_TO_0, gidMappings=MAP_1000_TO_0)
        else:
            add_mount(cfg, destination="/data", type="bind", source=owned_dir,
                      options=["rbind", "idmap=uids=1000-0-1;gids=1000-0-1"])

    r = mr.run(mr.bundle(sh("stat -c '%u %g' /data/user /data/root; touch /data/made; grep ' /data ' /proc/self/mountinfo"),
                         mutate=mutate))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "0 0", "uid 1000 of the source does not show as 0"
    assert lines[1] == "65534 65534", "an id outside the mapping does not show as the overflow id"
    assert "idmapped" in lines[2], lines[2]
    st = os.stat(f"{owned_dir}/made")
    assert (st.st_uid, st.st_gid) == (1000, 1000), "root's file did not land as uid 1000 on the source"
    assert os.stat(f"{owned_dir}/user").st_uid == 1000, "the source changed"


@pytest.mark.parametrize("option,sub_uid", [("ridmap", "0"), ("idmap", "1000")])
def test_ridmap_maps_the_submounts_too(mr, tree, option, sub_uid):
    need_tmpfs_idmap()  # the tree is made of tmpfs mounts
    src = tree()
    (src / "sub" / "owned").write_text("x")
    os.chown(src / "sub" / "owned", 1000, 1000)

    def mutate(cfg):
        add_mount(cfg, destination="/data", type="bind", source=str(src), options=["rbind", option],
                  uidMappings=MAP_1000_TO_0, gidMappings=MAP_1000_TO_0)

    r = mr.run(mr.bundle(sh("stat -c %u /data/sub/owned"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == sub_uid, (option, r.stdout)


def userns(cfg):
    cfg["linux"]["namespaces"].append({"type": "user"})
    cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]


@pytest.mark.parametrize("options,want", [(["rbind"], "65534 65534"), (["rbind", "idmap"], "1000 0")])
def test_idmap_without_mappings_takes_the_containers_user_namespace(mr, owned_dir, options, want):
    """In a user namespace (0 -> 100000), a host file of uid 1000 is nobody;
    with "idmap" the mount takes the container's mapping and it is 1000 (and
    root's file is root's)."""
    def mutate(cfg):
        userns(cfg)
        add_mount(cfg, destination="/data", type="bind", source=owned_dir, options=options)

    r = mr.run(mr.bundle(sh("echo $(stat -c %u /data/user) $(stat -c %u /data/root)"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == want, r.stdout


def test_idmapped_tmpfs_is_a_new_filesystem_with_its_options(mr):
    need_tmpfs_idmap()
    def mutate(cfg):
        add_mount(cfg, destination="/run", type="tmpfs", source="tmpfs", options=["size=1m", "mode=750", "nosuid"],
                  uidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}],
                  gidMappings=[{"containerID": 0, "hostID": 1000, "size": 1}])

    r = mr.run(mr.bundle(sh("stat -c '%u %g %a' /run; grep ' /run ' /proc/self/mountinfo"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    first, line = r.stdout.splitlines()[:2]
    assert first == "1000 1000 750", r.stdout
    assert "idmapped" in line and "nosuid" in line.split()[5] and "size=1024k" in line, line


def test_idmap_on_a_filesystem_that_cannot_is_a_clear_error(mr):
    def mutate(cfg):
        add_mount(cfg, destination="/hostproc", type="bind", source="/proc", options=["rbind"],
                  uidMappings=MAP_1000_TO_0, gidMappings=MAP_1000_TO_0)

    r = mr.run(mr.bundle(["true"], mutate=mutate), cid="idmap-proc")
    assert r.returncode != 0
    assert "mounts[7].uidMappings (/hostproc): mount_setattr(MOUNT_ATTR_IDMAP) (the filesystem cannot be idmapped" \
        in r.stderr and r.stderr.rstrip().endswith("Invalid argument"), r.stderr
    assert not os.path.exists(os.path.join(mr.root, "idmap-proc"))


def test_idmap_without_any_mapping_is_refused(mr):
    def mutate(cfg):
        add_mount(cfg, destination="/data", type="bind", source="/tmp", options=["rbind", "idmap"])

    r = mr.run(mr.bundle(["true"], mutate=mutate))
    assert r.returncode != 0
    assert ('mounts[7].options[1]: "idmap" without mounts[7].uidMappings and gidMappings takes the mappings of the '
            "container's user namespace, and the container has none") in r.stderr, r.stderr


def test_features_lists_the_mount_options(mr):
    import json
    f = json.loads(mr.cmd("features", check=True).stdout)
    want = {"rro", "rrw", "rnoexec", "rexec", "rnosuid", "rsuid", "rnodev", "rdev", "rnoatime", "ratime",
            "rrelatime", "rnorelatime", "rstrictatime", "rnostrictatime", "rnodiratime", "rdiratime",
            "rnosymfollow", "rsymfollow", "tmpcopyup", "idmap", "ridmap"}
    assert want <= set(f["mountOptions"]), want - set(f["mountOptions"])
    assert f["linux"]["mountExtensions"] == {"idmap": {"enabled": True}}
