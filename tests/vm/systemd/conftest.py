"""Fixtures of the systemd guest's tests (scripts/vm/guest-systemd.sh runs
`pytest tests/vm/systemd` as root in a VM whose PID 1 is systemd, on cgroup
v2 only).  The integration suite's fixtures and helpers (the `mr` fixture:
a private --root, cleanup that deletes every container and checks nothing
is left) are loaded from tests/integration/conftest.py under another module
name, so that `from conftest import ...` keeps meaning this file here.

Add a test file next to this one to have it run in the systemd guest; on a
host without systemd as PID 1 every test here skips with the reason.
"""
import importlib.util
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(os.path.dirname(os.path.dirname(HERE)), "integration")

_spec = importlib.util.spec_from_file_location("minirun_integration_conftest",
                                               os.path.join(INTEGRATION, "conftest.py"))
integration = importlib.util.module_from_spec(_spec)
sys.modules["minirun_integration_conftest"] = integration
_spec.loader.exec_module(integration)

MINIRUN = integration.MINIRUN
ROOTFS = integration.ROOTFS
base_config = integration.base_config
cgroup_dirs = integration.cgroup_dirs
mr = integration.mr  # the fixture itself
pytest_configure = integration.pytest_configure


def systemd_is_pid1():
    try:
        with open("/proc/1/comm") as f:
            return f.read().strip() == "systemd"
    except OSError:
        return False


def system_state():
    """`systemctl is-system-running` (its stdout: running, degraded, starting, ...)."""
    r = subprocess.run(["systemctl", "is-system-running"], capture_output=True, text=True, timeout=60)
    return r.stdout.strip()


@pytest.fixture(autouse=True)
def _needs_systemd():
    if not systemd_is_pid1():
        pytest.skip("systemd is not PID 1 here: these tests run in the VM lane's systemd guest "
                    "(scripts/vm-test.sh --setup systemd)")
