"""The OCI lifecycle through minirun's runc-style command line: create, start,
state, kill, delete, list, spec, features and the global options, against the
real binary, as root, on the real kernel.

`create` leaves the init waiting before exec; its stdio is the stdio create
was given, so every create here writes to files (a pipe would stay open in
the container and keep subprocess waiting).  Every minirun call has a
timeout: a hang is reported as a failure naming the command, never as a hung
suite.  Each test has its own --root and unique ids (the cgroup tree
/sys/fs/cgroup/*/minirun/ is shared with other test runs); the teardown
deletes what the test created, kills what a broken delete left in the
container's cgroup, and checks that no state or cgroup directory is left.

The helpers (Lifecycle, lifecycle() behind the `lc` fixture, wait_until, ...)
are imported by test_hooks.py and test_terminal.py.
"""
import datetime
import json
import os
import pwd
import re
import signal
import subprocess
import time
import uuid

import pytest

from conftest import MINIRUN, Minirun, cgroup_dirs, reap

CMD_TIMEOUT = 10


def new_id(prefix="lc"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def sh(script):
    return ["sh", "-c", script]


def wait_until(pred, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.02)


def proc_state(pid):
    """The one-letter state of /proc/<pid>/stat, or None if there is no such process."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return data[data.rindex(")") + 2]


def alive(pid):
    return proc_state(pid) not in (None, "Z", "X")


def cmdline(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().split(b"\0")


def cgroup_pids(cid):
    """Pids in the container's cgroup, in every hierarchy (all created by the test)."""
    pids = set()
    for d in cgroup_dirs(f"/minirun/{cid}"):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return pids


class Lifecycle(Minirun):
    """Minirun with bounded commands, create/start helpers and a teardown
    that survives a hung or broken delete."""

    def cmd(self, *args, timeout=CMD_TIMEOUT, check=False, **kw):
        argv = [MINIRUN, "--root", self.root] + [str(a) for a in args]
        pids = []
        if args and args[0] == "delete" and not str(args[-1]).startswith("-"):
            # the test process is a child subreaper (conftest): reap what the delete ends
            pids = self._pids(str(args[-1]), timeout)
        try:
            r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"`minirun {' '.join(str(a) for a in args)}` did not return within {timeout}s "
                                 "(hung)") from None
        for pid in pids:
            reap(pid)
        if check and r.returncode != 0:
            raise AssertionError(f"{argv} failed ({r.returncode}):\nstdout: {r.stdout}\nstderr: {r.stderr}")
        return r

    def _pids(self, cid, timeout):
        try:
            st = subprocess.run([MINIRUN, "--root", self.root, "state", cid], capture_output=True, text=True,
                                timeout=min(timeout, 3))
        except subprocess.TimeoutExpired:
            return sorted(cgroup_pids(cid))
        if st.returncode != 0:
            return []
        data = json.loads(st.stdout)
        return [p for p in [data.get("pid", 0)] + [p["pid"] for p in data.get("minirun", {}).get("processes", [])]
                if p]

    def create(self, bundle, cid=None, *extra, stdin=None, check=True, timeout=CMD_TIMEOUT):
        """`create` with the container's stdout/stderr in files; returns
        (cid, CompletedProcess, stdout path, stderr path)."""
        cid = cid or new_id()
        self.created.add(cid)
        out = self.tmp / f"{cid}.out"
        err = self.tmp / f"{cid}.err"
        argv = [MINIRUN, "--root", self.root, "create", "-b", str(bundle), *[str(e) for e in extra], cid]
        with open(out, "ab") as o, open(err, "ab") as e:
            try:
                r = subprocess.run(argv, stdin=stdin if stdin is not None else subprocess.DEVNULL, stdout=o,
                                   stderr=e, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"`{' '.join(argv)}` did not return within {timeout}s (hung)") from None
        r.stderr_text = err.read_text()
        if check and r.returncode != 0:
            raise AssertionError(f"{argv} failed ({r.returncode}): {r.stderr_text}")
        return cid, r, out, err

    def start(self, cid, check=True):
        return self.cmd("start", cid, check=check)

    def create_started(self, bundle, cid=None, *extra):
        cid, r, out, err = self.create(bundle, cid, *extra)
        self.start(cid)
        return cid, out, err

    def ids(self):
        return self.cmd("list", "-q", check=True).stdout.split()

    def cleanup(self):
        problems = []
        for cid in sorted(self.created):
            try:
                r = self.cmd("delete", "--force", cid, timeout=8)
                ok = r.returncode == 0 or "does not exist" in r.stderr
                why = r.stderr
            except AssertionError as e:
                ok, why = False, str(e)
            if not ok:
                problems.append(f"delete --force {cid}: {why.strip()}")
                stuck = cgroup_pids(cid)
                for pid in stuck:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                for pid in stuck:
                    reap(pid)
                try:
                    self.cmd("delete", "--force", cid, timeout=15)
                except AssertionError as e:
                    problems.append(str(e))
            for d in cgroup_dirs(f"/minirun/{cid}"):
                problems.append(f"cgroup left behind: {d}")
                try:
                    os.rmdir(d)
                except OSError:
                    pass
        left = [e for e in os.listdir(self.root) if not e.startswith(".")] if os.path.isdir(self.root) else []
        for name in left:
            d = os.path.join(self.root, name)
            for f in os.listdir(d):
                os.unlink(os.path.join(d, f))
            os.rmdir(d)
        assert left == [], f"state entries left behind: {left}"
        # printed, not asserted: the test has usually failed on the same cause
        if problems:
            print("teardown:", *problems, sep="\n  ")


