"""OCI hooks through create/start/kill/delete (and run): each kind runs at its
moment of the lifecycle, in the namespaces the runtime spec gives it, with the
state JSON on stdin and its own args and env; timeouts and failures have the
consequences the spec gives them.

Every hook is one POSIX sh script (it runs on the host and, for
startContainer, inside the container after pivot_root) that records what it
saw next to itself: <name>.json (its stdin), .mnt/.pidns (its namespaces),
.args, .env, and appends its name to `order`.  The script's directory is
bind-mounted into the container at the same path (over a tmpfs /tmp, so the
shared rootfs is not touched), which is how the startContainer hook and the
container's process reach it.
"""
import json
import os
import time

import pytest

from test_lifecycle import alive, assert_gone, cgroup_dirs, lifecycle, read_lines, reap, sh, wait_until


@pytest.fixture
def lc(tmp_path):
    yield from lifecycle(tmp_path)


RECORD = """#!/bin/sh
# record.sh NAME [ARGS...]: save what this hook saw next to this script
d=$(dirname "$0")
n=$1
cat > "$d/$n.json"
readlink /proc/self/ns/mnt > "$d/$n.mnt"
readlink /proc/self/ns/pid > "$d/$n.pidns"
for a in "$@"; do echo "$a"; done > "$d/$n.args"
env > "$d/$n.env"
echo "$n" >> "$d/order"
"""

FAIL = """#!/bin/sh
d=$(dirname "$0")
cat > "$d/failed.json"
echo "hook says no" >&2
exit 3
"""

HOST_KINDS = ("prestart", "createRuntime", "poststart", "poststop")
CONTAINER_KINDS = ("createContainer", "startContainer")
ALL_KINDS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop")
HOOK_PATH = "PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"


class Hooks:
    def __init__(self, tmp_path):
        self.dir = tmp_path / "hooks"
        self.dir.mkdir()
        os.chmod(self.dir, 0o777)
        self.record = self.script("record.sh", RECORD)
        self.fail = self.script("fail.sh", FAIL)

    def script(self, name, text):
        p = self.dir / name
        p.write_text(text)
        p.chmod(0o755)
        return p

    def entry(self, kind, path=None, extra_args=(), env=(), timeout=None):
        h = {"path": str(path or self.record), "args": ["record.sh", kind, *extra_args],
             "env": [HOOK_PATH, f"HOOK_KIND={kind}", *env]}
        if timeout is not None:
            h["timeout"] = timeout
        return h

    def json(self, kind):
        return json.loads((self.dir / f"{kind}.json").read_text())

    def text(self, kind, what):
        return (self.dir / f"{kind}.{what}").read_text().strip()

    def order(self):
        return read_lines(self.dir / "order")

    def mutate(self, hooks, extra=None):
        """A config mutation: the hooks, and the hook directory at the same path
        inside the container."""
        def m(cfg):
            cfg["hooks"] = hooks
            cfg["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["mode=1777"]})
            cfg["mounts"].append({"destination": str(self.dir), "type": "bind", "source": str(self.dir),
                                  "options": ["rbind", "rw"]})
            if extra:
                extra(cfg)
        return m


@pytest.fixture
def hooks(tmp_path):
    return Hooks(tmp_path)


def every_kind(hooks, **kw):
    return {k: [hooks.entry(k, **kw)] for k in ALL_KINDS}


def test_each_hook_runs_at_its_moment_with_the_state(lc, hooks):
    cfg_hooks = every_kind(hooks)
    cfg_hooks["prestart"].append(hooks.entry("prestart2"))  # hooks of one kind run in order
    b = lc.bundle(sh(f"echo user >> {hooks.dir}/order; exec sleep 1000"), mutate=hooks.mutate(cfg_hooks))
    cid, r, _, _ = lc.create(b, None, "--pid-file", lc.tmp / "pid")
    pid = int((lc.tmp / "pid").read_text())
    assert hooks.order() == ["prestart", "prestart2", "createRuntime", "createContainer"]

    lc.start(cid)
    wait_until(lambda: "user" in hooks.order(), what="the container's process")
    order = hooks.order()
    assert order[:4] == ["prestart", "prestart2", "createRuntime", "createContainer"]
    assert order.index("startContainer") < order.index("user"), order
    assert "poststart" in order and "poststop" not in order, order

    lc.cmd("kill", cid, "KILL", check=True)
    wait_until(lambda: not alive(pid), what="the init to die")
    assert "poststop" not in hooks.order()
    lc.cmd("delete", cid, check=True)
    assert hooks.order()[-1] == "poststop"
    assert sorted(hooks.order()) == sorted(list(ALL_KINDS) + ["prestart2", "user"])

    # runtime spec and crun: the creation hooks see "created"
    want_status = {"prestart": "created", "createRuntime": "created", "createContainer": "created",
                   "startContainer": "created", "poststart": "running", "poststop": "stopped"}
    for kind, status in want_status.items():
        st = hooks.json(kind)
        assert st["id"] == cid, kind
        assert st["status"] == status, (kind, st)
        assert st["bundle"] == os.path.realpath(b), kind
        assert isinstance(st.get("annotations", {}), dict), kind
        assert st["ociVersion"], kind
        if kind != "poststop":
            assert st["pid"] == pid, (kind, st)
    assert_gone(lc, cid, pid)


def test_hooks_run_in_the_right_namespaces(lc, hooks):
    b = lc.bundle(["sleep", "1000"], mutate=hooks.mutate(every_kind(hooks)))
    cid, _, _, _ = lc.create(b)
    pid = lc.state(cid)["pid"]
    container_mnt, container_pid = os.readlink(f"/proc/{pid}/ns/mnt"), os.readlink(f"/proc/{pid}/ns/pid")
    lc.start(cid)
    lc.cmd("delete", "--force", cid, check=True)
    host_mnt, host_pid = os.readlink("/proc/self/ns/mnt"), os.readlink("/proc/self/ns/pid")
    assert container_mnt != host_mnt
    for kind in HOST_KINDS:
        assert hooks.text(kind, "mnt") == host_mnt, kind
        assert hooks.text(kind, "pidns") == host_pid, kind
    for kind in CONTAINER_KINDS:
        assert hooks.text(kind, "mnt") == container_mnt, kind
        assert hooks.text(kind, "pidns") == container_pid, kind


def test_hook_args_and_env_are_the_configs(lc, hooks, monkeypatch):
    extra = ("two words", "--flag=x")
    b = lc.bundle(["sleep", "1000"],
                  mutate=hooks.mutate({k: [hooks.entry(k, extra_args=extra, env=("EXTRA=a=b",))] for k in ALL_KINDS}))
    monkeypatch.setenv("LIFECYCLE_LEAK", "from-minirun's-caller")
    cid, _, _ = lc.create_started(b)
    lc.cmd("delete", "--force", cid, check=True)
    for kind in ALL_KINDS:
        assert read_lines(hooks.dir / f"{kind}.args") == [kind, *extra], kind
        hook_env = read_lines(hooks.dir / f"{kind}.env")
        assert HOOK_PATH in hook_env and f"HOOK_KIND={kind}" in hook_env and "EXTRA=a=b" in hook_env, (kind, hook_env)
        assert not any(v.startswith("LIFECYCLE_LEAK=") for v in hook_env), (kind, hook_env)


def test_hooks_in_a_foreground_run(lc, hooks):
    b = lc.bundle(sh(f"echo user >> {hooks.dir}/order"), mutate=hooks.mutate(every_kind(hooks)))
    r = lc.run(b)
    assert r.returncode == 0, r.stderr
    assert hooks.order() in (
        ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "user", "poststop"],
        ["prestart", "createRuntime", "createContainer", "startContainer", "user", "poststart", "poststop"])
    assert hooks.json("poststop")["status"] == "stopped"


