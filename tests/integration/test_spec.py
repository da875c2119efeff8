"""`spec`: the default and --rootless configs, an existing config.json
kept, and the current directory as the default bundle.
"""
import json
import subprocess

from conftest import MINIRUN
from helpers.lifecycle import CMD_TIMEOUT, lc  # noqa: F401 (fixture)


def test_spec(lc, tmp_path):
    d = tmp_path / "b"
    d.mkdir()
    lc.cmd("spec", "--bundle", d, check=True)
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["process"]["args"] == ["sh"] and cfg["root"] == {"path": "rootfs", "readonly": True}
    assert {n["type"] for n in cfg["linux"]["namespaces"]} >= {"pid", "mount", "network", "ipc", "uts"}
    r = lc.cmd("spec", "--bundle", d)
    assert r.returncode == 1 and "exists already" in r.stderr
    d2 = tmp_path / "rootless"
    d2.mkdir()
    lc.cmd("spec", "--rootless", "-b", d2, check=True)
    cfg = json.loads((d2 / "config.json").read_text())
    assert "user" in {n["type"] for n in cfg["linux"]["namespaces"]}
    assert cfg["linux"]["uidMappings"] and cfg["linux"]["gidMappings"]
    # spec without --bundle writes into the current directory
    d3 = tmp_path / "cwd"
    d3.mkdir()
    r = subprocess.run([MINIRUN, "spec"], cwd=d3, capture_output=True, text=True, timeout=CMD_TIMEOUT)
    assert r.returncode == 0 and (d3 / "config.json").exists()