def lifecycle(tmp_path):
    """The body of the `lc` fixture (test_hooks.py and test_terminal.py use it too)."""
    m = Lifecycle(tmp_path)
    yield m
    m.cleanup()


@pytest.fixture
def lc(tmp_path):
    yield from lifecycle(tmp_path)


def assert_gone(lc, cid, pid=None):
    assert not os.path.exists(os.path.join(lc.root, cid)), "state directory left behind"
    assert cgroup_dirs(f"/minirun/{cid}") == [], "cgroup directories left behind"
    if pid:
        wait_until(lambda: not alive(pid), 5, f"process {pid} to be gone")
    r = lc.cmd("state", cid)
    assert r.returncode == 1 and f"container `{cid}` does not exist" in r.stderr, r.stderr


def read_lines(path):
    return path.read_text().splitlines() if path.exists() else []


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


def test_kill_defaults_to_term(lc):
    cid, out, _ = lc.create_started(lc.bundle(sh("trap 'echo term; exit 0' TERM; while :; do sleep 0.05; done")))
    pid = lc.state(cid)["pid"]
    lc.cmd("kill", cid, check=True)
    wait_until(lambda: not alive(pid), what="the init to exit")
    assert read_lines(out) == ["term"]
    assert lc.state(cid)["status"] == "stopped"


@pytest.mark.parametrize("form", ["KILL", "SIGKILL", "9"])
def test_kill_by_name_and_number(lc, form):
    cid, _, _ = lc.create_started(lc.bundle(["sleep", "1000"]))
    pid = lc.state(cid)["pid"]
    r = lc.cmd("kill", cid, form)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    wait_until(lambda: not alive(pid), what="the init to die")
    assert lc.state(cid)["status"] == "stopped"
    lc.cmd("delete", cid, check=True)
    assert_gone(lc, cid)


def test_kill_all_signals_every_process(lc, tmp_path):
    cid, out, _ = lc.create_started(lc.bundle(sh("sleep 1000 & echo $!; wait")))
    pid = lc.state(cid)["pid"]
    wait_until(lambda: read_lines(out), what="the child's pid")
    pids = wait_until(lambda: cgroup_pids(cid) if len(cgroup_pids(cid)) == 2 else None, what="two processes")
    assert pid in pids
    lc.cmd("kill", "--all", cid, "KILL", check=True)
    for p in pids:
        wait_until(lambda: not alive(p), what=f"process {p} to die")
    lc.cmd("delete", cid, check=True)
    assert_gone(lc, cid)


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


