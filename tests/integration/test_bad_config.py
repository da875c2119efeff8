"""Bad input gets a clear error naming the config path, and nothing is left behind."""
import json
import os

import pytest

from conftest import cgroup_dirs


def run_bad(mr, cfg_text=None, mutate=None, cid="bad"):
    b = mr.bundle(["true"], mutate=mutate)
    if cfg_text is not None:
        (b / "config.json").write_text(cfg_text)
    r = mr.run(b, cid=cid)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert not os.path.exists(os.path.join(mr.root, cid)), "state directory left behind"
    assert cgroup_dirs(f"/minirun/{cid}") == []
    return r.stderr


def test_missing_config_file(mr):
    b = mr.bundle(["true"])
    os.unlink(b / "config.json")
    r = mr.cmd("run", "-b", b, "nocfg")
    assert r.returncode == 1
    assert f"{b}/config.json" in r.stderr and "No such file or directory" in r.stderr, r.stderr


def test_bad_json_reports_line_and_column(mr):
    err = run_bad(mr, cfg_text='{\n  "ociVersion": "1.1.0",\n  "root": {"path": "rootfs",}\n}\n')
    assert "config.json:3:" in err and "invalid JSON" in err, err


def test_wrong_type_names_the_json_path(mr):
    err = run_bad(mr, mutate=lambda c: c["process"].__setitem__("args", ["sh", 5]))
    assert "process.args[1]: expected a string, got integer 5" in err, err


def test_bad_mount_names_the_json_path(mr):
    err = run_bad(mr, mutate=lambda c: c["mounts"].append({"destination": 5, "type": "tmpfs"}))
    assert "mounts[" in err and "].destination: expected a string, got integer 5" in err, err


def test_bad_namespace_names_the_json_path(mr):
    err = run_bad(mr, mutate=lambda c: c["linux"]["namespaces"].append({"type": "pidx"}))
    assert "linux.namespaces[" in err and '"pidx"' in err, err


def test_namespace_path_that_does_not_exist(mr):
    def mutate(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
        c["linux"]["namespaces"].append({"type": "network", "path": "/proc/999999999/ns/net"})
    err = run_bad(mr, mutate=mutate)
    assert "linux.namespaces" in err and "/proc/999999999/ns/net" in err and "No such file" in err, err


def test_namespace_path_of_the_wrong_type(mr):
    def mutate(c):
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "network"]
        c["linux"]["namespaces"].append({"type": "network", "path": "/proc/self/ns/uts"})
    err = run_bad(mr, mutate=mutate)
    assert "is not a network namespace" in err, err


@pytest.mark.parametrize("pins,expect", [
    ({"host": 0}, "minirun.pids.host"),
    ({"host": "some"}, "minirun.pids.host"),
    ({"container": 5}, 'it is the first process in pid namespace "container", so its pid there must be 1 (config says 5)'),
    ({"host": 99999999}, 'pid 99999999 in pid namespace "host" is outside 1..'),
    ({"elsewhere": 3}, '"elsewhere"'),
])
def test_bad_pin(mr, pins, expect):
    err = run_bad(mr, mutate=lambda c: c.__setitem__("minirun", {"pids": pins}))
    assert expect in err, err


def test_bad_pin_annotation(mr):
    err = run_bad(mr, mutate=lambda c: c.setdefault("annotations", {}).__setitem__("minirun.pids", "host=abc"))
    assert "minirun.pids" in err and "abc" in err, err


def test_non_namespaced_sysctl_is_refused(mr):
    err = run_bad(mr, mutate=lambda c: c["linux"].__setitem__("sysctl", {"kernel.pid_max": "40000"}))
    assert 'linux.sysctl: "kernel.pid_max" is not namespaced' in err, err


def test_missing_rootfs(mr):
    err = run_bad(mr, mutate=lambda c: c["root"].__setitem__("path", "no-such-rootfs"))
    assert "root.path" in err and "no-such-rootfs" in err, err


def test_invalid_container_id(mr):
    b = mr.bundle(["true"])
    for bad in ("../escape", "a/b", "", "x" * 300):
        r = mr.cmd("run", "-b", b, bad)
        assert r.returncode == 1
        assert "container id" in r.stderr, r.stderr


def test_duplicate_id_is_refused(mr):
    import subprocess, time
    from conftest import MINIRUN
    b = mr.bundle(["sh", "-c", "echo up; sleep 30"])
    p = subprocess.Popen([MINIRUN, "--root", mr.root, "run", "-b", str(b), "dup"], stdout=subprocess.PIPE, text=True)
    mr.created.add("dup")
    try:
        assert p.stdout.readline() == "up\n"
        r = mr.cmd("run", "-b", b, "dup")
        assert r.returncode == 1 and "container `dup` already exists" in r.stderr, r.stderr
        assert mr.state("dup")["status"] == "running"
    finally:
        mr.cmd("kill", "dup", "KILL")
        p.wait(timeout=30)
