"""report.py: turns bench.py's samples into the printed table and RESULTS.md.

Every figure is the median with min-max and the number of samples; ratios
are minirun's median (default build, and static build when it was measured)
over crun's and over runc's.  The issue's targets are judged here, for each
minirun build, each with the figures it was judged on.
"""
import glob
import json
import os
import platform
import statistics
import subprocess

FIGURES = [  # key, label, unit, factor from the stored value
    ("run", "run /bin/true, back to back", "ms", 1e3),
    ("run_spaced", "run /bin/true, 100 ms apart", "ms", 1e3),
    ("create", "create (/bin/true bundle)", "ms", 1e3),
    ("start", "start", "ms", 1e3),
    ("delete", "delete (stopped)", "ms", 1e3),
    ("exec", "exec /bin/true into a running container", "ms", 1e3),
    ("rss", "peak RSS during run", "MB", 1),
    ("par50_start", "50 in parallel: run -d, wall", "ms", 1e3),
    ("par50_delete", "50 in parallel: delete --force, wall", "ms", 1e3),
    ("par200_start", "200 in parallel: run -d, wall", "ms", 1e3),
    ("par200_delete", "200 in parallel: delete --force, wall", "ms", 1e3),
    ("run_unpinned", "minirun run, unpinned (interleaved with pinned)", "ms", 1e3),
    ("run_pinned", "minirun run, pinned host=FREE,container=1", "ms", 1e3),
]
ALL_RTS = [("m", "minirun"), ("s", "minirun static"), ("c", "crun"), ("r", "runc")]
RTS = ALL_RTS[:1] + ALL_RTS[2:]   # set by use_runtimes() from what was measured
MINIRUNS = ["m"]


def use_runtimes(res):
    """The runtimes of this run: a raw file from before the static build has m, c, r."""
    global RTS, MINIRUNS
    keys = res.get("runtimes", ["m", "c", "r"])
    RTS = [(k, n) for k, n in ALL_RTS if k in keys]
    MINIRUNS = [k for k in ("m", "s") if k in keys]


def ratio_cols(s):
    return [ratio(s[m], s[p]) for m in MINIRUNS for p in ("c", "r")]


def header(first):
    names = dict(ALL_RTS)
    return [first] + [n for _, n in RTS] + ["%s/%s" % (names[m], p) for m in MINIRUNS for p in ("crun", "runc")]


def stats(v):
    return (statistics.median(v), min(v), max(v), len(v)) if v else None


def fmt(s, factor, unit):
    if s is None:
        return "-"
    med, lo, hi, n = s
    d = 2 if unit == "MB" or med * factor < 100 else 1
    return "%.*f (%.*f–%.*f, n=%d)" % (d, med * factor, d, lo * factor, d, hi * factor, n)


def ratio(a, b):
    return "%.2f" % (a[0] / b[0]) if a and b and b[0] else "-"


def figure_rows(res):
    rows = []
    for key, label, unit, factor in FIGURES:
        f = res["figures"].get(key)
        if not f:
            continue
        s = {k: stats(f.get(k, [])) for k, _ in RTS}
        rows.append(["%s [%s]" % (label, unit)] + [fmt(s[k], factor, unit) for k, _ in RTS] + ratio_cols(s))
    return rows


def scale_rows(res):
    rows = []
    for level in sorted(res["scale"], key=int):
        for op in ("state", "list", "create", "delete"):
            s = {k: stats(res["scale"][level].get(k, {}).get(op, [])) for k, _ in RTS}
            rows.append(["%s live: %s [ms]" % (level, op)] + [fmt(s[k], 1e3, "ms") for k, _ in RTS] + ratio_cols(s))
    return rows


def med(res, key, rt="m"):
    v = res["figures"].get(key, {}).get(rt)
    return statistics.median(v) if v else None


def smed(res, level, op, rt="m"):
    v = res["scale"].get(str(level), {}).get(rt, {}).get(op)
    return statistics.median(v) if v else None


