#!/usr/bin/python3
"""criu.py: checkpoint and restore, minirun beside runc, with the same CRIU.

    sudo bench/criu.py            10 rounds per case and runtime (about a minute)
    sudo bench/criu.py --quick    3 rounds
    sudo bench/criu.py --results FILE   write the section elsewhere

Both runtimes get the criu binary minirun uses (`minirun features` says which;
runc through its global --criu flag) and the same environment, including
CRIU_FAULT=130 (CRIU's breakpoint-free mode, without which a dump hangs on
this VM: see runtime/ops/criu_session.c).  crun is not measured: Debian's
crun 1.8.1 is built without CRIU.

One bundle for both (`minirun spec`, the busybox rootfs of examples/mkrootfs.sh,
no seccomp, default namespaces), two processes:
  small   a shell loop incrementing a counter (a few hundred KiB of memory)
  8 MB    the same loop holding 8 MB of random data in a shell variable
A round, per runtime (interleaved minirun, minirun --empty-ns network, runc, ...): `run -d`, wait
for the counter, `checkpoint` (timed), `restore -d` (timed), check the counter
went on, `delete --force`.  Each command is timed from spawn to exit
(time.perf_counter).  Image size: every file CRIU wrote into the image
directory, logs (dump.log, restore.log) and runc's/minirun's own small files
included, as `du` would count them (apparent sizes).

The figures replace the section between the criu.py markers in
bench/RESULTS.md (report.py keeps it when bench.sh rewrites the file).
"""
import argparse
import ctypes
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
BEGIN, END = "<!-- criu.py: begin -->", "<!-- criu.py: end -->"
CASES = {
    "small": "i=0; while :; do i=$((i+1)); echo $i > /dev/shm/count; sleep 0.05; done",
    "8 MB": ("x=$(head -c 6000000 /dev/urandom | base64); i=0; "
             "while :; do i=$((i+1)); echo $i > /dev/shm/count; sleep 0.05; done"),
}


def reap_children():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def timed(argv, env):
    t = time.perf_counter()
    r = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, timeout=120)
    ms = (time.perf_counter() - t) * 1000
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, argv))} failed: {r.stderr.strip()}")
    return ms


