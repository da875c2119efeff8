"""minirun behind docker: a private dockerd (Debian's docker.io, 20.10) with
`--add-runtime minirun=<wrapper> --default-runtime minirun` runs containers of
an image imported from examples/rootfs, and every docker command that reaches
the OCI runtime is exercised: run, exit codes, -i, -t, env/user/workdir,
--read-only, -v, resource limits, networks none and host, exec, top, logs,
pause/unpause, stop, restart, kill, rm, stats, update, and (where dockerd
allows it) a pinned pid.

The client is Debian's /usr/bin/docker (20.10, the daemon's own version): a
newer client may be first on PATH, so it is named by its path.  Everything
dockerd keeps lives in a temporary directory: --data-root, --exec-root,
--pidfile, the API socket, an empty --config-file (the host's
/etc/docker/daemon.json is not read), DOCKER_CONFIG for the client, and a
containerd the fixture starts with its own root, state and socket (dockerd
20.10 starts a managed containerd only when /run/containerd/containerd.sock
does not exist, and would otherwise share the system's, and its "moby"
namespace).  No network setup (--bridge=none, --iptables=false,
--ip-masq=false); cgroupfs driver; the containers' cgroups live under a
--cgroup-parent of their own.  Storage: overlay2, vfs if overlay2 does not
work here.

The runtime dockerd is given is a two-line wrapper named `minirun` that logs
each command line containerd's shim uses (runtime.log) and execs the real
binary, so a failure can name the exact minirun command that failed.  The
teardown removes every container, stops dockerd and containerd, kills
whatever dockerd, containerd, shim, minirun or container process of ours is
still there, reaps the shims (they are re-parented to the test process, a
subreaper), unmounts what is left under the directory, removes it, the
cgroup parent, and the /run directories dockerd and the shims create when
they were not there before.
"""
import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest

from conftest import MINIRUN, ROOTFS, free_host_pids, nspid, proc_stats, reap
from test_lifecycle import wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
DOCKER = "/usr/bin/docker"
DOCKERD = "/usr/sbin/dockerd"
IMAGE = "minirun-busybox:latest"
TIMEOUT = 60
CGROUP_ROOT = "/sys/fs/cgroup"
# a pure cgroup v2 host (the VM lane's v2 guest) has one hierarchy at
# CGROUP_ROOT; this host has one v1 hierarchy per controller under it
CGROUP_V2 = os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers"))
# directories dockerd (plugins) and containerd's shims (their sockets) create
# outside the data and exec roots
RUN_DIRS = ("/run/docker/plugins", "/run/docker", "/run/containerd/s", "/run/containerd")


def have_docker():
    return (os.access(DOCKER, os.X_OK) and os.access(DOCKERD, os.X_OK) and shutil.which("containerd")
            and shutil.which("containerd-shim-runc-v2"))


def ensure_docker():
    if have_docker():
        return None
    r = subprocess.run([os.path.join(HERE, "docker_setup.sh")], capture_output=True, text=True, timeout=900)
    if r.returncode != 0 or not have_docker():
        return f"docker.io (dockerd, containerd) could not be installed: {r.stdout[-2000:]}{r.stderr[-2000:]}"
    return None


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read()
    except OSError:
        return None


