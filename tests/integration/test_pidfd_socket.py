"""--pidfd-socket (runc 1.2) for create, run and exec: minirun connects to an
AF_UNIX stream socket and sends, by SCM_RIGHTS, a pidfd of the container's
init (payload "standard") or of the exec'd process ("setns").  The receiver
can signal the process through it with no pid reuse race."""
import array
import os
import signal
import socket
import threading

import pytest

from conftest import reap
from test_lifecycle import proc_state, wait_until


class PidfdReceiver:
    """A listening socket in tmp_path; a thread accepts one connection and
    keeps what came over it: the payload and the fds."""

    def __init__(self, tmp_path):
        self.path = str(tmp_path / "pidfd.sock")
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(1)
        self.srv.settimeout(60)
        self.payload, self.fds, self.error = None, [], None
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        try:
            conn, _ = self.srv.accept()
            with conn:
                conn.settimeout(60)
                fds = array.array("i")
                msg, anc, _, _ = conn.recvmsg(64, socket.CMSG_SPACE(4 * fds.itemsize))
                for level, kind, data in anc:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        fds.frombytes(data[:len(data) - len(data) % fds.itemsize])
                self.payload, self.fds = msg, list(fds)
        except OSError as e:
            self.error = e

    def result(self):
        self.thread.join(60)
        assert not self.thread.is_alive(), "nothing came to the pidfd socket"
        assert self.error is None, self.error
        return self.payload, self.fds

    def close(self):
        self.srv.close()
        for fd in self.fds:
            os.close(fd)
        self.fds = []


@pytest.fixture
def receiver(tmp_path):
    r = PidfdReceiver(tmp_path)
    yield r
    r.close()


def pidfd_pid(fd):
    """The pid a pidfd refers to, from its fdinfo (-1 once the process is gone)."""
    with open(f"/proc/self/fdinfo/{fd}") as f:
        for line in f:
            if line.startswith("Pid:"):
                return int(line.split()[1])
    raise AssertionError(f"fd {fd} is not a pidfd")


def test_create_sends_a_pidfd_of_the_init(mr, receiver):
    cid = "pidfd-create"
    mr.created.add(cid)
    r = mr.detached("create", "-b", mr.bundle(["sleep", "1000"]), "--pidfd-socket", receiver.path, cid)
    assert r.returncode == 0, r.stderr
    payload, fds = receiver.result()
    assert payload == b"standard" and len(fds) == 1, (payload, fds)
    init = mr.state(cid)["pid"]
    assert pidfd_pid(fds[0]) == init
    # the pidfd signals the created container's init (runc's test: kill through it)
    signal.pidfd_send_signal(fds[0], signal.SIGKILL)
    wait_until(lambda: mr.state(cid)["status"] == "stopped", what="the init killed through the pidfd")
    reap(init)


def test_run_detached_sends_a_pidfd_of_the_init(mr, receiver):
    cid = "pidfd-run"
    r = mr.run(mr.bundle(["sleep", "1000"]), "-d", "--pidfd-socket", receiver.path, cid=cid)
    assert r.returncode == 0, r.stderr
    payload, fds = receiver.result()
    assert payload == b"standard" and pidfd_pid(fds[0]) == mr.state(cid)["pid"], (payload, fds)


def test_exec_sends_a_pidfd_of_the_new_process(mr, receiver, tmp_path):
    cid = "pidfd-exec"
    assert mr.run(mr.bundle(["sleep", "1000"]), "-d", cid=cid).returncode == 0
    pid_file = tmp_path / "exec.pid"
    r = mr.detached("exec", "-d", "--pid-file", pid_file, "--pidfd-socket", receiver.path, cid, "sleep", "999")
    assert r.returncode == 0, r.stderr
    payload, fds = receiver.result()
    pid = int(pid_file.read_text())
    assert payload == b"setns" and pidfd_pid(fds[0]) == pid, (payload, fds, pid)
    signal.pidfd_send_signal(fds[0], signal.SIGKILL)
    # dead: a zombie until the container's init (sleep) would reap it, or gone
    wait_until(lambda: proc_state(pid) in ("Z", None), what="the exec'd process killed through its pidfd")
    assert mr.state(cid)["status"] == "running", "the pidfd was the init's"


def test_a_socket_nobody_listens_on_is_a_clear_error_and_leaves_nothing(mr, tmp_path):
    missing = tmp_path / "nobody.sock"
    r = mr.run(mr.bundle(["true"]), "--pidfd-socket", missing, cid="pidfd-none")
    assert r.returncode == 1
    assert f"--pidfd-socket: connect to `{missing}`" in r.stderr and "No such file or directory" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(mr.root, "pidfd-none"))
    assert mr.run(mr.bundle(["sleep", "1000"]), "-d", cid="pidfd-exec-none").returncode == 0
    r = mr.cmd("exec", "--pidfd-socket", missing, "pidfd-exec-none", "true")
    assert r.returncode == 1 and f"--pidfd-socket: connect to `{missing}`" in r.stderr, r.stderr
    out = mr.cmd("ps", "pidfd-exec-none", check=True).stdout
    assert "true" not in out.split(), out