def targets(res):
    out = []
    names = dict(ALL_RTS)
    for mk in MINIRUNS:
        who = names[mk]

        def half(key, label):
            m, c = med(res, key, mk), med(res, key, "c")
            if m is None or c is None:
                return
            out.append(("%s: %s" % (who, label), "%.2f ms vs crun %.2f ms = %.2fx" % (m * 1e3, c * 1e3, m / c),
                        m <= 0.5 * c))

        half("run", "run /bin/true median <= 0.5x crun, back to back")
        half("run_spaced", "run /bin/true median <= 0.5x crun, 100 ms apart")
        half("exec", "exec <= 0.5x crun")
        rss = res["figures"].get("rss", {}).get(mk)
        if rss:
            out.append(("%s: peak RSS <= 2 MB" % who,
                        "median %.2f MB, max %.2f MB" % (statistics.median(rss), max(rss)), max(rss) <= 2.0))
        half("par50_start", "50 in parallel: start <= 0.5x crun")
        half("par50_delete", "50 in parallel: delete <= 0.5x crun")
        if mk == "m":   # the pin figures are measured with the default build
            us = res["figures"].get("run_unpinned", {}).get("m", [])
            ps = res["figures"].get("run_pinned", {}).get("m", [])
            if us and len(us) == len(ps):
                # Sample i of each list is one pair, run back to back: the median of
                # the paired differences is immune to load that drifts between pairs,
                # which moves the two medians apart by several % on a busy machine.
                u, p = statistics.median(us), statistics.median(ps)
                d = statistics.median(b - a for a, b in zip(us, ps))
                out.append(("%s: pinned vs unpinned run within 2%%" % who,
                            "median of %d paired differences %+.3f ms = %+.1f%% of the unpinned median "
                            "(medians %.3f vs %.3f ms: %+.1f%%)" % (len(us), d * 1e3, d / u * 100, p * 1e3, u * 1e3,
                                                                    (p / u - 1) * 100),
                            abs(d / u) <= 0.02))
        levels = sorted(int(x) for x in res["scale"] if res["scale"][x].get(mk))
        if len(levels) >= 2:
            top = levels[-1]
            for op in ("create", "state", "delete"):
                a, b = smed(res, 1, op, mk), smed(res, top, op, mk)
                if a and b:
                    out.append(("%s: %d live: %s within 20%% of 1 live" % (who, top, op),
                                "%.3f ms vs %.3f ms = %.2fx" % (b * 1e3, a * 1e3, b / a), b <= 1.2 * a))
            pts = [(n, smed(res, n, "list", mk)) for n in levels if n >= 10]
            if len(pts) >= 3:
                (n0, t0), (n1, t1), (n2, t2) = pts[-3:]
                s1, s2 = (t1 - t0) / (n1 - n0), (t2 - t1) / (n2 - n1)
                ok = s2 <= 1.5 * s1 + 2e-6
                out.append(("%s: list linear in containers" % who,
                            "%.1f µs/container from %d to %d live, %.1f µs/container from %d to %d "
                            "(linear: the later slope <= 1.5x the earlier)" % (s1 * 1e6, n0, n1, s2 * 1e6, n1, n2),
                            ok))
    return out


def table(header, rows):
    w = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w[i]) for i, c in enumerate(r))
    return "\n".join([line(header), line(["-" * x for x in w])] + [line(r) for r in rows])


def md_table(header, rows):
    esc = lambda c: str(c).replace("|", "\\|")
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
                     + ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows])