def reap_shims():
    """containerd's shims daemonize: they are re-parented to us (the
    subreaper) and become our zombies when they exit; reap those (and only
    those, never a child some subprocess call is waiting for)."""
    me = os.getpid()
    for pid, fields in proc_stats():
        if int(fields[1]) != me or fields[0] != "Z":
            continue
        try:
            with open(f"/proc/{pid}/comm") as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm.startswith("containerd"):
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=TIMEOUT):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Docker:
    def __init__(self, base):
        self.base = str(base)
        self.bin = os.path.join(self.base, "bin")
        os.makedirs(self.bin)
        self.runtime = os.path.join(self.bin, "minirun")
        self.log = os.path.join(self.base, "runtime.log")
        with open(self.runtime, "w") as f:
            f.write(f'#!/bin/sh\necho "$$ $*" >> {self.log}\nexec {MINIRUN} "$@"\n')
        os.chmod(self.runtime, 0o755)
        self.sock = os.path.join(self.base, "docker.sock")
        self.data_root = os.path.join(self.base, "data")
        self.exec_root = os.path.join(self.base, "exec")
        self.pidfile = os.path.join(self.base, "docker.pid")
        self.config = os.path.join(self.base, "daemon.json")
        with open(self.config, "w") as f:
            f.write("{}\n")
        self.client_config = os.path.join(self.base, "client")
        os.makedirs(self.client_config)
        self.daemon_log = os.path.join(self.base, "dockerd.log")
        self.ctrd_dir = os.path.join(self.base, "containerd")
        self.ctrd_sock = os.path.join(self.ctrd_dir, "containerd.sock")
        self.ctrd_config = os.path.join(self.base, "containerd.toml")
        self.ctrd_log = os.path.join(self.base, "containerd.log")
        self.containerd = None
        self.cgroup_parent = f"minirun-docker-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.new_run_dirs = [d for d in RUN_DIRS if not os.path.exists(d)]
        self.daemon = None
        self.driver = None

    # --- the daemons ----------------------------------------------------
    def start_containerd(self):
        """A containerd of our own: dockerd 20.10 starts a managed one only
        when /run/containerd/containerd.sock does not exist, and would use
        (and share the "moby" namespace of) the system's otherwise."""
        os.makedirs(self.ctrd_dir)
        with open(self.ctrd_config, "w") as f:
            f.write(f'version = 2\nroot = "{self.ctrd_dir}/root"\nstate = "{self.ctrd_dir}/state"\n'
                    'disabled_plugins = ["io.containerd.grpc.v1.cri"]\n'
                    f'[grpc]\n  address = "{self.ctrd_sock}"\n'
                    f'[debug]\n  address = "{self.ctrd_dir}/debug.sock"\n')
        with open(self.ctrd_log, "a") as log:
            self.containerd = subprocess.Popen(["containerd", "--config", self.ctrd_config], stdin=subprocess.DEVNULL,
                                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.containerd.poll() is not None:
                return f"containerd exited ({self.containerd.returncode}):\n{self.log_tail(self.ctrd_log)}"
            r = subprocess.run(["ctr", "--address", self.ctrd_sock, "version"], capture_output=True, timeout=10)
            if r.returncode == 0:
                return None
            time.sleep(0.1)
        return f"containerd did not answer within {TIMEOUT}s:\n{self.log_tail(self.ctrd_log)}"

    def start(self, driver):
        argv = [DOCKERD, "--config-file", self.config, "--containerd", self.ctrd_sock, "--data-root",
                self.data_root, "--exec-root", self.exec_root, "--pidfile", self.pidfile, "-H",
                f"unix://{self.sock}", "--iptables=false",
                "--ip-masq=false", "--bridge=none", "--exec-opt", "native.cgroupdriver=cgroupfs",
                "--cgroup-parent", "/" + self.cgroup_parent, "--add-runtime", f"minirun={self.runtime}",
                "--default-runtime", "minirun", "--storage-driver", driver]
        with open(self.daemon_log, "a") as log:
            self.daemon = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                return f"dockerd --storage-driver {driver} exited ({self.daemon.returncode}):\n{self.log_tail()}"
            r = self("version", "--format", "{{.Server.Version}}", timeout=10)
            if r.returncode == 0:
                self.driver = driver
                return None
            time.sleep(0.2)
        return f"dockerd --storage-driver {driver} did not answer within {TIMEOUT}s:\n{self.log_tail()}"

    @staticmethod
    def terminate(proc, name):
        if proc is None or proc.poll() is not None:
            return []
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return [f"{name} did not stop on SIGTERM within 30s: killed"]
        return []

    def stop(self):
        problems = self.terminate(self.daemon, "dockerd")
        self.daemon = None
        return problems

    def stop_containerd(self):
        problems = self.terminate(self.containerd, "containerd")
        self.containerd = None
        return problems

    def log_tail(self, path=None, lines=15):
        try:
            with open(path or self.daemon_log) as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return ""

    # --- the client -----------------------------------------------------
    def __call__(self, *args, timeout=TIMEOUT, input=None, check=False):
        argv = [DOCKER, "-H", f"unix://{self.sock}", *[str(a) for a in args]]
        env = dict(os.environ, DOCKER_CONFIG=self.client_config)
        env.pop("DOCKER_HOST", None)
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, input=input, env=env,
                               stdin=None if input is not None else subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"`docker {' '.join(map(str, args))}` did not finish within {timeout}s\n"
                                 f"{self.explain()}") from None
        if check and r.returncode != 0:
            raise AssertionError(f"`docker {' '.join(map(str, args))}` failed ({r.returncode}):\n"
                                 f"stdout: {r.stdout}\nstderr: {r.stderr}\n{self.explain()}")
        return r

    def api(self, method, path, body=None):
        """A raw Engine API request (for fields the 20.10 client has no flag for)."""
        conn = UnixHTTPConnection(self.sock)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
            resp = conn.getresponse()
            raw = resp.read()
            return resp.status, json.loads(raw) if raw.strip() else None
        finally:
            conn.close()

    def inspect(self, fmt, cid):
        return self("inspect", "--format", fmt, cid, check=True).stdout.strip()

    def run_detached(self, *args):
        r = self("run", "-d", *args)
        assert r.returncode == 0, f"{r.stderr}\n{self.explain()}"
        cid = r.stdout.strip()
        assert re.fullmatch(r"[0-9a-f]{64}", cid), r.stdout
        return cid

    # --- what reached minirun -------------------------------------------
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

    def calls_for(self, cid):
        """The runtime calls for one container, without the global options
        the shim puts first (--root, --log, --log-format)."""
        out = []
        for _, args in self.calls():
            if cid in args:
                out.append(re.sub(r"^(--(root|log|log-format) \S+ )*", "", args))
        return out

    def explain(self):
        lines = []
        for pid, args in self.calls():
            running = ""
            cl = cmdline(pid)
            if cl and MINIRUN.encode() in cl:
                running = "   <- still running (hung?)"
            lines.append(f"  minirun {args}{running}")
        return ("runtime calls (containerd shim -> minirun):\n" + "\n".join(lines[-30:]) +
                "\ndockerd log (tail):\n" + self.log_tail())

    def state_roots(self):
        roots = set()
        for _, args in self.calls():
            m = re.match(r"--root (\S+)", args)
            if m:
                roots.add(m.group(1))
        return roots

    def runtime_state(self, cid):
        """minirun's state directories for the container (the shim passes --root)."""
        return [os.path.join(r, cid) for r in self.state_roots() if os.path.exists(os.path.join(r, cid))]

    def cgroup(self, controller, cid=None):
        """The container's (or the parent's) directory for `controller`: one
        directory for every controller on v2, one per controller on v1."""
        parts = [CGROUP_ROOT] + ([] if CGROUP_V2 else [controller]) + [self.cgroup_parent] + ([cid] if cid else [])
        return os.path.join(*parts)

    def cgroup_tops(self):
        """The cgroup parent in every hierarchy it can be in."""
        if CGROUP_V2:
            return [self.cgroup(None)]
        return [self.cgroup(c) for c in os.listdir(CGROUP_ROOT)]

    def cgroup_dirs(self, cid):
        dirs = [os.path.join(top, cid) for top in self.cgroup_tops()]
        return [d for d in dirs if os.path.isdir(d)]

    # --- teardown ---------------------------------------------------------
    def our_processes(self):
        """pids of processes that name our directory (dockerd, containerd,
        shims, a hung minirun) or live in our cgroup parent."""
        found = set()
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            cl = cmdline(entry)
            if cl and self.base.encode() in cl:
                found.add(int(entry))
                continue
            try:
                with open(f"/proc/{entry}/cgroup") as f:
                    if f"/{self.cgroup_parent}/" in f.read():
                        found.add(int(entry))
            except OSError:
                pass
        return found

    def cleanup(self):
        problems = []
        if self.daemon is not None and self.daemon.poll() is None:
            try:
                ids = self("ps", "-aq", "--no-trunc").stdout.split()
                if ids:
                    r = self("rm", "-f", *ids)
                    if r.returncode != 0:
                        problems.append(f"docker rm -f: {r.stderr.strip()}")
            except AssertionError as e:
                problems.append(str(e))
        problems += self.stop()
        problems += self.stop_containerd()
        for _ in range(2):  # a second pass for what a killed process left
            for pid in sorted(self.our_processes()):
                cl = cmdline(pid)
                if cl is None:
                    continue
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    continue
                shown = cl.replace(b"\0", b" ").decode(errors="replace")[:200]
                problems.append(f"killed leftover process {pid}: {shown}")
                reap(pid, timeout=1)
            time.sleep(0.2)
        reap_shims()
        # a shim that was killed leaves its socket, named by a hash of
        # containerd's address, the namespace and the container id
        for cid in {m.group(1) for _, a in self.calls() for m in [re.search(r" ([0-9a-f]{64})$", a)] if m}:
            key = os.path.join("/", self.ctrd_sock, "moby", cid)
            sock = os.path.join("/run/containerd/s", hashlib.sha256(key.encode()).hexdigest())
            if os.path.exists(sock):
                problems.append(f"removed the socket of a shim that did not exit: {sock}")
                os.unlink(sock)
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split()[4] for line in f if line.split()[4].startswith(self.base + "/")]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)
        for top in self.cgroup_tops():
            if not os.path.isdir(top):
                continue
            for dirpath, _, _ in sorted(os.walk(top), key=lambda w: len(w[0]), reverse=True):
                try:
                    os.rmdir(dirpath)
                except OSError as e:
                    problems.append(f"cgroup {dirpath} left behind: {e}")
        # not there before we started, and empty now: ours (a non-empty one
        # is in use by another containerd or dockerd)
        for d in self.new_run_dirs:
            try:
                os.rmdir(d)
            except OSError:
                pass
        return problems