def test_delete_of_a_created_container_kills_its_init(lc):
    cid, _, _, _ = lc.create(lc.bundle(["true"]))
    pid = lc.state(cid)["pid"]
    r = lc.cmd("delete", cid)
    assert r.returncode == 0, r.stderr
    assert_gone(lc, cid, pid)


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


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("args", [["state"], ["start"], ["kill"], ["kill", "{id}", "KILL"], ["delete"]])
def test_unknown_id(lc, args):
    cid = new_id("nope")
    argv = [a.format(id=cid) for a in args]
    if "{id}" not in args:
        argv.append(cid)
    r = lc.cmd(*argv)
    assert r.returncode == 1, r
    assert r.stdout == ""
    assert r.stderr.strip() == f"minirun: container `{cid}` does not exist: No such file or directory", r.stderr


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


@pytest.mark.parametrize("force", ["--force", "-f"])
def test_delete_force_of_an_unknown_id_succeeds(lc, force):
    """As runc's: what is not there is deleted already (podman and containerd
    run `delete --force` to be sure, and print the error otherwise)."""
    cid = new_id("nope")
    r = lc.cmd("delete", force, cid)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", ""), r
    assert not os.path.exists(os.path.join(lc.root, cid))
    # an invalid id is still an error, with or without --force
    r = lc.cmd("delete", force, "bad/id")
    assert r.returncode == 1 and "invalid container id" in r.stderr, r


@pytest.mark.parametrize("cmd", ["state", "start", "kill", "delete"])
def test_invalid_id_is_refused(lc, cmd):
    r = lc.cmd(cmd, "../escape")
    assert r.returncode == 1
    assert "invalid container id `../escape`" in r.stderr, r.stderr


def test_create_with_an_invalid_id_leaves_nothing(lc):
    r = lc.cmd("create", "-b", lc.bundle(["true"]), "-bad")
    assert r.returncode == 1 and r.stderr, r
    r = lc.cmd("create", "-b", lc.bundle(["true"]), "a/b")
    assert r.returncode == 1 and "invalid container id `a/b`" in r.stderr, r.stderr
    assert not os.path.exists(lc.root) or os.listdir(lc.root) == []


def test_missing_id_is_a_usage_error(lc):
    for cmd in ("state", "start", "delete", "kill", "create"):
        r = lc.cmd(cmd)
        assert r.returncode == 1, cmd
        assert "Usage: minirun" in r.stderr, (cmd, r.stderr)


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


def test_start_of_a_running_container(lc):
    cid, _, _ = lc.create_started(lc.bundle(["sleep", "1000"]))
    pid = lc.state(cid)["pid"]
    r = lc.start(cid, check=False)
    assert r.returncode == 1
    assert f"cannot start container `{cid}`: it is running, not created" in r.stderr, r.stderr
    assert lc.state(cid)["status"] == "running" and alive(pid)


def test_start_of_a_stopped_container(lc):
    cid, _, _ = lc.create_started(lc.bundle(["true"]))
    wait_until(lambda: lc.state(cid)["status"] == "stopped", what="the container to stop")
    r = lc.start(cid, check=False)
    assert r.returncode == 1
    assert f"cannot start container `{cid}`: it is stopped, not created" in r.stderr, r.stderr


def test_delete_of_a_running_container(lc):
    cid, _, _ = lc.create_started(lc.bundle(["sleep", "1000"]))
    pid = lc.state(cid)["pid"]
    r = lc.cmd("delete", cid)
    assert r.returncode == 1
    assert f"cannot delete container `{cid}`: it is running (stop it first, or use --force)" in r.stderr, r.stderr
    assert lc.state(cid)["status"] == "running" and alive(pid)
    assert cgroup_dirs(f"/minirun/{cid}") != []
    lc.cmd("kill", cid, "USR2", check=True)  # still signalable through its state

    r = lc.cmd("delete", "--force", cid)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    assert_gone(lc, cid, pid)


@pytest.mark.parametrize("bad", ["FOO", "SIGFOO", "0", "-1", "65", "9x", ""])
def test_bad_signal(lc, bad):
    cid, _, _ = lc.create_started(lc.bundle(["sleep", "1000"]))
    pid = lc.state(cid)["pid"]
    r = lc.cmd("kill", cid, bad)
    assert r.returncode == 1
    assert f"unknown signal `{bad}`" in r.stderr, r.stderr
    assert lc.state(cid)["status"] == "running" and alive(pid)


