"""Escapes a hostile image or container process might try (runtime/rootfs/rootfs.h,
runtime/launch/child.c): symlinks and /proc magic links in the rootfs at mount
destinations and at process.cwd, overwriting the runtime binary through
/proc/PID/exe (CVE-2019-5736), a /dev/null that is not the null device
(CVE-2025-31133), and the default masked and read-only paths.

Every attack runs against a private copy of the busybox rootfs and a host
"canary" directory whose listing and content must be unchanged afterwards.
"""
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time

import pytest

from conftest import MINIRUN, ROOTFS, base_config, cgroup_dirs
from helpers import helper, helpers_dir, helpers_mount  # noqa: F401 (fixture)


def sh(script):
    return ["sh", "-c", script]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def snapshot(top):
    """Everything about a directory tree an escape could change."""
    out = []
    for dirpath, dirnames, filenames in os.walk(top):
        for name in sorted(dirnames + filenames):
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            if os.path.islink(p):
                data = "-> " + os.readlink(p)
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    data = f.read()
            else:
                data = None
            out.append((os.path.relpath(p, top), st.st_mode, st.st_uid, st.st_size, data))
    st = os.lstat(top)
    return sorted(out), (st.st_mode, st.st_mtime_ns)


def host_mounts_mentioning(text):
    with open("/proc/self/mountinfo") as f:
        return [line for line in f if text in line]


@pytest.fixture(scope="module")
def pristine_rootfs():
    """One full copy of the busybox rootfs per module: the per-test copies
    hard-link its files (never the shared examples/rootfs's)."""
    base = tempfile.mkdtemp(prefix="mr-attack-pristine-", dir="/tmp")
    os.chmod(base, 0o755)
    path = os.path.join(base, "rootfs")
    subprocess.run(["cp", "-a", ROOTFS, path], check=True)
    yield path
    shutil.rmtree(base, ignore_errors=True)


def copy_rootfs(src, hardlink):
    base = tempfile.mkdtemp(prefix="mr-attack-", dir="/tmp")
    os.chmod(base, 0o755)
    path = os.path.join(base, "rootfs")
    subprocess.run(["cp", "-al" if hardlink else "-a", src, path], check=True)
    return path


@pytest.fixture
def rootfs_copy(pristine_rootfs):
    """A private copy of the busybox rootfs (the attacks add symlinks to it),
    in a directory every uid can traverse: new directories, files hard-linked
    to the module's pristine copy (the root stays read-only in these tests)."""
    path = copy_rootfs(pristine_rootfs, hardlink=True)
    yield path
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)


@pytest.fixture
def rootfs_full_copy():
    """A full copy, for tests that run with a writable root."""
    path = copy_rootfs(ROOTFS, hardlink=False)
    yield path
    shutil.rmtree(os.path.dirname(path), ignore_errors=True)


class Canary:
    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="mr-canary-", dir="/tmp")
        with open(os.path.join(self.path, "secret"), "w") as f:
            f.write("host data\n")
        os.mkdir(os.path.join(self.path, "sub"))
        with open(os.path.join(self.path, "sub", "inner"), "w") as f:
            f.write("more host data\n")
        self.before = snapshot(self.path)

    def assert_unchanged(self):
        assert snapshot(self.path) == self.before, "the host canary directory was changed"
        assert host_mounts_mentioning(os.path.basename(self.path)) == [], "a mount reached the host"


@pytest.fixture
def canary():
    c = Canary()
    yield c
    shutil.rmtree(c.path, ignore_errors=True)


def attack_bundle(mr, rootfs, args, mutate=None):
    def m(cfg):
        cfg["root"]["path"] = rootfs
        if mutate:
            mutate(cfg)
    return mr.bundle(args, mutate=m)


# Symlinks in the image that point at the host canary, and where a runtime
# that resolved them on the host would land.
LINKS = {
    "absolute": lambda canary: canary,
    "relative": lambda canary: "../" * 12 + canary.lstrip("/"),
    "proc-self-root": lambda canary: "/proc/self/root" + canary,
    "proc-self-cwd": lambda canary: "/proc/self/cwd",          # minirun runs with its cwd in the canary
    "proc-self-fd": lambda canary: "/proc/self/fd/3",
}


