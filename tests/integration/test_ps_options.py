"""`minirun ps ID [PS OPTIONS...]`, as runc's: the host's ps(1) runs with the
options, and minirun prints its header and the lines of the container's own
processes (by ps's PID column)."""
import json

from test_lifecycle import wait_until


def running(mr):
    """A container with two processes, once both are there (the shell forks
    its child after run -d returns)."""
    b = mr.bundle(["/bin/sh", "-c", "sleep 1000 & exec sleep 1001"])
    r = mr.run(b, "-d", cid="psopts")
    assert r.returncode == 0, r.stderr
    pids = wait_until(lambda: (lambda p: len(p) == 2 and p)(
        json.loads(mr.cmd("ps", "--format", "json", "psopts", check=True).stdout)), what="both processes")
    return "psopts", pids


def pid_column(out):
    lines = out.splitlines()
    col = lines[0].split().index("PID")
    return lines[0], [int(l.split()[col]) for l in lines[1:]]


def test_ps_options_show_only_the_containers_processes(mr):
    cid, pids = running(mr)
    assert len(pids) == 2, pids
    r = mr.cmd("ps", cid, "-eo", "pid,ppid,comm", check=True)
    header, shown = pid_column(r.stdout)
    assert header.split() == ["PID", "PPID", "COMMAND"], header
    assert sorted(shown) == sorted(pids), (r.stdout, pids)
    assert all(l.split()[2] == "sleep" for l in r.stdout.splitlines()[1:]), r.stdout


def test_ps_options_after_a_double_dash(mr):
    cid, pids = running(mr)
    r = mr.cmd("ps", cid, "--", "-ef", check=True)
    header, shown = pid_column(r.stdout)
    assert header.split()[:2] == ["UID", "PID"], header
    assert sorted(shown) == sorted(pids), r.stdout


def test_ps_options_without_a_pid_column_fail_clearly(mr):
    cid, _ = running(mr)
    r = mr.cmd("ps", cid, "-eo", "comm")
    assert r.returncode == 1
    assert "no PID column" in r.stderr, r.stderr


def test_ps_options_that_ps_refuses_fail_with_its_status(mr):
    cid, _ = running(mr)
    r = mr.cmd("ps", cid, "--no-such-ps-option")
    assert r.returncode == 1
    assert "ps(1) failed" in r.stderr or "no PID column" in r.stderr, r.stderr


def test_ps_json_ignores_ps_options_as_runc(mr):
    cid, pids = running(mr)
    r = mr.cmd("ps", "--format", "json", cid, "-ef", check=True)
    assert sorted(json.loads(r.stdout)) == sorted(pids)


def test_ps_pins_takes_no_ps_options(mr):
    cid, _ = running(mr)
    r = mr.cmd("ps", "--format", "pins", cid, "-ef")
    assert r.returncode == 1 and "takes no ps(1) options" in r.stderr, r.stderr


def test_ps_with_a_zombie_in_the_container(mr):
    """A zombie (here a child its parent never waits for) is skipped by ps,
    which still lists the rest.  (A process caught while it exits has an
    empty cmdline too: what ps read of it is freed, a leak LeakSanitizer
    found in the CI; that moment cannot be caught on purpose.)"""
    b = mr.bundle(["/bin/sh", "-c", "sleep 0 & exec sleep 1000"])
    r = mr.run(b, "-d", cid="pszombie")
    assert r.returncode == 0, r.stderr
    init = mr.state("pszombie")["pid"]
    for fmt in ("json", "table", "pins"):
        r = mr.cmd("ps", "--format", fmt, "pszombie", check=True)
        assert str(init) in r.stdout or fmt == "pins", (fmt, r.stdout)