def test_kill_of_a_stopped_container(lc):
    cid, _, _ = lc.create_started(lc.bundle(["true"]))
    wait_until(lambda: lc.state(cid)["status"] == "stopped", what="the container to stop")
    r = lc.cmd("kill", cid, "KILL")
    assert r.returncode == 1
    assert f"container `{cid}` is not running" in r.stderr, r.stderr
    lc.cmd("delete", cid, check=True)
    assert_gone(lc, cid)


# ---------------------------------------------------------------- state and list

# The runtime-spec's state schema (schema/state-schema.json), with "paused"
# as runc and minirun report it.
OCI_STATE_SCHEMA = {
    "type": "object",
    "properties": {
        "ociVersion": {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.+-]+)?$"},
        "id": {"type": "string", "minLength": 1},
        "status": {"type": "string", "enum": ["creating", "created", "running", "stopped", "paused"]},
        "pid": {"type": "integer", "minimum": 0},
        "bundle": {"type": "string"},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["ociVersion", "id", "status", "bundle"],
}

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def parse_rfc3339(s):
    assert RFC3339.match(s), s
    s = re.sub(r"\.(\d{6})\d*", r".\1", s).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(s)


def test_state_json_follows_the_oci_schema(lc):
    jsonschema = pytest.importorskip("jsonschema")

    def mutate(cfg):
        cfg["annotations"] = {"org.example.key": "value", "org.example.empty": ""}

    b = lc.bundle(["sleep", "1000"], mutate=mutate)
    before = datetime.datetime.now(datetime.timezone.utc)
    cid, _, _, _ = lc.create(b, None, "--pid-file", lc.tmp / "p")
    pid = int((lc.tmp / "p").read_text())
    for want in ("created", "running", "stopped"):
        if want == "running":
            lc.start(cid)
        if want == "stopped":
            lc.cmd("kill", cid, "KILL", check=True)
            wait_until(lambda: not alive(pid), what="the init to die")
        r = lc.cmd("state", cid, check=True)
        st = json.loads(r.stdout)
        jsonschema.validate(st, OCI_STATE_SCHEMA)
        assert st["id"] == cid
        assert st["status"] == want
        assert st["pid"] == (0 if want == "stopped" else pid)
        assert os.path.isabs(st["bundle"]) and st["bundle"] == os.path.realpath(b)
        assert st["annotations"] == {"org.example.key": "value", "org.example.empty": ""}
        assert before - datetime.timedelta(seconds=1) <= parse_rfc3339(st["created"]) <= \
            datetime.datetime.now(datetime.timezone.utc)
        assert st["rootfs"] == os.path.realpath(b / "rootfs")


def test_state_reports_the_spec_version_minirun_implements(lc):
    v = lc.cmd("--version", check=True).stdout
    spec = re.search(r"^spec: (\S+)$", v, re.M).group(1)
    cid, _, _, _ = lc.create(lc.bundle(["true"]))
    assert lc.state(cid)["ociVersion"] == spec


def test_state_annotations_is_an_object_when_the_config_has_none(lc):
    def mutate(cfg):
        cfg.pop("annotations", None)

    cid, _, _, _ = lc.create(lc.bundle(["true"], mutate=mutate))
    assert lc.state(cid)["annotations"] == {}


