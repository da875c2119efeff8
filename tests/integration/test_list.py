"""`list`: the table, -q and json formats (runc's fields, sorted by id, the
owner's name), an empty root, and an unknown format refused.
"""
import json
import os
import pwd

from helpers.lifecycle import lc, new_id, parse_rfc3339, wait_until  # noqa: F401 (fixture)


def test_list_formats(lc):
    me = pwd.getpwuid(os.geteuid()).pw_name
    b1, b2, b3 = lc.bundle(["sleep", "1000"]), lc.bundle(["sleep", "1000"]), lc.bundle(["true"])
    ids = sorted(new_id() for _ in range(3))
    c_created, _, _, _ = lc.create(b1, ids[0])
    c_running, _, _ = lc.create_started(b2, ids[1])
    c_stopped, _, _ = lc.create_started(b3, ids[2])
    wait_until(lambda: lc.state(c_stopped)["status"] == "stopped", what="the third to stop")
    want = {c_created: ("created", b1), c_running: ("running", b2), c_stopped: ("stopped", b3)}
    pids = {c: lc.state(c)["pid"] for c in ids}

    # -q: the ids, sorted, one a line
    r = lc.cmd("list", "-q", check=True)
    assert r.stdout == "".join(c + "\n" for c in ids)
    assert lc.cmd("list", "--quiet", check=True).stdout == r.stdout

    # json: runc's fields
    r = lc.cmd("list", "--format", "json", check=True)
    rows = json.loads(r.stdout)
    assert [row["id"] for row in rows] == ids
    for row in rows:
        status, bundle = want[row["id"]]
        assert {"id", "pid", "status", "bundle", "created", "owner"} <= set(row), row
        assert row["status"] == status
        assert row["pid"] == pids[row["id"]] and (row["pid"] > 0) == (status != "stopped")
        assert row["bundle"] == os.path.realpath(bundle)
        parse_rfc3339(row["created"])
    assert lc.cmd("list", "-f", "json", check=True).stdout == r.stdout

    # table: a header and one row per container, in id order
    r = lc.cmd("list", check=True)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    assert len(lines) == 4
    for line, cid in zip(lines[1:], ids):
        f = line.split()
        status, bundle = want[cid]
        assert f[:5] == [cid, str(pids[cid]), status, os.path.realpath(bundle), lc.state(cid)["created"]], line
    assert lc.cmd("list", "--format", "table", check=True).stdout == r.stdout

    # owner: the user who owns the container (runc: the state dir's owner's name)
    assert {row["owner"] for row in rows} == {me}, rows


def test_list_empty_and_bad_format(lc):
    r = lc.cmd("list", "--format", "json", check=True)
    assert json.loads(r.stdout) == []
    assert lc.cmd("list", "-q", check=True).stdout == ""
    assert lc.cmd("list", check=True).stdout.split() == ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    r = lc.cmd("list", "--format", "yaml")
    assert r.returncode == 1 and "expected table or json, got `yaml`" in r.stderr
