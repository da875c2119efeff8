"""The global --log and --log-format options: errors recorded as JSON or
text lines (appended), stdout left alone, a log that cannot be opened and
an unknown format refused.
"""
import datetime
import json

from helpers.lifecycle import lc, new_id, parse_rfc3339  # noqa: F401 (fixture)


def test_log_json_records_errors(lc, tmp_path):
    log = tmp_path / "minirun.log"
    cid = new_id("nope")
    r = lc.cmd("--log", log, "--log-format", "json", "start", cid)
    assert r.returncode == 1
    assert f"container `{cid}` does not exist" in r.stderr
    lines = log.read_text().splitlines()
    assert len(lines) == 1, lines
    entry = json.loads(lines[0])
    assert entry["level"] == "error"
    assert f"container `{cid}` does not exist" in entry["msg"]
    t = parse_rfc3339(entry["time"])
    assert abs((datetime.datetime.now(datetime.timezone.utc) - t).total_seconds()) < 60
    # appends, one object a line
    lc.cmd("--log", log, "--log-format", "json", "kill", cid, "KILL")
    lines = log.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(x)["level"] == "error" for x in lines)


def test_log_text_records_errors(lc, tmp_path):
    log = tmp_path / "minirun.log"
    cid = new_id("nope")
    r = lc.cmd("--log", log, "--log-format", "text", "delete", cid)
    assert r.returncode == 1
    text = log.read_text()
    assert "error" in text and f"container `{cid}` does not exist" in text, text
    r = lc.cmd("--log", log, "state", cid)  # text is the default
    assert log.read_text().count(f"container `{cid}` does not exist") == 2


def test_log_leaves_stdout_alone_and_success_quiet(lc, tmp_path):
    log = tmp_path / "minirun.log"
    cid, _, _, _ = lc.create(lc.bundle(["true"]))
    r = lc.cmd("--log", log, "--log-format", "json", "--debug", "state", cid, check=True)
    assert json.loads(r.stdout)["id"] == cid
    for line in (log.read_text().splitlines() if log.exists() else []):
        assert json.loads(line)["level"] in ("debug", "info"), line


def test_log_file_that_cannot_be_opened(lc, tmp_path):
    r = lc.cmd("--log", tmp_path / "no" / "such" / "dir.log", "list")
    assert r.returncode == 1
    assert str(tmp_path / "no" / "such" / "dir.log") in r.stderr, r.stderr


def test_bad_log_format(lc):
    r = lc.cmd("--log-format", "xml", "list")
    assert r.returncode == 1 and "expected text or json, got `xml`" in r.stderr
