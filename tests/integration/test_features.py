"""`features`: the JSON runc's `features` prints, with minirun's pidPinning.
"""
import json

from helpers.lifecycle import lc  # noqa: F401 (fixture)


def test_features(lc):
    f = json.loads(lc.cmd("features", check=True).stdout)
    assert f["ociVersionMin"] <= f["ociVersionMax"]
    assert f["hooks"] == ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
    assert {"pid", "mount", "network", "ipc", "uts", "cgroup", "user"} <= set(f["linux"]["namespaces"])
    assert f["linux"]["cgroup"]["systemd"] is False
    assert f["minirun"]["pidPinning"] is True