def test_failing_post_hooks_in_a_foreground_run_do_not_stop_the_rest(lc, hooks):
    b = lc.bundle(sh(f"echo user >> {hooks.dir}/order; exit 7"), mutate=hooks.mutate({
        "poststart": [hooks.entry("poststart", path=hooks.fail), hooks.entry("poststart")],
        "poststop": [hooks.entry("poststop", path=hooks.fail), hooks.entry("poststop")]}))
    r = lc.run(b)
    assert r.returncode == 7, r.stderr
    assert f"hooks.poststart[0] ({hooks.fail}) failed with exit status 3" in r.stderr, r.stderr
    assert f"hooks.poststop[0] ({hooks.fail}) failed with exit status 3" in r.stderr, r.stderr
    assert hooks.order()[-1] == "poststop" and "poststart" in hooks.order(), hooks.order()


def test_hook_timeout_kills_the_hook_and_fails_the_create(lc, hooks):
    slow = hooks.script("slow.sh", f"#!/bin/sh\necho $$ > {hooks.dir}/slow.pid\nexec sleep 60\n")
    b = lc.bundle(["true"], mutate=hooks.mutate({"createRuntime": [hooks.entry("createRuntime", path=slow,
                                                                                 timeout=1)]}))
    t0 = time.monotonic()
    cid, r, _, _ = lc.create(b, check=False)
    elapsed = time.monotonic() - t0
    assert r.returncode == 1
    assert f"hooks.createRuntime[0] ({slow}) timed out after 1 s" in r.stderr_text, r.stderr_text
    assert elapsed < 8, elapsed
    hook_pid = int((hooks.dir / "slow.pid").read_text())
    wait_until(lambda: not alive(hook_pid), 5, "the timed-out hook to be killed")
    assert_gone(lc, cid)


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer"])
def test_failing_creation_hook_fails_the_create_and_leaves_nothing(lc, hooks, kind):
    b = lc.bundle(["true"], mutate=hooks.mutate({kind: [hooks.entry(kind, path=hooks.fail)]}))
    cid, r, _, _ = lc.create(b, check=False)
    assert r.returncode == 1
    assert f"hooks.{kind}[0] ({hooks.fail}) failed with exit status 3" in r.stderr_text, r.stderr_text
    init = json.loads((hooks.dir / "failed.json").read_text())["pid"]
    assert init > 0
    wait_until(lambda: not alive(init), 5, "the init to be gone")
    reap(init)
    assert_gone(lc, cid)
    assert lc.ids() == []


