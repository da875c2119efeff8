"""SCMP_ACT_NOTIFY with linux.seccomp.listenerPath: a seccomp agent (a
thread here) gets the listener fd and the container process state and
answers; an agent that does not answer gives ENOSYS; a listener that is not
there fails the container clearly and leaves nothing.
"""
import errno
import fcntl
import json
import os
import platform
import select
import shutil
import socket
import struct
import tempfile
import threading
import time

import pytest

from helpers.lifecycle import sh
from helpers.security import assert_nothing_left, with_seccomp


SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif), 80 bytes


SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes


NOTIF = struct.Struct("=QIIiIQ6Q")      # id, pid, flags, data{nr, arch, ip, args[6]}


NOTIF_RESP = struct.Struct("=QqiI")     # id, val, error, flags
assert NOTIF.size == 80 and NOTIF_RESP.size == 24


MKDIR_NRS = {"x86_64": {83: 0, 258: 1}, "aarch64": {34: 1}}  # nr -> index of the path argument


def read_string(pid, addr, size=4096):
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as f:
        f.seek(addr)
        return f.read(size).split(b"\0", 1)[0].decode()


class SeccompAgent(threading.Thread):
    """A seccomp agent on a unix socket: takes the listener fd and the
    containerProcessState JSON, then answers each notification with
    decide(path) -> (val, error), or closes the fd at once (answer=False)."""

    def __init__(self, path, decide=None, answer=True):
        super().__init__(daemon=True)
        self.path = path
        self.decide = decide
        self.answer = answer
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)
        self.payload = None
        self.fds = []
        self.fd_kind = None
        self.seen = []
        self.error = None

    def run(self):
        try:
            self.srv.settimeout(30)
            conn, _ = self.srv.accept()
            with conn:
                conn.settimeout(30)
                msg, self.fds, _, _ = socket.recv_fds(conn, 1 << 16, 4)
                data = msg
                while True:
                    chunk = conn.recv(1 << 16)
                    if not chunk:
                        break
                    data += chunk
            self.payload = json.loads(data)
            if self.fds:
                self.fd_kind = os.readlink(f"/proc/self/fd/{self.fds[0]}")
            if self.answer and self.fds:
                self.serve(self.fds[0])
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            for fd in self.fds:
                os.close(fd)
            self.fds = []
            self.srv.close()

    def stop(self):
        """Unblock accept() if minirun never connected."""
        try:
            self.srv.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def serve(self, fd):
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            events = poller.poll(200)
            if not events:
                continue
            mask = events[0][1]
            if mask & select.POLLIN:
                buf = bytearray(NOTIF.size)
                try:
                    fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
                except OSError as e:
                    if e.errno == errno.ENOENT:  # the caller went away
                        continue
                    raise
                nid, pid, _, nr, _, _, *args = NOTIF.unpack(buf)
                argi = MKDIR_NRS.get(platform.machine(), {}).get(nr, 0)
                try:
                    path = read_string(pid, args[argi])
                except OSError:
                    path = None
                val, err = self.decide(path)
                self.seen.append((pid, nr, path))
                resp = bytearray(NOTIF_RESP.pack(nid, val, err, 0))
                try:
                    fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, resp, True)
                except OSError as e:
                    if e.errno != errno.ENOENT:
                        raise
            elif mask & (select.POLLHUP | select.POLLERR):
                return


@pytest.fixture
def agent_dir():
    d = tempfile.mkdtemp(prefix="mr-agent-", dir="/tmp")  # short: sun_path is 108 bytes
    yield d
    shutil.rmtree(d, ignore_errors=True)


def notify_config(sock):
    rule = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}
    return with_seccomp(rule, listenerPath=sock, listenerMetadata="sectests-meta")


def test_seccomp_notify_agent_answers(mr, agent_dir):
    sock = os.path.join(agent_dir, "agent.sock")

    def decide(path):
        if path == "/tmp/agent-says-no":
            return 0, -errno.EPERM
        if path == "/tmp/agent-says-yes":
            return 0, 0
        return 0, -errno.EACCES

    agent = SeccompAgent(sock, decide)
    agent.start()
    try:
        b = mr.bundle(sh("mkdir /tmp/agent-says-no; echo rc=$?; mkdir /tmp/agent-says-yes; echo rc=$?"),
                      mutate=notify_config(sock))
        r = mr.run(b, "--pid-file", mr.tmp / "pid", cid="notify", timeout=60)
    finally:
        if agent.payload is None:
            agent.stop()
        agent.join(timeout=40)
    assert not agent.is_alive(), "the agent did not see the listener fd hang up"
    assert agent.error is None, repr(agent.error)
    assert r.returncode == 0, r.stderr
    assert agent.fd_kind == "anon_inode:seccomp notify", agent.fd_kind
    p = agent.payload
    assert p["fds"] == ["seccompFd"], p
    assert p["metadata"] == "sectests-meta", p
    assert p["state"]["id"] == "notify", p
    assert os.path.samefile(p["state"]["bundle"], b), p
    assert [s[2] for s in agent.seen] == ["/tmp/agent-says-no", "/tmp/agent-says-yes"], agent.seen
    assert "mkdir: can't create directory '/tmp/agent-says-no': Operation not permitted" in r.stderr, r.stderr
    assert r.stdout.split() == ["rc=1", "rc=0"], r.stdout
    # containerProcessState.pid and state.pid: the container process, as the runtime sees it
    init_pid = int((mr.tmp / "pid").read_text())
    assert p["pid"] == init_pid and p["state"].get("pid") == init_pid, (json.dumps(p), init_pid)


def test_seccomp_notify_without_an_answering_agent_gives_enosys(mr, agent_dir):
    sock = os.path.join(agent_dir, "agent.sock")
    agent = SeccompAgent(sock, answer=False)
    agent.start()
    try:
        r = mr.run(mr.bundle(sh("mkdir /tmp/nobody-answers; echo rc=$?"), mutate=notify_config(sock)),
                   cid="notify-closed")
    finally:
        if agent.payload is None:
            agent.stop()
        agent.join(timeout=40)
    assert agent.error is None, repr(agent.error)
    assert agent.payload["state"]["id"] == "notify-closed"
    assert agent.fd_kind == "anon_inode:seccomp notify", agent.fd_kind
    assert r.returncode == 0, r.stderr
    assert "Function not implemented" in r.stderr, r.stderr
    assert r.stdout.split() == ["rc=1"]


def test_seccomp_notify_without_a_listener_fails_clearly_and_leaves_nothing(mr, agent_dir):
    sock = os.path.join(agent_dir, "nobody.sock")
    r = mr.run(mr.bundle(["true"], mutate=notify_config(sock)), cid="nolistener")
    assert r.returncode == 1
    assert "linux.seccomp.listenerPath" in r.stderr and sock in r.stderr, r.stderr
    assert_nothing_left(mr, "nolistener")
