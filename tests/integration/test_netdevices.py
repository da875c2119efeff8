"""linux.netDevices (runtime-spec 1.3): a host interface moved into the
container's network namespace, optionally renamed, with its permanent global
addresses and its MTU, and up.  The interfaces here are one end of a veth pair
made for the test (this kernel has no dummy driver); the finalizer deletes
whatever is left of them on the host, whatever happens.

A container that was created keeps its devices until its network namespace
goes (the spec forbids moving them out before delete): then the kernel
destroys a virtual one such as a veth (and its peer) and would return a
physical one to the host under its container name.  A create that fails after
the move gives every device back to the host under its host name, with its
addresses and up state.
"""
import json
import os
import shutil
import subprocess
import time
import uuid

import pytest

from conftest import MINIRUN

IP = shutil.which("ip")
NSENTER = shutil.which("nsenter")


def built_in():
    """Does this minirun move network devices?  The static build has no
    libmnl (Debian ships no libmnl.a) and refuses linux.netDevices."""
    r = subprocess.run([MINIRUN, "features"], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["linux"]["netDevices"]["enabled"]


NOT_BUILT_IN = (f"{MINIRUN} has no linux.netDevices (the static build: no libmnl.a in Debian); "
                "its refusal is tested by test_a_build_without_it_refuses_clearly")


def need_netdev():
    if not built_in():
        pytest.skip(NOT_BUILT_IN)


def ip(*args, check=True):
    r = subprocess.run([IP, *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"ip {' '.join(args)}: {r.stderr}")
    return r


def host_has(name):
    return ip("link", "show", "dev", name, check=False).returncode == 0


def link_info(name, netns_pid=None):
    """(addresses "a.b.c.d/n" of global scope, mtu, up) of `name`, on the host
    or in the network namespace of netns_pid."""
    pre = [NSENTER, "-t", str(netns_pid), "-n"] if netns_pid else []
    r = subprocess.run(pre + [IP, "-j", "addr", "show", "dev", name], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (link,) = json.loads(r.stdout)
    addrs = sorted(f"{a['local']}/{a['prefixlen']}" for a in link["addr_info"] if a.get("scope") == "global")
    return addrs, link["mtu"], "UP" in link["flags"]


def peer_goes(dev):
    """The kernel frees a dead network namespace (and the veth in it, and so
    its peer) from a work queue, after the last process left: wait for it."""
    deadline = time.monotonic() + 30
    while host_has(dev + "p"):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def veth():
    """make() -> a new veth end on the host, up, MTU 1400, with an IPv4 and
    an IPv6 address; its peer stays on the host."""
    if IP is None:
        pytest.skip("the `ip` command (iproute2) is not installed")
    need_netdev()
    made = []

    def make(v4="10.231.7.1/24", v6="2001:db8:7::1/64"):
        name = f"mrn{uuid.uuid4().hex[:8]}"
        r = ip("link", "add", name, "type", "veth", "peer", "name", name + "p", check=False)
        if r.returncode != 0:
            pytest.skip(f"cannot create a veth pair on this host: {r.stderr.strip()}")
        made.append(name)
        ip("addr", "add", v4, "dev", name)
        ip("-6", "addr", "add", v6, "nodad", "dev", name)
        ip("link", "set", name, "mtu", "1400", "up")
        ip("link", "set", name + "p", "up")
        return name

    yield make
    for name in made:
        for n in (name, name + "p"):
            if host_has(n):
                ip("link", "del", n, check=False)


def with_devices(devices, extra=None):
    def mutate(cfg):
        cfg["linux"]["netDevices"] = devices
        if extra:
            extra(cfg)
    return mutate


EXPECTED = (["10.231.7.1/24", "2001:db8:7::1/64"], 1400, True)


def test_run_moves_the_device_with_its_addresses_and_up(mr, veth):
    dev = veth()
    script = f"ip -o addr show dev {dev}; cat /sys/class/net/{dev}/mtu /sys/class/net/{dev}/flags"
    r = mr.run(mr.bundle(["sh", "-c", script], mutate=with_devices({dev: {}})))
    assert r.returncode == 0, r.stderr
    assert "inet 10.231.7.1/24" in r.stdout and "inet6 2001:db8:7::1/64" in r.stdout, r.stdout
    mtu, flags = r.stdout.split()[-2:]
    assert mtu == "1400" and int(flags, 16) & 1, r.stdout  # IFF_UP
    # a veth dies with the container's network namespace, its peer with it
    assert not host_has(dev)
    assert peer_goes(dev), "the veth peer stayed on the host after the container's namespace went"


def test_create_start_renamed_device_is_in_the_container_not_on_the_host(mr, veth):
    if NSENTER is None:
        pytest.skip("nsenter (util-linux) is not installed")
    dev = veth()
    b = mr.bundle(["sleep", "1000"], mutate=with_devices({dev: {"name": "ceth0"}}))
    cid = f"t-{uuid.uuid4().hex[:10]}"
    mr.created.add(cid)
    r = mr.detached("create", "-b", b, cid)
    assert r.returncode == 0, r.stderr
    pid = mr.state(cid)["pid"]
    assert not host_has(dev), "the device is still on the host after create"
    assert host_has(dev + "p"), "the veth peer left the host"
    assert link_info("ceth0", pid) == EXPECTED
    assert mr.cmd("start", cid).returncode == 0
    assert mr.state(cid)["status"] == "running"
    assert link_info("ceth0", pid) == EXPECTED
    assert mr.cmd("delete", "--force", cid).returncode == 0
    mr.created.discard(cid)
    # not moved back (the spec forbids it): destroyed with the namespace
    assert not host_has(dev) and not host_has("ceth0")
    assert peer_goes(dev), "the veth peer stayed on the host after the container's namespace went"


def test_user_namespace_container_gets_the_device(mr, veth):
    """The namespace belongs to the container's user namespace: the launcher,
    root on the host, still moves the device in and sets it up there."""
    dev = veth()

    def userns(cfg):
        cfg["linux"]["namespaces"].append({"type": "user"})
        cfg["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
        cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    r = mr.run(mr.bundle(["sh", "-c", "ip -o addr show dev c0; cat /proc/self/uid_map"],
                         mutate=with_devices({dev: {"name": "c0"}}, userns)))
    assert r.returncode == 0, r.stderr
    assert "inet 10.231.7.1/24" in r.stdout and "100000" in r.stdout, r.stdout


def test_template_name_is_completed_by_the_kernel(mr, veth):
    dev = veth()
    r = mr.run(mr.bundle(["sh", "-c", "ls /sys/class/net"], mutate=with_devices({dev: {"name": "ct%d"}})))
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == ["ct0", "lo"], r.stdout


def test_joined_netns_keeps_the_device_after_delete(mr, veth):
    """A namespace given by path outlives the container: the device stays in
    it (as with runc), and goes with the namespace."""
    dev = veth()
    ns = f"mrn{uuid.uuid4().hex[:8]}"
    ip("netns", "add", ns)
    try:
        def join(cfg):
            for n in cfg["linux"]["namespaces"]:
                if n["type"] == "network":
                    n["path"] = f"/run/netns/{ns}"
        r = mr.run(mr.bundle(["sh", "-c", f"cat /sys/class/net/{dev}/mtu"], mutate=with_devices({dev: {}}, join)))
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["1400"]
        assert not host_has(dev)
        r = ip("-n", ns, "-o", "addr", "show", "dev", dev, check=False)
        assert r.returncode == 0 and "10.231.7.1/24" in r.stdout, (r.stdout, r.stderr)
    finally:
        ip("netns", "del", ns, check=False)


def assert_back_on_host(dev):
    assert host_has(dev), f"{dev} is not back on the host"
    assert link_info(dev) == EXPECTED


def test_failure_after_the_move_gives_the_device_back(mr, veth):
    dev = veth()

    def bad_mount(cfg):
        cfg["mounts"].append({"destination": "/x", "type": "bind", "source": "/nonexistent-netdev-src",
                              "options": ["bind"]})
    b = mr.bundle(["true"], mutate=with_devices({dev: {"name": "ceth0"}}, bad_mount))
    cid = f"t-{uuid.uuid4().hex[:10]}"
    mr.created.add(cid)
    r = mr.cmd("--debug", "run", "-b", b, cid)
    assert r.returncode != 0
    assert "/nonexistent-netdev-src" in r.stderr, r.stderr
    assert f"netDevices: {dev} moved into the container as ceth0" in r.stderr, r.stderr
    assert_back_on_host(dev)
    assert not host_has("ceth0")


def test_rename_to_a_name_taken_in_the_container_gives_the_device_back(mr, veth):
    dev = veth()
    r = mr.run(mr.bundle(["true"], mutate=with_devices({dev: {"name": "lo"}})))
    assert r.returncode != 0
    assert f'linux.netDevices["{dev}"]: an interface named "lo" already exists' in r.stderr, r.stderr
    assert_back_on_host(dev)


def test_second_device_failing_gives_the_first_back(mr, veth):
    a, b = veth(), veth("10.231.8.1/24", "2001:db8:8::1/64")
    r = mr.run(mr.bundle(["true"], mutate=with_devices({a: {"name": "c0"}, b: {"name": "lo"}})))
    assert r.returncode != 0
    assert f'linux.netDevices["{b}"]' in r.stderr, r.stderr
    assert_back_on_host(a)
    assert host_has(b)


def test_missing_device_is_refused_before_anything_exists(mr):
    need_netdev()
    r = mr.run(mr.bundle(["true"], mutate=with_devices({"mrnnosuch0": {}})))
    assert r.returncode != 0
    assert 'linux.netDevices["mrnnosuch0"]: there is no interface "mrnnosuch0" on the host' in r.stderr, r.stderr


def test_host_network_namespace_is_refused(mr, veth):
    dev = veth()

    def no_netns(cfg):
        cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"] if n["type"] != "network"]
    r = mr.run(mr.bundle(["true"], mutate=with_devices({dev: {}}, no_netns)))
    assert r.returncode != 0
    assert "linux.netDevices: the container has no network namespace of its own" in r.stderr, r.stderr
    assert host_has(dev)


def test_joining_the_hosts_own_netns_by_path_is_refused(mr, veth):
    dev = veth()

    def host_path(cfg):
        for n in cfg["linux"]["namespaces"]:
            if n["type"] == "network":
                n["path"] = f"/proc/{os.getpid()}/ns/net"
    r = mr.run(mr.bundle(["true"], mutate=with_devices({dev: {}}, host_path)))
    assert r.returncode != 0
    assert "is the runtime's own" in r.stderr, r.stderr
    assert_back_on_host(dev)


@pytest.mark.parametrize("devices, message", [
    ({"eth-a": {"name": "c0"}, "eth-b": {"name": "c0"}},
     'linux.netDevices["eth-b"]: would be named "c0" in the container, as linux.netDevices["eth-a"] would'),
    ({"eth-a": {"name": "eth-b"}, "eth-b": {}},
     'linux.netDevices["eth-b"]: would be named "eth-b" in the container, as linux.netDevices["eth-a"] would'),
    ({"eth-a": {"name": "a/b"}}, "linux.netDevices[\"eth-a\"]: name \"a/b\" is not a valid interface name"),
    ({"eth-a": {"name": "x" * 16}}, "longer than 15 bytes"),
    ({"eth-a": {"name": ".."}}, "not interface names"),
    ({"eth-a": {"name": "c%s"}}, "as the template \"%d\""),
    ({"eth-a": {"name": 5}}, 'linux.netDevices["eth-a"].name: expected a string'),
    ({"eth-a": "c0"}, 'linux.netDevices["eth-a"]: expected an object'),
])
def test_bad_entries_are_refused(mr, devices, message):
    r = mr.run(mr.bundle(["true"], mutate=with_devices(devices)))
    assert r.returncode != 0
    assert message in r.stderr, r.stderr


def test_features_say_netdevices_enabled(mr):
    need_netdev()
    r = mr.cmd("features", check=True)
    assert json.loads(r.stdout)["linux"]["netDevices"] == {"enabled": True}


def test_a_build_without_it_refuses_clearly(mr):
    if built_in():
        pytest.skip(f"{MINIRUN} moves network devices: the refusal is the static build's")
    r = mr.cmd("features", check=True)
    assert json.loads(r.stdout)["linux"]["netDevices"] == {"enabled": False}
    r = mr.run(mr.bundle(["true"], mutate=with_devices({"eth-a": {}})), cid="netdev-static")
    assert r.returncode == 1
    assert "linux.netDevices: this minirun is the static build" in r.stderr and "default build" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(mr.root, "netdev-static"))