def wait_count(rt, root, cid, env, above=0):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r = subprocess.run([rt, "--root", root, "exec", cid, "cat", "/dev/shm/count"], env=env,
                           capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.strip().isdigit() and int(r.stdout) > above:
            return int(r.stdout)
        time.sleep(0.05)
    raise RuntimeError(f"{rt}: the counter of {cid} does not move")


def image_size(path):
    return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


def fmt(v):
    return "%.1f (%.1f–%.1f, n=%d)" % (statistics.median(v), min(v), max(v), len(v))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minirun", default=os.path.join(TOP, "build", "minirun"))
    p.add_argument("--runc", default=shutil.which("runc") or "runc")
    p.add_argument("--rootfs", default=os.path.join(TOP, "examples", "rootfs"))
    p.add_argument("--quick", action="store_true")
    p.add_argument("--results", default=os.path.join(HERE, "RESULTS.md"))
    args = p.parse_args()
    if os.geteuid() != 0:
        sys.exit("criu.py: run as root")
    feats = json.loads(subprocess.run([args.minirun, "features"], capture_output=True, text=True,
                                      check=True).stdout)
    cr = feats["minirun"]["checkpointRestore"]
    if not cr["builtIn"]:
        sys.exit("criu.py: this minirun has no checkpoint/restore (scripts/setup.sh --criu, then rebuild)")
    criu = cr["criu"]
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C", "CRIU_FAULT": "130"}
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(36, 1, 0, 0, 0)  # subreaper: restored inits come back to us and are reaped
    rounds = 3 if args.quick else 10
    work = tempfile.mkdtemp(prefix="minirun-bench-criu.")
    rts = {"minirun": [args.minirun], "minirun-emptyns": [args.minirun], "runc": [args.runc, "--criu", criu]}
    # runc always checkpoints the network namespace empty (no interfaces,
    # addresses, routes or firewall in the image; lo comes back down);
    # minirun keeps them unless --empty-ns network, which the middle column uses
    extra = {"minirun": [], "minirun-emptyns": ["--empty-ns", "network"], "runc": []}
    roots = {k: os.path.join(work, "state-" + k) for k in rts}
    res = {}
    load0 = open("/proc/loadavg").read().split()[:3]
    t0 = time.monotonic()
    live = []
    try:
        for case, script in CASES.items():
            b = os.path.join(work, "bundle-" + case.replace(" ", ""))
            os.mkdir(b)
            subprocess.run([args.minirun, "spec", "-b", b], check=True)
            with open(os.path.join(b, "config.json")) as f:
                cfg = json.load(f)
            cfg["root"]["path"] = os.path.realpath(args.rootfs)
            cfg["process"]["args"] = ["sh", "-c", script]
            with open(os.path.join(b, "config.json"), "w") as f:
                json.dump(cfg, f)
            for n in range(rounds):
                for name, base in rts.items():
                    cid = f"mrbc{os.getpid()}-{list(rts).index(name)}-{n}"
                    img = os.path.join(work, f"img-{cid}")
                    root = ["--root", roots[name]]
                    live.append((name, cid))
                    subprocess.run(base + root + ["run", "-d", "-b", b, cid], env=env, check=True, timeout=60,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    before = wait_count(base[0], roots[name], cid, env)
                    c_ms = timed(base + root + ["checkpoint", *extra[name], "--image-path", img, cid], env)
                    reap_children()
                    size = image_size(img)
                    r_ms = timed(base + root + ["restore", *extra[name], "-d", "--image-path", img, "-b", b, cid],
                                 env)
                    wait_count(base[0], roots[name], cid, env, above=before)
                    subprocess.run(base + root + ["delete", "--force", cid], env=env, timeout=60,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    live.remove((name, cid))
                    reap_children()
                    shutil.rmtree(img)
                    f = res.setdefault(case, {}).setdefault(name, {"checkpoint": [], "restore": [], "size": []})
                    f["checkpoint"].append(c_ms)
                    f["restore"].append(r_ms)
                    f["size"].append(size / 1024)
    finally:
        for name, cid in live:
            subprocess.run(rts[name] + ["--root", roots[name], "delete", "--force", cid], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        reap_children()
        shutil.rmtree(work, ignore_errors=True)
    load1 = open("/proc/loadavg").read().split()[:3]

    criu_version = subprocess.run([criu, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    runc_version = subprocess.run([args.runc, "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    rows = []
    for case, by in res.items():
        m, e, r = by["minirun"], by["minirun-emptyns"], by["runc"]
        for key, label in (("checkpoint", "checkpoint [ms]"), ("restore", "restore -d [ms]"),
                           ("size", "image size [KiB]")):
            med = {k: statistics.median(v[key]) for k, v in (("m", m), ("e", e), ("r", r))}
            rows.append(f"| {case}: {label} | {fmt(m[key])} | {fmt(e[key])} | {fmt(r[key])} | "
                        f"{med['m'] / med['r']:.2f} | {med['e'] / med['r']:.2f} |")
    md = [BEGIN, "", "## Checkpoint and restore (bench/criu.py)", "",
          f"Written by `bench/criu.py{' --quick' if args.quick else ''}` "
          f"{datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M')} UTC, {time.monotonic() - t0:.0f} s; "
          f"{criu_version.strip()} at `{criu}` for both; {runc_version.strip()}; kernel {os.uname().release}; "
          f"load average before {' '.join(load0)}, after {' '.join(load1)}.", "",
          "A round per runtime, interleaved: `run -d`, `checkpoint` (timed), `restore -d` (timed), the counter "
          "checked to go on, `delete --force`. Median (min–max, n). The image size counts every file in the "
          "image directory, CRIU's log included.", "",
          "runc checkpoints the network namespace empty (`--empty-ns network` is always on: no interfaces, "
          "addresses, routes or firewall rules in the image, and `lo` comes back down); minirun keeps them "
          "unless asked, so that a TCP connection on `lo` survives. The middle column is minirun with "
          "`--empty-ns network` on both commands: the like-for-like comparison.", "",
          "| figure | minirun | minirun --empty-ns network | runc | minirun/runc | minirun --empty-ns/runc |",
          "|---|---|---|---|---|---|", *rows, "", END, ""]
    print("\n".join(md))
    old = open(args.results).read() if os.path.exists(args.results) else ""
    if BEGIN in old and END in old:
        old = old[:old.index(BEGIN)] + old[old.index(END) + len(END):].lstrip("\n")
    with open(args.results, "w") as f:
        f.write(old.rstrip("\n") + "\n\n" + "\n".join(md))
    print(f"criu.py: wrote {args.results}")


if __name__ == "__main__":
    main()