@pytest.fixture(scope="module")
def docker(tmp_path_factory):
    why = ensure_docker()
    if why:
        print(why)
        pytest.skip(why)
    d = Docker(tmp_path_factory.mktemp("docker"))
    tar = subprocess.run(["tar", "-C", ROOTFS, "-c", "."], capture_output=True, timeout=TIMEOUT, check=True).stdout
    failures = []
    try:
        why = d.start_containerd()
        if why:
            pytest.fail(why)  # the except below cleans up
        for driver in ("overlay2", "vfs"):
            why = d.start(driver)
            if why is None:
                r = subprocess.run([DOCKER, "-H", f"unix://{d.sock}", "import", "-", IMAGE], input=tar,
                                   capture_output=True, timeout=300,
                                   env=dict(os.environ, DOCKER_CONFIG=d.client_config))
                if r.returncode == 0:
                    break
                why = f"docker import: {r.stderr.decode(errors='replace').strip()}"
            failures.append(f"{driver}: {why}")
            d.stop()
            d.driver = None
            with open("/proc/self/mountinfo") as f:
                for m in sorted((line.split()[4] for line in f if line.split()[4].startswith(d.data_root)),
                                key=len, reverse=True):
                    subprocess.run(["umount", "-l", m], capture_output=True)
            shutil.rmtree(d.data_root, ignore_errors=True)
    except BaseException:
        d.cleanup()
        raise
    if d.driver is None:
        problems = d.cleanup()
        pytest.fail("dockerd could not run with any storage driver:\n" + "\n".join(failures + problems))
    print(f"docker: client {DOCKER}, dockerd {d('version', '--format', '{{.Server.Version}}').stdout.strip()}, "
          f"storage driver {d.driver}, containerd {d.ctrd_sock}")
    yield d
    calls = d.calls()
    problems = d.cleanup()
    if problems:
        print("docker teardown:", *problems, sep="\n  ")
    for pid, args in calls:
        cl = cmdline(pid)
        assert not (cl and MINIRUN.encode() in cl), f"minirun {args} still running after the teardown"
    assert not d.our_processes(), f"processes of the docker tests outlived the teardown: {d.our_processes()}"
    assert not os.path.exists(d.base)
    assert not [p for p in problems if "left behind" in p], problems


