"""`minirun exec` options that change the new process (the rest of exec is
tested with run, pins and crash: test_run.py, test_pins.py, test_crash.py)."""
import json

import pytest


@pytest.fixture
def running(mr):
    r = mr.run(mr.bundle(["sleep", "1000"]), "-d", cid="execopts")
    assert r.returncode == 0, r.stderr
    return "execopts"


def test_exec_additional_gids_repeated_and_as_a_list(mr, running):
    r = mr.cmd("exec", "-g", "1234", "--additional-gids", "55,66", running, "/bin/id", "-G", check=True)
    groups = r.stdout.split()
    for g in ("1234", "55", "66"):
        assert g in groups, (g, r.stdout)


def test_exec_additional_gids_with_a_process_file(mr, running, tmp_path):
    proc = tmp_path / "p.json"
    proc.write_text(json.dumps({"args": ["/bin/id", "-G"], "cwd": "/", "user": {"uid": 0, "gid": 0}}))
    r = mr.cmd("exec", "--additional-gids", "4321", "--process", proc, running, check=True)
    assert "4321" in r.stdout.split(), r.stdout


def test_exec_additional_gids_not_a_number_is_refused(mr, running):
    r = mr.cmd("exec", "-g", "wheel", running, "/bin/true")
    assert r.returncode == 1
    assert "exec --additional-gids `wheel`: expected a numeric gid" in r.stderr, r.stderr
