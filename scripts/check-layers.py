#!/usr/bin/env python3
"""check-layers.py: the house rules of runtime/, checked from the code.

Two graphs between the library's files:
  includes  from the `#include "room/file.h"` lines of runtime/**.[ch]
  calls     from the object files: file A calls file B when A.o has an
            undefined symbol that B.o defines (nm), so macros and static
            inline helpers are not counted, only real calls and data.
Rules (docs/architecture.md):
  1. no cycle between files in either graph;
  2. a room uses (includes or calls) only rooms on a lower floor, or itself;
     rooms on one floor do not use each other;
  3. the CLI (cmd/) includes only the public headers (include/minirun/) and its own;
  4. no runtime/ file over MAX_LINES lines;
  5. the parser and the planner make no syscalls of their own: config/ and
     plan/ include no base/syscalls.h; runtime/ includes nothing from cmd/;
  6. inside runtime/cgroup/ (one room above), the driver folders: the shared
     helpers (common/) use none of the others; a leaf driver (v1/, v2/) uses
     only common/; a composition (hybrid/, systemd/) uses common/ and the
     leaf drivers, never another composition; the front (the files directly
     in cgroup/) uses common/ and reaches a driver only through its
     registered table (the mr_cg_driver_* symbols), never a driver's header;
     nobody calls the front, and common/ includes of it only cgroup.h.
Usage: scripts/check-layers.py [BUILD_DIR]   (default build/; needs nm)
Exit 0 when every rule holds, 1 with one line per violation otherwise.
"""
import collections
import glob
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RUNTIME = os.path.join(ROOT, "runtime")

# floor of each room: a room may use rooms on lower floors only
FLOORS = {
    "base": 0,
    "config": 1,
    "plan": 2,
    "cgroup": 3,
    "resctrl": 3,
    "security": 3,
    "ns": 3,
    "process": 3,
    "rootfs": 4,
    "state": 5,
    "launch": 6,
    "ops": 7,
}
MAX_LINES = 500
# rule 6: the folders of runtime/cgroup/ ("front" = the files directly in it)
CGROUP_PARTS = {
    "front": "front",
    "common": "shared",
    "v1": "leaf",
    "v2": "leaf",
    "hybrid": "composition",
    "systemd": "composition",
}
CGROUP_PUBLIC = "cgroup/cgroup.h"   # the library's interface: types everyone may include
CGROUP_DRIVER = "cgroup/driver.h"   # the driver interface: the front and the drivers
CGROUP_REGISTRATION = "mr_cg_driver_"
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def node(path):
    """runtime/cgroup/v1/memory.c -> cgroup/v1/memory.c"""
    return os.path.relpath(path, RUNTIME)


def room(n):
    return n.split("/", 1)[0]


def find_cycles(graph):
    """every strongly connected component with more than one node (Tarjan)"""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def include_graph(problems):
    graph = collections.defaultdict(set)
    for path in glob.glob(os.path.join(RUNTIME, "**", "*.[ch]"), recursive=True):
        me = node(path)
        graph[me]
        with open(path, encoding="utf-8") as f:
            text = f.read()
        if text.count("\n") + 1 > MAX_LINES:
            problems.append(f"size: runtime/{os.path.relpath(path, RUNTIME)} has "
                            f"{text.count(chr(10))} lines (more than {MAX_LINES})")
        for inc in INCLUDE.findall(text):
            if inc == "base/syscalls.h" and room(me) in ("config", "plan"):
                problems.append(f"pure: {me} includes base/syscalls.h (config/ and plan/ make no syscalls)")
            if inc.startswith("cmd") or inc == "cmd.h":
                problems.append(f"include: {me} includes the CLI's {inc}")
            target = os.path.join(RUNTIME, inc)
            if not os.path.exists(target):
                # a header next to the file ("v1.h" inside cgroup/v1/)
                target = os.path.join(os.path.dirname(path), inc)
            if not os.path.exists(target):
                continue  # a public header (minirun/...) or a system one
            other = node(target)
            if other != me:
                graph[me].add(other)
    return graph


def call_graph(build):
    objdir = os.path.join(build, "CMakeFiles", "minirun_core.dir", "runtime")
    objs = glob.glob(os.path.join(objdir, "**", "*.c.o"), recursive=True)
    if not objs:
        sys.exit(f"check-layers: no object files under {objdir}: build first")
    defined, wanted = {}, collections.defaultdict(set)
    for o in objs:
        me = os.path.relpath(o, objdir)[: -len(".c.o")]
        if not os.path.exists(os.path.join(RUNTIME, me + ".c")):
            continue  # left over from a file that moved or went
        res = subprocess.run(["nm", o], capture_output=True, text=True, check=True)
        for line in res.stdout.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[1] in "TDBRC":
                defined[parts[2]] = me
            elif len(parts) == 2 and parts[0] == "U":
                wanted[me].add(parts[1])
    graph = collections.defaultdict(set)
    via = collections.defaultdict(set)  # (caller, callee) -> the symbols
    for me, syms in wanted.items():
        graph[me]
        for s in syms:
            other = defined.get(s)
            if other and other != me:
                graph[me].add(other)
                via[(me, other)].add(s)
    return graph, via


