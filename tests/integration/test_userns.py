"""A user namespace with uid and gid maps of two ranges each: the maps in
/proc, the init running as the mapped root.
"""
import os
import subprocess
import time

from conftest import MINIRUN
from helpers.lifecycle import sh


def read_map(path):
    with open(path) as f:
        return [tuple(int(x) for x in line.split()) for line in f if line.strip()]


def wait_for_file(path, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        assert proc.poll() is None, f"minirun exited ({proc.returncode}): {proc.stderr.read()}"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def test_user_namespace_maps_with_two_ranges(mr, tmp_path):
    uids = [{"containerID": 0, "hostID": 100000, "size": 1000},
            {"containerID": 1000, "hostID": 200000, "size": 64536}]
    gids = [{"containerID": 0, "hostID": 110000, "size": 1000},
            {"containerID": 1000, "hostID": 210000, "size": 64536}]

    def mutate(cfg):
        cfg["linux"]["namespaces"].append({"type": "user"})
        cfg["linux"]["uidMappings"] = uids
        cfg["linux"]["gidMappings"] = gids

    b = mr.bundle(sh("id -u; id -g; read line || true"), mutate=mutate)
    pidfile = tmp_path / "pid"
    p = subprocess.Popen([MINIRUN, "--root", mr.root, "run", "-b", str(b), "--pid-file", str(pidfile), "userns"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    mr.created.add("userns")
    try:
        first = p.stdout.readline()
        assert first == "0\n", first or p.stderr.read()
        assert p.stdout.readline() == "0\n"
        wait_for_file(pidfile, p)
        pid = int(pidfile.read_text())
        want_u = [(m["containerID"], m["hostID"], m["size"]) for m in uids]
        want_g = [(m["containerID"], m["hostID"], m["size"]) for m in gids]
        assert read_map(f"/proc/{pid}/uid_map") == want_u
        assert read_map(f"/proc/{pid}/gid_map") == want_g
        assert os.readlink(f"/proc/{pid}/ns/user") != os.readlink("/proc/self/ns/user")
        st = os.stat(f"/proc/{pid}")
        assert (st.st_uid, st.st_gid) == (100000, 110000), "the init does not run as the mapped root"
        p.stdin.close()
        assert p.wait(timeout=30) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            mr.cmd("kill", "userns", "KILL")
            p.wait(timeout=30)