@pytest.fixture(autouse=True)
def _reap_shims():
    yield
    reap_shims()


@pytest.fixture
def containers(docker):
    """Ids to `docker rm -f` after the test, whatever happened."""
    ids = []
    yield ids
    if ids:
        docker("rm", "-f", *ids)


def read(path):
    with open(path) as f:
        return f.read().strip()


def stat_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(") ", 1)[1][0]
    except OSError:
        return "X"


# --- run ------------------------------------------------------------------

def test_run_prints_and_exits(docker):
    r = docker("run", "--rm", IMAGE, "echo", "hi")
    assert r.returncode == 0, f"{r.stderr}\n{docker.explain()}"
    assert r.stdout == "hi\n"
    r = docker("run", "--rm", IMAGE, "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3")
    assert r.returncode == 3, f"{r.stderr}\n{docker.explain()}"
    assert r.stdout == "to-stdout\n"
    assert "to-stderr" in r.stderr
    assert docker("ps", "-aq", check=True).stdout == ""
    # containerd's runc shim drove the OCI lifecycle through minirun's runc command line
    calls = "\n".join(a for _, a in docker.calls())
    assert re.search(r"--root \S+ --log \S+/log\.json --log-format json create --bundle \S+ "
                     r"--pid-file \S+/init\.pid [0-9a-f]{64}$", calls, re.M), calls
    assert re.search(r"--log-format json start [0-9a-f]{64}$", calls, re.M), calls
    assert re.search(r"--log-format json delete [0-9a-f]{64}$", calls, re.M), calls


def test_exit_status_passes_through(docker, containers):
    for status in (0, 1, 7, 255):
        r = docker("run", "--rm", IMAGE, "sh", "-c", f"exit {status}")
        assert r.returncode == status, f"exit {status}: {r.returncode} {r.stderr}\n{docker.explain()}"
    r = docker("run", IMAGE, "sh", "-c", "exit 42")
    assert r.returncode == 42, f"{r.stderr}\n{docker.explain()}"
    cid = docker("ps", "-alq", "--no-trunc", check=True).stdout.strip()
    containers.append(cid)
    assert docker.inspect("{{.State.Status}} {{.State.ExitCode}}", cid) == "exited 42"


def failed_start(docker, *cmd):
    r = docker("run", "--rm", IMAGE, *cmd)
    return r, f"rc {r.returncode}\nstderr: {r.stderr}\n{docker.explain()}"


# minirun finds process.args[0] at create and words a failure as runc does
# ("executable file not found in $PATH", "no such file or directory",
# "permission denied"), which dockerd maps to 127 and 126.


def test_missing_command_is_127(docker):
    r, why = failed_start(docker, "no-such-command")
    assert "executable file not found in $PATH" in r.stderr, why
    assert r.returncode == 127, why


def test_missing_file_is_127(docker):
    r, why = failed_start(docker, "/no/such/file")
    assert "no such file or directory" in r.stderr, why
    assert r.returncode == 127, why


def test_non_executable_file_is_126(docker):
    r, why = failed_start(docker, "/etc/passwd")
    assert "permission denied" in r.stderr, why
    assert r.returncode == 126, why


def processes_of(cid):
    """pids whose cgroup names the container."""
    found = []
    for pid, _ in proc_stats():
        try:
            with open(f"/proc/{pid}/cgroup") as f:
                if f"/{cid}\n" in f.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def test_failed_start_leaves_nothing(docker):
    before = len(docker.calls())
    r, why = failed_start(docker, "no-such-command")
    assert r.returncode != 0, why
    assert "no-such-command" in r.stderr, why
    cid = next((m.group(1) for _, a in docker.calls()[before:]
                for m in [re.search(r" create .* ([0-9a-f]{64})$", a)] if m), None)
    assert cid, docker.explain()
    assert docker("ps", "-aq", check=True).stdout == ""
    assert docker.runtime_state(cid) == [], f"minirun state outlived the failed run\n{docker.explain()}"
    assert docker.cgroup_dirs(cid) == [], "cgroups outlived the failed run"
    assert processes_of(cid) == [], "a process of the failed container is still there"


def test_stdin_piped(docker):
    r = docker("run", "--rm", "-i", IMAGE, "cat", input="line one\nline two\n")
    assert r.returncode == 0, f"{r.stderr}\n{docker.explain()}"
    assert r.stdout == "line one\nline two\n"
    r = docker("run", "--rm", "-i", IMAGE, "sh", "-c", "read l; echo got:$l; [ -t 0 ] || echo not-a-tty",
               input="hello\n")
    assert (r.returncode, r.stdout) == (0, "got:hello\nnot-a-tty\n"), f"{r.stderr}\n{docker.explain()}"


