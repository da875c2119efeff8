"""--version: the build it names (static or dynamic) is the binary's.
"""
import re

from conftest import MINIRUN
from helpers.lifecycle import lc  # noqa: F401 (fixture)


def has_program_interpreter(path):
    """Whether the ELF file has a PT_INTERP header (is dynamically linked)."""
    import struct
    with open(path, "rb") as f:
        head = f.read(64)
        assert head[:4] == b"\x7fELF" and head[4] == 2, "a 64-bit ELF file"
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return any(struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum))


def test_version_names_the_build_it_is(lc):
    """`build: static` exactly when the binary has no program interpreter."""
    v = lc.cmd("--version", check=True).stdout
    build = re.search(r"^build: (\w+)", v, re.M)
    assert build, v
    dynamic = has_program_interpreter(MINIRUN)
    assert build.group(1) == ("dynamic" if dynamic else "static"), (v, MINIRUN)
