"""linux.seccomp.flags that change how the filter is loaded, not what it
decides: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV.

With the flag, a process whose syscall the listener has received waits for
the answer killable only: a handled signal stays pending until the answer, so
the listener sees the syscall once.  Without it the signal interrupts the
wait and the syscall is restarted (a second notification) or fails with
EINTR.  minirun loads the program itself (seccomp(2)), so the flag works with
Debian 12's libseccomp 2.5, which has no attribute for it.
"""
import fcntl
import json
import os
import select
import shutil
import signal
import socket
import struct
import tempfile
import threading
import time

import pytest

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif), 80 bytes
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes
NOTIF = struct.Struct("=QIIiIQ6Q")      # id, pid, flags, data{nr, arch, ip, args[6]}
NOTIF_RESP = struct.Struct("=QqiI")     # id, val, error, flags


class SignallingAgent(threading.Thread):
    """Takes the listener fd, and for the first notification: sends SIGUSR1 to
    the caller, then counts the notifications that come in the next
    `window` seconds (a restarted syscall is a new one) before it answers
    every pending one with success."""

    def __init__(self, path, window):
        super().__init__(daemon=True)
        self.window = window
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(path)
        self.srv.listen(1)
        self.seen = 0
        self.error = None

    def recv(self, fd, timeout):
        if not select.select([fd], [], [], timeout)[0]:
            return None
        buf = bytearray(NOTIF.size)
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
        except OSError:
            return None  # the caller went away (or was interrupted before we took it)
        self.seen += 1
        return NOTIF.unpack(buf)

    def answer(self, fd, nid):
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, bytearray(NOTIF_RESP.pack(nid, 0, 0, 0)), True)
        except OSError:
            pass  # no longer valid: the interrupted wait dropped it

    def run(self):
        fd = None
        try:
            self.srv.settimeout(30)
            conn, _ = self.srv.accept()
            with conn:
                _, fds, _, _ = socket.recv_fds(conn, 1 << 16, 4)
            fd = fds[0]
            first = self.recv(fd, 30)
            if first is None:
                raise AssertionError("no notification")
            pending = [first[0]]
            os.kill(first[1], signal.SIGUSR1)
            deadline = time.monotonic() + self.window
            while time.monotonic() < deadline:
                n = self.recv(fd, max(0.0, deadline - time.monotonic()))
                if n is not None:
                    pending.append(n[0])
                    break
            for nid in pending:
                self.answer(fd, nid)
            while (n := self.recv(fd, 5)) is not None:  # anything later: let it through
                self.answer(fd, n[0])
        except Exception as e:  # reported by the test
            self.error = e
        finally:
            if fd is not None:
                os.close(fd)
            self.srv.close()


@pytest.fixture
def agent_dir():
    d = tempfile.mkdtemp(prefix="mr-wk-", dir="/tmp")  # short: sun_path is 108 bytes
    yield d
    shutil.rmtree(d, ignore_errors=True)


def notify_bundle(mr, sock, flags):
    # `cd` is the shell's own chdir(2): the process that waits for the answer
    # is the one whose trap handles the signal
    script = "trap 'echo got-usr1' USR1; cd /tmp; echo rc=$?"

    def mutate(c):
        c["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": sock,
            "flags": flags,
            "syscalls": [{"names": ["chdir"], "action": "SCMP_ACT_NOTIFY"}],
        }

    return mr.bundle(["/bin/sh", "-c", script], mutate=mutate)


@pytest.mark.parametrize("killable", [True, False], ids=["with-flag", "without-flag"])
def test_wait_killable_recv_keeps_a_signal_pending_until_the_answer(mr, agent_dir, killable):
    sock = os.path.join(agent_dir, "agent.sock")
    # with the flag nothing more can come, so the window only bounds the wait;
    # without it the restart comes at once, and the window is generous
    agent = SignallingAgent(sock, window=1.0 if killable else 20.0)
    agent.start()
    flags = ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] if killable else []
    r = mr.run(notify_bundle(mr, sock, flags), cid="waitkill", timeout=60)
    agent.join(timeout=40)
    assert agent.error is None, repr(agent.error)
    assert r.returncode == 0, r.stderr
    assert "got-usr1" in r.stdout, r.stdout  # the signal was delivered, in either case
    if killable:
        assert agent.seen == 1, f"the syscall was notified {agent.seen} times"
        assert "rc=0" in r.stdout, (r.stdout, r.stderr)
    else:  # the control: the signal did interrupt the wait
        interrupted = agent.seen >= 2 or "Interrupted system call" in r.stderr
        assert interrupted, (agent.seen, r.stdout, r.stderr)


def test_wait_killable_recv_without_notify_rules_is_accepted(mr):
    """Without SCMP_ACT_NOTIFY rules the flag has nothing to change (the kernel
    takes it only with a listener): the filter loads and applies."""

    def mutate(c):
        c["linux"]["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "flags": ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}],
        }

    r = mr.run(mr.bundle(["/bin/sh", "-c", "mkdir /tmp/x 2>&1; echo rc=$?"], mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert "Permission denied" in r.stdout and "rc=1" in r.stdout, r.stdout
