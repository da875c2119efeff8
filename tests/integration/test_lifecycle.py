"""The whole OCI lifecycle through minirun's runc-style command line, against
the real binary, as root, on the real kernel: create, start, kill and delete
in one run, `run -d`, an init killed behind minirun's back (while created,
while running), and racing or parallel commands.  Each command's own cases
are in test_create.py, test_start.py, test_kill.py, test_delete.py,
test_state.py, test_list.py, test_ids.py, test_spec.py, test_features.py,
test_help.py, test_version.py, test_log.py and test_global_options.py; the
helpers in helpers/lifecycle.py (see there for how creates, timeouts and
teardowns work).

test_hooks.py, test_terminal.py and test_docker.py import helpers from this
module: they are re-exported here.
"""
import json
import os
import signal
import subprocess

# Re-exported for test_hooks.py, test_terminal.py and test_docker.py, which
# import them from here.
from conftest import MINIRUN, Minirun, cgroup_dirs, reap  # noqa: F401
from helpers.lifecycle import (  # noqa: F401
    CMD_TIMEOUT, RFC3339, Lifecycle, alive, assert_gone, cgroup_pids, cmdline, lc, lifecycle, new_id, parse_rfc3339,
    proc_state, read_lines, sh, wait_until)


# ---------------------------------------------------------------- the cycle

TRAPS = ("trap 'echo usr1' USR1; trap 'echo term; exit 0' TERM; "
         "echo out-$((6*7)); echo err-$((2+3)) >&2; read line; echo got-$line; "
         "while :; do sleep 0.05; done")


def test_create_start_kill_delete_cycle(lc, tmp_path):
    b = lc.bundle(sh(TRAPS))
    stdin = tmp_path / "stdin"
    stdin.write_text("the-input\n")
    pidfile = tmp_path / "init.pid"
    with open(stdin) as i:
        cid, r, out, err = lc.create(b, None, "--pid-file", pidfile, stdin=i)
    assert r.returncode == 0 and r.stderr_text == ""

    # created: the init exists, has not exec'd and produced nothing
    st = lc.state(cid)
    assert st["status"] == "created"
    pid = st["pid"]
    assert pid > 0 and alive(pid)
    assert b"minirun" in cmdline(pid)[0], cmdline(pid)
    assert pidfile.read_text() == str(pid)
    with open(f"/proc/{pid}/status") as f:
        assert [line.split()[1:] for line in f if line.startswith("NSpid:")] == [[str(pid), "1"]]
    assert out.read_text() == ""
    assert [c["status"] for c in json.loads(lc.cmd("list", "--format", "json", check=True).stdout)] == ["created"]

    # start: the process runs with the stdio create was given
    r = lc.start(cid)
    assert r.stdout == "" and r.stderr == ""
    assert lc.state(cid)["status"] == "running"
    wait_until(lambda: "got-the-input" in out.read_text(), what="the container's output")
    assert cmdline(pid)[:2] == [b"sh", b"-c"]
    assert read_lines(out) == ["out-42", "got-the-input"]
    assert "err-5" in read_lines(err)

    # kill: by name, SIG-name and number; each delivers exactly one signal
    for n, form in enumerate(("USR1", "SIGUSR1", str(int(signal.SIGUSR1)), "usr1"), start=1):
        r = lc.cmd("kill", cid, form)
        assert r.returncode == 0, (form, r.stderr)
        wait_until(lambda: read_lines(out).count("usr1") == n, what=f"the trap for kill {form}")
    assert lc.state(cid)["status"] == "running"

    r = lc.cmd("kill", cid, "TERM", check=True)
    wait_until(lambda: not alive(pid), what="the init to exit on TERM")
    assert read_lines(out)[-1] == "term"
    st = lc.state(cid)
    assert st["status"] == "stopped" and st["pid"] == 0

    r = lc.cmd("delete", cid)
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stderr
    assert_gone(lc, cid, pid)
    assert lc.ids() == []


def test_run_detach_returns_with_the_container_running(lc, tmp_path):
    b = lc.bundle(["sleep", "1000"])
    cid = new_id()
    lc.created.add(cid)
    # like create, the container keeps run -d's stdio: files, not pipes
    with open(tmp_path / "o", "w") as o:
        r = subprocess.run([MINIRUN, "--root", lc.root, "run", "-d", "-b", str(b), "--pid-file", str(tmp_path / "p"),
                            cid], stdin=subprocess.DEVNULL, stdout=o, stderr=o, timeout=CMD_TIMEOUT)
    assert r.returncode == 0, (tmp_path / "o").read_text()
    st = lc.state(cid)
    assert st["status"] == "running" and st["pid"] == int((tmp_path / "p").read_text())
    assert cmdline(st["pid"])[0] == b"sleep"
    lc.cmd("delete", "--force", cid, check=True)
    assert_gone(lc, cid, st["pid"])


# ---------------------------------------------------------------- stale state