def test_list_formats(lc):
    me = pwd.getpwuid(os.geteuid()).pw_name
    b1, b2, b3 = lc.bundle(["sleep", "1000"]), lc.bundle(["sleep", "1000"]), lc.bundle(["true"])
    ids = sorted(new_id() for _ in range(3))
    c_created, _, _, _ = lc.create(b1, ids[0])
    c_running, _, _ = lc.create_started(b2, ids[1])
    c_stopped, _, _ = lc.create_started(b3, ids[2])
    wait_until(lambda: lc.state(c_stopped)["status"] == "stopped", what="the third to stop")
    want = {c_created: ("created", b1), c_running: ("running", b2), c_stopped: ("stopped", b3)}
    pids = {c: lc.state(c)["pid"] for c in ids}

    # -q: the ids, sorted, one a line
    r = lc.cmd("list", "-q", check=True)
    assert r.stdout == "".join(c + "\n" for c in ids)
    assert lc.cmd("list", "--quiet", check=True).stdout == r.stdout

    # json: runc's fields
    r = lc.cmd("list", "--format", "json", check=True)
    rows = json.loads(r.stdout)
    assert [row["id"] for row in rows] == ids
    for row in rows:
        status, bundle = want[row["id"]]
        assert {"id", "pid", "status", "bundle", "created", "owner"} <= set(row), row
        assert row["status"] == status
        assert row["pid"] == pids[row["id"]] and (row["pid"] > 0) == (status != "stopped")
        assert row["bundle"] == os.path.realpath(bundle)
        parse_rfc3339(row["created"])
    assert lc.cmd("list", "-f", "json", check=True).stdout == r.stdout

    # table: a header and one row per container, in id order
    r = lc.cmd("list", check=True)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert len(lines) == 4
    for line, cid in zip(lines[1:], ids):
        f = line.split()
        status, bundle = want[cid]
        assert f[:5] == [cid, str(pids[cid]), status, os.path.realpath(bundle), lc.state(cid)["created"]], line
    assert lc.cmd("list", "--format", "table", check=True).stdout == r.stdout

    # owner: the user who owns the container (runc: the state dir's owner's name)
    assert {row["owner"] for row in rows} == {me}, rows


def test_list_empty_and_bad_format(lc):
    r = lc.cmd("list", "--format", "json", check=True)
    assert json.loads(r.stdout) == []
    assert lc.cmd("list", "-q", check=True).stdout == ""
    assert lc.cmd("list", check=True).stdout.split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    r = lc.cmd("list", "--format", "yaml")
    assert r.returncode == 1 and "expected table or json, got `yaml`" in r.stderr


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


# ---------------------------------------------------------------- global options

def test_log_json_records_errors(lc, tmp_path):
    log = tmp_path / "minirun.log"
    cid = new_id("nope")
    r = lc.cmd("--log", log, "--log-format", "json", "start", cid)
    assert r.returncode == 1
    assert f"container `{cid}` does not exist" in r.stderr
    lines = log.read_text().splitlines()
    assert len(lines) == 1, lines
    entry = json.loads(lines[0])
    assert entry["level"] == "error"
    assert f"container `{cid}` does not exist" in entry["msg"]
    t = parse_rfc3339(entry["time"])
    assert abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) < 60
    # appends, one object a line
    lc.cmd("--log", log, "--log-format", "json", "kill", cid, "KILL")
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(x)["level"] == "error" for x in lines)


def test_log_text_records_errors(lc, tmp_path):
    log = tmp_path / "minirun.log"
    cid = new_id("nope")
    r = lc.cmd("--log", log, "--log-format", "text", "delete", cid)
    assert r.returncode == 1
    text = log.read_text()
    assert "error" in text and f"container `{cid}` does not exist" in text, text
    r = lc.cmd("--log", log, "state", cid)  # text is the default
    assert log.read_text().count(f"container `{cid}` does not exist") == 2


def test_log_leaves_stdout_alone_and_success_quiet(lc, tmp_path):
    log = tmp_path / "minirun.log"
    cid, _, _, _ = lc.create(lc.bundle(["true"]))
    r = lc.cmd("--log", log, "--log-format", "json", "--debug", "state", cid, check=True)
    assert json.loads(r.stdout)["id"] == cid
    for line in (log.read_text().splitlines() if log.exists() else []):
        assert json.loads(line)["level"] in ("debug", "info"), line


def test_log_file_that_cannot_be_opened(lc, tmp_path):
    r = lc.cmd("--log", tmp_path / "no" / "such" / "dir.log", "list")
    assert r.returncode == 1
    assert str(tmp_path / "no" / "such" / "dir.log") in r.stderr, r.stderr


def test_bad_log_format(lc):
    r = lc.cmd("--log-format", "xml", "list")
    assert r.returncode == 1 and "expected text or json, got `xml`" in r.stderr


