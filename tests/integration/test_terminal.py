"""process.terminal: with --console-socket the pty master goes to the caller
by SCM_RIGHTS (as conmon receives it); without one, a foreground `run` relays
the pty to its own terminal.  The container's shell is driven through the
real pty in both cases.
"""
import os
import pty
import select
import signal
import socket
import time

import pytest

from test_lifecycle import CMD_TIMEOUT, MINIRUN, alive, assert_gone, lifecycle, new_id, wait_until


@pytest.fixture
def lc(tmp_path):
    yield from lifecycle(tmp_path)


def terminal_config(args, size=None):
    def mutate(cfg):
        cfg["process"]["terminal"] = True
        cfg["process"]["args"] = args
        if size:
            cfg["process"]["consoleSize"] = {"height": size[0], "width": size[1]}
    return mutate


def read_until(fd, needle, timeout=10.0):
    """Read from fd until `needle` (bytes) shows up; returns all that was read."""
    buf = b""
    deadline = time.monotonic() + timeout
    while needle not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out waiting for {needle!r}; got {buf!r}")
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            continue
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other side closed
            chunk = b""
        if not chunk:
            raise AssertionError(f"EOF before {needle!r}; got {buf!r}")
        buf += chunk
    return buf


class ConsoleSocket:
    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(self.path)
        self.sock.listen(1)
        self.sock.settimeout(CMD_TIMEOUT)

    def receive(self):
        """The pty master (fd) and the payload that came with it."""
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(CMD_TIMEOUT)
            msg, fds, _, _ = socket.recv_fds(conn, 1024, 4)
        assert len(fds) == 1, (msg, fds)
        return fds[0], msg

    def close(self):
        self.sock.close()


@pytest.fixture
def console(tmp_path):
    c = ConsoleSocket(tmp_path / "console.sock")
    yield c
    c.close()


def test_console_socket_gets_a_working_pty(lc, console):
    b = lc.bundle(mutate=terminal_config(["sh"], size=(30, 100)))
    cid, r, out, err = lc.create(b, None, "--console-socket", console.path)
    assert r.returncode == 0, r.stderr_text
    master, msg = console.receive()
    try:
        assert msg.rstrip(b"\0").startswith(b"/dev/pts/"), msg
        st = lc.state(cid)
        assert st["status"] == "created"
        lc.start(cid)
        os.write(master, b"echo hi-$((1+1))\n")
        read_until(master, b"hi-2")
        os.write(master, b"tty; [ -t 0 ] && echo stdin-is-a-tty; stty size\n")
        got = read_until(master, b"stdin-is-a-tty")
        got += read_until(master, b"30 100")
        lines = [x.strip() for x in got.decode(errors="replace").splitlines()]
        ttys = [x for x in lines if x.startswith("/dev/pts/")]
        assert ttys, lines
        assert msg.rstrip(b"\0").decode() == ttys[0]
        # create's own stdio is not the container's: nothing went there
        assert out.read_text() == "" and err.read_text() == ""
        os.write(master, b"exit 0\n")
        pid = st["pid"]
        wait_until(lambda: not alive(pid), what="the shell to exit")
        assert lc.state(cid)["status"] == "stopped"
    finally:
        os.close(master)
    lc.cmd("delete", cid, check=True)
    assert_gone(lc, cid)


def test_signals_through_the_console(lc, console):
    """^C on the pty reaches the container's foreground process group."""
    b = lc.bundle(mutate=terminal_config(["sh", "-c", "trap 'echo caught-int; exit 0' INT; echo ready; "
                                          "while :; do sleep 0.05; done"]))
    cid, _, _, _ = lc.create(b, None, "--console-socket", console.path)
    master, _ = console.receive()
    try:
        lc.start(cid)
        read_until(master, b"ready")
        os.write(master, b"\x03")
        read_until(master, b"caught-int")
    finally:
        os.close(master)


def test_create_with_terminal_needs_a_console_socket(lc):
    b = lc.bundle(mutate=terminal_config(["true"]))
    cid, r, _, _ = lc.create(b, check=False)
    assert r.returncode == 1
    assert "--console-socket" in r.stderr_text, r.stderr_text
    assert_gone(lc, cid)


def test_console_socket_nobody_listens_on(lc, tmp_path):
    b = lc.bundle(mutate=terminal_config(["true"]))
    path = tmp_path / "nobody.sock"
    cid, r, _, _ = lc.create(b, None, "--console-socket", path, check=False)
    assert r.returncode == 1
    assert f"--console-socket: connect to `{path}`" in r.stderr_text, r.stderr_text
    assert_gone(lc, cid)


