#!/usr/bin/python3
"""summary.py: what a VM lane guest reported (scripts/vm-test.sh calls it).

  summary.py report SETUP RUNDIR ACCEL WALL_S RC
      prints the guest's kernel, boot and suite times, what it ran, every
      skip with its reason, every failure with its first message line, and
      a closing "SETUP guest: N passed, N failed, N skipped" line; writes the
      counts to RUNDIR/counts.
  summary.py total RUNDIR...
      the counts of every guest added up: "vm-lane: N passed, N failed, N skipped".

The counts come from the guest's JUnit XML (pytest --junitxml); an error
(a fixture that failed) counts as a failure, and a guest that gave back no
JUnit XML counts as one failure.
"""
import os
import sys
import xml.etree.ElementTree as ET


def info(rundir):
    out = {}
    try:
        with open(os.path.join(rundir, "guest-info")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                out[k] = v
    except OSError:
        pass
    return out


def cases(rundir):
    """(passed, failed, skipped) lists of (test id, message) from junit.xml, or None."""
    try:
        root = ET.parse(os.path.join(rundir, "junit.xml")).getroot()
    except (OSError, ET.ParseError):
        return None
    passed, failed, skipped = [], [], []
    for tc in root.iter("testcase"):
        # classname tests.integration.test_x (.Class) -> tests/integration/test_x.py(::Class)
        parts = (tc.get("classname") or "").split(".")
        mod = next((i for i, p in enumerate(parts) if p.startswith("test_")), len(parts) - 1)
        name = "/".join(parts[:mod + 1]) + ".py" + "".join(f"::{p}" for p in parts[mod + 1:]) + f"::{tc.get('name')}"
        bad = [c for c in tc if c.tag in ("failure", "error")]
        skip = [c for c in tc if c.tag == "skipped"]
        if bad:
            msg = (bad[0].get("message") or bad[0].text or "").strip().splitlines()
            failed.append((name, f"{bad[0].tag}: {msg[0] if msg else ''}"[:300]))
        elif skip:
            skipped.append((name, (skip[0].get("message") or "").strip()))
        else:
            passed.append((name, ""))
    return passed, failed, skipped


def report(setup, rundir, accel, wall, rc):
    gi = info(rundir)
    res = cases(rundir)
    print(f"---- {setup} guest ({accel}): Linux {gi.get('kernel', '?')}, exit code {rc}, {wall} s of qemu in all")
    if setup == "systemd":
        print(f"  PID 1: {gi.get('pid1', '?')} ({gi.get('systemd', '?')}); is-system-running: "
              f"{gi.get('system_state', '?')}; failed units: {gi.get('failed_units', '').strip() or 'none'}")
        if gi.get("boot_time"):
            print(f"  {gi['boot_time']}")
    print(f"  userspace reached {gi.get('userspace_s', '?')} s after the kernel started; "
          f"pytest took {gi.get('suite_s', '?')} s")
    print(f"  cgroup2: controllers `{gi.get('cgroup2.controllers', '?')}`, root subtree_control "
          f"`{gi.get('cgroup2.subtree_control', '?')}`, v1 mounts: {gi.get('cgroup_v1_mounts', '?')}")
    try:
        with open(os.path.join(rundir, "pytest-args")) as f:
            print(f"  ran: pytest {' '.join(f.read().split())}")
    except OSError:
        pass
    if res is None:
        print(f"  no JUnit XML came back (see {rundir}/console.log and pytest.log)")
        passed, failed, skipped = [], [("(the guest's test run)", f"no results, exit code {rc}")], []
    else:
        passed, failed, skipped = res
    for name, why in skipped:
        print(f"  SKIPPED {name}: {why}")
    for name, why in failed:
        print(f"  FAILED {name}: {why}")
    print(f"  logs: {rundir}/ (console.log, pytest.log, junit.xml, guest-info)")
    print(f"{setup} guest: {len(passed)} passed, {len(failed)} failed, {len(skipped)} skipped")
    with open(os.path.join(rundir, "counts"), "w") as f:
        f.write(f"{len(passed)} {len(failed)} {len(skipped)}\n")


def total(rundirs):
    p = f = s = 0
    for d in rundirs:
        try:
            with open(os.path.join(d, "counts")) as fh:
                a, b, c = (int(x) for x in fh.read().split())
        except (OSError, ValueError):
            a, b, c = 0, 1, 0
        p, f, s = p + a, f + b, s + c
    print(f"vm-lane: {p} passed, {f} failed, {s} skipped")


def main(argv):
    if len(argv) == 7 and argv[1] == "report":
        report(*argv[2:])
    elif len(argv) >= 2 and argv[1] == "total":
        total(argv[2:])
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
