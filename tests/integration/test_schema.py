"""config-schema/config.schema.json against real configs.

Validates every examples/*/config.json, every tests/configs/valid*.json and
the output of `minirun spec` (plain and --rootless), and checks that the
schema rejects a set of bad configs (each the kind of mistake the C parser
rejects too).

Run: /usr/bin/python3 -m pytest tests/integration/test_schema.py
The minirun binary is $MINIRUN_BIN, default <repo>/build/minirun; the
`spec` tests are skipped (with the reason) when it is missing.
"""

import copy
import json
import os
import pathlib
import subprocess

import jsonschema
import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "config-schema" / "config.schema.json"
MINIRUN_BIN = pathlib.Path(os.environ.get("MINIRUN_BIN", ROOT / "build" / "minirun"))

EXAMPLES = sorted(ROOT.glob("examples/*/config.json"))
FIXTURES = sorted((ROOT / "tests" / "configs").glob("valid*.json"))


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors_of(validator, doc):
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}" for e in validator.iter_errors(doc)]


def test_schema_is_valid_draft_2020_12(validator):
    assert validator is not None


def test_fixtures_exist():
    assert FIXTURES, "tests/configs/valid*.json is missing"


@pytest.mark.parametrize("path", FIXTURES, ids=[p.name for p in FIXTURES])
def test_valid_fixture(validator, path):
    doc = json.loads(path.read_text())
    assert errors_of(validator, doc) == []


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.parent.name for p in EXAMPLES])
def test_example(validator, path):
    doc = json.loads(path.read_text())
    assert errors_of(validator, doc) == []


def test_examples_present():
    if not EXAMPLES:
        pytest.skip(f"no examples/*/config.json under {ROOT} yet")


def minirun_spec(tmp_path, *extra):
    if not (MINIRUN_BIN.is_file() and os.access(MINIRUN_BIN, os.X_OK)):
        pytest.skip(f"minirun binary not found at {MINIRUN_BIN} (set MINIRUN_BIN)")
    res = subprocess.run([str(MINIRUN_BIN), "spec", "--bundle", str(tmp_path), *extra],
                         capture_output=True, text=True, timeout=30)
    if res.returncode != 0:
        pytest.skip(f"`minirun spec {' '.join(extra)}` failed ({res.returncode}): {res.stderr.strip()}")
    out = tmp_path / "config.json"
    if not out.exists():
        pytest.skip(f"`{MINIRUN_BIN} spec {' '.join(extra)}` wrote no config.json (a binary without `spec`?)")
    return json.loads(out.read_text())


def test_minirun_spec(validator, tmp_path):
    doc = minirun_spec(tmp_path)
    assert errors_of(validator, doc) == []
    assert doc["root"]["path"] == "rootfs"


def test_minirun_spec_rootless(validator, tmp_path):
    doc = minirun_spec(tmp_path, "--rootless")
    assert errors_of(validator, doc) == []
    assert {"type": "user"} in doc["linux"]["namespaces"]


BASE = {
    "ociVersion": "1.1.0",
    "root": {"path": "rootfs"},
    "process": {"cwd": "/", "args": ["sh"]},
    "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
    "linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]},
}


