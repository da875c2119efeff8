"""minirun behind podman and conmon: `podman --runtime <minirun>` runs, lists,
stops and removes containers of an image imported from examples/rootfs.

Everything podman keeps lives in a temporary directory (--root, --runroot,
--tmpdir; overlay storage, vfs if overlay does not work here), so the host's
podman storage is not touched.  The runtime podman is given is a two-line
wrapper named `minirun` that logs each command line conmon and podman use
(runtime.log) and execs the real binary, so a failure can name the exact
minirun command that failed.  The teardown removes every container and image,
kills whatever conmon, minirun or container process the tests started that
is still there, unmounts the storage and removes the directory.

Environment: podman's default config asks for RLIMIT_NOFILE/RLIMIT_NPROC of
1048576, above this sandbox's hard limits without CAP_SYS_RESOURCE (runc
fails the same way), so every `podman run` passes lower --ulimit values.
"""
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from conftest import MINIRUN, ROOTFS, reap

HERE = os.path.dirname(os.path.abspath(__file__))
IMAGE = "localhost/minirun-busybox"
TIMEOUT = 60
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def ensure_podman():
    if shutil.which("podman") and shutil.which("conmon"):
        return None
    r = subprocess.run([os.path.join(HERE, "podman_setup.sh")], capture_output=True, text=True, timeout=900)
    if r.returncode != 0 or not (shutil.which("podman") and shutil.which("conmon")):
        return f"podman/conmon could not be installed: {r.stdout[-2000:]}{r.stderr[-2000:]}"
    return None


class Podman:
    def __init__(self, base):
        self.base = str(base)
        self.bin = os.path.join(self.base, "bin")
        os.makedirs(self.bin)
        self.runtime = os.path.join(self.bin, "minirun")
        self.log = os.path.join(self.base, "runtime.log")
        with open(self.runtime, "w") as f:
            f.write(f'#!/bin/sh\necho "$$ $*" >> {self.log}\nexec {MINIRUN} "$@"\n')
        os.chmod(self.runtime, 0o755)
        self.driver = None

    def argv(self, *args, driver=None):
        return ["podman", "--root", f"{self.base}/storage", "--runroot", f"{self.base}/run", "--tmpdir",
                f"{self.base}/tmp", "--storage-driver", driver or self.driver, "--runtime", self.runtime,
                "--cgroup-manager=cgroupfs", "--events-backend=file", *[str(a) for a in args]]

    def __call__(self, *args, timeout=TIMEOUT, input=None, driver=None, check=False):
        argv = self.argv(*args, driver=driver)
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input,
                               stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"`podman {' '.join(map(str, args))}` did not finish within {timeout}s\n"
                                 f"{self.explain()}") from None
        if check and r.returncode != 0:
            raise AssertionError(f"`podman {' '.join(map(str, args))}` failed ({r.returncode}):\n"
                                 f"stdout: {r.stdout}\nstderr: {r.stderr}\n{self.explain()}")
        return r

    def calls(self):
        """(pid, argv string) of every runtime call so far."""
        if not os.path.exists(self.log):
            return []
        out = []
        with open(self.log) as f:
            for line in f:
                pid, _, rest = line.rstrip("\n").partition(" ")
                out.append((int(pid), rest))
        return out

    def explain(self):
        lines = []
        for pid, args in self.calls():
            running = ""
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    if MINIRUN.encode() in f.read():
                        running = "   <- still running (hung?)"
            except OSError:
                pass
            lines.append(f"  minirun {args}{running}")
        return "runtime calls (conmon/podman -> minirun):\n" + "\n".join(lines)

    def cleanup(self):
        problems = []
        for args in (["rm", "-af", "-t", "0"], ["rmi", "-af"]):
            try:
                r = self(*args, timeout=TIMEOUT)
                if r.returncode != 0:
                    problems.append(f"podman {' '.join(args)}: {r.stderr.strip()}")
            except AssertionError as e:
                problems.append(str(e))
        # what a hung or failed call left: minirun calls, container inits
        # (from the pid files podman asked for), conmon processes of ours
        victims = []
        for pid, args in self.calls():
            victims.append((pid, MINIRUN.encode()))
            m = re.search(r"--pid-file (\S+)", args)
            if m and os.path.exists(m.group(1)):
                try:
                    victims.append((int(open(m.group(1)).read().strip()), None))
                except ValueError:
                    pass
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/cmdline", "rb") as f:
                        cl = f.read()
                except OSError:
                    continue
                if cl.startswith(b"/usr/bin/conmon") and self.base.encode() in cl:
                    victims.append((int(entry), b"conmon"))
        for pid, marker in victims:
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cl = f.read()
                if marker is not None and marker not in cl:
                    continue
                os.kill(pid, signal.SIGKILL)
                shown = cl.replace(b"\0", b" ").decode(errors="replace")[:200]
                problems.append(f"killed leftover process {pid}: {shown}")
                reap(pid)
            except (OSError, ValueError):
                pass
        if any("killed leftover" in p for p in problems):
            try:
                self("rm", "-af", "-t", "0", timeout=TIMEOUT)
                self("rmi", "-af", timeout=TIMEOUT)
            except AssertionError as e:
                problems.append(str(e))
        # storage mounts (overlay mounts its own directory)
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split()[4] for line in f if line.split()[4].startswith(self.base + "/")]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)
        # podman's cgroupfs parents (conmon's cgroup), once empty
        for hierarchy in os.listdir("/sys/fs/cgroup"):
            for d in ("libpod_parent/conmon", "libpod_parent"):
                try:
                    os.rmdir(os.path.join("/sys/fs/cgroup", hierarchy, d))
                except OSError:
                    pass
        return problems


