"""What the container process gets and loses (runtime/security/security.h): capability
sets, user and groups, umask, no_new_privs, rlimits, oom_score_adj, seccomp
(errno, argument conditions, the notify agent), user namespaces and rootless
containers, all observed from inside the container or through /proc of the
host on the real kernel.
"""
import errno
import fcntl
import json
import os
import platform
import pwd
import re
import resource
import select
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import uuid

import pytest

from conftest import MINIRUN, REPO, ROOTFS, cgroup_dirs, free_host_pids
from helpers import helper, helpers_dir, helpers_mount  # noqa: F401 (fixture)


def sh(script):
    return ["sh", "-c", script]


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


# ---------------------------------------------------------------- capabilities

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


# ------------------------------------------------------------- user and groups

def test_user_groups_and_umask(mr):
    def mutate(cfg):
        cfg["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [10, 4242, 20], "umask": 0o027}

    r = mr.run(mr.bundle(sh("id -u; id -g; grep -E '^(Uid|Gid|Groups):' /proc/self/status; umask"),
                         mutate=mutate))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0:2] == ["1000", "1001"], r.stdout
    fields = status_fields("\n".join(lines[2:5]))
    assert fields["Uid"].split() == ["1000"] * 4
    assert fields["Gid"].split() == ["1001"] * 4
    assert sorted(int(g) for g in fields["Groups"].split()) == [10, 20, 4242]
    assert lines[5] == "0027"