def check_rooms(kind, graph, problems):
    for a, outs in sorted(graph.items()):
        for b in sorted(outs):
            ra, rb = room(a), room(b)
            if ra == rb:
                continue
            if ra not in FLOORS or rb not in FLOORS:
                problems.append(f"{kind}: {a} -> {b}: a room not in the floor plan")
            elif FLOORS[rb] >= FLOORS[ra]:
                how = "the same floor" if FLOORS[rb] == FLOORS[ra] else "a higher floor"
                problems.append(f"{kind}: {a} ({ra}, floor {FLOORS[ra]}) uses {b} "
                                f"({rb}, floor {FLOORS[rb]}): {how}")
    for comp in find_cycles(graph):
        problems.append(f"{kind}: cycle between " + ", ".join(comp))


def cgroup_part(n):
    """cgroup/v1/driver.c -> v1; cgroup/cgroup.c -> front"""
    parts = n.split("/")
    return "front" if len(parts) == 2 else parts[1]


def check_cgroup(kind, graph, problems, via=None):
    for a, outs in sorted(graph.items()):
        if room(a) != "cgroup":
            continue
        pa = cgroup_part(a)
        ka = CGROUP_PARTS.get(pa)
        if ka is None:
            problems.append(f"{kind}: runtime/{a}: cgroup/{pa}/ is not in the cgroup plan "
                            f"({', '.join(sorted(CGROUP_PARTS))}; scripts/check-layers.py)")
            continue
        for b in sorted(outs):
            if room(b) != "cgroup":
                continue
            pb = cgroup_part(b)
            kb = CGROUP_PARTS.get(pb)
            why = None
            if pa == pb or kb is None:
                continue  # the same folder; an unknown one is reported as a user above
            if kb == "front":
                header = kind == "include"
                if not header:
                    why = "nobody calls the front (it dispatches to the drivers)"
                elif b == CGROUP_DRIVER and ka == "shared":
                    why = "the shared helpers do not know the driver interface"
                elif b not in (CGROUP_PUBLIC, CGROUP_DRIVER):
                    why = "only the front's headers may be included"
            elif ka == "front":
                if kb != "shared" and kind == "include":
                    why = "the front reaches a driver only through driver.h"
                elif kb != "shared":
                    other = sorted(x for x in via.get((a, b), ()) if not x.startswith(CGROUP_REGISTRATION))
                    if other:
                        why = ("the front uses a driver only through its table (" + CGROUP_REGISTRATION
                               + "*), not " + ", ".join(other))
            elif ka == "shared" and kb != "shared":
                why = "the shared helpers use no driver"
            elif ka == "leaf" and kb != "shared":
                why = "a leaf driver uses only common/"
            elif ka == "composition" and kb == "composition":
                why = "a composition uses common/ and the leaf drivers, not another composition"
            if why:
                problems.append(f"{kind}: {a} (cgroup/{pa}, {ka}) uses {b} (cgroup/{pb}, {kb}): {why}")


def check_cli(problems):
    allowed = {os.path.basename(p) for p in glob.glob(os.path.join(ROOT, "cmd", "*.h"))}
    for path in sorted(glob.glob(os.path.join(ROOT, "cmd", "*.c"))):
        with open(path, encoding="utf-8") as f:
            for inc in INCLUDE.findall(f.read()):
                if not (inc.startswith("minirun/") or inc in allowed):
                    problems.append(f"cli: cmd/{os.path.basename(path)} includes \"{inc}\" "
                                    "(the CLI uses only include/minirun/)")


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build")
    problems = []
    inc = include_graph(problems)
    check_rooms("include", inc, problems)
    check_cgroup("include", inc, problems)
    calls, via = call_graph(build)
    check_rooms("call", calls, problems)
    check_cgroup("call", calls, problems, via)
    if os.environ.get("CHECK_LAYERS_CLI", "1") == "1":
        check_cli(problems)
    for p in problems:
        print(p)
    nfiles = len(inc)
    nedges = sum(len(v) for v in inc.values()), sum(len(v) for v in calls.values())
    if problems:
        print(f"check-layers: {len(problems)} problem(s) in {nfiles} files")
        return 1
    print(f"check-layers: {nfiles} files, {nedges[0]} include and {nedges[1]} call edges, "
          f"{len(set(map(room, inc)))} rooms: no cycle, every edge goes down")
    return 0


if __name__ == "__main__":
    sys.exit(main())
