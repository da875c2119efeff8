"""Container ids on every command that takes one: an unknown id, an invalid
one and a missing one, each refused with the same words everywhere.
"""
import pytest

from helpers.lifecycle import lc, new_id  # noqa: F401 (fixture)


@pytest.mark.parametrize("args", [["state"], ["start"], ["kill"], ["kill", "{id}", "KILL"], ["delete"]])
def test_unknown_id(lc, args):
    cid = new_id("nope")
    argv = [a.format(id=cid) for a in args]
    if "{id}" not in args:
        argv.append(cid)
    r = lc.cmd(*argv)
    assert r.returncode == 1, r
    assert r.stdout == ""
    assert r.stderr.strip() == f"minirun: container `{cid}` does not exist: No such file or directory", r.stderr


@pytest.mark.parametrize("cmd", ["state", "start", "kill", "delete"])
def test_invalid_id_is_refused(lc, cmd):
    r = lc.cmd(cmd, "../escape")
    assert r.returncode == 1
    assert "invalid container id `../escape`" in r.stderr, r.stderr


def test_missing_id_is_a_usage_error(lc):
    for cmd in ("state", "start", "delete", "kill", "create"):
        r = lc.cmd(cmd)
        assert r.returncode == 1, cmd
        assert "Usage: minirun" in r.stderr, (cmd, r.stderr)
