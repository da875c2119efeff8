"""`create`: the pid file relative to the caller's directory, the command
found at create in process.env's PATH (or create failing in runc's words
when it cannot run), invalid and duplicate ids leaving nothing new behind.
"""
import os
import subprocess

import pytest

from conftest import MINIRUN
from helpers.lifecycle import CMD_TIMEOUT, alive, assert_gone, lc, new_id, wait_until  # noqa: F401 (fixture)


def test_pid_file_relative_to_the_callers_directory(lc, tmp_path):
    (tmp_path / "sub").mkdir()
    b = lc.bundle(["true"])
    cid = new_id()
    lc.created.add(cid)
    with open(tmp_path / "o", "w") as o:
        r = subprocess.run([MINIRUN, "--root", lc.root, "create", "-b", str(b), "--pid-file", "rel.pid", cid],
                           cwd=tmp_path / "sub", stdin=subprocess.DEVNULL, stdout=o, stderr=o, timeout=CMD_TIMEOUT)
    assert r.returncode == 0, (tmp_path / "o").read_text()
    assert (tmp_path / "sub" / "rel.pid").read_text() == str(lc.state(cid)["pid"])


# As runc: process.args[0] is resolved at create (PATH of process.env), so a
# command that cannot be run fails `create`, in runc's words, which docker and
# podman match to give 127 (not found) and 126 (cannot be executed).
@pytest.mark.parametrize("args, words", [
    (["no-such-command"], 'exec: "no-such-command": executable file not found in $PATH'),
    (["/no/such/file"], 'exec: "/no/such/file": stat /no/such/file: no such file or directory'),
    (["/etc/passwd"], 'exec: "/etc/passwd": permission denied'),
    (["/etc"], 'exec: "/etc": permission denied'),
    (["group"], 'exec: "group": executable file not found in $PATH'),  # in PATH=/etc, not executable
])
def test_a_command_that_cannot_run_fails_the_create(lc, args, words):
    def mutate(cfg):
        cfg["process"]["env"] = ["PATH=/etc:/bin"]
    cid, r, _, _ = lc.create(lc.bundle(args, mutate=mutate), check=False)
    assert r.returncode == 1, r.stderr_text
    assert f'container setup step "exec": {words}' in r.stderr_text, r.stderr_text
    assert "Permission denied" not in r.stderr_text and "No such file" not in r.stderr_text, r.stderr_text
    assert_gone(lc, cid)
    assert lc.ids() == []


def test_the_command_is_found_in_the_process_path_at_create(lc):
    """The init runs what create found: a PATH entry of process.env (not the
    default PATH), relative to nothing outside the container."""
    def mutate(cfg):
        cfg["process"]["env"] = ["PATH=/nowhere:/bin"]
    cid, _, out, _ = lc.create(lc.bundle(["echo", "found"], mutate=mutate))
    lc.start(cid)
    wait_until(lambda: lc.state(cid)["status"] == "stopped", what="the container to exit")
    assert out.read_text() == "found\n"
    lc.cmd("delete", cid, check=True)


def test_create_with_an_invalid_id_leaves_nothing(lc):
    r = lc.cmd("create", "-b", lc.bundle(["true"]), "-bad")
    assert r.returncode == 1 and r.stderr, r
    r = lc.cmd("create", "-b", lc.bundle(["true"]), "a/b")
    assert r.returncode == 1 and "invalid container id `a/b`" in r.stderr, r.stderr
    assert not os.path.exists(lc.root) or os.listdir(lc.root) == []


def test_duplicate_id(lc):
    b = lc.bundle(["sleep", "1000"])
    cid, _, _, _ = lc.create(b)
    pid = lc.state(cid)["pid"]
    _, r, _, _ = lc.create(b, cid, check=False)
    assert r.returncode == 1
    assert f"container `{cid}` already exists" in r.stderr_text, r.stderr_text
    # the first one is untouched and still starts
    st = lc.state(cid)
    assert st["status"] == "created" and st["pid"] == pid and alive(pid)
    lc.start(cid)
    assert lc.state(cid)["status"] == "running"
    # and run with the id of an existing container fails the same way
    r = lc.cmd("run", "-b", b, cid)
    assert r.returncode == 1 and "already exists" in r.stderr, r.stderr
    assert lc.state(cid)["pid"] == pid