def mutate(path, value):
    """BASE with the value at path (a tuple of keys/indices) replaced; value None deletes."""
    doc = copy.deepcopy(BASE)
    node = doc
    for key in path[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(key, {})
        else:
            node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return doc


BAD = {
    "missing ociVersion": mutate(("ociVersion",), None),
    "missing root.path": mutate(("root", "path"), None),
    "relative cwd": mutate(("process", "cwd"), "home"),
    "empty args": mutate(("process", "args"), []),
    "args not strings": mutate(("process", "args"), ["sh", 5]),
    "env without =": mutate(("process", "env"), ["NOEQUALS"]),
    "relative mount destination": mutate(("mounts", 0, "destination"), "tmp"),
    "uidMappings without gidMappings on a mount": mutate(("mounts", 0, "uidMappings"),
                                                         [{"containerID": 0, "hostID": 1000, "size": 1}]),
    "tmpcopyup on a bind mount": mutate(("mounts", 0), {"destination": "/a", "type": "bind", "source": "/x",
                                                        "options": ["rbind", "tmpcopyup"]}),
    "tmpcopyup on proc": mutate(("mounts", 0, "options"), ["tmpcopyup"]),
    "unknown namespace type": mutate(("linux", "namespaces"), [{"type": "pidx"}]),
    "relative namespace path": mutate(("linux", "namespaces"), [{"type": "network", "path": "netns/x"}]),
    "bad capability name": mutate(("process", "capabilities"), {"bounding": ["sys_admin"]}),
    "unknown rlimit": mutate(("process", "rlimits"), [{"type": "RLIMIT_FILES", "soft": 1, "hard": 1}]),
    "oomScoreAdj out of range": mutate(("process", "oomScoreAdj"), 5000),
    "bad seccomp action": mutate(("linux", "seccomp"), {"defaultAction": "SCMP_ACT_DENY"}),
    "bad seccomp op": mutate(("linux", "seccomp"), {
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO",
                      "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQUAL"}]}]}),
    "errnoRet with kill": mutate(("linux", "seccomp"), {
        "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_KILL", "errnoRet": 1}]}),
    "notify without listener": mutate(("linux", "seccomp"), {
        "defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["bpf"], "action": "SCMP_ACT_NOTIFY"}]}),
    "memory limit as string": mutate(("linux", "resources"), {"memory": {"limit": "512M"}}),
    "device access rwx": mutate(("linux", "resources"), {"devices": [{"allow": True, "access": "rwx"}]}),
    "netDevices name with a slash": mutate(("linux", "netDevices"), {"eth9": {"name": "a/b"}}),
    "netDevices name too long": mutate(("linux", "netDevices"), {"eth9": {"name": "x" * 16}}),
    "netDevices host name dot-dot": mutate(("linux", "netDevices"), {"..": {}}),
    "netDevices name two templates": mutate(("linux", "netDevices"), {"eth9": {"name": "c%d%d"}}),
    "hook relative path": mutate(("hooks",), {"prestart": [{"path": "bin/hook"}]}),
    "hook timeout 0": mutate(("hooks",), {"poststop": [{"path": "/h", "timeout": 0}]}),
    "pin 0": mutate(("minirun",), {"pids": {"host": 0}}),
    "pin word": mutate(("minirun",), {"pids": {"container": "some"}}),
    "bad pin namespace name": mutate(("minirun",), {"pids": {"bad name": 1}}),
    "unknown minirun key": mutate(("minirun",), {"pid": {"host": 42000}}),
    "process named init": mutate(("minirun",), {"processes": [{"name": "init", "args": ["x"]}]}),
    "process without args": mutate(("minirun",), {"processes": [{"name": "w"}]}),
    "unknown process key": mutate(("minirun",), {"processes": [{"name": "w", "args": ["x"], "pid": {"host": 5}}]}),
    "redeclared container namespace": mutate(("minirun",), {"pidNamespaces": {"container": {"parent": "host"}}}),
    "bad pin annotation": mutate(("annotations",), {"minirun.pids": "host=abc"}),
    "empty pin annotation entry": mutate(("annotations",), {"minirun.pids": "host=1,,container=1"}),
    "unknown scheduler policy": mutate(("process", "scheduler"), {"policy": "SCHED_FOO"}),
    "ioPriority priority 8": mutate(("process", "ioPriority"), {"class": "IOPRIO_CLASS_BE", "priority": 8}),
    "execCPUAffinity open range": mutate(("process", "execCPUAffinity"), {"final": "0-"}),
    "unknown memoryPolicy mode": mutate(("linux", "memoryPolicy"), {"mode": "MPOL_FOO"}),
    "annotation and minirun.pids": {**mutate(("annotations",), {"minirun.pids": "host=1"}),
                                    "minirun": {"pids": {"host": 1}}},
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_config_rejected(validator, name):
    assert errors_of(validator, BAD[name]), f"schema accepted a config with {name}"


def test_base_is_valid(validator):
    assert errors_of(validator, BASE) == []


def test_mount_idmap_recursive_options_and_tmpcopyup_valid(validator):
    m = [{"containerID": 0, "hostID": 1000, "size": 1}]
    doc = mutate(("mounts",), [
        {"destination": "/a", "type": "bind", "source": "/x", "options": ["rbind", "ridmap", "rnoexec", "ratime"],
         "uidMappings": m, "gidMappings": m},
        {"destination": "/b", "type": "bind", "source": "/x", "options": ["idmap=uids=0-1000-1;gids=@0-0-1"]},
        {"destination": "/etc", "type": "tmpfs", "source": "tmpfs", "options": ["tmpcopyup", "size=1m"]},
    ])
    assert errors_of(validator, doc) == []


def test_pin_annotation_and_extension_valid(validator):
    doc = mutate(("annotations",), {"minirun.pids": " host=42000, container=any"})
    assert errors_of(validator, doc) == []
    doc = mutate(("minirun",), {
        "pids": {"host": 42000, "container": 1},
        "pidNamespaces": {"inner": {"parent": "container"}},
        "processes": [{"name": "w", "parent": "init", "pidNamespace": "inner",
                       "pids": {"inner": 1, "container": 20, "host": "any"}, "args": ["/bin/true"]}],
        "legacyNsLastPid": False,
    })
    assert errors_of(validator, doc) == []


def test_bad_fixture_rejected(validator):
    doc = json.loads((ROOT / "tests" / "configs" / "bad-namespace.json").read_text())
    assert errors_of(validator, doc)


def test_process_attributes_are_valid(validator):
    doc = copy.deepcopy(BASE)
    doc["process"].update({"scheduler": {"policy": "SCHED_FIFO", "priority": 10, "flags": ["SCHED_FLAG_RESET_ON_FORK"]},
                           "ioPriority": {"class": "IOPRIO_CLASS_IDLE", "priority": 7},
                           "execCPUAffinity": {"initial": "0-3,7", "final": ""}})
    doc["linux"]["memoryPolicy"] = {"mode": "MPOL_INTERLEAVE", "nodes": "2-3", "flags": ["MPOL_F_STATIC_NODES"]}
    assert errors_of(validator, doc) == []
