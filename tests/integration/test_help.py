"""--help of minirun and of every command, an unknown command, and no
command at all.
"""
import re

from helpers.lifecycle import lc  # noqa: F401 (fixture)


def test_unknown_command_and_help(lc):
    r = lc.cmd("frobnicate")
    assert r.returncode == 1 and "unknown command `frobnicate`" in r.stderr
    r = lc.cmd()
    assert r.returncode == 1 and "Usage: minirun" in r.stderr
    r = lc.cmd("--help", check=True)
    for c in ("run", "create", "start", "state", "kill", "delete", "list", "spec", "features"):
        assert re.search(rf"^  {c}\s", r.stdout, re.M), c
        h = lc.cmd(c, "--help")
        assert h.returncode == 0 and h.stdout.startswith(f"Usage: minirun {c}"), (c, h.stdout, h.stderr)
    assert re.match(r"^minirun version \S+\nspec: \d+\.\d+\.\d+", lc.cmd("--version", check=True).stdout)
