#!/usr/bin/python3
"""bench.py: times minirun (its default build and, when built, its static
build) beside crun and runc on one bundle.

Started by bench/bench.sh inside a private mount namespace (where the hybrid
host's /sys/fs/cgroup/unified/cgroup.controllers is hidden so that crun 1.8.1
runs).  Every invocation is started with os.posix_spawn and timed with
time.perf_counter around spawn + os.wait4; the runtimes run interleaved
(minirun, minirun-static, crun, runc, minirun, ...) so that a noisy
neighbour hits all of them alike.  Peak RSS goes through the small static bench-maxrss helper (see
maxrss.c for why).  Everything created (containers, state dirs, cgroups) is
removed at the end, also on failure or ^C; report.py prints the table and
writes RESULTS.md.
"""
import argparse
import datetime
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

import cleanup
import report

ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
MiB = 1024 * 1024


class BenchError(Exception):
    pass


class Runtime:
    def __init__(self, key, name, binary, root, errfile):
        self.key, self.name, self.binary, self.root = key, name, binary, root
        os.makedirs(root, exist_ok=True)
        self.err = os.open(errfile, os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        self.ids = set()   # every id ever given to this runtime (for the clean-up)

    def argv(self, *args):
        return [self.binary, "--root", self.root, *args]

    def errors(self):
        os.lseek(self.err, 0, os.SEEK_SET)
        return os.read(self.err, 4096).decode(errors="replace").strip()


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = tempfile.mkdtemp(prefix="minirun-bench.")
        self.tmpfs = None
        if args.tmpfs_state:
            # state roots on tmpfs, as /run is on production hosts (bench.sh runs
            # this in a private mount namespace, so the mount is never visible outside)
            self.tmpfs = os.path.join(self.work, "state")
            os.mkdir(self.tmpfs)
            subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=0700,size=512m", "minirun-bench", self.tmpfs],
                           check=True)
        self.prefix = "mrb%d" % os.getpid()
        self.n = 0
        self.null_r = os.open("/dev/null", os.O_RDONLY | os.O_CLOEXEC)
        self.null_w = os.open("/dev/null", os.O_WRONLY | os.O_CLOEXEC)
        static = args.minirun_static if args.minirun_static and os.path.exists(args.minirun_static) else None
        bins = {"m": args.minirun, "s": static, "c": shutil.which("crun"), "r": shutil.which("runc")}
        names = {"m": "minirun", "s": "minirun-static", "c": "crun", "r": "runc"}
        self.rts = [Runtime(k, names[k], bins[k], os.path.join(self.tmpfs or self.work, "state-" + names[k]),
                            os.path.join(self.work, names[k] + ".err"))
                    for k in "mscr" if bins[k]]
        if not (bins["c"] and bins["r"]):
            raise BenchError("crun and runc must be installed (bench.sh installs them)")
        self.m = self.rts[0]
        self.res = {"figures": {}, "scale": {}, "notes": list(args.note), "checks": [],
                    "runtimes": [rt.key for rt in self.rts]}
        self.t0 = time.time()
        self.cg_before = cleanup.cgroup_parents_present()

    # ---------- spawning ----------
    def new_id(self, rt):
        self.n += 1
        cid = "%s-%s%d" % (self.prefix, rt.key, self.n)
        rt.ids.add(cid)
        return cid

    def spawn(self, rt, args, out=None):
        acts = [(os.POSIX_SPAWN_DUP2, self.null_r, 0),
                (os.POSIX_SPAWN_DUP2, out if out is not None else self.null_w, 1),
                (os.POSIX_SPAWN_DUP2, rt.err, 2)]
        return os.posix_spawn(args[0], args, ENV, file_actions=acts)

    def wait(self, pid, rt, args, timeout, check):
        def alarm(*_):
            raise TimeoutError
        old = signal.signal(signal.SIGALRM, alarm)
        signal.alarm(timeout)
        try:
            _, status, ru = os.wait4(pid, 0)
        except TimeoutError:
            os.kill(pid, signal.SIGKILL)
            os.wait4(pid, 0)
            raise BenchError("%s timed out after %d s" % (" ".join(args), timeout))
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)
        code = os.waitstatus_to_exitcode(status)
        if check and code != 0:
            raise BenchError("`%s` exited with %d: %s" % (" ".join(args), code, rt.errors()))
        return code, ru

    def call(self, rt, *args, timeout=60, check=True):
        """One timed invocation: seconds (spawn to reap)."""
        argv = rt.argv(*args)
        os.ftruncate(rt.err, 0)
        t0 = time.perf_counter()
        pid = self.spawn(rt, argv)
        self.wait(pid, rt, argv, timeout, check)
        return time.perf_counter() - t0

    def parallel(self, rt, arglists, timeout=300, check=True):
        """Start every command at once, wait for all: wall seconds."""
        os.ftruncate(rt.err, 0)
        t0 = time.perf_counter()
        pids = [(self.spawn(rt, rt.argv(*a)), a) for a in arglists]
        bad = []
        for pid, a in pids:
            code, _ = self.wait(pid, rt, rt.argv(*a), timeout, False)
            if code != 0:
                bad.append(" ".join(a))
        dt = time.perf_counter() - t0
        if bad and check:
            raise BenchError("%s: %d of %d failed (first: %s): %s" % (rt.name, len(bad), len(arglists), bad[0],
                                                                        rt.errors()))
        return dt

    def pool(self, rt, arglists, width=4, check=True, timeout=60):
        """Run commands at most `width` at a time (setting up and tearing down);
        one that takes longer than `timeout` seconds is killed and counts as failed."""
        todo, running, killed, bad = list(reversed(arglists)), {}, set(), []
        os.ftruncate(rt.err, 0)
        while todo or running:
            while todo and len(running) < width:
                a = todo.pop()
                running[self.spawn(rt, rt.argv(*a))] = (a, time.monotonic() + timeout)
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                now = time.monotonic()
                for p, (a, deadline) in running.items():
                    if now > deadline and p not in killed:
                        os.kill(p, signal.SIGKILL)
                        killed.add(p)
                time.sleep(0.002)
                continue
            a, _ = running.pop(pid, (None, 0))
            if a is not None and (pid in killed or os.waitstatus_to_exitcode(status) != 0):
                bad.append(" ".join(a) + (" (timed out)" if pid in killed else ""))
        if bad and check:
            raise BenchError("%s: %d commands failed (first: %s): %s" % (rt.name, len(bad), bad[0], rt.errors()))
        return bad

    def output(self, rt, *args):
        p = subprocess.run(rt.argv(*args), env=ENV, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=30)
        if p.returncode != 0:
            raise BenchError("`%s` exited with %d: %s" % (" ".join(rt.argv(*args)), p.returncode, p.stderr.strip()))
        return p.stdout

    def state(self, rt, cid):
        return json.loads(self.output(rt, "state", cid))

    def record(self, fig, rt, value):
        self.res["figures"].setdefault(fig, {}).setdefault(rt.key, []).append(value)

    def progress(self, msg, phase=True):
        """Print progress; a phase start also records the time and the load average."""
        print("bench: %s" % msg, file=sys.stderr, flush=True)
        if phase:
            with open("/proc/loadavg") as f:
                load = f.read().split()[0]
            self.res.setdefault("phases", []).append((round(time.time() - self.t0), msg, load))

    # ---------- bundles ----------
    def make_bundles(self):
        subprocess.run([self.args.minirun, "spec", "-b", self.work], check=True, env=ENV)
        with open(os.path.join(self.work, "config.json")) as f:
            base = json.load(f)
        os.unlink(os.path.join(self.work, "config.json"))
        base["root"]["path"] = os.path.abspath(self.args.rootfs)
        with open(self.args.seccomp) as f:
            base["linux"]["seccomp"] = json.load(f)
        self.seccomp_count = sum(len(r["names"]) for r in base["linux"]["seccomp"]["syscalls"])
        res = base["linux"].setdefault("resources", {})
        res["pids"] = {"limit": 1024}
        res["memory"] = {"limit": 256 * MiB}
        self.bundles = {}
        for name, argv in (("true", ["/bin/true"]), ("sleep", ["/bin/sleep", "1000"]), ("pin", ["/bin/true"])):
            d = os.path.join(self.work, "bundle-" + name)
            os.makedirs(d)
            cfg = json.loads(json.dumps(base))
            cfg["process"]["args"] = argv
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump(cfg, f, indent=2)
            self.bundles[name] = d
        self.base_config = base

    def write_pin_config(self, host_pid):
        cfg = json.loads(json.dumps(self.base_config))
        cfg["process"]["args"] = ["/bin/true"]
        cfg["minirun"] = {"pids": {"host": host_pid, "container": 1}}
        path = os.path.join(self.bundles["pin"], "config.json")
        with open(path + ".tmp", "w") as f:
            json.dump(cfg, f, indent=2)
        os.rename(path + ".tmp", path)

    # ---------- checks ----------
    def sanity(self):
        """Each runtime runs the bundle; seccomp and cgroups are really on; minirun
        places its cgroups right in this namespace (controllers file hidden)."""
        for rt in self.rts:
            self.call(rt, "run", "-b", self.bundles["true"], self.new_id(rt))
            cid = self.new_id(rt)
            self.call(rt, "run", "-d", "-b", self.bundles["sleep"], cid)
            try:
                pid = self.state(rt, cid)["pid"]
                st = open("/proc/%d/status" % pid).read()
                seccomp = [line.split()[1] for line in st.splitlines() if line.startswith("Seccomp:")]
                cg = open("/proc/%d/cgroup" % pid).read().split("\n")
                out = self.output(rt, "exec", cid, "/bin/sh", "-c", "echo ok; ls / >/dev/null; sleep 0")
                limit = memory_limit(cg)
                ok = seccomp == ["2"] and out.strip() == "ok" and limit == str(256 * MiB)
                line = ("%s: /bin/true runs; a sleep container: Seccomp mode %s, `exec sh -c` works: %s, "
                        "memory limit %s" % (rt.name, seccomp[0] if seccomp else "?", out.strip() == "ok", limit))
                self.res["checks"].append(line)
                self.progress(line, phase=False)
                if rt.key in "ms":
                    want = "/minirun/" + cid
                    v1 = [x for x in cg if x and not x.startswith("0::")]
                    v2 = [x for x in cg if x.startswith("0::")]
                    good = all(x.endswith(want) for x in v1) and all(x.endswith(want) for x in v2)
                    msg = ("%s in the namespace with /sys/fs/cgroup/unified/cgroup.controllers hidden: "
                           "cgroups %s (%s)" % (rt.name, "placed as expected" if good else "MISPLACED",
                                                "; ".join(x for x in cg if x)))
                    self.res["checks"].append(msg)
                    if not good:
                        self.res["notes"].append("minirun misdetects the cgroup layout when the hybrid "
                                                 "cgroup.controllers is hidden: " + msg)
                if not ok:
                    raise BenchError("sanity check failed: " + line)
            finally:
                self.call(rt, "delete", "--force", cid)

    def pin_sanity(self):
        host = pick_free_pid()
        self.write_pin_config(host)
        cfg = json.load(open(os.path.join(self.bundles["pin"], "config.json")))
        cfg["process"]["args"] = ["/bin/sleep", "1000"]
        d = os.path.join(self.work, "bundle-pin-sleep")
        os.makedirs(d, exist_ok=True)
        json.dump(cfg, open(os.path.join(d, "config.json"), "w"))
        cid = self.new_id(self.m)
        self.call(self.m, "run", "-d", "-b", d, cid)
        pid = self.state(self.m, cid)["pid"]
        self.call(self.m, "delete", "--force", cid)
        msg = "minirun pinned run: host pid asked %d, got %d" % (host, pid)
        self.res["checks"].append(msg)
        if pid != host:
            raise BenchError(msg)

    # ---------- measurements ----------
    def bench_run(self, n, spaced):
        fig = "run_spaced" if spaced else "run"
        self.progress("%s: %d x %d runtimes" % (fig, n, len(self.rts)))
        for _ in range(n):
            for rt in self.rts:
                if spaced:
                    time.sleep(0.1)
                self.record(fig, rt, self.call(rt, "run", "-b", self.bundles["true"], self.new_id(rt)))

    def bench_lifecycle(self, n):
        self.progress("create/start/delete: %d x 3" % n)
        for _ in range(n):
            for rt in self.rts:
                cid = self.new_id(rt)
                self.record("create", rt, self.call(rt, "create", "-b", self.bundles["true"], cid))
                self.record("start", rt, self.call(rt, "start", cid))
                deadline = time.monotonic() + 10
                while self.state(rt, cid)["status"] != "stopped":
                    if time.monotonic() > deadline:
                        raise BenchError("%s: %s did not stop" % (rt.name, cid))
                    time.sleep(0.002)
                self.record("delete", rt, self.call(rt, "delete", cid))

    def bench_exec(self, n):
        self.progress("exec: %d x 3" % n)
        ids = {}
        for rt in self.rts:
            ids[rt.key] = self.new_id(rt)
            self.call(rt, "run", "-d", "-b", self.bundles["sleep"], ids[rt.key])
        try:
            for _ in range(n):
                for rt in self.rts:
                    self.record("exec", rt, self.call(rt, "exec", ids[rt.key], "/bin/true"))
        finally:
            for rt in self.rts:
                self.call(rt, "delete", "--force", ids[rt.key], check=False)

    def bench_rss(self, n):
        self.progress("peak RSS of run: %d x 3" % n)
        out = os.path.join(self.work, "rss")
        for _ in range(n):
            for rt in self.rts:
                argv = [self.args.maxrss, out] + rt.argv("run", "-b", self.bundles["true"], self.new_id(rt))
                os.ftruncate(rt.err, 0)
                pid = os.posix_spawn(argv[0], argv, ENV, file_actions=[
                    (os.POSIX_SPAWN_DUP2, self.null_r, 0), (os.POSIX_SPAWN_DUP2, self.null_w, 1),
                    (os.POSIX_SPAWN_DUP2, rt.err, 2)])
                self.wait(pid, rt, argv, 60, True)
                kib, status, floor = (int(x) for x in open(out).read().split())
                if os.waitstatus_to_exitcode(status) != 0:
                    raise BenchError("%s run under bench-maxrss failed: %s" % (rt.name, rt.errors()))
                self.record("rss", rt, kib * 1024 / 1e6)
                self.res["rss_floor_mb"] = floor * 1024 / 1e6

    def bench_parallel(self, count, reps):
        self.progress("%d in parallel: %d x 3" % (count, reps))
        for _ in range(reps):
            for rt in self.rts:
                ids = [self.new_id(rt) for _ in range(count)]
                try:
                    t = self.parallel(rt, [("run", "-d", "-b", self.bundles["sleep"], i) for i in ids])
                    self.record("par%d_start" % count, rt, t)
                    live = set(x.split()[0] for x in self.output(rt, "list", "-q").split())
                    missing = [i for i in ids if i not in live]
                    if missing:
                        raise BenchError("%s: %d of %d parallel containers not listed" % (rt.name, len(missing), count))
                finally:
                    t = self.parallel(rt, [("delete", "--force", i) for i in ids], check=False)
                self.record("par%d_delete" % count, rt, t)
                left = self.output(rt, "list", "-q").split()
                if any(i in left for i in ids):
                    raise BenchError("%s: parallel delete --force left containers behind" % rt.name)

    def bench_pins(self, n):
        self.progress("minirun pinned vs unpinned: %d x 2" % n)
        pair = [("run_unpinned", "true"), ("run_pinned", "pin")]
        for i in range(n):
            self.write_pin_config(pick_free_pid())
            for fig, bundle in pair if i % 2 == 0 else reversed(pair):  # alternate: no order effect
                self.record(fig, self.m, self.call(self.m, "run", "-b", self.bundles[bundle], self.new_id(self.m)))

    def bench_scale(self, levels, reps, peers):
        rts = list(self.rts if peers else [self.m])
        live = {rt.key: [] for rt in self.rts}
        try:
            for level in levels:
                need = sum(level - len(live[rt.key]) for rt in rts)
                if not pid_room(need):
                    self.res["notes"].append("scale: stopped before %d live containers: pid_max would be "
                                             "exceeded" % level)
                    break
                if level >= 1000 and len(rts) > 1 and self.args.scale_budget:
                    per = self.res.get("scale_fill_rate", {})
                    projected = sum((level - len(live[rt.key])) * per.get(rt.key, 0) * 2 for rt in rts)
                    if projected > self.args.scale_budget:
                        self.res["notes"].append("scale: crun and runc skipped at %d live containers "
                                                 "(projected %.0f s to fill and empty)" % (level, projected))
                        rts = [self.m]
                for rt in rts:
                    add = [self.new_id(rt) for _ in range(level - len(live[rt.key]))]
                    self.progress("scale: %s %d -> %d live" % (rt.name, len(live[rt.key]), level), phase=rt.key == self.rts[0].key)
                    t0 = time.perf_counter()
                    self.pool(rt, [("run", "-d", "-b", self.bundles["sleep"], i) for i in add])
                    if add:
                        self.res.setdefault("scale_fill_rate", {})[rt.key] = (time.perf_counter() - t0) / len(add)
                    live[rt.key] += add
                    listed = set(self.output(rt, "list", "-q").split())
                    if not set(live[rt.key]) <= listed:
                        raise BenchError("%s: %d live containers expected, %d listed"
                                         % (rt.name, len(live[rt.key]), len(listed & set(live[rt.key]))))
                for _ in range(reps):
                    for rt in rts:
                        fig = self.res["scale"].setdefault(str(level), {}).setdefault(rt.key, {})
                        fig.setdefault("state", []).append(self.call(rt, "state", live[rt.key][0]))
                        fig.setdefault("list", []).append(self.call(rt, "list"))
                        cid = self.new_id(rt)
                        fig.setdefault("create", []).append(self.call(rt, "create", "-b", self.bundles["true"], cid))
                        fig.setdefault("delete", []).append(self.call(rt, "delete", cid))
        finally:
            for rt in self.rts:
                if live[rt.key]:
                    self.progress("scale: deleting %d %s containers" % (len(live[rt.key]), rt.name), phase=False)
                    self.pool(rt, [("delete", "--force", i) for i in live[rt.key]], check=False)

    # ---------- driver ----------
    def run_all(self):
        a = self.args
        q = a.quick
        self.make_bundles()
        self.sanity()
        self.pin_sanity()
        self.bench_run(30 if q else 200, False)
        self.bench_run(15 if q else 100, True)
        self.bench_lifecycle(15 if q else 100)
        self.bench_exec(30 if q else 100)
        self.bench_rss(10 if q else 30)
        self.bench_parallel(50, 1 if q else 3)
        if not q:
            self.bench_parallel(200, 1)
        self.bench_pins(30 if q else 200)
        self.bench_scale([1, 10, 100] if q else [1, 10, 100, 1000], 5 if q else 20, not a.scale_minirun_only)

    def clean(self):
        left = cleanup.clean_all(self)
        self.res["leftovers"] = left
        for rt in self.rts:
            os.close(rt.err)
        if self.tmpfs:
            subprocess.run(["umount", self.tmpfs], check=False)
        shutil.rmtree(self.work, ignore_errors=True)
        return left


