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


# --- process ----------------------------------------------------------------


def test_cwd_that_does_not_exist_is_created(mr, tmp_path):
    rootfs = tmp_path / "rootfs-copy"
    subprocess.run(["cp", "-a", ROOTFS, str(rootfs)], check=True)

    def mutate(cfg):
        cfg["root"]["path"] = str(rootfs)
        cfg["process"]["cwd"] = "/work/dir"

    r = mr.run(mr.bundle(["pwd"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "/work/dir"


def test_env_is_exactly_the_configs(mr):
    def mutate(cfg):
        cfg["process"]["env"] = ["PATH=/bin:/sbin", "A=1", "B=x=y", "EMPTY="]

    # env -0 would show what the kernel got; busybox env prints one per line
    r = mr.run(mr.bundle(["/bin/env"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.splitlines()) == sorted(["PATH=/bin:/sbin", "A=1", "B=x=y", "EMPTY="]), r.stdout


# --- hostname, domainname ---------------------------------------------------


def test_domainname_is_set_in_the_new_uts_namespace(mr):
    def mutate(cfg):
        cfg["domainname"] = "pinned.test"

    with open("/proc/sys/kernel/domainname") as f:
        host = f.read().strip()
    r = mr.run(mr.bundle(["cat", "/proc/sys/kernel/domainname"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "pinned.test"
    with open("/proc/sys/kernel/domainname") as f:
        assert f.read().strip() == host


# --- linux.devices, default devices, /dev symlinks ----------------------------


def test_devices_of_every_type_with_their_mode_and_owner(mr):
    def mutate(cfg):
        cfg["linux"]["devices"] = [
            {"path": "/dev/mynull", "type": "c", "major": 1, "minor": 3, "fileMode": 0o640, "uid": 1000, "gid": 5},
            {"path": "/dev/myzero", "type": "u", "major": 1, "minor": 5},
            {"path": "/dev/myloop", "type": "b", "major": 7, "minor": 0, "fileMode": 0o600},
            {"path": "/dev/myfifo", "type": "p", "fileMode": 0o644},
            {"path": "/dev/sub/dir/mynull", "type": "c", "major": 1, "minor": 3},
        ]

    r = mr.run(mr.bundle(sh("for f in /dev/mynull /dev/myzero /dev/myloop /dev/myfifo /dev/sub/dir/mynull; do",
                            "stat -c '%n %F %t:%T %a %u:%g' $f; done"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    got = r.stdout.splitlines()
    assert got == [
        "/dev/mynull character special file 1:3 640 1000:5",
        "/dev/myzero character special file 1:5 666 0:0",
        "/dev/myloop block special file 7:0 600 0:0",
        "/dev/myfifo fifo 0:0 644 0:0",
        "/dev/sub/dir/mynull character special file 1:3 666 0:0",
    ], got


def test_device_file_mode_may_carry_its_own_file_type_bits(mr):
    """As runc and crun: fileMode 020666 (S_IFCHR | 0666) for a char device is
    its permission bits with the type's bits; another type's bits are refused."""
    def mutate(cfg):
        cfg["linux"]["devices"] = [
            {"path": "/dev/typed", "type": "c", "major": 1, "minor": 3, "fileMode": 0o20640},
            {"path": "/dev/typedb", "type": "b", "major": 7, "minor": 0, "fileMode": 0o60600},
        ]
    r = mr.run(mr.bundle(sh("stat -c '%n %F %a' /dev/typed /dev/typedb"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["/dev/typed character special file 640", "/dev/typedb block special file 600"]

    def wrong(cfg):
        cfg["linux"]["devices"] = [{"path": "/dev/x", "type": "c", "major": 1, "minor": 3, "fileMode": 0o60666}]
    r = mr.run(mr.bundle(["true"], mutate=wrong), cid="typed-wrong")
    assert r.returncode == 1
    assert "linux.devices[0]: fileMode 060666: its file type bits (060000) are not those of a char device" in r.stderr


def test_default_devices_and_dev_symlinks(mr):
    r = mr.run(mr.bundle(sh("for f in null zero full random urandom tty; do stat -c '%n %t:%T' /dev/$f; done;",
                            "for l in fd stdin stdout stderr ptmx; do echo /dev/$l=$(readlink /dev/$l); done")))
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "/dev/null 1:3", "/dev/zero 1:5", "/dev/full 1:7", "/dev/random 1:8", "/dev/urandom 1:9", "/dev/tty 5:0",
        "/dev/fd=/proc/self/fd", "/dev/stdin=/proc/self/fd/0", "/dev/stdout=/proc/self/fd/1",
        "/dev/stderr=/proc/self/fd/2", "/dev/ptmx=pts/ptmx"], r.stdout


# --- rootfsPropagation, maskedPaths, readonlyPaths ----------------------------


@pytest.mark.parametrize("prop,tag", [("shared", "shared:"), ("rshared", "shared:"), ("private", None),
                                      ("rprivate", None), ("unbindable", "unbindable"),
                                      ("runbindable", "unbindable")])
def test_rootfs_propagation(mr, prop, tag):
    def mutate(cfg):
        cfg["linux"]["rootfsPropagation"] = prop

    r = mr.run(mr.bundle(["cat", "/proc/self/mountinfo"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    fields = mountinfo_line(r.stdout, "/").split()
    optional = fields[6:fields.index("-")]
    if tag is None:
        assert optional == [], fields
    else:
        assert any(o.startswith(tag) for o in optional), fields


@pytest.mark.parametrize("prop,master", [("rslave", True), ("rprivate", False), ("slave", False)])
def test_rootfs_propagation_slave_of_a_shared_host_rootfs(mr, tmp_path, prop, master):
    """rslave: the container's / is a slave of the (shared) host mount of the
    rootfs, so host mounts below it propagate in.  A non-recursive "slave"
    changes only the mount "/" was before the rootfs was bound over it, so
    the rootfs itself is not a slave (the same in runc 1.1 and crun 1.8)."""
    rootfs = tmp_path / "rootfs-shared"
    subprocess.run(["cp", "-a", ROOTFS, str(rootfs)], check=True)
    subprocess.run(["mount", "--bind", "--make-shared", str(rootfs), str(rootfs)], check=True)
    try:
        def mutate(cfg):
            cfg["root"]["path"] = str(rootfs)
            cfg["linux"]["rootfsPropagation"] = prop

        r = mr.run(mr.bundle(["cat", "/proc/self/mountinfo"], mutate=mutate))
        assert r.returncode == 0, r.stderr
        fields = mountinfo_line(r.stdout, "/").split()
        optional = fields[6:fields.index("-")]
        assert any(o.startswith("master:") for o in optional) == master, fields
    finally:
        subprocess.run(["umount", "-l", str(rootfs)], check=True)


def test_masked_and_readonly_paths_that_do_not_exist_are_skipped(mr):
    def mutate(cfg):
        cfg["linux"]["maskedPaths"] = ["/etc/passwd", "/no/such/file"]
        cfg["linux"]["readonlyPaths"] = ["/proc/sys", "/no/such/dir"]

    r = mr.run(mr.bundle(sh("wc -c < /etc/passwd; echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null || echo ro"),
                         mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "ro"], r.stdout


# --- namespaces, sysctl, timeOffsets -----------------------------------------


def test_namespaced_sysctls_are_written_in_the_containers_namespaces(mr):
    def mutate(cfg):
        cfg["linux"]["sysctl"] = {"kernel.msgmax": "4321", "net.ipv4.ip_forward": "1",
                                  "kernel.domainname": "sysctl.test"}

    with open("/proc/sys/kernel/msgmax") as f:
        host_msgmax = f.read().strip()
    r = mr.run(mr.bundle(sh("cat /proc/sys/kernel/msgmax /proc/sys/net/ipv4/ip_forward",
                            "/proc/sys/kernel/domainname"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["4321", "1", "sysctl.test"], r.stdout
    with open("/proc/sys/kernel/msgmax") as f:
        assert f.read().strip() == host_msgmax


def test_sysctl_keys_in_the_slash_form(mr):
    """runc and crun take "kernel/msgmax" as well as "kernel.msgmax"; in the
    slash form a dot is part of a name ("conf/lo.x" would be a device lo.x).
    The namespace rules are the same: kernel/pid_max is still refused."""
    def mutate(cfg):
        cfg["linux"]["sysctl"] = {"kernel/msgmax": "4322", "net/ipv4/conf/lo/forwarding": "1"}
    r = mr.run(mr.bundle(sh("cat /proc/sys/kernel/msgmax /proc/sys/net/ipv4/conf/lo/forwarding"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["4322", "1"], r.stdout

    def host_key(cfg):
        cfg["linux"]["sysctl"] = {"kernel/pid_max": "40000"}
    r = mr.run(mr.bundle(["true"], mutate=host_key), cid="slash-pidmax")
    assert r.returncode == 1 and '"kernel.pid_max" is not namespaced' in r.stderr, r.stderr


def test_time_namespace_offsets(mr):
    if not os.path.exists("/proc/self/ns/time"):
        pytest.skip("this kernel has no time namespaces (Linux >= 5.6)")

    def mutate(cfg):
        cfg["linux"]["namespaces"].append({"type": "time"})
        cfg["linux"]["timeOffsets"] = {"boottime": {"secs": 1000000, "nanosecs": 0},
                                       "monotonic": {"secs": 2000000}}

    with open("/proc/uptime") as f:
        host = float(f.read().split()[0])
    r = mr.run(mr.bundle(sh("cat /proc/uptime; cat /proc/self/timens_offsets"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert 1000000 <= float(lines[0].split()[0]) - host < 1000060, (host, lines)
    offsets = {l.split()[0]: l.split()[1:] for l in lines[1:]}
    assert offsets["monotonic"] == ["2000000", "0"] and offsets["boottime"] == ["1000000", "0"], offsets


def test_time_offsets_without_a_time_namespace_are_refused(mr):
    def mutate(cfg):
        cfg["linux"]["timeOffsets"] = {"monotonic": {"secs": 5}}

    r = mr.run(mr.bundle(["true"], mutate=mutate))
    assert r.returncode != 0
    assert "linux.timeOffsets needs a new time namespace in linux.namespaces" in r.stderr, r.stderr


def test_user_namespace_without_mappings_is_refused(mr):
    def mutate(cfg):
        cfg["linux"]["namespaces"].append({"type": "user"})

    r = mr.run(mr.bundle(["true"], mutate=mutate))
    assert r.returncode != 0
    assert "linux.uidMappings and linux.gidMappings are empty" in r.stderr, r.stderr


# --- linux.resources on cgroup v1 (seen from inside: the container's cgroup is
#     the root of its cgroup mounts) -----------------------------------------


def with_res(**res):
    def mutate(cfg):
        cfg["linux"].setdefault("resources", {}).update(res)
    return mutate


def read_in_container(mr, files, **res):
    need = {f.split("/")[0] for f in files}
    for ctrl in need:
        if v1_dir(ctrl) is None:
            pytest.skip(f"no cgroup v1 {ctrl} hierarchy on this host (the v2 driver is tested in test_cgroups.py)")
    script = "; ".join(f"echo {f}=$(cat /sys/fs/cgroup/{f})" for f in files)
    r = mr.run(mr.bundle(sh(script), mutate=with_res(**res)))
    assert r.returncode == 0, r.stderr
    return dict(l.split("=", 1) for l in r.stdout.splitlines()), r.stderr


def test_v1_memory_fields(mr):
    got, _ = read_in_container(
        mr, ["memory/memory.limit_in_bytes", "memory/memory.soft_limit_in_bytes",
             "memory/memory.memsw.limit_in_bytes", "memory/memory.swappiness", "memory/memory.oom_control",
             "memory/memory.use_hierarchy"],
        memory={"limit": 64 << 20, "reservation": 32 << 20, "swap": 128 << 20, "swappiness": 10,
                "disableOOMKiller": True, "useHierarchy": True})
    assert got["memory/memory.limit_in_bytes"] == str(64 << 20)
    assert got["memory/memory.soft_limit_in_bytes"] == str(32 << 20)
    assert got["memory/memory.memsw.limit_in_bytes"] == str(128 << 20)
    assert got["memory/memory.swappiness"] == "10"
    assert got["memory/memory.oom_control"].startswith("oom_kill_disable 1"), got
    assert got["memory/memory.use_hierarchy"] == "1"


def test_memory_kernel_limits_are_ignored_with_a_warning(mr):
    got, err = read_in_container(mr, ["memory/memory.limit_in_bytes"], memory={"kernel": 64 << 20})
    assert "linux.resources.memory.kernel ignored: kernel memory limits were removed in Linux 5.16" in err, err


def test_memory_swap_below_the_limit_is_refused_and_leaves_nothing(mr):
    if v1_dir("memory") is None:
        pytest.skip("no cgroup v1 memory hierarchy on this host")
    r = mr.run(mr.bundle(["true"], mutate=with_res(memory={"limit": 64 << 20, "swap": 32 << 20})), cid="swap-low")
    assert r.returncode != 0
    assert "linux.resources.memory.swap (33554432) must be >= memory.limit (67108864)" in r.stderr, r.stderr
    assert cgroup_dirs("/minirun/swap-low") == []


def test_v1_cpu_fields(mr):
    burst = os.path.exists("/sys/fs/cgroup/cpu/cpu.cfs_burst_us")
    files = ["cpu/cpu.shares", "cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us", "cpu/cpu.rt_period_us",
             "cpuset/cpuset.cpus", "cpuset/cpuset.mems"]
    cpu = {"shares": 512, "quota": 50000, "period": 100000, "realtimePeriod": 500000, "cpus": "0", "mems": "0"}
    if burst:
        files.append("cpu/cpu.cfs_burst_us")
        cpu["burst"] = 10000
    got, _ = read_in_container(mr, files, cpu=cpu)
    assert got["cpu/cpu.shares"] == "512"
    assert got["cpu/cpu.cfs_quota_us"] == "50000"
    assert got["cpu/cpu.cfs_period_us"] == "100000"
    assert got["cpu/cpu.rt_period_us"] == "500000"
    assert got["cpuset/cpuset.cpus"] == "0" and got["cpuset/cpuset.mems"] == "0"
    if burst:
        assert got["cpu/cpu.cfs_burst_us"] == "10000"


def test_v1_cpu_idle(mr):
    if not os.path.exists("/sys/fs/cgroup/cpu/cpu.idle"):
        pytest.skip("no cpu.idle in the v1 cpu hierarchy (Linux >= 5.15)")
    got, _ = read_in_container(mr, ["cpu/cpu.idle", "cpu/cpu.shares"], cpu={"idle": 1})
    assert got["cpu/cpu.idle"] == "1"
    assert got["cpu/cpu.shares"] == "3", got  # an idle group has the minimum weight


def test_v1_realtime_runtime_under_an_absolute_cgroups_path(mr):
    if v1_dir("cpu") is None or not os.path.exists("/sys/fs/cgroup/cpu/cpu.rt_runtime_us"):
        pytest.skip("no cgroup v1 cpu hierarchy with RT group scheduling (CONFIG_RT_GROUP_SCHED) here")

    def mutate(cfg):
        cfg["linux"]["cgroupsPath"] = "/minirun-oci-rt"
        cfg["linux"].setdefault("resources", {})["cpu"] = {"realtimeRuntime": 1000, "realtimePeriod": 1000000}

    try:
        r = mr.run(mr.bundle(["cat", "/sys/fs/cgroup/cpu/cpu.rt_runtime_us"], mutate=mutate))
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "1000"
    finally:
        assert cgroup_dirs("/minirun-oci-rt") == []


def test_v1_pids_limit_minus_one_is_max(mr):
    got, _ = read_in_container(mr, ["pids/pids.max"], pids={"limit": -1})
    assert got["pids/pids.max"] == "max"


def test_v1_block_io_throttles(mr):
    dev = os.stat(ROOTFS).st_dev
    major, minor = os.major(dev), os.minor(dev)
    if not os.path.exists(f"/sys/dev/block/{major}:{minor}"):
        pytest.skip(f"the rootfs is on {major}:{minor}, which is not a block device")
    if not os.path.exists(f"/sys/dev/block/{major}:{minor}/queue"):
        # a partition: throttles need the whole disk
        parent = os.path.basename(os.path.dirname(os.path.realpath(f"/sys/dev/block/{major}:{minor}")))
        with open(f"/sys/class/block/{parent}/dev") as f:
            major, minor = (int(x) for x in f.read().split(":"))
    got, _ = read_in_container(
        mr, ["blkio/blkio.throttle.read_bps_device", "blkio/blkio.throttle.write_bps_device",
             "blkio/blkio.throttle.read_iops_device", "blkio/blkio.throttle.write_iops_device"],
        blockIO={"throttleReadBpsDevice": [{"major": major, "minor": minor, "rate": 1 << 20}],
                 "throttleWriteBpsDevice": [{"major": major, "minor": minor, "rate": 2 << 20}],
                 "throttleReadIOPSDevice": [{"major": major, "minor": minor, "rate": 100}],
                 "throttleWriteIOPSDevice": [{"major": major, "minor": minor, "rate": 200}]})
    assert got["blkio/blkio.throttle.read_bps_device"] == f"{major}:{minor} {1 << 20}"
    assert got["blkio/blkio.throttle.write_bps_device"] == f"{major}:{minor} {2 << 20}"
    assert got["blkio/blkio.throttle.read_iops_device"] == f"{major}:{minor} 100"
    assert got["blkio/blkio.throttle.write_iops_device"] == f"{major}:{minor} 200"


def test_v1_block_io_weight(mr):
    """blkio.weight (CFQ) or blkio.bfq.weight (BFQ): the files exist in a
    child cgroup only, so look from inside."""
    if v1_dir("blkio") is None:
        pytest.skip("no cgroup v1 blkio hierarchy on this host")
    r = mr.run(mr.bundle(sh("for f in blkio.weight blkio.bfq.weight; do",
                            "[ -e /sys/fs/cgroup/blkio/$f ] && echo $f=$(cat /sys/fs/cgroup/blkio/$f); done"),
                         mutate=with_res(blockIO={"weight": 300})))
    if r.returncode != 0 and "is not available" in r.stderr:
        pytest.skip(f"this kernel's blkio controller has no weight: {r.stderr.strip()}")
    assert r.returncode == 0, r.stderr
    got = dict(l.split("=", 1) for l in r.stdout.splitlines())
    assert got, r.stdout
    assert all(v.split()[-1] == "300" for v in got.values()), got


def test_v1_device_rules_are_the_cgroups_list(mr):
    got, _ = read_in_container(mr, ["devices/devices.list"],
                               devices=[{"allow": False, "access": "rwm"},
                                        {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"},
                                        {"allow": True, "type": "b", "major": 7, "access": "r"}])
    rules = got["devices/devices.list"].split(" ")
    listed = [" ".join(rules[i:i + 3]) for i in range(0, len(rules), 3)]
    assert "c 1:3 rwm" in listed or "c 1:3 rw" in listed, listed
    assert "b 7:* r" in listed, listed
    assert "a *:* rwm" not in listed, listed


@pytest.mark.parametrize("field,res,ctrl", [
    ("linux.resources.network.classID", {"network": {"classID": 0x100001}}, "net_cls"),
    ("linux.resources.network.priorities", {"network": {"priorities": [{"name": "lo", "priority": 1}]}}, "net_prio"),
    ("linux.resources.rdma", {"rdma": {"mlx5_1": {"hcaHandles": 3}}}, "rdma"),
])
def test_a_controller_the_host_lacks_is_refused_and_leaves_nothing(mr, field, res, ctrl):
    if any(os.path.isdir(d) for d in (f"/sys/fs/cgroup/{ctrl}", "/sys/fs/cgroup/net_cls,net_prio")):
        pytest.skip(f"this host has a {ctrl} hierarchy: the refusal cannot be seen here")
    if ctrl == "rdma" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            if "rdma" in f.read().split():
                pytest.skip("this host has an rdma controller in cgroup v2")
    r = mr.run(mr.bundle(["true"], mutate=with_res(**res)), cid="no-ctrl")
    assert r.returncode != 0
    if ctrl != "rdma" and os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        # a pure v2 host: net_cls and net_prio have no v2 controller at all
        assert f"{field}: the {ctrl} controller does not exist in cgroup v2" in r.stderr, r.stderr
    else:
        assert f"{field}: {ctrl} controller not available" in r.stderr, r.stderr
    assert cgroup_dirs("/minirun/no-ctrl") == []


# --- linux.cgroupsPath --------------------------------------------------------


def host_cgroups(pid):
    with open(f"/proc/{pid}/cgroup") as f:
        return {l.split(":")[1]: l.strip().split(":", 2)[2] for l in f}


def remove_cgroup_tree(path):
    """rmdir `path` and everything below it in every hierarchy, deepest first."""
    for top in cgroup_dirs(path):
        for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
            os.rmdir(dirpath)


@pytest.mark.parametrize("path,want", [("/oci-conformance/abs", "/oci-conformance/abs"),
                                       ("oci-conformance/rel", "/oci-conformance/rel"),
                                       (None, "/minirun/{cid}")])
def test_cgroups_path(mr, path, want):
    """Absolute: that path below each hierarchy's root; relative: the same
    (as crun; runc puts it below its own cgroup); none: /minirun/<id>.  The
    delete removes the container's cgroup, not the parents it made."""
    if v1_dir("pids") is None:
        pytest.skip("no cgroup v1 pids hierarchy to look the container up in")
    cid = f"cgp-{os.getpid()}"
    want = want.format(cid=cid)

    def mutate(cfg):
        if path is not None:
            cfg["linux"]["cgroupsPath"] = path

    try:
        r = mr.run(mr.bundle(["sleep", "30"], mutate=mutate), "-d", cid=cid)
        assert r.returncode == 0, r.stderr
        pid = mr.state(cid)["pid"]
        got = host_cgroups(pid)
        assert got["pids"] == want, (got, want)
        assert os.path.isdir(f"/sys/fs/cgroup/pids{want}")
        mr.cmd("delete", "--force", cid, check=True)
        mr.created.discard(cid)
        assert cgroup_dirs(want) == []
    finally:
        mr.cmd("delete", "--force", cid)
        if path is not None:
            remove_cgroup_tree("/oci-conformance")


# --- linux.seccomp --------------------------------------------------------------


def seccomp(**s):
    def mutate(cfg):
        cfg["linux"]["seccomp"] = dict({"defaultAction": "SCMP_ACT_ALLOW"}, **s)
    return mutate


MKDIR = ["mkdir", "mkdirat"]


def test_seccomp_default_errno_ret(mr):
    """defaultAction ERRNO with defaultErrnoRet: every syscall not listed
    fails with that errno (here: mkdir, with EXDEV=18)."""
    allowed = ["execve", "brk", "mmap", "munmap", "mprotect", "arch_prctl", "set_tid_address", "exit_group",
               "write", "read", "open", "openat", "close", "fstat", "newfstatat", "ioctl", "getuid", "geteuid",
               "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "getpid", "getppid", "uname", "prlimit64",
               "set_robust_list", "rseq", "access", "readlink", "getcwd", "futex", "statx", "lseek", "wait4",
               "clone", "fork", "vfork", "fcntl", "dup2", "getdents64", "stat", "lstat", "getgid", "getegid",
               "exit", "sigaltstack", "getrandom", "pipe", "pipe2", "dup", "dup3", "setpgid", "getpgid",
               "capget", "capset", "prctl", "setgroups", "setresuid", "setresgid", "setuid", "setgid", "chdir",
               "fchdir"]
    r = mr.run(mr.bundle(sh("mkdir /dev/shm/x 2>&1; echo rc=$?"),
                         mutate=seccomp(defaultAction="SCMP_ACT_ERRNO", defaultErrnoRet=18,
                                        syscalls=[{"names": allowed, "action": "SCMP_ACT_ALLOW"}])))
    assert "Invalid cross-device link" in r.stdout and "rc=1" in r.stdout, (r.stdout, r.stderr)


@pytest.mark.parametrize("flag", ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
                                  "SECCOMP_FILTER_FLAG_SPEC_ALLOW"])
def test_seccomp_filter_flags(mr, flag):
    r = mr.run(mr.bundle(sh("mkdir /dev/shm/x 2>&1; echo rc=$?; grep ^Seccomp: /proc/self/status"),
                         mutate=seccomp(flags=[flag], syscalls=[{"names": MKDIR, "action": "SCMP_ACT_ERRNO",
                                                                 "errnoRet": 13}])))
    assert r.returncode == 0, r.stderr
    assert "Permission denied" in r.stdout and "rc=1" in r.stdout, r.stdout
    assert "Seccomp:\t2" in r.stdout, r.stdout


def test_seccomp_trace_without_a_tracer_fails_with_enosys(mr):
    r = mr.run(mr.bundle(sh("mkdir /dev/shm/x 2>&1; echo rc=$?"),
                         mutate=seccomp(syscalls=[{"names": MKDIR, "action": "SCMP_ACT_TRACE", "errnoRet": 1}])))
    assert "Function not implemented" in r.stdout and "rc=1" in r.stdout, (r.stdout, r.stderr)


@pytest.mark.parametrize("action,status", [("SCMP_ACT_KILL_PROCESS", 128 + 31), ("SCMP_ACT_KILL", 128 + 31),
                                           ("SCMP_ACT_KILL_THREAD", 128 + 31), ("SCMP_ACT_TRAP", 128 + 31)])
def test_seccomp_kill_and_trap_actions(mr, action, status):
    """The shell's child dies by SIGSYS (31): the shell reports 128+31."""
    r = mr.run(mr.bundle(sh("mkdir /dev/shm/x; echo rc=$?"),
                         mutate=seccomp(syscalls=[{"names": MKDIR, "action": action}])))
    assert r.returncode == 0, r.stderr
    assert f"rc={status}" in r.stdout, r.stdout


def test_seccomp_log_action_allows(mr):
    r = mr.run(mr.bundle(sh("mkdir /dev/shm/x && echo made"),
                         mutate=seccomp(syscalls=[{"names": MKDIR, "action": "SCMP_ACT_LOG"}])))
    assert r.stdout.strip() == "made", (r.stdout, r.stderr)


def test_seccomp_architectures_add_the_32_bit_abi(mr):
    """With SCMP_ARCH_X86 listed the filter also has the i386 table; the
    native rule still applies."""
    if os.uname().machine != "x86_64":
        pytest.skip("the architecture names used here are x86's")
    r = mr.run(mr.bundle(sh("mkdir /dev/shm/x 2>&1; echo rc=$?"),
                         mutate=seccomp(architectures=["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
                                        syscalls=[{"names": MKDIR, "action": "SCMP_ACT_ERRNO", "errnoRet": 13}])))
    assert "Permission denied" in r.stdout and "rc=1" in r.stdout, (r.stdout, r.stderr)


def test_seccomp_errno_ret_with_another_action_is_refused(mr):
    r = mr.run(mr.bundle(["true"], mutate=seccomp(syscalls=[{"names": MKDIR, "action": "SCMP_ACT_KILL",
                                                              "errnoRet": 1}])))
    assert r.returncode != 0
    assert "linux.seccomp.syscalls[0].errnoRet: is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE" in r.stderr


def test_a_relative_mount_destination_is_relative_to_the_root(mr):
    """runtime spec (deprecated form, applied by runc and crun): "mnt/t" is /mnt/t,
    with a warning."""
    def mutate(cfg):
        cfg["mounts"].append({"destination": "mnt/t", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]})
    r = mr.run(mr.bundle(sh("grep ' /mnt/t ' /proc/mounts | cut -d' ' -f1-3"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["tmpfs", "/mnt/t", "tmpfs"], r.stdout
    assert 'destination "mnt/t" is relative: taken as "/mnt/t"' in r.stderr, r.stderr


# ---------- linux.personality ----------

PER_LINUX32 = 0x0008


def personality_of(pid):
    with open(f"/proc/{pid}/personality") as f:
        return int(f.read(), 16)


def with_personality(domain, processes=None):
    def mutate(cfg):
        cfg["linux"]["personality"] = {"domain": domain}
        if processes:
            cfg["minirun"] = {"processes": processes}
    return mutate


def test_personality_linux32_gives_i686(mr):
    if os.uname().machine != "x86_64":
        pytest.skip(f"LINUX32 reads as i686 on x86_64 only (this host is {os.uname().machine})")
    r = mr.run(mr.bundle(["uname", "-m"], mutate=with_personality("LINUX32")))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "i686"
    r = mr.run(mr.bundle(["uname", "-m"], mutate=with_personality("LINUX")))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "x86_64"


def test_personality_holds_for_every_process_of_the_container(mr):
    """The init, a process of minirun.processes and an exec'd process (as runc
    and crun apply it in exec too)."""
    if os.uname().machine != "x86_64":
        pytest.skip(f"LINUX32 reads as i686 on x86_64 only (this host is {os.uname().machine})")
    cid = f"pers-{os.getpid()}"
    b = mr.bundle(["sleep", "1000"],
                  mutate=with_personality("LINUX32", [{"name": "w", "args": ["sleep", "1000"]}]))
    r = mr.run(b, "-d", cid=cid)
    assert r.returncode == 0, r.stderr
    st = mr.state(cid)
    procs = {p["name"]: p["pid"] for p in st["minirun"]["processes"]}
    assert personality_of(st["pid"]) == PER_LINUX32
    assert personality_of(procs["w"]) == PER_LINUX32
    r = mr.cmd("exec", cid, "uname", "-m", timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "i686"
