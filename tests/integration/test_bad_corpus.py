"""The bad-config corpus: every tests/configs/bad/NNN-*.json is a small complete
bundle config with one defect.  `minirun run` must exit 1 with the expected
message (tests/configs/bad/EXPECTED: the JSON path, the value, what was
expected) and leave nothing behind: no state directory, no cgroup, no mount.

The configs use "root": {"path": "rootfs"}; each run gets a fresh bundle
directory whose rootfs is a symlink to the shared busybox rootfs, so the
files stay machine-independent.  test_base_config_runs proves the defect,
not the base, is what fails.
"""
import json
import os
import uuid

import pytest

from conftest import MINIRUN, ROOTFS, cgroup_dirs

BAD_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "configs", "bad")

# The config every bad one starts from (kept in step with the corpus).
BASE = {
    "ociVersion": "1.1.0",
    "process": {"args": ["/bin/true"], "cwd": "/", "env": ["PATH=/bin:/sbin:/usr/bin"]},
    "root": {"path": "rootfs", "readonly": True},
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    ],
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]},
}


def load_expected():
    expected = {}
    with open(os.path.join(BAD_DIR, "EXPECTED"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            name, sep, substring = line.partition("\t")
            assert sep and substring, f"EXPECTED:{n}: expected FILE<TAB>SUBSTRING"
            assert name not in expected, f"EXPECTED:{n}: {name} listed twice"
            expected[name] = substring
    return expected


EXPECTED = load_expected()


def bad_files():
    return sorted(f for f in os.listdir(BAD_DIR) if f.endswith(".json"))


def contains_in_order(text, expect):
    """Every ' ... '-separated part of expect occurs in text, in order."""
    pos = 0
    for part in expect.split(" ... "):
        i = text.find(part, pos)
        if i < 0:
            return False
        pos = i + len(part)
    return True


def make_bundle(tmp_path, name, data):
    d = tmp_path / name
    d.mkdir()
    os.symlink(ROOTFS, d / "rootfs")
    (d / "config.json").write_bytes(data)
    return d


def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(str(path))]


def test_corpus_is_complete():
    files = bad_files()
    assert len(files) >= 100, f"only {len(files)} bad configs"
    for f in files:
        assert f[:3].isdigit() and f[3] == "-", f"{f}: name it NNN-short-name.json"
    assert sorted(EXPECTED) == files, (
        f"without an expectation: {sorted(set(files) - set(EXPECTED))}; "
        f"expectation without a file: {sorted(set(EXPECTED) - set(files))}")


def test_base_config_runs(mr, tmp_path):
    b = make_bundle(tmp_path, "base", json.dumps(BASE, indent=2).encode())
    r = mr.run(b)
    assert r.returncode == 0, (r.stdout, r.stderr)


@pytest.mark.parametrize("name", bad_files())
def test_bad_config(mr, tmp_path, name):
    with open(os.path.join(BAD_DIR, name), "rb") as f:
        data = f.read()
    bundle = make_bundle(tmp_path, "bundle", data)
    cid = f"bad-{name[:3]}-{uuid.uuid4().hex[:8]}"
    r = mr.run(bundle, cid=cid)
    expect = EXPECTED.get(name)
    assert expect is not None, f"{name} has no line in EXPECTED"
    assert r.returncode == 1, f"exit {r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"
    assert contains_in_order(r.stderr, expect), f"expected in stderr:\n  {expect}\ngot:\n  {r.stderr}"
    assert "AddressSanitizer" not in r.stderr and "runtime error:" not in r.stderr, r.stderr
    # nothing left behind, checked before the fixture's `delete --force`
    assert not os.path.exists(os.path.join(mr.root, cid)), "state directory left behind"
    assert cgroup_dirs(f"/minirun/{cid}") == [], "cgroup left behind"
    assert mounts_under(bundle) == [], "mount left behind"
    mr.created.discard(cid)
