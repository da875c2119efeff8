"""`features`: the JSON runc's `features` prints, with minirun's pidPinning.
"""
import json

from helpers.lifecycle import lc  # noqa: F401 (fixture)


def test_features(lc):
    f = json.loads(lc.cmd("features", check=True).stdout)
    assert f["ociVersionMin"] <= f["ociVersionMax"]
    assert f["hooks"] == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
    assert {"pid", "mount", "network", "ipc", "uts", "cgroup", "user"} <= set(f["linux"]["namespaces"])
    # true when built with libsystemd-dev (test_systemd_cgroup.py checks it against the build)
    assert f["linux"]["cgroup"]["systemd"] in (True, False)
    assert f["linux"]["cgroup"]["systemdUser"] == f["linux"]["cgroup"]["systemd"]
    assert f["minirun"]["pidPinning"] is True