def in_root_target(rootfs, kind, canary):
    """Where the link lands when resolved inside the root (".." stops at
    "/", absolute links restart at it)."""
    if kind in ("absolute", "relative"):
        return rootfs + canary
    return rootfs + LINKS[kind](canary)


# ---------------------------------------------------------- mount destinations

MOUNT_VARIANTS = {
    # name: (destination below the link, mount entry builder)
    "tmpfs-on-link": ("", lambda payload: {"type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}),
    "tmpfs-below-link": ("/newdir/deeper", lambda payload: {"type": "tmpfs", "source": "tmpfs",
                                                            "options": ["size=1m"]}),
    "file-bind-below-link": ("/newfile", lambda payload: {"type": "bind", "source": os.path.join(payload, "file"),
                                                          "options": ["bind", "ro"]}),
    "dir-bind-on-link": ("", lambda payload: {"type": "bind", "source": os.path.join(payload, "dir"),
                                              "options": ["rbind", "rw"]}),
}


@pytest.fixture
def payload():
    d = tempfile.mkdtemp(prefix="mr-payload-", dir="/tmp")
    with open(os.path.join(d, "file"), "w") as f:
        f.write("payload\n")
    os.mkdir(os.path.join(d, "dir"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.parametrize("position", ["before-proc", "after-proc"])
@pytest.mark.parametrize("variant", sorted(MOUNT_VARIANTS))
@pytest.mark.parametrize("kind", sorted(LINKS))
def test_mount_destination_through_a_symlink_stays_in_the_rootfs(mr, rootfs_copy, canary, payload, kind,
                                                                 variant, position):
    os.symlink(LINKS[kind](canary.path), os.path.join(rootfs_copy, "evil"))
    suffix, build = MOUNT_VARIANTS[variant]
    dest = "/evil" + suffix
    entry = dict(build(payload), destination=dest)
    index = 0 if position == "before-proc" else None

    def mutate(cfg):
        nonlocal index
        if index is None:
            index = len(cfg["mounts"])
            cfg["mounts"].append(entry)
        else:
            cfg["mounts"].insert(0, entry)

    b = attack_bundle(mr, rootfs_copy, sh("{ ls -A /evil/; cat /evil/newfile; echo pwned > /evil/written; } "
                                          "2>/dev/null; exit 0"), mutate)
    r = mr.run(b, cwd=canary.path)
    canary.assert_unchanged()
    assert "secret" not in r.stdout, "the host canary is visible in the container"
    if r.returncode != 0:
        # refused: the error must name the mount
        assert f"mounts[{index}] ({dest}, type" in r.stderr, r.stderr
        return
    target = in_root_target(rootfs_copy, kind, canary.path)
    assert os.path.lexists(target + suffix) or os.path.lexists(target), \
        f"the mount did not land inside the rootfs at {target}{suffix}"
    if variant == "file-bind-below-link" and kind in ("absolute", "relative"):
        # (through /proc links it lands under the rootfs's /proc directory,
        # hidden by the container's procfs when that is mounted later)
        assert "payload" in r.stdout


@pytest.mark.parametrize("kind", sorted(LINKS))
def test_cwd_through_a_symlink_stays_in_the_rootfs(mr, rootfs_copy, canary, kind):
    os.symlink(LINKS[kind](canary.path), os.path.join(rootfs_copy, "evil"))

    def mutate(cfg):
        cfg["process"]["cwd"] = "/evil"

    r = mr.run(attack_bundle(mr, rootfs_copy, sh("pwd -P; stat -c %d:%i .; ls -A"), mutate), cwd=canary.path)
    canary.assert_unchanged()
    if r.returncode != 0:
        assert "process.cwd" in r.stderr, r.stderr
        return
    lines = r.stdout.splitlines()
    host = os.stat(canary.path)
    assert lines[1] != f"{host.st_dev}:{host.st_ino}", "the container's cwd is the host canary directory"
    assert "secret" not in lines[2:], r.stdout
    inside = in_root_target(rootfs_copy, kind, canary.path)
    st = os.stat(inside)
    assert lines[1] == f"{st.st_dev}:{st.st_ino}", (lines, inside)
    assert lines[0] == inside[len(rootfs_copy):], r.stdout


def test_cwd_dotdot_stays_in_the_rootfs(mr, rootfs_copy):
    def mutate(cfg):
        cfg["process"]["cwd"] = "/../../../../.."

    r = mr.run(attack_bundle(mr, rootfs_copy, sh("pwd -P; stat -c %i .; stat -c %i /"), mutate))
    assert r.returncode == 0, r.stderr
    cwd, ino, root_ino = r.stdout.split()
    assert cwd == "/" and ino == root_ino


# --------------------------------------------------------- /proc/PID/exe writes

def test_container_cannot_write_proc_1_exe(mr, rootfs_full_copy):
    """A writable root, so only the kernel's ETXTBSY and minirun's own setup
    stand between the container and its init's binary."""
    before_minirun = sha256(MINIRUN)
    rootfs_copy = rootfs_full_copy
    busybox = os.path.join(rootfs_copy, "bin", "busybox")
    before_busybox = sha256(busybox)

    def mutate(cfg):
        cfg["root"]["readonly"] = False

    script = ("readlink /proc/1/exe; echo x > /proc/1/exe; echo rc=$?; "
              "for p in /proc/[0-9]*; do echo x >> $p/exe && echo WROTE $p; done 2>/dev/null; exit 0")
    r = mr.run(attack_bundle(mr, rootfs_copy, sh(script), mutate))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "/bin/busybox", r.stdout
    assert lines[1] == "rc=1", r.stdout
    assert "Text file busy" in r.stderr, r.stderr
    assert "WROTE" not in r.stdout, r.stdout
    assert sha256(busybox) == before_busybox
    assert sha256(MINIRUN) == before_minirun


def exec_available():
    r = subprocess.run([MINIRUN, "exec", "--help"], capture_output=True, text=True)
    return r.returncode == 0 and "not available" not in (r.stdout + r.stderr)


def test_exec_into_the_container_exposes_no_runtime_binary(mr, rootfs_copy, helpers_dir, tmp_path):
    """CVE-2019-5736: while `minirun exec` joins the container, a process
    inside scans /proc for exes it can open and tries to reopen them for
    writing. It must never get hold of minirun's binary.

    Control: a host binary (a copy of sleep, capabilities dropped, so
    dumpable and no more privileged than the container) joining the pid
    namespace with nsenter IS seen, so the hunter would see an exposed
    runtime too."""
    if not exec_available():
        pytest.skip("`minirun exec` is not available in this build")
    if shutil.which("nsenter") is None or shutil.which("setpriv") is None:
        pytest.skip("nsenter and setpriv (util-linux) are needed for the control")
    before = sha256(MINIRUN)
    decoy = tmp_path / "mr-decoy-sleep"
    shutil.copy2(shutil.which("sleep"), decoy)

    def mutate(cfg):
        cfg["mounts"].append(helpers_mount(helpers_dir))

    b = attack_bundle(mr, rootfs_copy, [helper("exehunt"), "20000"], mutate)
    p = subprocess.Popen([MINIRUN, "--root", mr.root, "run", "-b", str(b), "--pid-file", str(tmp_path / "pid"),
                          "hunted"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    mr.created.add("hunted")
    try:
        assert p.stdout.readline() == "ready\n", p.stderr.read()
        init = int((tmp_path / "pid").read_text())
        control = subprocess.run(["nsenter", "--target", str(init), "--pid", "--", "setpriv", "--bounding-set=-all",
                                  "--inh-caps=-all", str(decoy), "0.3"], capture_output=True, text=True, timeout=30)
        assert control.returncode == 0, control.stderr
        deadline = time.monotonic() + 1
        execs = 0
        while time.monotonic() < deadline:
            r = mr.cmd("exec", "hunted", "true", timeout=30)
            assert r.returncode == 0, r.stderr
            execs += 1
        out, err = p.communicate(input="stop\n", timeout=30)  # the hunter stops at input
    finally:
        if p.poll() is None:
            mr.cmd("kill", "hunted", "KILL")
            p.wait(timeout=30)
    assert execs > 0
    assert "done" in out, out + err
    assert "mr-decoy-sleep" in out, f"control: the hunter did not see a dumpable host binary:\n{out}"
    assert "minirun" not in out, f"the container opened minirun's binary:\n{out}"
    assert not [line for line in out.splitlines() if line.startswith("WRITABLE") and "decoy" not in line], out
    assert sha256(MINIRUN) == before


# ------------------------------------------------------------ /dev/null attack

def test_masking_with_a_fake_dev_null_is_refused(mr, rootfs_copy, canary, tmp_path):
    """CVE-2025-31133: the image's /dev/null is a symlink to a host file; the
    masked path must not become a bind of whatever it points to."""
    devdir = tmp_path / "dev"
    devdir.mkdir()
    os.symlink(os.path.join(canary.path, "secret"), devdir / "null")

    def mutate(cfg):
        cfg["mounts"] = [m for m in cfg["mounts"] if m["destination"] == "/proc"]
        cfg["mounts"].append({"destination": "/dev", "type": "bind", "source": str(devdir),
                              "options": ["bind", "ro"]})
        cfg["linux"]["maskedPaths"] = ["/proc/keys"]
        cfg["linux"]["readonlyPaths"] = []
        cfg["linux"].pop("resources", None)

    r = mr.run(attack_bundle(mr, rootfs_copy, ["cat", "/proc/keys"], mutate), cid="fakenull")
    canary.assert_unchanged()
    assert "host data" not in r.stdout
    assert r.returncode == 1, r.stdout + r.stderr
    assert "linux.maskedPaths[0] (/proc/keys)" in r.stderr and "not the null device" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(mr.root, "fakenull"))


# ----------------------------------------------- default masked / read-only paths

def test_default_masked_paths_are_unreadable(mr):
    masked = base_config()["linux"]["maskedPaths"]
    assert {"/proc/kcore", "/proc/keys", "/sys/firmware"} <= set(masked)
    script = "; ".join(
        f'if [ -d {p} ]; then echo "{p} dir $(ls -A {p} | wc -l) $(touch {p}/x 2>/dev/null && echo writable)"; '
        f'elif [ -e {p} ]; then echo "{p} file $(stat -c %t:%T {p}) $(cat {p} 2>/dev/null | wc -c)"; '
        f'else echo "{p} absent"; fi' for p in masked)
    r = mr.run(mr.bundle(sh(script)))
    assert r.returncode == 0, r.stderr
    seen = {}
    for line in r.stdout.splitlines():
        path, rest = line.split(" ", 1)
        seen[path] = rest.split()
    assert sorted(seen) == sorted(masked)
    checked = 0
    for p in masked:
        if not os.path.exists(p):
            continue
        got = seen[p]
        if os.path.isdir(p):
            assert got == ["dir", "0"], (p, got)
        else:
            assert got == ["file", "1:3", "0"], (p, got)
        checked += 1
    assert checked >= 3, "too few masked paths exist on this host to test anything"


def mount_options(mountinfo, point):
    last = None
    for line in mountinfo.splitlines():
        fields = line.split()
        if fields[4] == point:
            last = fields  # the topmost mount at that point wins
    assert last is not None, f"{point} is not a mount point in the container"
    return set(last[5].split(","))


def test_default_readonly_paths_refuse_writes(mr):
    ro = base_config()["linux"]["readonlyPaths"]
    assert {"/proc/sys", "/proc/sysrq-trigger"} <= set(ro)
    # opening for writing is the test: nothing is ever written
    targets = ["/proc/sys/kernel/domainname"]
    if os.path.exists("/proc/sysrq-trigger"):  # absent on kernels without CONFIG_MAGIC_SYSRQ
        targets.append("/proc/sysrq-trigger")
    script = "cat /proc/self/mountinfo; echo ---; " + "; ".join(f"true > {t}; echo $?" for t in targets)
    r = mr.run(mr.bundle(sh(script)))
    assert r.returncode == 0, r.stderr
    mountinfo, results = r.stdout.split("---\n")
    assert results.split() == ["1"] * len(targets), r.stdout + r.stderr
    assert r.stderr.count("Read-only file system") == len(targets), r.stderr
    for p in ro:
        if os.path.exists(p):
            assert "ro" in mount_options(mountinfo, p), p


# ---------- terminal injection through echoed config values ----------
#
# An error message echoes the config value it is about. A value with an ESC
# sequence would paint the operator's terminal, one with a newline would forge
# a second "minirun:" line in stderr or in the --log file (where conmon reads
# the last error); minirun escapes both (runtime/base/log.c), on every output.

HOSTILE = "x\x1b[31mRED\x1b]0;title\x07\nminirun: forged error\r\nwarning: forged"
HOSTILE_ESCAPED = "x\\e[31mRED\\e]0;title\\x07\\nminirun: forged error\\r\\nwarning: forged"


def _hostile_process_name(cfg):
    cfg["minirun"] = {"processes": [{"name": HOSTILE, "args": ["true"]}]}


def _hostile_process_parent(cfg):
    cfg["minirun"] = {"processes": [{"name": "w", "parent": HOSTILE, "args": ["true"]}]}


def _hostile_pid_namespace_name(cfg):
    cfg["minirun"] = {"pidNamespaces": {HOSTILE: {"parent": "container"}}}


def _hostile_pid_namespace_ref(cfg):
    cfg["minirun"] = {"processes": [{"name": "w", "pidNamespace": HOSTILE, "args": ["true"]}]}


def _hostile_mount_destination(cfg):
    # absolute (a relative one is taken relative to /), with a bind source that
    # does not exist, so that the create fails and echoes the destination
    cfg["mounts"].append({"destination": "/" + HOSTILE, "type": "bind", "source": "/no/such/source",
                          "options": ["rbind"]})


def _hostile_env(cfg):
    cfg["process"]["env"].append(HOSTILE)


def _hostile_exec_path(cfg):
    # refused only inside the container (its setup step "exec"), after the
    # clone: the message crosses the sync pipe before it is printed
    cfg["process"]["args"] = ["/no-such-" + HOSTILE]


def _hostile_hook_path(cfg):
    cfg["hooks"] = {"prestart": [{"path": "/no-such-" + HOSTILE}]}


HOSTILE_CONFIGS = {
    "process-name": _hostile_process_name,
    "process-parent": _hostile_process_parent,
    "pid-namespace-name": _hostile_pid_namespace_name,
    "pid-namespace-reference": _hostile_pid_namespace_ref,
    "mount-destination": _hostile_mount_destination,
    "env": _hostile_env,
    "exec-path": _hostile_exec_path,
    "hook-path": _hostile_hook_path,
}


def assert_no_injection(text, where):
    assert "\x1b" not in text, f"raw ESC in {where}: {text!r}"
    # (a raw \r would show as a line break here: stderr is read in text mode)
    assert "\x07" not in text, f"raw BEL in {where}: {text!r}"
    forged = [line for line in text.split("\n") if line.startswith(("minirun: forged", "warning: forged"))]
    assert forged == [], f"forged line in {where}: {text!r}"
    # the value is still there for the operator to read, escaped
    assert HOSTILE_ESCAPED in text, f"the escaped value is missing from {where}: {text!r}"


@pytest.mark.parametrize("log_format", ["text", "json"])
@pytest.mark.parametrize("vector", sorted(HOSTILE_CONFIGS))
def test_echoed_config_values_cannot_inject_into_the_terminal_or_log(mr, vector, log_format):
    bundle = mr.bundle(["true"], mutate=HOSTILE_CONFIGS[vector])
    log = mr.tmp / f"log-{vector}-{log_format}"
    cid = f"t-inject-{vector}"
    mr.created.add(cid)
    r = mr.cmd("--log", log, "--log-format", log_format, "run", "-b", bundle, cid)
    assert r.returncode != 0, f"the hostile config was accepted: {r.stdout!r} {r.stderr!r}"
    assert r.stderr.endswith("\n") and r.stderr.startswith("minirun: "), repr(r.stderr)
    assert_no_injection(r.stderr, "stderr")
    # every stderr line is one of minirun's
    assert all(line.startswith("minirun: ") for line in r.stderr.splitlines()), repr(r.stderr)

    data = log.read_bytes().decode("utf-8")
    if log_format == "text":
        assert_no_injection(data, "the text log")
        assert all(line.startswith(("error: ", "warning: ", "debug: ")) for line in data.splitlines()), repr(data)
    else:
        assert "\x1b" not in data, f"raw ESC in the JSON log: {data!r}"
        msgs = [json.loads(line) for line in data.splitlines()]
        assert msgs and msgs[-1]["level"] == "error", data
        # what conmon prints after decoding must be as safe as stderr
        assert_no_injection("\n".join(m["msg"] for m in msgs), "the decoded JSON log")
        assert all("\n" not in m["msg"] for m in msgs), data

    assert mr.cmd("state", cid).returncode != 0, "a state entry was left behind"
    assert cgroup_dirs(f"/minirun/{cid}") == [], "a cgroup was left behind"