def test_systemd_cgroup_is_refused_clearly(lc, tmp_path):
    log = tmp_path / "l"
    cid = new_id()
    lc.created.add(cid)
    r = lc.cmd("--systemd-cgroup", "--log", log, "--log-format", "json", "create", "-b", lc.bundle(["true"]), cid)
    assert r.returncode == 1
    assert "--systemd-cgroup" in r.stderr and "cgroupfs" in r.stderr, r.stderr
    assert json.loads(log.read_text().splitlines()[-1])["level"] == "error"
    assert not os.path.exists(os.path.join(lc.root, cid))
    assert cgroup_dirs(f"/minirun/{cid}") == []


def test_root_option_separates_containers(lc, tmp_path):
    cid, _, _, _ = lc.create(lc.bundle(["true"]))
    other = str(tmp_path / "other-root")
    r = subprocess.run([MINIRUN, "--root", other, "state", cid], capture_output=True, text=True, timeout=CMD_TIMEOUT)
    assert r.returncode == 1 and "does not exist" in r.stderr
    r = subprocess.run([MINIRUN, "--root", other, "list", "-q"], capture_output=True, text=True, timeout=CMD_TIMEOUT)
    assert r.returncode == 0 and r.stdout == ""
    assert os.path.isdir(os.path.join(lc.root, cid))


def test_unknown_command_and_help(lc):
    r = lc.cmd("frobnicate")
    assert r.returncode == 1 and "unknown command `frobnicate`" in r.stderr
    r = lc.cmd()
    assert r.returncode == 1 and "Usage: minirun" in r.stderr
    r = lc.cmd("--help", check=True)
    for c in ("run", "create", "start", "state", "kill", "delete", "list", "spec", "features"):
        assert re.search(rf"^  {c}\s", r.stdout, re.M), c
        h = lc.cmd(c, "--help")
        assert h.returncode == 0 and h.stdout.startswith(f"Usage: minirun {c}"), (c, h.stdout, h.stderr)
    assert re.match(r"^minirun version \S+\nspec: \d+\.\d+\.\d+", lc.cmd("--version", check=True).stdout)


def has_program_interpreter(path):
    """Whether the ELF file has a PT_INTERP header (is dynamically linked)."""
    import struct
    with open(path, "rb") as f:
        head = f.read(64)
        assert head[:4] == b"\x7fELF" and head[4] == 2, "a 64-bit ELF file"
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return any(struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum))


def test_version_names_the_build_it_is(lc):
    """`build: static` exactly when the binary has no program interpreter."""
    v = lc.cmd("--version", check=True).stdout
    build = re.search(r"^build: (\w+)", v, re.M)
    assert build, v
    dynamic = has_program_interpreter(MINIRUN)
    assert build.group(1) == ("dynamic" if dynamic else "static"), (v, MINIRUN)


def test_spec(lc, tmp_path):
    d = tmp_path / "b"
    d.mkdir()
    lc.cmd("spec", "--bundle", d, check=True)
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["process"]["args"] == ["sh"] and cfg["root"] == {"path": "rootfs", "readonly": True}
    assert {n["type"] for n in cfg["linux"]["namespaces"]} >= {"pid", "mount", "network", "ipc", "uts"}
    r = lc.cmd("spec", "--bundle", d)
    assert r.returncode == 1 and "exists already" in r.stderr
    d2 = tmp_path / "rootless"
    d2.mkdir()
    lc.cmd("spec", "--rootless", "-b", d2, check=True)
    cfg = json.loads((d2 / "config.json").read_text())
    assert "user" in {n["type"] for n in cfg["linux"]["namespaces"]}
    assert cfg["linux"]["uidMappings"] and cfg["linux"]["gidMappings"]
    # spec without --bundle writes into the current directory
    d3 = tmp_path / "cwd"
    d3.mkdir()
    r = subprocess.run([MINIRUN, "spec"], cwd=d3, capture_output=True, text=True, timeout=CMD_TIMEOUT)
    assert r.returncode == 0 and (d3 / "config.json").exists()


def test_features(lc):
    f = json.loads(lc.cmd("features", check=True).stdout)
    assert f["ociVersionMin"] <= f["ociVersionMax"]
    assert f["hooks"] == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
    assert {"pid", "mount", "network", "ipc", "uts", "cgroup", "user"} <= set(f["linux"]["namespaces"])
    assert f["linux"]["cgroup"]["systemd"] is False
    assert f["minirun"]["pidPinning"] is True
