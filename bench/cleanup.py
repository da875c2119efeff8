"""cleanup.py: removes everything a bench run created, for all three runtimes.

Containers are deleted through their own runtime (`delete --force` of every
id still listed under the bench's private --root); then every cgroup
directory named after the bench's id prefix is looked for in each hierarchy
(minirun uses /minirun/<id>, crun /<id>, runc /<id> relative to the caller's
own cgroup, so a depth-limited walk finds them all); a directory still
holding processes gets them killed (they are the bench's containers) and
removed.  minirun's /minirun parent goes too if the bench created it.  The
return value lists whatever could not be removed.
"""
import os
import signal
import time

CG = "/sys/fs/cgroup"
DEPTH = 5


def hierarchies():
    """Every mounted hierarchy root below /sys/fs/cgroup (or the unified root)."""
    if os.path.exists(os.path.join(CG, "cgroup.procs")):
        return [CG]
    out = []
    for name in sorted(os.listdir(CG)):
        p = os.path.join(CG, name)
        if os.path.isdir(p) and not os.path.islink(p) and os.path.exists(os.path.join(p, "cgroup.procs")):
            out.append(p)
    return out


def cgroup_parents_present():
    return set(h for h in hierarchies() if os.path.isdir(os.path.join(h, "minirun")))


def find(prefix):
    """Directories named PREFIX-* in any hierarchy, deepest first."""
    found = []
    for h in hierarchies():
        base = h.count("/")
        for dirpath, dirnames, _ in os.walk(h):
            if dirpath.count("/") - base >= DEPTH:
                dirnames[:] = []
                continue
            keep = []
            for d in dirnames:
                if d.startswith(prefix + "-"):
                    found.append(os.path.join(dirpath, d))
                else:
                    keep.append(d)
            dirnames[:] = keep
    # children of a found dir (sub-cgroups) first
    full = []
    for f in found:
        for dirpath, dirnames, _ in os.walk(f, topdown=False):
            full.append(dirpath)
    return full


def remove_cgroup(path):
    deadline = time.monotonic() + 3
    while True:
        try:
            os.rmdir(path)
            return True
        except FileNotFoundError:
            return True
        except OSError:
            try:
                with open(os.path.join(path, "cgroup.procs")) as f:
                    for pid in f.read().split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except ProcessLookupError:
                            pass
            except OSError:
                pass
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)


def clean_all(b):
    """Two rounds: the runtimes delete their containers (a delete stuck for 20 s is
    killed), then the cgroup sweep kills whatever still runs in the bench's
    cgroups (which also frees a state lock held by a stuck container process)."""
    for _ in range(2):
        for rt in b.rts:
            try:
                listed = [i for i in b.output(rt, "list", "-q").split() if i.startswith(b.prefix + "-")]
            except Exception:  # the runtime itself may be what failed
                listed = sorted(i for i in rt.ids if os.path.isdir(os.path.join(rt.root, i)))
            if listed:
                b.pool(rt, [("delete", "--force", i) for i in listed], check=False, timeout=20)
        for path in find(b.prefix):
            remove_cgroup(path)
    left = []
    for rt in b.rts:
        try:
            left += ["%s container %s" % (rt.name, i) for i in b.output(rt, "list", "-q").split()
                     if i.startswith(b.prefix + "-")]
        except Exception as e:
            left.append("%s list failed: %s" % (rt.name, e))
    for h in hierarchies():
        parent = os.path.join(h, "minirun")
        if h not in b.cg_before and os.path.isdir(parent):
            try:
                os.rmdir(parent)
            except OSError:
                pass  # someone else's containers live there now
    left += ["cgroup " + p for p in find(b.prefix)]
    return left