def version(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip().replace("\n", "; ")
    except OSError as e:
        return str(e)


def machine(res, args):
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 1024 / 1024
    return [
        ("kernel", platform.release()),
        ("CPU", "%s, %d cores" % (cpu, os.cpu_count())),
        ("memory", "%.1f GiB" % mem),
        ("cgroups", res["run"]["host_cgroup"] or "?"),
        ("minirun", version([args.minirun, "--version"])),
        ("minirun static", version([args.minirun_static, "--version"]) if "s" in MINIRUNS else "not measured"),
        ("crun", version(["crun", "--version"])),
        ("runc", version(["runc", "--version"])),
        ("load average (1, 5, 15 min)", "before %s, after %s" % (" ".join(res["load_before"]),
                                                                   " ".join(res["load_after"]))),
    ]


def hyperfine_rows(d):
    rows = []
    for path in sorted(glob.glob(os.path.join(d or "", "*.json"))):
        for r in json.load(open(path)).get("results", []):
            rows.append([os.path.basename(path)[:-5], "%.2f" % (r["median"] * 1e3), "%.2f" % (r["mean"] * 1e3),
                         "%.2f" % (r["stddev"] * 1e3), "%.2f–%.2f" % (r["min"] * 1e3, r["max"] * 1e3)])
    return rows


def emit(res, args):
    """Print the tables and write args.results from bench.py's samples (res)."""
    run = res["run"]
    use_runtimes(res)
    head = header("figure")
    rows, srows, tg = figure_rows(res), scale_rows(res), targets(res)
    trows = [[t, d, "met" if ok else "MISSED"] for t, d, ok in tg]
    print()
    print(table(head, rows))
    print()
    print(table(head, srows))
    print()
    print(table(["target", "figures", "result"], trows))
    now = run["date"]
    md = ["# minirun beside crun and runc", "",
          "Written by `bench/bench.sh` (do not edit by hand; run it again). %s, %.0f s%s." % (
              now, res["duration"], ", `--quick`" if run["quick"] else ""), "",
          "Command: `%s`" % run["command"], "", "## Machine", "",
          md_table(["", ""], machine(res, args)), "",
          "## Method", "",
          "- minirun is measured twice where `build-bench-static/` exists: its default build (`minirun`: "
          "libseccomp, libcap and jansson linked statically, glibc and libmnl shared) and its static build "
          "(`minirun static`: `-DMINIRUN_STATIC=ON`, no dynamic loader; `lo` comes up through SIOCSIFFLAGS "
          "because Debian ships no libmnl.a). The targets are judged for each.",
          "- One bundle for all runtimes: `minirun spec`, the busybox rootfs of `examples/mkrootfs.sh`, "
          "process `/bin/true` (or `/bin/sleep 1000` where a container must stay up), seccomp on "
          "(`bench/seccomp.json`: default `SCMP_ACT_ERRNO`, %d syscalls allowed), cgroups on "
          "(`linux.resources`: pids limit 1024, memory limit 256 MiB), no `cgroupsPath` "
          "(each runtime's default: minirun `/minirun/<id>`, crun `/<id>`, runc `<id>` under its own cgroup), "
          "default namespaces of `minirun spec` (pid, net, ipc, uts, mount, cgroup)." % run["seccomp_count"],
          "- All run in one private mount namespace where `/sys/fs/cgroup/unified/cgroup.controllers` is "
          "hidden (`mount --bind /dev/null`), because crun 1.8.1 refuses hybrid hosts otherwise. Each runtime has "
          "its own `--root`, %s." % ("on a tmpfs mounted in that namespace (as /run is on production hosts)"
                                    if run["tmpfs_state"] else "on the disk of the bench's temporary directory"),
          "- Invocations are interleaved (minirun, minirun static, crun, runc, minirun, ...), started with `os.posix_spawn` "
          "(stdio on /dev/null) and timed with `time.perf_counter` from spawn to `wait4`. Figures: median "
          "(min–max, n samples).",
          "- create/start/delete: create, start, poll `state` (untimed) until `stopped`, delete. exec: into a "
          "running `sleep 1000` container. Parallel: N `run -d` spawned at once, wall time until the last returns; "
          "then N `delete --force` likewise.",
          "- Peak RSS: `ru_maxrss` from `wait4` of the runtime process, through the static `bench-maxrss` helper "
          "(bench/maxrss.c; a program spawned by Python inherits Python's high-water mark at exec). It covers the "
          "runtime process and the children it reaped (for runc, `runc init`). MB = 10^6 bytes. "
          "Helper floor (its own high-water mark): at most %.2f MB." % res.get("rss_floor_mb", 0),
          "- Pinned pids: before each pinned run a host pid that is no pid, tid, pgid or sid at that moment (and "
          "far from the kernel's allocation point) is written into the pin bundle as `minirun.pids` "
          "`{host: P, container: 1}`; the unpinned runs (same config otherwise) alternate with them, "
          "pinned first in every other pair. The 2 % target is judged on the median of the paired "
          "differences (each pair runs back to back), which drifting load cannot split the way it splits "
          "the two medians.",
          "- Live containers: N `sleep` containers per runtime made with `run -d`, then `state` of one, `list` "
          "(table), and `create` + `delete` of one more, interleaved across runtimes.", "",
          "Checks made before measuring:", ""] + ["- " + c for c in res["checks"]] + [""]
    notes = res["notes"] + [
        "The machine is shared with other work; the 1-minute load average at the start of each phase "
        "(it also counts the bench's own parallel phases and decays over about a minute): "
        + ", ".join("%s %s" % (m.split(":")[0] if not m.startswith("scale: ") else m.split(" -> ")[1], load)
                    for _, m, load in res.get("phases", [])) + ".",
        "Where minirun's time goes, what was changed and what is left: see bench/PROFILE.md."]
    md += ["Notes:", ""] + ["- " + n for n in notes] + [""]
    md += ["## Figures", "", md_table(head, rows), "", "## Cost with live containers", "",
           md_table(head, srows), "", "## The issue's targets", "",
           md_table(["target", "figures", "result"], trows), ""]
    hrows = run["hyperfine"]
    if hrows:
        md += ["## hyperfine cross-check (`hyperfine -N`, run of /bin/true, back to back)", "",
               md_table(["runtime", "median ms", "mean ms", "stddev ms", "min–max ms"], hrows), ""]
    md += ["Cleanup: %s." % ("nothing left behind (containers, state dirs, cgroups)" if not res.get("leftovers")
                             else "LEFT BEHIND: " + "; ".join(res["leftovers"])), ""]
    # the checkpoint/restore section bench/criu.py writes stays
    try:
        old = open(args.results).read()
    except OSError:
        old = ""
    begin, end = "<!-- criu.py: begin -->", "<!-- criu.py: end -->"
    if begin in old and end in old:
        md += [old[old.index(begin):old.index(end) + len(end)], ""]
    with open(args.results, "w") as f:
        f.write("\n".join(md))
    print("\nbench: wrote %s" % args.results)
