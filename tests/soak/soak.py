#!/usr/bin/python3
"""Soak: many create/start/state/delete cycles of a container whose init is
pinned (host pid chosen free before each cycle, container pid 1), measuring
before and after what a leak would make grow: the caller's fds, the host's
mounts, cgroup directories, state entries, left-over minirun processes and
minirun's own peak RSS.

    sudo /usr/bin/python3 tests/soak/soak.py [CYCLES]     (default 1000)

MINIRUN_BIN / MINIRUN_ROOTFS choose the binary and rootfs as for the
integration tests.  This module is also the shared code of
tests/integration/test_reliability.py: `Runner` (spawns minirun commands and
reaps every child of the caller, a child subreaper, with its rusage),
`measure()` and `soak()`.
"""
import json
import os
import resource
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))

# conftest makes this process a child subreaper and gives the shared helpers
from conftest import MINIRUN, REPO, ROOTFS, base_config, free_host_pids, proc_stats  # noqa: E402

CMD_TIMEOUT = 20.0

# Peak RSS is read through GNU time: a child spawned straight from this (big)
# Python process starts its life in our address space (vfork, or a fork's
# copy), and the kernel's ru_maxrss keeps that high-water mark across exec, so
# os.wait4 would report our RSS, not minirun's.  time's own footprint (~1 MB,
# constant) is the floor of what it reports.
GNU_TIME = "/usr/bin/time"


class Result:
    def __init__(self, args):
        self.args = args
        self.returncode = None  # exit code, or -N when killed by signal N
        self.maxrss_kb = 0
        self.stdout = ""
        self.stderr = ""
        self.hung = False
        self.duration = 0.0

    def __repr__(self):
        return f"<minirun {' '.join(self.args)}: rc={self.returncode} hung={self.hung} stderr={self.stderr.strip()!r}>"


class Runner:
    """Runs minirun commands from any number of threads; one thread reaps every
    child of this process with wait4(-1).  A command's status and rusage go to
    its caller; other children (container inits re-parented to us, the child
    subreaper) are reaped and counted.  Spawning and registering a pid happen
    under one lock, so the reaper never mistakes a command for an orphan.
    Use as a context manager; while it runs, nothing else in the process may
    wait for children (no subprocess)."""

    def __init__(self, root, tmpdir, minirun=MINIRUN):
        self.root = str(root)
        self.tmpdir = str(tmpdir)
        self.minirun = minirun
        self.lock = threading.Lock()
        self.waiting = {}
        self.orphans_reaped = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._reap, name="minirun-reaper", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.reap_now()

    def _reap_one(self):
        try:
            pid, status, ru = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return False
        with self.lock:
            slot = self.waiting.pop(pid, None)
            if slot is None:
                self.orphans_reaped += 1
        if slot is not None:
            res, ev = slot
            res.returncode = os.waitstatus_to_exitcode(status)
            res.maxrss_kb = ru.ru_maxrss
            ev.set()
        return True

    def _reap(self):
        while not self.stop.is_set():
            if not self._reap_one():
                time.sleep(0.002)

    def reap_now(self):
        """Reap what is already dead (container processes killed by a delete)."""
        while self._reap_one():
            pass

    def run(self, *args, timeout=CMD_TIMEOUT, root=None, rss=False):
        """Run `minirun --root ROOT ARGS...` with stdin /dev/null and stdout and
        stderr in files (a created container keeps them open), in its own
        process group; a command still running after `timeout` is SIGKILLed
        (its group) and marked hung.  rss: measure minirun's peak RSS (kB)
        through GNU time, into .maxrss_kb."""
        args = [str(a) for a in args]
        res = Result(args)
        tag = uuid.uuid4().hex
        out = os.path.join(self.tmpdir, f".run-{tag}.out")
        err = os.path.join(self.tmpdir, f".run-{tag}.err")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                   (os.POSIX_SPAWN_OPEN, 1, out, flags, 0o600),
                   (os.POSIX_SPAWN_OPEN, 2, err, flags, 0o600)]
        argv = [self.minirun, "--root", root or self.root] + args
        rssfile = os.path.join(self.tmpdir, f".run-{tag}.rss")
        if rss:
            argv = [GNU_TIME, "-q", "-f", "%M", "-o", rssfile] + argv
        ev = threading.Event()
        t0 = time.monotonic()
        with self.lock:
            pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions, setpgroup=0)
            self.waiting[pid] = (res, ev)
        if not ev.wait(timeout):
            res.hung = True
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            ev.wait(10)
        res.duration = time.monotonic() - t0
        if rss:
            with open(rssfile) as f:
                res.maxrss_kb = int(f.read().split()[-1] or 0)
            os.unlink(rssfile)
            if res.returncode is not None and res.returncode > 128:
                res.returncode = 128 - res.returncode  # time says 128+N for a command killed by signal N
        for path, attr in ((out, "stdout"), (err, "stderr")):
            with open(path, errors="replace") as f:
                setattr(res, attr, f.read())
            os.unlink(path)
        return res