def memory_limit(cgroup_lines):
    """The memory limit of the cgroup named in /proc/PID/cgroup lines (v1 memory or v2)."""
    for line in cgroup_lines:
        parts = line.split(":", 2)
        if len(parts) == 3 and parts[1] == "memory":
            p = "/sys/fs/cgroup/memory%s/memory.limit_in_bytes" % parts[2]
        elif len(parts) == 3 and parts[0] == "0" and parts[1] == "":
            p = "/sys/fs/cgroup%s/memory.max" % parts[2]
        else:
            continue
        if os.path.exists(p):
            with open(p) as f:
                return f.read().strip()
    return None


def pick_free_pid():
    """A host pid that is no pid, tid, pgid or sid now, far from where the kernel is allocating."""
    used = set()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            used.update(int(t) for t in os.listdir("/proc/%s/task" % d))
            fields = open("/proc/%s/stat" % d).read().rsplit(")", 1)[1].split()
            used.update((int(fields[2]), int(fields[3])))
        except (OSError, IndexError, ValueError):
            continue
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    last = int(open("/proc/sys/kernel/ns_last_pid").read())
    for _ in range(10000):
        p = random.randrange(300, pid_max)
        if p not in used and (p - last) % pid_max > 4000:
            return p
    raise BenchError("no free pid found")