@pytest.fixture(scope="module")
def podman(tmp_path_factory):
    why = ensure_podman()
    if why:
        print(why)
        pytest.skip(why)
    p = Podman(tmp_path_factory.mktemp("podman"))
    tar = subprocess.run(["tar", "-C", ROOTFS, "-c", "."], capture_output=True, timeout=TIMEOUT, check=True).stdout
    failures = []
    for driver in ("overlay", "vfs"):
        r = subprocess.run(p.argv("import", "-", IMAGE, driver=driver), input=tar, capture_output=True,
                           timeout=300)
        if r.returncode == 0:
            p.driver = driver
            break
        failures.append(f"{driver}: {r.stderr.decode(errors='replace').strip()}")
        shutil.rmtree(os.path.join(p.base, "storage"), ignore_errors=True)
    if p.driver is None:
        p.cleanup()
        pytest.fail("podman import failed with every storage driver:\n" + "\n".join(failures))
    yield p
    problems = p.cleanup()
    if problems:
        print("podman teardown:", *problems, sep="\n  ")
    for pid, args in p.calls():
        assert not alive_minirun(pid), f"minirun {args} still running after the teardown"


def alive_minirun(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return MINIRUN.encode() in f.read()
    except OSError:
        return False


def runtime_state_dirs(podman, cid):
    """Where minirun keeps the container's state: podman passes no --root, so
    the default, unless a call names one."""
    roots = {"/run/minirun"}
    for _, args in podman.calls():
        m = re.search(r"--root[ =](\S+)", args)
        if m:
            roots.add(m.group(1))
    return [os.path.join(r, cid) for r in roots if os.path.exists(os.path.join(r, cid))]


def test_run_rm_prints_and_exits(podman):
    r = podman("run", "--rm", "--network=none", *ULIMITS, IMAGE, "echo", "hi")
    assert r.returncode == 0, f"{r.stderr}\n{podman.explain()}"
    assert r.stdout == "hi\n"
    r = podman("run", "--rm", "--network=none", *ULIMITS, IMAGE, "sh", "-c", "echo to-stderr >&2; exit 3")
    assert r.returncode == 3, f"{r.stderr}\n{podman.explain()}"
    assert "to-stderr" in r.stderr
    assert podman("ps", "-aq", check=True).stdout == ""
    # conmon and podman drove the OCI lifecycle through minirun's runc command line
    calls = "\n".join(a for _, a in podman.calls())
    assert re.search(r"\bcreate --bundle \S+ --pid-file \S+ [0-9a-f]{64}$", calls, re.M), calls
    assert re.search(r"\bstart [0-9a-f]{64}$", calls, re.M), calls
    assert re.search(r"\bdelete --force [0-9a-f]{64}$", calls, re.M), calls


@pytest.mark.parametrize("cmd, code, words", [
    (["no-such-command"], 127, "executable file not found in $PATH"),
    (["/no/such/file"], 127, "no such file or directory"),
    (["/etc/passwd"], 126, "permission denied"),
])
def test_run_of_a_command_that_cannot_run_exits_127_or_126(podman, cmd, code, words):
    """podman maps minirun's create-time failure to the shell's codes, by its
    words (as runc's): 127 for a command not found, 126 for one that cannot be
    executed; nothing of the container stays behind."""
    r = podman("run", "--rm", "--network=none", *ULIMITS, IMAGE, *cmd)
    assert r.returncode == code, f"{r.stderr}\n{podman.explain()}"
    assert words in r.stderr, r.stderr
    assert podman("ps", "-aq", check=True).stdout == ""


def test_run_with_a_terminal(podman):
    r = podman("run", "--rm", "-t", "--network=none", *ULIMITS, IMAGE, "sh", "-c", "tty; [ -t 0 ] && echo is-a-tty")
    assert r.returncode == 0, f"{r.stderr}\n{podman.explain()}"
    assert re.search(r"^/dev/pts/\d+\r?$", r.stdout, re.M), r.stdout
    assert "is-a-tty" in r.stdout
    assert any("--console-socket" in a for _, a in podman.calls())


def test_detached_container_ps_logs_stop_rm(podman):
    r = podman("run", "-d", "--network=none", *ULIMITS, IMAGE, "sh", "-c", "echo logged-line; exec sleep 100")
    assert r.returncode == 0, f"{r.stderr}\n{podman.explain()}"
    cid = r.stdout.strip()
    assert re.fullmatch(r"[0-9a-f]{64}", cid), r.stdout
    try:
        ps = podman("ps", "--no-trunc", "--format", "{{.ID}} {{.Status}}", check=True).stdout
        assert re.search(rf"^{cid} Up", ps, re.M), ps
        assert runtime_state_dirs(podman, cid), "minirun has no state for the running container"
        deadline = time.monotonic() + 10
        while "logged-line" not in podman("logs", cid).stdout and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "logged-line" in podman("logs", cid, check=True).stdout
        insp = podman("inspect", "--format", "{{.State.Status}} {{.State.Pid}}", cid, check=True).stdout.split()
        assert insp[0] == "running" and int(insp[1]) > 0, insp
        init = int(insp[1])
        with open(f"/proc/{init}/cmdline", "rb") as f:
            assert f.read().split(b"\0")[0] == b"sleep"

        t0 = time.monotonic()
        r = podman("stop", "-t", "1", cid)
        assert r.returncode == 0, f"{r.stderr}\n{podman.explain()}"
        assert time.monotonic() - t0 < 30
        assert not os.path.exists(f"/proc/{init}") or open(f"/proc/{init}/stat").read().split(") ")[1][0] in "ZX"
        ps = podman("ps", "-a", "--no-trunc", "--format", "{{.ID}} {{.Status}}", check=True).stdout
        assert re.search(rf"^{cid} Exited", ps, re.M), ps
        calls = [a for _, a in podman.calls()]
        assert any(re.fullmatch(rf"kill {cid} (15|TERM|SIGTERM)", a) for a in calls), calls
    finally:
        r = podman("rm", "-f", "-t", "0", cid)
    assert r.returncode == 0, f"{r.stderr}\n{podman.explain()}"
    assert podman("ps", "-aq", check=True).stdout == ""
    assert runtime_state_dirs(podman, cid) == [], "minirun's state outlived `podman rm`"


def exec_is_implemented():
    r = subprocess.run([MINIRUN, "exec", "--help"], capture_output=True, text=True, timeout=TIMEOUT)
    return "not available in this build" not in (r.stdout + r.stderr)


def test_exec_into_a_running_container(podman):
    r = podman("run", "-d", "--network=none", *ULIMITS, IMAGE, "sleep", "100")
    assert r.returncode == 0, f"{r.stderr}\n{podman.explain()}"
    cid = r.stdout.strip()
    try:
        r = podman("exec", cid, "echo", "hi")
        if r.returncode != 0 and not exec_is_implemented():
            pytest.xfail("exec not implemented yet")
        assert r.returncode == 0, f"{r.stderr}\n{podman.explain()}"
        assert r.stdout == "hi\n"
        # conmon runs `exec --detach` and waits for the process itself: the
        # process must outlive minirun (exit 137 = it was SIGKILLed)
        r = podman("exec", cid, "sh", "-c", "sleep 1; echo still-here; exit 4")
        assert (r.returncode, r.stdout) == (4, "still-here\n"), f"{r.returncode} {r.stderr}\n{podman.explain()}"
    finally:
        podman("rm", "-f", "-t", "0", cid)


# ---------------------------------------------------------------- checkpoint and restore
# podman runs `minirun checkpoint` itself and `minirun restore --detach`
# through conmon; it first checks the runtime (`checkpoint --help`) and that
# a criu is on PATH (its version only): the one minirun uses is put first.

COUNTER = "i=0; while :; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done"


@pytest.fixture
def podman_criu(podman, monkeypatch):
    from test_checkpoint import criu_unusable
    why = criu_unusable()
    if why:
        print(why)
        pytest.skip(why)
    feats = subprocess.run([MINIRUN, "features"], capture_output=True, text=True, check=True).stdout
    criu = re.search(r'"criu": "([^"]+)"', feats).group(1)
    if os.path.isabs(criu):
        monkeypatch.setenv("PATH", f"{os.path.dirname(criu)}:{os.environ.get('PATH', '')}")
    return podman


def podman_count(podman, cid):
    r = podman("exec", cid, "cat", "/tmp/count")
    return int(r.stdout) if r.returncode == 0 and r.stdout.strip().isdigit() else None


def wait_for(pred, what, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not (v := pred()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    return v


def podman_status(podman, cid):
    return podman("inspect", "--format", "{{.State.Status}}", cid, check=True).stdout.strip()


def test_podman_checkpoint_and_restore(podman_criu):
    podman = podman_criu
    cid = podman("run", "-d", "--network=none", *ULIMITS, IMAGE, "sh", "-c", COUNTER, check=True).stdout.strip()
    try:
        n = wait_for(lambda: podman_count(podman, cid), "the counter")
        r = podman("container", "checkpoint", cid)
        assert r.returncode == 0, f"{r.stderr}\n{podman.explain()}"
        assert podman_status(podman, cid) == "exited"
        assert runtime_state_dirs(podman, cid) == [], "minirun kept the state of the checkpointed container"
        r = podman("container", "restore", cid)
        assert r.returncode == 0, f"{r.stderr}\n{podman.explain()}"
        assert podman_status(podman, cid) == "running"
        v = wait_for(lambda: podman_count(podman, cid), "the restored counter")
        assert v >= n, "the counter started again instead of going on"
        wait_for(lambda: (podman_count(podman, cid) or 0) > v, "the restored counter to move")
        calls = "\n".join(a for _, a in podman.calls())
        assert re.search(rf"\bcheckpoint --image-path \S+ --work-path \S+ {cid}$", calls, re.M), calls
        assert re.search(rf"\brestore .*--detach.*{cid}$", calls, re.M), calls
    finally:
        podman("rm", "-f", "-t", "0", cid)
    assert runtime_state_dirs(podman, cid) == []


def test_podman_checkpoint_leave_running(podman_criu):
    podman = podman_criu
    cid = podman("run", "-d", "--network=none", *ULIMITS, IMAGE, "sh", "-c", COUNTER, check=True).stdout.strip()
    try:
        n = wait_for(lambda: podman_count(podman, cid), "the counter")
        r = podman("container", "checkpoint", "--leave-running", cid)
        assert r.returncode == 0, f"{r.stderr}\n{podman.explain()}"
        assert podman_status(podman, cid) == "running"
        wait_for(lambda: (podman_count(podman, cid) or 0) > n, "the counter to go on")
        assert any("--leave-running" in a for _, a in podman.calls())
    finally:
        podman("rm", "-f", "-t", "0", cid)


def test_podman_checkpoint_export_and_import(podman_criu, tmp_path):
    """--export writes the image (and the container's config) to a tarball;
    --import restores it as a new container with a new bundle, rootfs and
    cgroup, twice."""
    podman = podman_criu
    tar = tmp_path / "checkpoint.tar.gz"
    cid = podman("run", "-d", "--network=none", *ULIMITS, IMAGE, "sh", "-c", COUNTER, check=True).stdout.strip()
    ids = [cid]
    try:
        n = wait_for(lambda: podman_count(podman, cid), "the counter")
        r = podman("container", "checkpoint", "--export", tar, cid)
        assert r.returncode == 0 and tar.stat().st_size > 0, f"{r.stderr}\n{podman.explain()}"
        podman("rm", "-f", "-t", "0", cid, check=True)
        for extra in ([], ["--name", "imported-twice"]):
            r = podman("container", "restore", "--import", tar, *extra)
            assert r.returncode == 0, f"{r.stderr}\n{podman.explain()}"
            new = r.stdout.strip().splitlines()[-1]
            ids.append(new)
            assert podman_status(podman, new) == "running"
            v = wait_for(lambda: podman_count(podman, new), "the imported counter")
            assert v >= n
            wait_for(lambda: (podman_count(podman, new) or 0) > v, "the imported counter to move")
        assert len(set(ids[1:])) == 2
    finally:
        for c in ids:
            podman("rm", "-f", "-t", "0", c)