def test_default_umask_and_empty_groups(mr):
    def mutate(cfg):
        cfg["process"]["user"] = {"uid": 0, "gid": 0}

    r = mr.run(mr.bundle(sh("grep '^Groups:' /proc/self/status; umask"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    groups, umask = r.stdout.splitlines()
    assert groups.split() == ["Groups:"], "the runtime's supplementary groups leaked into the container"
    assert umask == "0022"


# -------------------------------------------------------------- no_new_privs

@pytest.mark.parametrize("nnp", [True, False])
def test_no_new_privileges(mr, nnp):
    def mutate(cfg):
        cfg["process"]["noNewPrivileges"] = nnp

    r = mr.run(mr.bundle(["grep", "^NoNewPrivs:", "/proc/self/status"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["NoNewPrivs:", "1" if nnp else "0"]


# -------------------------------------------------------------------- rlimits

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


# --------------------------------------------------------------- oom_score_adj

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


# -------------------------------------------------------------------- seccomp

def with_seccomp(*rules, default="SCMP_ACT_ALLOW", **extra):
    def mutate(cfg):
        cfg["linux"]["seccomp"] = dict({"defaultAction": default, "syscalls": list(rules)}, **extra)
    return mutate


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


# ---------------------------------------------------------- seccomp notify agent

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif), 80 bytes
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes
NOTIF = struct.Struct("=QIIiIQ6Q")      # id, pid, flags, data{nr, arch, ip, args[6]}
NOTIF_RESP = struct.Struct("=QqiI")     # id, val, error, flags
assert NOTIF.size == 80 and NOTIF_RESP.size == 24

MKDIR_NRS = {"x86_64": {83: 0, 258: 1}, "aarch64": {34: 1}}  # nr -> index of the path argument


def read_string(pid, addr, size=4096):
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as f:
        f.seek(addr)
        return f.read(size).split(b"\0", 1)[0].decode()


class SeccompAgent(threading.Thread):
    """A seccomp agent on a unix socket: takes the listener fd and the
    containerProcessState JSON, then answers each notification with
    decide(path) -> (val, error), or closes the fd at once (answer=False)."""

    def __init__(self, path, decide=None, answer=True):
        super().__init__(daemon=True)
        self.path = path
        self.decide = decide
        self.answer = answer
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)
        self.payload = None
        self.fds = []
        self.fd_kind = None
        self.seen = []
        self.error = None

    def run(self):
        try:
            self.srv.settimeout(30)
            conn, _ = self.srv.accept()
            with conn:
                conn.settimeout(30)
                msg, self.fds, _, _ = socket.recv_fds(conn, 1 << 16, 4)
                data = msg
                while True:
                    chunk = conn.recv(1 << 16)
                    if not chunk:
                        break
                    data += chunk
            self.payload = json.loads(data)
            if self.fds:
                self.fd_kind = os.readlink(f"/proc/self/fd/{self.fds[0]}")
            if self.answer and self.fds:
                self.serve(self.fds[0])
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            for fd in self.fds:
                os.close(fd)
            self.fds = []
            self.srv.close()

    def stop(self):
        """Unblock accept() if minirun never connected."""
        try:
            self.srv.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def serve(self, fd):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            events = poller.poll(200)
            if not events:
                continue
            mask = events[0][1]
            if mask & select.POLLIN:
                buf = bytearray(NOTIF.size)
                try:
                    fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
                except OSError as e:
                    if e.errno == errno.ENOENT:  # the caller went away
                        continue
                    raise
                nid, pid, _, nr, _, _, *args = NOTIF.unpack(buf)
                argi = MKDIR_NRS.get(platform.machine(), {}).get(nr, 0)
                try:
                    path = read_string(pid, args[argi])
                except OSError:
                    path = None
                val, err = self.decide(path)
                self.seen.append((pid, nr, path))
                resp = bytearray(NOTIF_RESP.pack(nid, val, err, 0))
                try:
                    fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp, True)
                except OSError as e:
                    if e.errno != errno.ENOENT:
                        raise
            elif mask & (select.POLLHUP | select.POLLERR):
                return


@pytest.fixture
def agent_dir():
    d = tempfile.mkdtemp(prefix="mr-agent-", dir="/tmp")  # short: sun_path is 108 bytes
    yield d
    shutil.rmtree(d, ignore_errors=True)


def notify_config(sock):
    rule = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}
    return with_seccomp(rule, listenerPath=sock, listenerMetadata="sectests-meta")


def test_seccomp_notify_agent_answers(mr, agent_dir):
    sock = os.path.join(agent_dir, "agent.sock")

    def decide(path):
        if path == "/tmp/agent-says-no":
            return 0, -errno.EPERM
        if path == "/tmp/agent-says-yes":
            return 0, 0
        return 0, -errno.EACCES

    agent = SeccompAgent(sock, decide)
    agent.start()
    try:
        b = mr.bundle(sh("mkdir /tmp/agent-says-no; echo rc=$?; mkdir /tmp/agent-says-yes; echo rc=$?"),
                      mutate=notify_config(sock))
        r = mr.run(b, "--pid-file", mr.tmp / "pid", cid="notify", timeout=60)
    finally:
        if agent.payload is None:
            agent.stop()
        agent.join(timeout=40)
    assert not agent.is_alive(), "the agent did not see the listener fd hang up"
    assert agent.error is None, repr(agent.error)
    assert r.returncode == 0, r.stderr
    assert agent.fd_kind == "anon_inode:seccomp notify", agent.fd_kind
    p = agent.payload
    assert p["fds"] == ["seccompFd"], p
    assert p["metadata"] == "sectests-meta", p
    assert p["state"]["id"] == "notify", p
    assert os.path.samefile(p["state"]["bundle"], b), p
    assert [s[2] for s in agent.seen] == ["/tmp/agent-says-no", "/tmp/agent-says-yes"], agent.seen
    assert "mkdir: can't create directory '/tmp/agent-says-no': Operation not permitted" in r.stderr, r.stderr
    assert r.stdout.split() == ["rc=1", "rc=0"], r.stdout
    # containerProcessState.pid and state.pid: the container process, as the runtime sees it
    init_pid = int((mr.tmp / "pid").read_text())
    assert p["pid"] == init_pid and p["state"].get("pid") == init_pid, (json.dumps(p), init_pid)


def test_seccomp_notify_without_an_answering_agent_gives_enosys(mr, agent_dir):
    sock = os.path.join(agent_dir, "agent.sock")
    agent = SeccompAgent(sock, answer=False)
    agent.start()
    try:
        r = mr.run(mr.bundle(sh("mkdir /tmp/nobody-answers; echo rc=$?"), mutate=notify_config(sock)),
                   cid="notify-closed")
    finally:
        if agent.payload is None:
            agent.stop()
        agent.join(timeout=40)
    assert agent.error is None, repr(agent.error)
    assert agent.payload["state"]["id"] == "notify-closed"
    assert agent.fd_kind == "anon_inode:seccomp notify", agent.fd_kind
    assert r.returncode == 0, r.stderr
    assert "Function not implemented" in r.stderr, r.stderr
    assert r.stdout.split() == ["rc=1"]


def test_seccomp_notify_without_a_listener_fails_clearly_and_leaves_nothing(mr, agent_dir):
    sock = os.path.join(agent_dir, "nobody.sock")
    r = mr.run(mr.bundle(["true"], mutate=notify_config(sock)), cid="nolistener")
    assert r.returncode == 1
    assert "linux.seccomp.listenerPath" in r.stderr and sock in r.stderr, r.stderr
    assert_nothing_left(mr, "nolistener")


# ------------------------------------------------------------ user namespaces

def read_map(path):
    with open(path) as f:
        return [tuple(int(x) for x in line.split()) for line in f if line.strip()]


def wait_for_file(path, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert proc.poll() is None, f"minirun exited ({proc.returncode}): {proc.stderr.read()}"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def test_user_namespace_maps_with_two_ranges(mr, tmp_path):
    uids = [{"containerID": 0, "hostID": 100000, "size": 1000},
            {"containerID": 1000, "hostID": 200000, "size": 64536}]
    gids = [{"containerID": 0, "hostID": 110000, "size": 1000},
            {"containerID": 1000, "hostID": 210000, "size": 64536}]

    def mutate(cfg):
        cfg["linux"]["namespaces"].append({"type": "user"})
        cfg["linux"]["uidMappings"] = uids
        cfg["linux"]["gidMappings"] = gids

    b = mr.bundle(sh("id -u; id -g; read line || true"), mutate=mutate)
    pidfile = tmp_path / "pid"
    p = subprocess.Popen([MINIRUN, "--root", mr.root, "run", "-b", str(b), "--pid-file", str(pidfile), "userns"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mr.created.add("userns")
    try:
        first = p.stdout.readline()
        assert first == "0\n", first or p.stderr.read()
        assert p.stdout.readline() == "0\n"
        wait_for_file(pidfile, p)
        pid = int(pidfile.read_text())
        want_u = [(m["containerID"], m["hostID"], m["size"]) for m in uids]
        want_g = [(m["containerID"], m["hostID"], m["size"]) for m in gids]
        assert read_map(f"/proc/{pid}/uid_map") == want_u
        assert read_map(f"/proc/{pid}/gid_map") == want_g
        assert os.readlink(f"/proc/{pid}/ns/user") != os.readlink("/proc/self/ns/user")
        st = os.stat(f"/proc/{pid}")
        assert (st.st_uid, st.st_gid) == (100000, 110000), "the init does not run as the mapped root"
        p.stdin.close()
        assert p.wait(timeout=30) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            mr.cmd("kill", "userns", "KILL")
            p.wait(timeout=30)


# -------------------------------------------------------------------- rootless

def free_uid(start=23456):
    used = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/status") as f:
                    for line in f:
                        if line.startswith("Uid:"):
                            used.update(int(x) for x in line.split()[1:])
            except OSError:
                pass
    uid = start
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            if uid not in used:
                return uid
        uid += 1


class Rootless:
    """minirun run by an unprivileged uid (no passwd entry) with its state
    under $XDG_RUNTIME_DIR/minirun; a copy of the busybox rootfs every
    component of whose path that uid can traverse."""

    def __init__(self, pristine, uid=None):
        self.uid = uid if uid is not None else free_uid()
        self.base = tempfile.mkdtemp(prefix="mr-rootless-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.rootfs = os.path.join(self.base, "rootfs")
        subprocess.run(["cp", "-al", pristine, self.rootfs], check=True)
        self.xdg = os.path.join(self.base, "xdg")
        os.mkdir(self.xdg, 0o700)
        os.chown(self.xdg, self.uid, self.uid)
        self.state_root = os.path.join(self.xdg, "minirun")
        self.created = set()

    def argv(self, *args):
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups", MINIRUN] + \
            [str(a) for a in args]

    def env(self):
        return {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "XDG_RUNTIME_DIR": self.xdg}

    def cmd(self, *args, cwd=None, timeout=60):
        return subprocess.run(self.argv(*args), capture_output=True, text=True, env=self.env(), cwd=cwd,
                              timeout=timeout)

    def bundle(self, args, mutate=None):
        d = os.path.join(self.base, f"bundle-{uuid.uuid4().hex[:8]}")
        os.mkdir(d)
        os.chown(d, self.uid, self.uid)
        r = self.cmd("spec", "--rootless", "--bundle", d)
        assert r.returncode == 0, r.stderr
        path = os.path.join(d, "config.json")
        with open(path) as f:
            cfg = json.load(f)
        assert cfg["linux"]["uidMappings"] == [{"containerID": 0, "hostID": self.uid, "size": 1}], cfg["linux"]
        cfg["root"]["path"] = self.rootfs
        cfg["process"]["args"] = list(args)
        if mutate:
            mutate(cfg)
        with open(path, "w") as f:
            json.dump(cfg, f, indent=2)
        return d

    def run(self, bundle, cid=None, timeout=60):
        cid = cid or f"rl-{uuid.uuid4().hex[:10]}"
        self.created.add(cid)
        return cid, self.cmd("run", "-b", bundle, cid, cwd=bundle, timeout=timeout)

    def cleanup(self):
        try:
            for cid in self.created:
                self.cmd("delete", "--force", cid)
            left = [e for e in os.listdir(self.state_root) if not e.startswith(".")] if os.path.isdir(self.state_root) else []
            assert left == [], f"rootless state entries left behind: {left}"
        finally:
            shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def pristine_rootfs():
    """A copy of the busybox rootfs under a directory every uid can traverse
    (/tmp/pytest-of-root is 0700); each rootless test hard-links it."""
    base = tempfile.mkdtemp(prefix="mr-rootless-pristine-", dir="/tmp")
    os.chmod(base, 0o755)
    path = os.path.join(base, "rootfs")
    subprocess.run(["cp", "-a", ROOTFS, path], check=True)
    yield path
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def rootless(pristine_rootfs):
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) is needed to run minirun as an unprivileged uid")
    rl = Rootless(pristine_rootfs)
    yield rl
    rl.cleanup()


def test_rootless_run(rootless):
    b = rootless.bundle(sh("echo hi; id -u; cat /proc/self/uid_map"))
    cid, r = rootless.run(b)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[:2] == ["hi", "0"], r.stdout
    assert [int(x) for x in lines[2].split()] == [0, rootless.uid, 1]
    assert not os.path.exists(os.path.join(rootless.state_root, cid))
    assert cgroup_dirs(f"/minirun/{cid}") == []


def test_rootless_state_lives_under_xdg_runtime_dir(rootless):
    b = rootless.bundle(sh("echo up; read line || true"))
    cid = "rl-state"
    rootless.created.add(cid)
    p = subprocess.Popen(rootless.argv("run", "-b", b, cid), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, env=rootless.env(), cwd=b)
    try:
        line = p.stdout.readline()
        assert line == "up\n", line + p.stderr.read()
        st = os.stat(os.path.join(rootless.state_root, cid))
        assert st.st_uid == rootless.uid
        r = rootless.cmd("state", cid)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["status"] == "running"
        # the owner of a uid without a passwd entry is its number (both builds)
        r = rootless.cmd("list", "--format", "json")
        assert r.returncode == 0, r.stderr
        assert [row["owner"] for row in json.loads(r.stdout) if row["id"] == cid] == [str(rootless.uid)], r.stdout
        p.stdin.close()
        assert p.wait(timeout=30) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            rootless.cmd("kill", cid, "KILL")
            p.wait(timeout=30)


def test_rootless_owner_is_the_users_name_from_passwd(pristine_rootfs):
    """`owner` names the user: getpwuid_r in the default build, a read of
    /etc/passwd in the static build (no NSS modules there)."""
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        pytest.skip("no `nobody` entry in /etc/passwd to run as")
    rl = Rootless(pristine_rootfs, uid=nobody.pw_uid)
    try:
        b = rl.bundle(["true"])
        cid = "rl-owner"
        rl.created.add(cid)
        # the waiting init keeps create's stdio: no pipes, or they never end
        with tempfile.TemporaryFile("w+") as errf:
            r = subprocess.run(rl.argv("create", "-b", b, cid), stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=errf, env=rl.env(), cwd=b, timeout=60)
            errf.seek(0)
            assert r.returncode == 0, errf.read()
        r = rl.cmd("list", "--format", "json")
        assert r.returncode == 0, r.stderr
        assert [row["owner"] for row in json.loads(r.stdout) if row["id"] == cid] == ["nobody"], r.stdout
    finally:
        rl.cleanup()


def test_rootless_container_pin_works(rootless):
    def mutate(cfg):
        cfg["minirun"] = {"pids": {"container": 1}}

    cid, r = rootless.run(rootless.bundle(sh("echo $$"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1"


def test_rootless_host_pin_is_refused(rootless):
    host_pid, = free_host_pids(1)

    def mutate(cfg):
        cfg["minirun"] = {"pids": {"host": host_pid}}

    cid, r = rootless.run(rootless.bundle(["true"], mutate=mutate))
    assert r.returncode == 1, r.stdout + r.stderr
    assert f'pinning pid {host_pid} in pid namespace "host" needs CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE in the ' \
        "user namespace that owns it" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(rootless.state_root, cid))


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