def run_under_pty(lc, bundle, cid, stdin_data=None, timeout=30):
    """`minirun run` with a pty of the test's as its controlling terminal and
    stdio; returns (exit status, everything it wrote)."""
    pid, master = pty.fork()
    if pid == 0:
        try:
            os.execv(MINIRUN, [MINIRUN, "--root", lc.root, "run", "-b", str(bundle), cid])
        finally:
            os._exit(127)
    lc.created.add(cid)
    out = b""
    deadline = time.monotonic() + timeout
    sent = False
    try:
        while True:
            if time.monotonic() > deadline:
                raise AssertionError(f"`minirun run` under a pty did not finish in {timeout}s; output {out!r}")
            r, _, _ = select.select([master], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(master, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                out += chunk
                if stdin_data and not sent and b"ready" in out:
                    os.write(master, stdin_data)
                    sent = True
        _, status = os.waitpid(pid, 0)
        pid = 0
        return os.waitstatus_to_exitcode(status), out
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(master)


def test_foreground_run_relays_the_terminal(lc):
    b = lc.bundle(mutate=terminal_config(["sh", "-c", "tty; [ -t 0 ] && [ -t 1 ] && echo stdio-is-a-tty; "
                                          "echo ready; read x; echo got-$x; exit 5"]))
    rc, out = run_under_pty(lc, b, new_id(), stdin_data=b"abc\n")
    text = out.decode(errors="replace")
    assert rc == 5, text
    assert "stdio-is-a-tty" in text and "got-abc" in text, text
    assert any(line.strip().startswith("/dev/pts/") for line in text.splitlines()), text


def test_foreground_run_restores_the_callers_terminal(lc):
    """The relay puts our terminal in raw mode and must restore it."""
    b = lc.bundle(mutate=terminal_config(["sh", "-c", "echo done"]))
    cid = new_id()
    lc.created.add(cid)
    script = f"stty -g > before; {MINIRUN} --root {lc.root} run -b {b} {cid}; stty -g > after"
    pid, master = pty.fork()
    if pid == 0:
        os.chdir(lc.tmp)
        os.execv("/bin/sh", ["/bin/sh", "-c", script])
    try:
        out = b""
        while True:
            r, _, _ = select.select([master], [], [], CMD_TIMEOUT)
            if not r:
                raise AssertionError(f"no end of output: {out!r}")
            try:
                chunk = os.read(master, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                break
            out += chunk
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(master)
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert b"done" in out
    assert (lc.tmp / "before").read_text() == (lc.tmp / "after").read_text()


# /dev/console (runtime spec, config-linux.md: with process.terminal the
# runtime MUST set it up): the pty slave bound over it.
CONSOLE_CHECK = ("stat -c 'console %F %t:%T' /dev/console; stat -L -c 'stdin %F %t:%T' /proc/self/fd/0; "
                 "echo link $(readlink /proc/self/fd/0); grep -c ' /dev/console ' /proc/self/mountinfo; ")


def console_facts(text):
    """{"console": (type, rdev), "stdin": (type, rdev), "link": path, "mounts": n} from CONSOLE_CHECK's output."""
    facts = {}
    for line in text.replace("\r", "").splitlines():
        words = line.strip().split()
        if not words:
            continue
        if words[0] in ("console", "stdin"):
            facts[words[0]] = (" ".join(words[1:-1]), words[-1])
        elif words[0] == "link" and len(words) > 1:
            facts["link"] = words[1]
        elif words[0].isdigit():
            facts["mounts"] = int(words[0])
    return facts


def assert_console_is_the_pty(facts):
    assert facts.get("stdin", ("", ""))[0] == "character special file", facts
    assert facts["stdin"][1].startswith("88:"), f"stdin is not a pty (major 136): {facts}"
    assert facts.get("console") == facts["stdin"], f"/dev/console is not the process's pty: {facts}"
    assert facts.get("link", "").startswith("/dev/pts/"), facts
    assert facts.get("mounts") == 1, f"/dev/console is not one bind mount: {facts}"


def test_dev_console_is_the_pty_with_a_console_socket(lc, console):
    b = lc.bundle(mutate=terminal_config(["sh", "-c", CONSOLE_CHECK + "echo checked; read x"]))
    cid, r, _, _ = lc.create(b, None, "--console-socket", console.path)
    assert r.returncode == 0, r.stderr_text
    master, msg = console.receive()
    try:
        lc.start(cid)
        got = read_until(master, b"checked")
        facts = console_facts(got.decode(errors="replace"))
        assert_console_is_the_pty(facts)
        assert facts["link"] == msg.rstrip(b"\0").decode(), (facts, msg)
        os.write(master, b"\n")
        pid = lc.state(cid)["pid"]
        wait_until(lambda: not alive(pid), what="the shell to exit")
    finally:
        os.close(master)
    lc.cmd("delete", cid, check=True)
    assert_gone(lc, cid)


def test_dev_console_is_the_pty_in_a_foreground_run(lc):
    b = lc.bundle(mutate=terminal_config(["sh", "-c", CONSOLE_CHECK]))
    rc, out = run_under_pty(lc, b, new_id())
    text = out.decode(errors="replace")
    assert rc == 0, text
    assert_console_is_the_pty(console_facts(text))


def test_no_terminal_no_console_bind(lc):
    """Without process.terminal nothing is bound over /dev/console (the
    default /dev tmpfs has none)."""
    b = lc.bundle(["sh", "-c", "grep -c ' /dev/console ' /proc/self/mountinfo; "
                   "[ -e /dev/console ] && echo exists || echo absent"])
    cid = new_id()
    lc.created.add(cid)
    r = lc.cmd("run", "-b", b, cid)
    assert r.stdout.split() == ["0", "absent"], (r.stdout, r.stderr)


def test_dev_console_that_is_a_directory_fails_clearly_and_leaves_nothing(lc, console):
    def mutate(cfg):
        terminal_config(["true"])(cfg)
        cfg["mounts"].append({"destination": "/dev/console", "type": "tmpfs", "source": "tmpfs"})
    b = lc.bundle(mutate=mutate)
    cid, r, _, _ = lc.create(b, None, "--console-socket", console.path, check=False)
    assert r.returncode == 1
    assert ('container setup step "terminal": /dev/console in the container is a directory, not a file or a '
            'character device') in r.stderr_text, r.stderr_text
    assert_gone(lc, cid)
