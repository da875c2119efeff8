"""process.user: uid, gid, additional groups and umask as set, and the
defaults (umask 0022, no supplementary groups leaked from the runtime).
"""
from helpers.lifecycle import sh
from helpers.security import status_fields


def test_user_groups_and_umask(mr):
    def mutate(cfg):
        cfg["process"]["user"] = {"uid": 1000, "gid": 1001, "additionalGids": [10, 4242, 20], "umask": 0o027}

    r = mr.run(mr.bundle(sh("id -u; id -g; grep -E '^(Uid|Gid|Groups):' /proc/self/status; umask"),
                         mutate=mutate))
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0:2] == ["1000", "1001"], r.stdout
    fields = status_fields("\n".join(lines[2:5]))
    assert fields["Uid"].split() == ["1000"] * 4
    assert fields["Gid"].split() == ["1001"] * 4
    assert sorted(int(g) for g in fields["Groups"].split()) == [10, 20, 4242]
    assert lines[5] == "0027"


def test_default_umask_and_empty_groups(mr):
    def mutate(cfg):
        cfg["process"]["user"] = {"uid": 0, "gid": 0}

    r = mr.run(mr.bundle(sh("grep '^Groups:' /proc/self/status; umask"), mutate=mutate))
    assert r.returncode == 0, r.stderr
    groups, umask = r.stdout.splitlines()
    assert groups.split() == ["Groups:"], "the runtime's supplementary groups leaked into the container"
    assert umask == "0022"