def test_init_killed_behind_minirun_s_back_while_created(lc):
    cid, _, _, _ = lc.create(lc.bundle(["true"]))
    pid = lc.state(cid)["pid"]
    assert b"minirun" in cmdline(pid)[0]
    os.kill(pid, signal.SIGKILL)  # the init this test created through minirun
    wait_until(lambda: not alive(pid), what="the init to die")
    st = lc.state(cid)
    assert st["status"] == "stopped" and st["pid"] == 0
    rows = json.loads(lc.cmd("list", "--format", "json", check=True).stdout)
    assert [(r["id"], r["status"], r["pid"]) for r in rows] == [(cid, "stopped", 0)]
    r = lc.start(cid, check=False)
    assert r.returncode == 1 and "it is stopped, not created" in r.stderr, r.stderr
    r = lc.cmd("delete", cid)
    assert r.returncode == 0, r.stderr
    assert_gone(lc, cid)
    assert lc.ids() == []


def test_init_killed_behind_minirun_s_back_while_running(lc):
    cid, _, _ = lc.create_started(lc.bundle(["sleep", "1000"]))
    pid = lc.state(cid)["pid"]
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not alive(pid), what="the init to die")
    assert lc.state(cid)["status"] == "stopped"
    r = lc.cmd("kill", cid, "TERM")
    assert r.returncode == 1 and "is not running" in r.stderr
    r = lc.cmd("delete", cid)
    assert r.returncode == 0, r.stderr
    assert_gone(lc, cid)


# ---------------------------------------------------------------- concurrency

def test_racing_kill_and_delete_force(lc, tmp_path):
    """8 processes race `kill ID KILL` and `delete --force ID`: afterwards the
    container is gone and each racer either succeeded or said the container
    does not exist / is not running; the poststop hook ran exactly once."""
    hook_log = tmp_path / "poststop.log"
    hook = tmp_path / "poststop.sh"
    hook.write_text(f"#!/bin/sh\necho ran >> {hook_log}\n")
    hook.chmod(0o755)

    def mutate(cfg):
        cfg["hooks"] = {"poststop": [{"path": str(hook)}]}

    b = lc.bundle(["sleep", "1000"], mutate=mutate)
    problems = []
    for round_ in range(5):
        hook_log.unlink(missing_ok=True)
        cid, _, _ = lc.create_started(b)
        pid = lc.state(cid)["pid"]
        cmds = [("kill", cid, "KILL") if i % 2 == 0 else ("delete", "--force", cid) for i in range(8)]
        procs = [subprocess.Popen([MINIRUN, "--root", lc.root, *c], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) for c in cmds]
        results = []
        for c, p in zip(cmds, procs):
            try:
                out, err = p.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                for q in procs:
                    q.kill()
                    q.wait()
                raise AssertionError(f"round {round_}: `minirun {' '.join(c)}` hung")
            results.append((c[0], p.returncode, err))
        for name, rc, err in results:
            if rc == 1:
                allowed = ["does not exist"] + (["is not running"] if name == "kill" else [])
                if not any(a in err for a in allowed):
                    problems.append(f"round {round_}: {name} failed with an undocumented message: {err.strip()}")
            elif rc != 0 or err != "":  # negative: crashed
                problems.append(f"round {round_}: {name} exited {rc}: {err.strip()}")
        if not any(name == "delete" and rc == 0 for name, rc, _ in results):
            problems.append(f"round {round_}: no delete succeeded: {results}")
        reap(pid)
        assert_gone(lc, cid, pid)
        if read_lines(hook_log) != ["ran"]:
            problems.append(f"round {round_}: the poststop hook ran {len(read_lines(hook_log))} times, not once")
    assert lc.ids() == []
    assert problems == [], "\n".join(problems)


def test_parallel_creates_and_deletes(lc):
    b = lc.bundle(["sleep", "1000"])
    ids = sorted(new_id() for _ in range(16))
    lc.created.update(ids)
    procs = []
    for cid in ids:
        o = open(lc.tmp / f"{cid}.out", "w")
        procs.append((cid, o, subprocess.Popen([MINIRUN, "--root", lc.root, "create", "-b", str(b), cid],
                                               stdin=subprocess.DEVNULL, stdout=o, stderr=o)))
    for cid, o, p in procs:
        try:
            rc = p.wait(timeout=60)
        finally:
            o.close()
        assert rc == 0, (lc.tmp / f"{cid}.out").read_text()
    assert lc.ids() == ids
    pids = {c: lc.state(c)["pid"] for c in ids}
    assert len(set(pids.values())) == 16 and all(alive(p) for p in pids.values())

    procs = [(cid, subprocess.Popen([MINIRUN, "--root", lc.root, "delete", "--force", cid], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)) for cid in ids]
    for cid, p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0 and err == "", (cid, err)
    for pid in pids.values():
        reap(pid)
    assert lc.ids() == []
    for cid in ids:
        assert_gone(lc, cid, pids[cid])
    assert os.listdir(lc.root) == []
