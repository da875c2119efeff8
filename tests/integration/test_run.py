"""`minirun run`: an OCI bundle runs end to end on the real kernel."""
import json
import os
import signal
import subprocess
import time

import pytest

from conftest import MINIRUN, cgroup_dirs, free_host_pids, nspid


def sh(*script):
    return ["sh", "-c", " ".join(script)]


def test_exit_status_is_the_containers(mr):
    for code in (0, 3, 255):
        r = mr.run(mr.bundle(sh(f"exit {code}")))
        assert r.returncode == code, r.stderr


def test_killed_by_signal_gives_128_plus_n(mr):
    p = subprocess.Popen([MINIRUN, "--root", mr.root, "run", "-b", str(mr.bundle(sh("echo up; sleep 30"))), "sig"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mr.created.add("sig")
    assert p.stdout.readline() == "up\n"
    mr.cmd("kill", "sig", "KILL", check=True)
    assert p.wait(timeout=30) == 128 + signal.SIGKILL, p.stderr.read()


def test_without_a_pid_namespace_the_init_shares_the_hosts(mr):
    def mutate(cfg):
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "pid"]

    r = mr.run(mr.bundle(sh("kill -TERM $$"), mutate=mutate))
    assert r.returncode == 128 + signal.SIGTERM, r.stderr


def test_stdout_and_stderr_pass_through(mr):
    r = mr.run(mr.bundle(sh("echo out; echo err >&2")))
    assert r.returncode == 0
    assert r.stdout == "out\n"
    assert "err" in r.stderr


def test_bundle_argument_derives_a_unique_id(mr):
    b = mr.bundle(sh("sleep 0.5"))
    procs = [subprocess.Popen([MINIRUN, "--root", mr.root, "run", str(b)], stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    time.sleep(0.25)
    listed = mr.cmd("list", "-q", check=True).stdout.split()
    for p in procs:
        assert p.wait(timeout=30) == 0, p.stderr.read()
    assert len(listed) == 2 and len(set(listed)) == 2, listed
    assert all(i.startswith(b.name + "-") for i in listed), listed
    assert mr.cmd("list", "-q").stdout.strip() == ""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2,
                                 signal.SIGQUIT])
def test_signals_are_forwarded_to_the_init(mr, sig):
    b = mr.bundle(sh(f"trap 'exit 42' {signal.Signals(sig).name[3:]}; echo ready; while :; do sleep 0.05; done"))
    p = subprocess.Popen([MINIRUN, "--root", mr.root, "run", "-b", str(b), "fwd"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    mr.created.add("fwd")
    assert p.stdout.readline() == "ready\n"
    p.send_signal(sig)
    assert p.wait(timeout=30) == 42, p.stderr.read()


def test_every_namespace_is_new(mr, tmp_path):
    b = mr.bundle(sh("sleep 5"))
    p = subprocess.Popen([MINIRUN, "--root", mr.root, "run", "-b", str(b), "--pid-file", str(tmp_path / "pid"),
                          "nsnew"])
    mr.created.add("nsnew")
    try:
        for _ in range(200):
            if (tmp_path / "pid").exists():
                break
            time.sleep(0.02)
        pid = int((tmp_path / "pid").read_text())
        for ns in ("pid", "mnt", "uts", "ipc", "net", "cgroup"):
            assert os.readlink(f"/proc/{pid}/ns/{ns}") != os.readlink(f"/proc/self/ns/{ns}"), ns
        for ns in ("user",):
            assert os.readlink(f"/proc/{pid}/ns/{ns}") == os.readlink(f"/proc/self/ns/{ns}"), ns
    finally:
        mr.cmd("kill", "nsnew", "KILL")
        p.wait(timeout=30)


def test_namespace_path_is_joined(mr, tmp_path):
    holder = subprocess.Popen(["unshare", "--net", "--uts", "sleep", "30"])
    try:
        time.sleep(0.2)

        def mutate(cfg):
            for ns in cfg["linux"]["namespaces"]:
                if ns["type"] == "network":
                    ns["path"] = f"/proc/{holder.pid}/ns/net"
            cfg.pop("hostname", None)
            cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "uts"]
            cfg["linux"]["namespaces"].append({"type": "uts", "path": f"/proc/{holder.pid}/ns/uts"})

        want_net = os.readlink(f"/proc/{holder.pid}/ns/net")
        want_uts = os.readlink(f"/proc/{holder.pid}/ns/uts")
        b = mr.bundle(sh("readlink /proc/self/ns/net; readlink /proc/self/ns/uts"), mutate=mutate)
        r = mr.run(b)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == [want_net, want_uts]
    finally:
        holder.kill()
        holder.wait()


def test_mounts_present_with_their_flags(mr):
    def mutate(cfg):
        cfg["mounts"].append({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs",
                              "options": ["nosuid", "noexec", "nodev", "size=1m", "mode=700"]})

    r = mr.run(mr.bundle(sh("grep ' /scratch ' /proc/self/mountinfo; stat -c %a /scratch"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    line, mode = r.stdout.strip().split("\n")
    opts = line.split()[5].split(",")
    assert {"nosuid", "nodev", "noexec"} <= set(opts), line
    assert "size=1024k" in line
    assert mode == "700"


def test_readonly_root_refuses_writes(mr):
    r = mr.run(mr.bundle(sh("touch /should-fail 2>&1; echo rc=$?")))
    assert "rc=1" in r.stdout and "Read-only file system" in r.stdout, r.stdout


def test_hostname(mr):
    def mutate(cfg):
        cfg["hostname"] = "pinned-box"

    r = mr.run(mr.bundle(sh("hostname"), mutate=mutate))
    assert r.stdout.strip() == "pinned-box"


def test_loopback_is_up(mr):
    r = mr.run(mr.bundle(sh("cat /sys/class/net/lo/flags")))
    assert r.returncode == 0, r.stderr
    assert int(r.stdout.strip(), 16) & 0x1, r.stdout  # IFF_UP


def test_masked_paths_are_unreadable(mr):
    def mutate(cfg):
        cfg["linux"]["maskedPaths"] = ["/proc/kcore", "/proc/acpi", "/etc/hostname"]

    r = mr.run(mr.bundle(sh("wc -c < /etc/hostname; ls -A /proc/acpi | wc -l; echo x > /proc/acpi/y 2>/dev/null || echo ro"),
                         mutate=mutate))
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "0", "ro"]


def test_only_stdio_reaches_the_container(mr):
    extra = os.open("/dev/null", os.O_RDONLY)  # inheritable, not close-on-exec
    os.set_inheritable(extra, True)
    try:
        b = mr.bundle(["ls", "/proc/self/fd"])
        r = mr.run(b, pass_fds=(extra,))
    finally:
        os.close(extra)
    assert r.returncode == 0, r.stderr
    # 0, 1, 2 and the directory ls itself opened to list the fds
    assert r.stdout.split() == ["0", "1", "2", "3"], r.stdout


def test_preserve_fds_passes_exactly_those(mr):
    r_fd, w_fd = os.pipe()
    os.set_inheritable(w_fd, True)
    try:
        # make the pipe's write end fd 3 in the child via a wrapper shell
        b = mr.bundle(sh("echo through-fd3 >&3; ls /proc/self/fd | tr '\\n' ' '"))
        r = subprocess.run(["bash", "-c", f'exec 3>&{w_fd} {w_fd}>&-; exec "$@"', "bash", MINIRUN, "--root", mr.root, "run",
                            "--preserve-fds", "1", "-b", str(b), "pfd"], capture_output=True, text=True,
                           pass_fds=(w_fd,), timeout=60)
        mr.created.add("pfd")
        os.close(w_fd)
        w_fd = -1
        assert r.returncode == 0, r.stderr
        assert os.read(r_fd, 100) == b"through-fd3\n"
        assert r.stdout.split() == ["0", "1", "2", "3", "4"]
    finally:
        os.close(r_fd)
        if w_fd >= 0:
            os.close(w_fd)


def test_init_runs_at_the_pinned_pids(mr, tmp_path):
    host_pid, = free_host_pids(1)

    def mutate(cfg):
        cfg["minirun"] = {"pids": {"host": host_pid, "container": 1}}

    b = mr.bundle(sh("echo $$; sleep 5"), mutate=mutate)
    p = subprocess.Popen([MINIRUN, "--root", mr.root, "run", "-b", str(b), "pinned"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    mr.created.add("pinned")
    try:
        assert p.stdout.readline().strip() == "1"
        assert nspid(host_pid) == [host_pid, 1]
        st = mr.state("pinned")
        assert st["pid"] == host_pid and st["status"] == "running"
        assert st["minirun"]["processes"][0]["pins"] == "container=1,host=%d" % host_pid
    finally:
        mr.cmd("kill", "pinned", "KILL")
        p.wait(timeout=30)


def test_pin_through_the_annotation(mr):
    host_pid, = free_host_pids(1)

    def mutate(cfg):
        cfg.setdefault("annotations", {})["minirun.pids"] = f"host={host_pid}"

    r = mr.run(mr.bundle(sh("echo $$; grep NSpid /proc/self/status"), mutate=mutate), "--pid-file",
               mr.tmp / "pidfile")
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0] == "1"
    assert int((mr.tmp / "pidfile").read_text()) == host_pid


def test_same_config_gives_the_same_pids_every_run(mr):
    host_pid, = free_host_pids(1)

    def mutate(cfg):
        cfg["minirun"] = {"pids": {"host": host_pid}}

    b = mr.bundle(sh("echo $$"), mutate=mutate)
    for _ in range(3):
        r = mr.run(b, "--pid-file", mr.tmp / "p")
        assert r.returncode == 0, r.stderr
        assert int((mr.tmp / "p").read_text()) == host_pid


def assert_nothing_left(mr, cid):
    assert not os.path.exists(os.path.join(mr.root, cid)), "state directory left behind"
    assert cgroup_dirs(f"/minirun/{cid}") == [], "cgroup left behind"
    with open("/proc/self/mountinfo") as f:
        assert cid not in f.read()


def test_pin_on_a_pid_in_use_fails_and_leaves_nothing(mr):
    holder = subprocess.Popen(["sleep", "30"])
    try:
        def mutate(cfg):
            cfg["minirun"] = {"pids": {"host": holder.pid}}

        before = set(os.listdir("/proc"))
        r = mr.run(mr.bundle(["true"], mutate=mutate), cid="busy")
        assert r.returncode == 1
        assert (f'process "init": pid {holder.pid} is already in use in pid namespace "host" '
                f'(held by process {holder.pid} (sleep)') in r.stderr, r.stderr
        assert_nothing_left(mr, "busy")
        new = {p for p in set(os.listdir("/proc")) - before if p.isdigit()}
        for p in new:
            try:
                with open(f"/proc/{p}/cmdline", "rb") as f:
                    assert not f.read().startswith(MINIRUN.encode()), "a minirun process was left behind"
            except FileNotFoundError:
                pass
    finally:
        holder.kill()
        holder.wait()


def test_pin_on_a_process_group_id_in_use_is_refused(mr):
    # a process group outlives its leader: the number stays in use
    leader = subprocess.Popen(["sh", "-c", "sleep 30 & echo $!; exit 0"], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    pgid = leader.pid
    member = int(leader.stdout.readline())
    leader.wait()
    try:
        assert not os.path.exists(f"/proc/{pgid}")

        def mutate(cfg):
            cfg["minirun"] = {"pids": {"host": pgid}}

        r = mr.run(mr.bundle(["true"], mutate=mutate), cid="pgrp")
        assert r.returncode == 1
        assert f"pid {pgid} is already in use" in r.stderr and "process group" in r.stderr, r.stderr
        assert_nothing_left(mr, "pgrp")
    finally:
        os.kill(member, signal.SIGKILL)


def test_failure_inside_the_container_leaves_nothing(mr):
    r = mr.run(mr.bundle(["/no/such/binary"]), cid="no-binary")
    assert r.returncode == 1
    assert ('container setup step "exec": exec: "/no/such/binary": stat /no/such/binary: no such file or directory'
            in r.stderr), r.stderr
    assert_nothing_left(mr, "no-binary")