# ------------------------------------------------------------------ measures

def minirun_processes(binary=MINIRUN):
    """Pids of the host's processes whose argv[0] is the minirun binary (a
    created init that has not exec'd yet counts: it is still minirun)."""
    want = os.path.realpath(binary)
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if argv0 and os.path.realpath(argv0) == want:
            found.append(int(entry))
    return found


def minirun_cgroup_dirs(prefix=""):
    """Directories under /sys/fs/cgroup/*/minirun (every hierarchy), only
    those whose name starts with `prefix` if given."""
    found = []
    for mnt in os.listdir("/sys/fs/cgroup"):
        base = os.path.join("/sys/fs/cgroup", mnt, "minirun")
        try:
            names = os.listdir(base)
        except OSError:
            continue
        found += [os.path.join(base, n) for n in names
                  if n.startswith(prefix) and os.path.isdir(os.path.join(base, n))]
    return found


def mountinfo():
    with open("/proc/self/mountinfo") as f:
        return f.read().splitlines()


def measure(runner, root, prefix, probe_id=None):
    """What a leak would make grow.  `rss_state_kb` is the peak RSS of a
    `minirun state` (of `probe_id`, or of a missing id) measured by wait4."""
    # the median of a few: one run's peak RSS varies by some tens of kB
    rss = sorted(runner.run("state", probe_id or f"{prefix}-none", rss=True).maxrss_kb for _ in range(5))
    return {
        "fds": len(os.listdir("/proc/self/fd")),
        "mounts": len(mountinfo()),
        "cgroups_all": len(minirun_cgroup_dirs()),
        "cgroups_ours": len(minirun_cgroup_dirs(prefix)),
        "state_entries": len(os.listdir(root)) if os.path.isdir(root) else 0,
        "minirun_procs": len(minirun_processes()),
        "children": len(our_children()),
        "rss_state_kb": rss[len(rss) // 2],
    }


def our_children():
    """Live (or zombie) children of this process: container processes that were re-parented to us."""
    me = os.getpid()
    return [pid for pid, fields in proc_stats() if int(fields[1]) == me]


# ------------------------------------------------------------------ the soak

def write_bundle(bundle, host_pid, args=("sleep", "1000")):
    """A busybox bundle whose init is pinned at `host_pid` on the host and 1 in its pid namespace."""
    cfg = base_config()
    cfg["process"]["args"] = list(args)
    cfg["minirun"] = {"pids": {"host": host_pid, "container": 1}}
    os.makedirs(bundle, exist_ok=True)
    if not os.path.lexists(os.path.join(bundle, "rootfs")):
        os.symlink(ROOTFS, os.path.join(bundle, "rootfs"))
    tmp = os.path.join(bundle, "config.json.tmp")
    with open(tmp, "w") as f:
        json.dump(cfg, f)
    os.rename(tmp, os.path.join(bundle, "config.json"))


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else 0


def soak(runner, root, workdir, cycles, prefix, progress=None):
    """`cycles` times: pin a free host pid, create, start, state (must be
    running at the pin), delete --force, and reap the init.  Returns the
    figures: measures before/after, duration, the peak RSS of each command at
    the start and the end, and every failure (empty when all went well)."""
    bundle = os.path.join(workdir, f"{prefix}-bundle")
    failures = []
    rss = {"create": [], "start": [], "state": [], "delete": []}
    took = {name: [] for name in rss}
    before = measure(runner, root, prefix)
    t0 = time.monotonic()
    for n in range(cycles):
        cid = f"{prefix}-{n}"
        host = free_host_pids(1)[0]
        write_bundle(bundle, host)
        steps = [("create", ("create", "-b", bundle, cid)), ("start", ("start", cid)), ("state", ("state", cid)),
                 ("delete", ("delete", "--force", cid))]
        for name, args in steps:
            r = runner.run(*args, rss=True)
            rss[name].append(r.maxrss_kb)
            took[name].append(r.duration)
            if r.hung or r.returncode != 0 or r.stderr:
                failures.append(f"cycle {n}: {r!r}")
                if name != "delete":
                    runner.run("delete", "--force", cid)
                break
            if name == "state":
                st = json.loads(r.stdout)
                if st["status"] != "running" or st["pid"] != host:
                    failures.append(f"cycle {n}: state says {st['status']} pid {st['pid']}, not running at {host}")
        # the init is our child now (re-parented): it must be reaped before its pid is free
        deadline = time.monotonic() + 5
        while os.path.exists(f"/proc/{host}") and time.monotonic() < deadline:
            runner.reap_now()
            time.sleep(0.001)
        if os.path.exists(f"/proc/{host}"):
            failures.append(f"cycle {n}: the init at {host} outlived `delete --force`")
        if progress and (n + 1) % progress == 0:
            print(f"soak: {n + 1}/{cycles} cycles, {time.monotonic() - t0:.1f} s", flush=True)
        if len(failures) > 20:
            failures.append("stopped after 20 failures")
            break
    duration = time.monotonic() - t0
    runner.reap_now()
    after = measure(runner, root, prefix)
    shutil.rmtree(bundle)
    k = max(1, min(15, cycles // 5))
    peaks = {name: (median(v[:k]), median(v[-k:])) for name, v in rss.items()}
    times = {name: (median(v), max(v) if v else 0) for name, v in took.items()}
    return {"cycles": cycles, "duration": duration, "before": before, "after": after, "rss": peaks, "times": times,
            "failures": failures, "orphans_reaped": runner.orphans_reaped}


def problems(fig, workdir, rss_tolerance=0.10):
    """What the figures of `soak()` say went wrong (empty when nothing).
    Host-wide counts (all cgroups, all mounts, all minirun processes) are
    compared only through what this soak could have added: other test runs
    may share the machine."""
    b, a = fig["before"], fig["after"]
    bad = list(fig["failures"])
    for key in ("fds", "cgroups_ours", "state_entries", "children"):
        if a[key] != b[key]:
            bad.append(f"{key}: {b[key]} before, {a[key]} after")
    if a["minirun_procs"] > b["minirun_procs"]:
        bad.append(f"minirun processes: {b['minirun_procs']} before, {a['minirun_procs']} after")
    if a["mounts"] != b["mounts"]:
        ours = [m for m in fig.get("mounts_added", []) if workdir in m or ROOTFS in m or "minirun" in m]
        if ours:
            bad.append(f"mounts left behind: {ours}")
    for name, (first, last) in fig["rss"].items():
        if first and last > first * (1 + rss_tolerance):
            bad.append(f"peak RSS of `{name}` grew from {first} kB to {last} kB")
    if b["rss_state_kb"] and a["rss_state_kb"] > b["rss_state_kb"] * (1 + rss_tolerance):
        bad.append(f"peak RSS of `state` grew from {b['rss_state_kb']} kB to {a['rss_state_kb']} kB")
    return bad


def soak_checked(runner, root, workdir, cycles, prefix, progress=None):
    """soak() plus the mount lines it added; returns (figures, problems)."""
    mounts0 = set(mountinfo())
    fig = soak(runner, root, workdir, cycles, prefix, progress)
    fig["mounts_added"] = sorted(set(mountinfo()) - mounts0)
    return fig, problems(fig, workdir)


def report(fig):
    b, a = fig["before"], fig["after"]
    lines = [f"soak: {fig['cycles']} cycles in {fig['duration']:.1f} s "
             f"({1000 * fig['duration'] / max(1, fig['cycles']):.1f} ms/cycle), "
             f"{fig['orphans_reaped']} container inits reaped"]
    for key in b:
        lines.append(f"  {key:14} before {b[key]:>8}  after {a[key]:>8}")
    for name, (first, last) in fig["rss"].items():
        lines.append(f"  peak RSS {name:6} first cycles {first} kB, last cycles {last} kB (medians)")
    lines.append("  per command (median / max, ms): " + ", ".join(
        f"{name} {1000 * med:.1f}/{1000 * mx:.0f}" for name, (med, mx) in fig["times"].items()))
    return "\n".join(lines)


def main(argv):
    cycles = int(argv[1]) if len(argv) > 1 else 1000
    if os.geteuid() != 0:
        sys.exit("soak.py runs as root (namespaces, cgroups, pinned pids): sudo /usr/bin/python3 tests/soak/soak.py")
    if not os.access(GNU_TIME, os.X_OK):
        sys.exit(f"{GNU_TIME} (GNU time, to measure peak RSS) is missing: apt-get install time")
    if not os.access(MINIRUN, os.X_OK):
        sys.exit(f"minirun binary not found at {MINIRUN}: build first (or set MINIRUN_BIN)")
    if not os.path.exists(os.path.join(ROOTFS, "bin", "busybox")):
        os.spawnv(os.P_WAIT, os.path.join(REPO, "examples", "mkrootfs.sh"),
                  [os.path.join(REPO, "examples", "mkrootfs.sh"), ROOTFS])
    workdir = tempfile.mkdtemp(prefix="minirun-soak-")
    root = os.path.join(workdir, "state")
    prefix = f"soak-{uuid.uuid4().hex[:6]}"
    try:
        with Runner(root, workdir) as runner:
            runner.run("state", "warm-up")  # the first run pays for page cache; measure from the second
            fig, bad = soak_checked(runner, root, workdir, cycles, prefix, progress=max(1, cycles // 10))
        print(report(fig))
        print(f"  caller's rusage: max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} kB")
        if bad:
            print("FAILED:\n  " + "\n  ".join(bad))
            return 1
        print("OK: nothing grew")
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