def test_tty(docker):
    r = docker("run", "--rm", "-t", IMAGE, "sh", "-c", "tty; [ -t 0 ] && echo in-tty; [ -t 1 ] && echo out-tty")
    assert r.returncode == 0, f"{r.stderr}\n{docker.explain()}"
    assert re.search(r"^/dev/pts/\d+\r?$", r.stdout, re.M), r.stdout
    assert "in-tty" in r.stdout and "out-tty" in r.stdout, r.stdout
    assert any(re.search(r" create .*--console-socket \S+", a) for _, a in docker.calls()), docker.explain()


def test_env_user_workdir_hostname(docker):
    r = docker("run", "--rm", "-e", "FOO=bar baz", "-u", "1000:1001", "-w", "/tmp", "--hostname", "box1", IMAGE,
               "sh", "-c", 'echo "$FOO"; id -u; id -g; pwd; hostname; echo "$HOSTNAME"; echo "$PATH"')
    assert r.returncode == 0, f"{r.stderr}\n{docker.explain()}"
    lines = r.stdout.splitlines()
    assert lines[:6] == ["bar baz", "1000", "1001", "/tmp", "box1", "box1"], lines
    assert "/bin" in lines[6].split(":"), lines
    r = docker("run", "--rm", "-w", "/new/dir", IMAGE, "pwd")
    assert (r.returncode, r.stdout) == (0, "/new/dir\n"), f"a missing workdir is created: {r.stderr}"


def test_read_only_root(docker):
    r = docker("run", "--rm", "--read-only", "--tmpfs", "/scratch", IMAGE, "sh", "-c",
               "touch /x 2>&1; echo rc=$?; touch /scratch/y && echo scratch-ok; grep ' / ' /proc/mounts")
    assert r.returncode == 0, f"{r.stderr}\n{docker.explain()}"
    assert "Read-only file system" in r.stdout and "rc=1" in r.stdout, r.stdout
    assert "scratch-ok" in r.stdout, r.stdout
    root = [l for l in r.stdout.splitlines() if " / " in l]
    assert root and re.search(r"\bro\b", root[-1].split()[3]), root
    r = docker("run", "--rm", IMAGE, "sh", "-c", "touch /x && echo writable")
    assert (r.returncode, r.stdout) == (0, "writable\n"), r.stderr


def test_bind_mounts(docker, tmp_path):
    rw = tmp_path / "rw"
    ro = tmp_path / "ro"
    rw.mkdir()
    ro.mkdir()
    (rw / "in").write_text("from-host\n")
    (ro / "keep").write_text("ro-file\n")
    r = docker("run", "--rm", "-v", f"{rw}:/data", "-v", f"{ro}:/ro:ro", IMAGE, "sh", "-c",
               "cat /data/in; echo from-container > /data/out; cat /ro/keep; "
               "touch /ro/new 2>&1; echo rc=$?")
    assert r.returncode == 0, f"{r.stderr}\n{docker.explain()}"
    assert r.stdout.splitlines()[:2] == ["from-host", "ro-file"], r.stdout
    assert "Read-only file system" in r.stdout and "rc=1" in r.stdout, r.stdout
    assert (rw / "out").read_text() == "from-container\n"
    assert not (ro / "new").exists()


# (controller, file) of each limit the tests set, per cgroup version
LIMIT_FILES = {
    "memory": ("memory", "memory.max" if CGROUP_V2 else "memory.limit_in_bytes"),
    "pids": ("pids", "pids.max"),
}
LIMIT_FILES.update({"cpu": ("cpu", "cpu.max"), "weight": ("cpu", "cpu.weight")} if CGROUP_V2 else {
    "quota": ("cpu", "cpu.cfs_quota_us"), "period": ("cpu", "cpu.cfs_period_us"), "shares": ("cpu", "cpu.shares")})


