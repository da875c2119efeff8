"""Small static C programs the security and attack tests run inside
containers (the busybox rootfs has no compiler and no libc to link against).

`build_helpers()` compiles every helpers/*.c with `cc -static -O2` into a new
directory under /tmp (mode 0755, so a container running as another uid or in
a user namespace can still reach it); `helpers_mount()` is the config entry
that binds that directory read-only at HELPERS_DIR in the container.
HELPERS_DIR is /home: it exists (empty) in examples/rootfs, so the bind
creates nothing in the shared rootfs.

The Python helpers the test modules share live beside them:
helpers/lifecycle.py (Lifecycle and the `lc` fixture, waits, /proc probes)
and helpers/security.py (/proc status fields, nothing-left checks, seccomp
mutations).
"""
import os
import shutil
import subprocess
import tempfile

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
HELPERS_DIR = "/home"


def sources():
    return sorted(f for f in os.listdir(HERE) if f.endswith(".c"))


def build_helpers():
    """Compile every helper; returns the directory. Raises RuntimeError with
    the compiler's output when `cc -static` cannot link (no libc.a)."""
    out = tempfile.mkdtemp(prefix="mr-helpers-", dir="/tmp")
    os.chmod(out, 0o755)
    try:
        for src in sources():
            name = src[:-2]
            r = subprocess.run(["cc", "-static", "-O2", "-Wall", "-o", os.path.join(out, name),
                                os.path.join(HERE, src)], capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                raise RuntimeError(f"cc -static {src} failed:\n{r.stderr}")
    except BaseException:
        shutil.rmtree(out, ignore_errors=True)
        raise
    return out


def helpers_mount(directory):
    return {"destination": HELPERS_DIR, "type": "bind", "source": directory, "options": ["bind", "ro"]}


def helper(name):
    """The path of helper `name` inside the container."""
    return f"{HELPERS_DIR}/{name}"


@pytest.fixture(scope="module")
def helpers_dir():
    """The compiled helpers (once per test module), removed afterwards. Tests
    that need them are skipped when static linking does not work here."""
    try:
        d = build_helpers()
    except (RuntimeError, OSError) as e:
        pytest.skip(f"static helper programs cannot be built: {e}")
    yield d
    shutil.rmtree(d, ignore_errors=True)