def test_failing_start_container_hook_fails_the_start_and_leaves_nothing(lc, hooks):
    b = lc.bundle(["sleep", "1000"], mutate=hooks.mutate({"startContainer": [hooks.entry("startContainer",
                                                                                            path=hooks.fail)]}))
    cid, _, _, _ = lc.create(b)
    pid = lc.state(cid)["pid"]
    r = lc.start(cid, check=False)
    assert r.returncode == 1
    assert f"hooks.startContainer[0] ({hooks.fail}) failed with exit status 3" in r.stderr, r.stderr
    wait_until(lambda: not alive(pid), 5, "the init to be gone")
    reap(pid)
    assert cgroup_dirs(f"/minirun/{cid}") == [], "a container whose start failed keeps its cgroups"
    assert not os.path.exists(os.path.join(lc.root, cid)), \
        f"a container whose start failed is left behind as `{lc.cmd('state', cid).stdout}`"


def test_failing_poststart_hook_warns_and_the_container_runs(lc, hooks, tmp_path):
    log = tmp_path / "log.json"
    # the spec: a failing poststart hook is logged and the remaining ones still run
    b = lc.bundle(["sleep", "1000"], mutate=hooks.mutate({"poststart": [
        hooks.entry("poststart", path=hooks.fail), hooks.entry("poststart2"), hooks.entry("poststart", path=hooks.fail),
        hooks.entry("poststart4")]}))
    cid, _, _, _ = lc.create(b)
    r = lc.cmd("--log", log, "--log-format", "json", "start", cid)
    assert r.returncode == 0, r.stderr
    assert "warning" in r.stderr and f"hooks.poststart[0] ({hooks.fail}) failed with exit status 3" in r.stderr
    assert f"hooks.poststart[2] ({hooks.fail}) failed with exit status 3" in r.stderr, r.stderr
    assert hooks.order() == ["poststart2", "poststart4"]
    entries = [json.loads(x) for x in log.read_text().splitlines()]
    assert any(e["level"] == "warning" and "hooks.poststart[0]" in e["msg"] for e in entries), entries
    st = lc.state(cid)
    assert st["status"] == "running" and alive(st["pid"])


def test_failing_poststop_hook_warns_and_delete_succeeds(lc, hooks):
    b = lc.bundle(["sleep", "1000"], mutate=hooks.mutate({"poststop": [
        hooks.entry("poststop", path=hooks.fail), hooks.entry("poststop2"), hooks.entry("poststop3")]}))
    cid, _, _ = lc.create_started(b)
    pid = lc.state(cid)["pid"]
    r = lc.cmd("delete", "--force", cid)
    assert r.returncode == 0, r.stderr
    assert "warning" in r.stderr and f"hooks.poststop[0] ({hooks.fail}) failed with exit status 3" in r.stderr
    assert hooks.order() == ["poststop2", "poststop3"]
    assert json.loads((hooks.dir / "failed.json").read_text())["status"] == "stopped"
    assert_gone(lc, cid, pid)


def test_a_hook_that_does_not_exist_names_itself(lc, hooks):
    missing = hooks.dir / "no-such-hook"
    b = lc.bundle(["true"], mutate=hooks.mutate({"createRuntime": [{"path": str(missing)}]}))
    cid, r, _, _ = lc.create(b, check=False)
    assert r.returncode == 1
    assert "hooks.createRuntime[0]" in r.stderr_text and str(missing) in r.stderr_text, r.stderr_text
    assert_gone(lc, cid)


def test_a_hook_that_ignores_its_stdin_does_not_hurt(lc, hooks):
    """Hooks that never read stdin and exit at once: the runtime must not die
    of SIGPIPE writing the state to them (repeated to catch the race)."""
    quick = hooks.script("quick.sh", f"#!/bin/sh\nexec 0<&-\necho x >> {hooks.dir}/quick.log\n")
    kinds = ("prestart", "createRuntime", "poststart", "poststop")
    b = lc.bundle(["true"], mutate=hooks.mutate({k: [{"path": str(quick)}] * 3 for k in kinds}))
    runs = 30
    for i in range(runs):
        r = lc.run(b)
        assert r.returncode == 0, f"run {i}: exit {r.returncode} (-13: killed by SIGPIPE) {r.stderr}"
    assert len(read_lines(hooks.dir / "quick.log")) == runs * 3 * len(kinds)


def test_a_large_state_reaches_the_hook_whole(lc, hooks):
    big = "x" * (200 * 1024)  # larger than a pipe buffer

    def extra(cfg):
        cfg["annotations"] = {"org.example.big": big}

    b = lc.bundle(["true"], mutate=hooks.mutate({"createRuntime": [hooks.entry("createRuntime")]}, extra))
    cid, r, _, _ = lc.create(b, check=False)
    assert r.returncode == 0, r.stderr_text
    raw = (hooks.dir / "createRuntime.json").read_text()
    assert len(raw) > len(big), f"the hook got {len(raw)} bytes of state"
    assert json.loads(raw)["annotations"]["org.example.big"] == big