def pid_room(need):
    tasks = sum(len(os.listdir("/proc/%s/task" % d)) for d in os.listdir("/proc")
                if d.isdigit() and os.path.exists("/proc/%s/task" % d))
    pid_max = int(open("/proc/sys/kernel/pid_max").read())
    return tasks + need + 4000 < pid_max


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minirun", default=os.path.join(os.path.dirname(here), "build-bench", "minirun"))
    p.add_argument("--minirun-static", default=os.path.join(os.path.dirname(here), "build-bench-static", "minirun"),
                   help="the static build (-DMINIRUN_STATIC=ON), measured as a fourth runtime if it exists")
    p.add_argument("--rootfs", default=os.path.join(os.path.dirname(here), "examples", "rootfs"))
    p.add_argument("--maxrss", default=os.path.join(os.path.dirname(here), "build-bench", "bench-maxrss"),
                   help="the bench-maxrss helper (maxrss.c)")
    p.add_argument("--seccomp", default=os.path.join(here, "seccomp.json"))
    p.add_argument("--quick", action="store_true", help="about one minute: fewer runs, no 200 parallel, 100 live max")
    p.add_argument("--results", default=os.path.join(here, "RESULTS.md"))
    p.add_argument("--raw", help="also write every sample as JSON here")
    p.add_argument("--command", default=" ".join(sys.argv), help="the command line to record")
    p.add_argument("--host-cgroup", default="", help="the host's cgroup layout (seen outside the namespace)")
    p.add_argument("--scale-minirun-only", action="store_true", help="live-container scaling for minirun only")
    p.add_argument("--scale-budget", type=float, default=300,
                   help="seconds: skip crun/runc at 1000 live if filling and emptying would take longer")
    p.add_argument("--hyperfine", help="hyperfine JSON exports to include (a directory)")
    p.add_argument("--note", action="append", default=[], help="a line for the notes of RESULTS.md")
    p.add_argument("--tmpfs-state", action="store_true",
                   help="put the state roots on a tmpfs (only inside a private mount namespace: bench.sh)")
    p.add_argument("--report-only", metavar="RAW", help="write RESULTS.md again from a --raw file, measure nothing")
    args = p.parse_args()
    if args.report_only:
        with open(args.report_only) as f:
            report.emit(json.load(f), args)
        return
    if os.geteuid() != 0:
        sys.exit("bench.py: must run as root")
    b = Bench(args)
    t0 = time.time()
    failed = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        b.res["load_before"] = open("/proc/loadavg").read().split()[:3]
        b.run_all()
    except (Exception, KeyboardInterrupt, SystemExit) as e:  # clean up whatever went wrong
        if not isinstance(e, (BenchError, KeyboardInterrupt, SystemExit)):
            traceback.print_exc()
        failed = e if isinstance(e, BenchError) else "interrupted (%s)" % (e.__class__.__name__ if str(e) == "" else e)
    finally:
        b.progress("cleaning up")
        left = b.clean()
    b.res["load_after"] = open("/proc/loadavg").read().split()[:3]
    b.res["duration"] = time.time() - t0
    if failed is not None:
        print("bench: FAILED: %s" % failed, file=sys.stderr)
        if left:
            print("bench: left behind: %s" % left, file=sys.stderr)
        sys.exit(1)
    b.res["run"] = {
        "command": args.command, "quick": args.quick, "tmpfs_state": args.tmpfs_state,
        "host_cgroup": args.host_cgroup, "seccomp_count": b.seccomp_count,
        "hyperfine": report.hyperfine_rows(args.hyperfine),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump(b.res, f, indent=1)
    report.emit(b.res, args)
    if left:
        print("bench: left behind: %s" % left, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