def want_limits(memory, pids, quota, period, shares):
    """What the limit files hold for docker's -m, --pids-limit, --cpus and
    --cpu-shares: the v1 values as they are, or on v2 cpu.max "QUOTA PERIOD" and
    the weight runc's conversion gives (1 + (shares - 2) * 9999 / 262142)."""
    if CGROUP_V2:
        return {"memory": str(memory), "pids": str(pids), "cpu": f"{quota} {period}",
                "weight": str(1 + (shares - 2) * 9999 // 262142)}
    return {"memory": str(memory), "pids": str(pids), "quota": str(quota), "period": str(period), "shares": str(shares)}


def limits(docker, cid):
    """The limits read inside the container (its /sys/fs/cgroup: on v2 the
    container's own directory, docker giving it a cgroup namespace) and on the
    host (under dockerd's --cgroup-parent)."""
    inside_paths = [f"/sys/fs/cgroup/{f}" if CGROUP_V2 else f"/sys/fs/cgroup/{c}/{f}" for c, f in LIMIT_FILES.values()]
    inside = docker("exec", cid, "cat", *inside_paths, check=True)
    values = inside.stdout.splitlines()
    assert len(values) == len(LIMIT_FILES), inside.stdout
    host = {k: read(docker.cgroup(c, cid) + "/" + f) for k, (c, f) in LIMIT_FILES.items()}
    return dict(zip(LIMIT_FILES, values)), host


def test_memory_pids_cpu_limits(docker, containers):
    cid = docker.run_detached("-m", "64m", "--pids-limit", "50", "--cpus", "0.5", "--cpu-shares", "512", IMAGE,
                              "sleep", "100")
    containers.append(cid)
    want = want_limits(64 << 20, 50, 50000, 100000, 512)
    inside, host = limits(docker, cid)
    assert inside == want
    assert host == want
    init = int(docker.inspect("{{.State.Pid}}", cid))
    assert str(init) in read(docker.cgroup("memory", cid) + "/cgroup.procs").split()


def test_pids_limit_is_enforced(docker, containers):
    # an inner shell forks 20 sleeps and dies at the first fork the limit
    # refuses (busybox sh gives up on "can't fork"); the sleeps it made stay
    cid = docker.run_detached("--pids-limit", "8", IMAGE, "sh", "-c",
                              "sh -c 'i=0; while [ $i -lt 20 ]; do sleep 100 & i=$((i+1)); done'; "
                              "echo spawned; exec sleep 100")
    containers.append(cid)
    logs = wait_until(lambda: (lambda r: "spawned" in r.stdout and r)(docker("logs", cid)),
                    what="the container to try its 20 forks")
    assert "can't fork" in logs.stderr, logs.stderr
    assert read(docker.cgroup("pids", cid) + "/pids.max") == "8"
    assert 5 <= int(read(docker.cgroup("pids", cid) + "/pids.current")) <= 8
    assert 5 <= len(read(docker.cgroup("pids", cid) + "/cgroup.procs").split()) <= 8


def netns(pid="self"):
    return os.readlink(f"/proc/{pid}/ns/net")


def test_network_none(docker):
    r = docker("run", "--rm", "--network", "none", IMAGE, "sh", "-c",
               "readlink /proc/self/ns/net; ls /sys/class/net; cat /sys/class/net/lo/operstate; ip -o link")
    assert r.returncode == 0, f"{r.stderr}\n{docker.explain()}"
    lines = r.stdout.splitlines()
    assert lines[0] != netns(), "--network none must be a new network namespace"
    assert lines[1] == "lo", f"only lo in a --network none container: {r.stdout}"
    assert re.search(r"^1: lo: <[^>]*\bUP\b", r.stdout, re.M), f"lo is up: {r.stdout}"


def test_network_host(docker):
    r = docker("run", "--rm", "--network", "host", IMAGE, "sh", "-c", "readlink /proc/self/ns/net; ls /sys/class/net")
    assert r.returncode == 0, f"{r.stderr}\n{docker.explain()}"
    lines = r.stdout.splitlines()
    assert lines[0] == netns(), "--network host shares the host's network namespace"
    assert sorted(lines[1:]) == sorted(os.listdir("/sys/class/net"))


# --- a running container ----------------------------------------------------

def test_run_detached_and_exec(docker, containers):
    cid = docker.run_detached(IMAGE, "sleep", "100")
    containers.append(cid)
    assert docker.inspect("{{.State.Status}}", cid) == "running"
    r = docker("exec", cid, "echo", "hi")
    assert (r.returncode, r.stdout) == (0, "hi\n"), f"{r.stderr}\n{docker.explain()}"
    r = docker("exec", cid, "sh", "-c", "sleep 1; echo still-here; exit 5")
    assert (r.returncode, r.stdout) == (5, "still-here\n"), f"{r.returncode} {r.stderr}\n{docker.explain()}"
    r = docker("exec", "-i", cid, "cat", input="to-exec\n")
    assert (r.returncode, r.stdout) == (0, "to-exec\n"), f"{r.stderr}\n{docker.explain()}"
    r = docker("exec", "-t", cid, "sh", "-c", "tty; [ -t 0 ] && echo in-tty")
    assert r.returncode == 0, f"{r.stderr}\n{docker.explain()}"
    assert re.search(r"^/dev/pts/\d+\r?$", r.stdout, re.M) and "in-tty" in r.stdout, r.stdout
    r = docker("exec", "-u", "1000:1000", "-e", "E=v", "-w", "/etc", cid, "sh", "-c", 'id -u; echo "$E"; pwd')
    assert (r.returncode, r.stdout) == (0, "1000\nv\n/etc\n"), f"{r.stderr}\n{docker.explain()}"
    # exec processes share the init's namespaces
    init = int(docker.inspect("{{.State.Pid}}", cid))
    r = docker("exec", cid, "sh", "-c", "readlink /proc/self/ns/pid; readlink /proc/self/ns/mnt")
    assert r.stdout.split() == [os.readlink(f"/proc/{init}/ns/pid"), os.readlink(f"/proc/{init}/ns/mnt")]
    execs = [a for a in docker.calls_for(cid) if a.startswith("exec ")]
    assert len(execs) >= 5 and all("--process " in a and "--detach" in a for a in execs), execs


def test_top(docker, containers):
    cid = docker.run_detached(IMAGE, "sh", "-c", "sleep 101 & exec sleep 100")
    containers.append(cid)
    init = int(docker.inspect("{{.State.Pid}}", cid))
    out = wait_until(lambda: (lambda r: r.returncode == 0 and "sleep 101" in r.stdout and r.stdout)(
        docker("top", cid)), what="docker top to list both processes")
    rows = [l.split() for l in out.splitlines()[1:]]
    assert str(init) in [row[1] for row in rows], out
    assert any(l.endswith("sleep 100") for l in out.splitlines()), out
    assert len(rows) == 2, out
    assert any(re.fullmatch(rf"ps --format json {cid}", a) for a in docker.calls_for(cid)), docker.explain()


def test_logs(docker, containers):
    cid = docker.run_detached(IMAGE, "sh", "-c", "echo out-line; echo err-line >&2; exec sleep 100")
    containers.append(cid)
    r = wait_until(lambda: (lambda r: "out-line" in r.stdout and "err-line" in r.stderr and r)(docker("logs", cid)),
                 what="both lines in docker logs")
    assert r.stdout == "out-line\n" and r.stderr == "err-line\n", (r.stdout, r.stderr)


def test_pause_unpause(docker, containers):
    cid = docker.run_detached(IMAGE, "sh", "-c", "while :; do date +%s%N > /tmp/tick; sleep 0.05; done")
    containers.append(cid)
    # v1: freezer.state FROZEN/THAWED; v2: cgroup.freeze 1/0
    freezer = docker.cgroup("freezer", cid) + ("/cgroup.freeze" if CGROUP_V2 else "/freezer.state")
    frozen, thawed = ("1", "0") if CGROUP_V2 else ("FROZEN", "THAWED")
    docker("pause", cid, check=True)
    assert docker.inspect("{{.State.Status}}", cid) == "paused"
    assert read(freezer) == frozen
    r = docker("exec", cid, "true")
    assert r.returncode != 0 and "paused" in r.stderr, r.stderr
    init = int(docker.inspect("{{.State.Pid}}", cid))
    with open(f"/proc/{init}/root/tmp/tick") as f:
        before = f.read()
    time.sleep(0.3)
    with open(f"/proc/{init}/root/tmp/tick") as f:
        assert f.read() == before, "a paused container went on running"
    docker("unpause", cid, check=True)
    assert docker.inspect("{{.State.Status}}", cid) == "running"
    assert read(freezer) == thawed
    wait_until(lambda: open(f"/proc/{init}/root/tmp/tick").read() != before, what="the container to run again")
    assert docker("exec", cid, "echo", "ok", check=True).stdout == "ok\n"
    calls = docker.calls_for(cid)
    assert f"pause {cid}" in calls and f"resume {cid}" in calls, calls


TERM_HANDLER = 'trap "echo got-TERM; exit 0" TERM; echo ready; while :; do sleep 0.1; done'


def test_stop(docker, containers):
    cid = docker.run_detached(IMAGE, "sh", "-c", TERM_HANDLER)
    containers.append(cid)
    init = int(docker.inspect("{{.State.Pid}}", cid))
    wait_until(lambda: "ready" in docker("logs", cid).stdout, what="the container to be ready")
    t0 = time.monotonic()
    docker("stop", "-t", "20", cid, check=True)
    assert time.monotonic() - t0 < 10, "the init handles SIGTERM: stop must not wait for the timeout"
    assert docker.inspect("{{.State.Status}} {{.State.ExitCode}}", cid) == "exited 0"
    assert "got-TERM" in docker("logs", cid).stdout
    assert stat_state(init) in "ZX"
    assert any(re.fullmatch(rf"kill {cid} (15|TERM|SIGTERM)", a) for a in docker.calls_for(cid)), docker.explain()
    assert docker.runtime_state(cid) == [], "minirun's state outlived the stopped container"
    # an init that ignores SIGTERM (sleep as pid 1 has no handler) is killed after -t
    cid = docker.run_detached(IMAGE, "sleep", "100")
    containers.append(cid)
    t0 = time.monotonic()
    docker("stop", "-t", "1", cid, check=True)
    assert 0.9 < time.monotonic() - t0 < 15
    assert docker.inspect("{{.State.Status}} {{.State.ExitCode}}", cid) == "exited 137"
    assert any(re.fullmatch(rf"kill {cid} (9|KILL|SIGKILL)", a) for a in docker.calls_for(cid)), docker.explain()


def test_restart(docker, containers):
    cid = docker.run_detached(IMAGE, "sh", "-c", "echo started; " + TERM_HANDLER)
    containers.append(cid)
    first = int(docker.inspect("{{.State.Pid}}", cid))
    started = docker.inspect("{{.State.StartedAt}}", cid)
    wait_until(lambda: "ready" in docker("logs", cid).stdout, what="the container to be ready")
    docker("restart", "-t", "10", cid, check=True)
    assert docker.inspect("{{.State.Status}}", cid) == "running"
    second = int(docker.inspect("{{.State.Pid}}", cid))
    assert second != first and second > 0
    assert stat_state(first) in "ZX"
    assert docker.inspect("{{.State.StartedAt}}", cid) != started
    wait_until(lambda: docker("logs", cid).stdout.count("started") == 2, what="the second start in the logs")
    assert docker("exec", cid, "echo", "again", check=True).stdout == "again\n"
    assert len([a for a in docker.calls_for(cid) if a.startswith("create ")]) == 2


def test_kill(docker, containers):
    cid = docker.run_detached(IMAGE, "sh", "-c", 'trap "echo got-USR1; exit 42" USR1; echo ready; '
                              "while :; do sleep 0.1; done")
    containers.append(cid)
    wait_until(lambda: "ready" in docker("logs", cid).stdout, what="the container to be ready")
    docker("kill", "-s", "USR1", cid, check=True)
    assert docker("wait", cid, check=True).stdout.strip() == "42"
    assert "got-USR1" in docker("logs", cid).stdout
    assert any(re.fullmatch(rf"kill {cid} (10|USR1|SIGUSR1)", a) for a in docker.calls_for(cid)), docker.explain()
    cid = docker.run_detached(IMAGE, "sleep", "100")
    containers.append(cid)
    docker("kill", cid, check=True)
    assert docker("wait", cid, check=True).stdout.strip() == "137"
    assert docker.inspect("{{.State.Status}} {{.State.ExitCode}}", cid) == "exited 137"


def test_rm(docker):
    done = docker("run", "-d", IMAGE, "true", check=True).stdout.strip()
    docker("wait", done, check=True)
    cid = docker.run_detached(IMAGE, "sleep", "100")
    init = int(docker.inspect("{{.State.Pid}}", cid))
    assert docker.runtime_state(cid), "minirun has no state for the running container"
    assert docker.cgroup_dirs(cid), "the running container has no cgroups"
    r = docker("rm", cid)
    assert r.returncode != 0 and "running" in r.stderr, r.stderr
    docker("rm", done, check=True)
    docker("rm", "-f", cid, check=True)
    assert docker("ps", "-aq", check=True).stdout == ""
    assert stat_state(init) in "ZX"
    assert docker.runtime_state(cid) == [], "minirun's state outlived `docker rm -f`"
    assert docker.cgroup_dirs(cid) == [], "cgroups outlived `docker rm -f`"
    assert any(re.fullmatch(rf"delete (--force )?{cid}", a) for a in docker.calls_for(cid)), docker.explain()


def test_stats(docker, containers):
    cid = docker.run_detached("-m", "64m", IMAGE, "sh", "-c", "sleep 100 & sleep 100 & wait")
    containers.append(cid)
    wait_until(lambda: len(read(docker.cgroup("pids", cid) + "/cgroup.procs").split()) == 3,
             what="three processes in the container")
    r = docker("stats", "--no-stream", "--format", "{{.ID}}|{{.MemUsage}}|{{.PIDs}}", cid)
    assert r.returncode == 0, f"{r.stderr}\n{docker.explain()}"
    ident, mem, pids = r.stdout.strip().split("|")
    assert cid.startswith(ident)
    assert pids == "3", r.stdout
    used, limit = [s.strip() for s in mem.split("/")]
    assert limit == "64MiB", r.stdout
    assert re.fullmatch(r"[0-9.]+[KM]iB", used) and float(re.match(r"[0-9.]+", used).group(0)) > 0, r.stdout


def test_update(docker, containers):
    cid = docker.run_detached("-m", "64m", "--pids-limit", "50", IMAGE, "sleep", "100")
    containers.append(cid)
    docker("update", "-m", "128m", "--memory-swap", "256m", "--pids-limit", "77", "--cpus", "0.25",
           "--cpu-shares", "256", cid, check=True)
    want = want_limits(128 << 20, 77, 25000, 100000, 256)
    inside, host = limits(docker, cid)
    assert inside == want
    assert host == want
    assert any(re.fullmatch(rf"update --resources \S+ {cid}", a) for a in docker.calls_for(cid)), docker.explain()
    hc = json.loads(docker.inspect("{{json .HostConfig}}", cid))
    assert (hc["Memory"], hc["PidsLimit"], hc["NanoCpus"]) == (128 << 20, 77, 250000000)


# --- pins -------------------------------------------------------------------

def test_pinned_pid_through_annotation(docker, containers):
    """minirun pins the init's host pid from the `minirun.pids` annotation.
    docker 20.10 has no `run --annotation` (docker 24, API 1.43, added
    HostConfig.Annotations); the request below sets it through the API anyway,
    and the label too, and the bundle's config.json shows whether either
    reached the runtime."""
    pin = free_host_pids(1)[0]
    value = f"host={pin}"
    status, body = docker.api("POST", "/containers/create", {
        "Image": IMAGE, "Cmd": ["sleep", "100"], "Labels": {"minirun.pids": value},
        "HostConfig": {"Annotations": {"minirun.pids": value}}})
    assert status == 201, body
    cid = body["Id"]
    containers.append(cid)
    docker("start", cid, check=True)
    bundle = next((m.group(1) for a in docker.calls_for(cid) for m in [re.search(r"create --bundle (\S+)", a)] if m),
                  None)
    assert bundle, docker.explain()
    with open(os.path.join(bundle, "config.json")) as f:
        annotations = json.load(f).get("annotations") or {}
    init = int(docker.inspect("{{.State.Pid}}", cid))
    if "minirun.pids" not in annotations:
        version = docker("version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})").stdout.strip()
        why = (f"dockerd {version} passes neither labels nor HostConfig.Annotations to the OCI config "
               f"(the bundle's annotations: {annotations}); OCI annotations from docker need docker >= 24 "
               "(API 1.43, `docker run --annotation`), so docker cannot pin a pid here")
        print(why)
        pytest.skip(why)
    assert annotations["minirun.pids"] == value
    assert init == pin, f"the init is {init}, not the pinned {pin}\n{docker.explain()}"
    assert nspid(pin)[0] == pin
