"""`state`: the JSON follows the runtime-spec's state schema through created,
running and stopped, names the spec version minirun implements, and always
has an annotations object.
"""
import datetime
import json
import os
import re

import pytest

from helpers.lifecycle import alive, lc, parse_rfc3339, wait_until  # noqa: F401 (fixture)


# The runtime-spec's state schema (schema/state-schema.json), with "paused"
# as runc and minirun report it.
OCI_STATE_SCHEMA = {
    "type": "object",
    "properties": {
        "ociVersion": {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.+-]+)?$"},
        "id": {"type": "string", "minLength": 1},
        "status": {"type": "string", "enum": ["creating", "created", "running", "stopped", "paused"]},
        "pid": {"type": "integer", "minimum": 0},
        "bundle": {"type": "string"},
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
    "required": ["ociVersion", "id", "status", "bundle"],
}


def test_state_json_follows_the_oci_schema(lc):
    jsonschema = pytest.importorskip("jsonschema")

    def mutate(cfg):
        cfg["annotations"] = {"org.example.key": "value", "org.example.empty": ""}

    b = lc.bundle(["sleep", "1000"], mutate=mutate)
    before = datetime.datetime.now(datetime.timezone.utc)
    cid, _, _, _ = lc.create(b, None, "--pid-file", lc.tmp / "p")
    pid = int((lc.tmp / "p").read_text())
    for want in ("created", "running", "stopped"):
        if want == "running":
            lc.start(cid)
        if want == "stopped":
            lc.cmd("kill", cid, "KILL", check=True)
            wait_until(lambda: not alive(pid), what="the init to die")
        r = lc.cmd("state", cid, check=True)
        st = json.loads(r.stdout)
        jsonschema.validate(st, OCI_STATE_SCHEMA)
        assert st["id"] == cid
        assert st["status"] == want
        assert st["pid"] == (0 if want == "stopped" else pid)
        assert os.path.isabs(st["bundle"]) and st["bundle"] == os.path.realpath(b)
        assert st["annotations"] == {"org.example.key": "value", "org.example.empty": ""}
        assert before - datetime.timedelta(seconds=1) <= parse_rfc3339(st["created"]) <= \
            datetime.datetime.now(datetime.timezone.utc)
        assert st["rootfs"] == os.path.realpath(b / "rootfs")


def test_state_reports_the_spec_version_minirun_implements(lc):
    v = lc.cmd("--version", check=True).stdout
    spec = re.search(r"^spec: (\S+)$", v, re.M).group(1)
    cid, _, _, _ = lc.create(lc.bundle(["true"]))
    assert lc.state(cid)["ociVersion"] == spec


def test_state_annotations_is_an_object_when_the_config_has_none(lc):
    def mutate(cfg):
        cfg.pop("annotations", None)

    cid, _, _, _ = lc.create(lc.bundle(["true"], mutate=mutate))
    assert lc.state(cid)["annotations"] == {}
