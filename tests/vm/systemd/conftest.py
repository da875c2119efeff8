"""Fixtures of the systemd guest's tests (scripts/vm/guest-systemd.sh runs
`pytest tests/vm/systemd` as root in a VM whose PID 1 is systemd, on cgroup
v2 only).  The integration suite's fixtures and helpers (the `mr` fixture:
a private --root, cleanup that deletes every container and checks nothing
is left) are loaded from tests/integration/conftest.py under another module
name and re-exported here, so `from conftest import MINIRUN` works whichever
of the two conftest.py files `conftest` names; this folder's own helpers
are in systemd_guest.py.

Add a test file next to this one to have it run in the systemd guest; on a
host without systemd as PID 1 every test here skips with the reason.  (The
guest also runs tests/integration/test_systemd_cgroup.py, which skips by
itself where systemd is not PID 1.)
"""
import importlib.util
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(os.path.dirname(os.path.dirname(HERE)), "integration")

_spec = importlib.util.spec_from_file_location("minirun_integration_conftest",
                                               os.path.join(INTEGRATION, "conftest.py"))
integration = importlib.util.module_from_spec(_spec)
sys.modules["minirun_integration_conftest"] = integration
_spec.loader.exec_module(integration)

# Every public name of it, the `mr` fixture and pytest_configure included:
# when this folder and tests/integration files run in one pytest session,
# `from conftest import ...` in either may find this module.
globals().update({k: v for k, v in vars(integration).items() if not k.startswith("__")})
MINIRUN = integration.MINIRUN


from systemd_guest import systemd_is_pid1  # noqa: E402


@pytest.fixture(autouse=True)
def _needs_systemd():
    if not systemd_is_pid1():
        pytest.skip("systemd is not PID 1 here: these tests run in the VM lane's systemd guest "
                    "(scripts/vm-test.sh --setup systemd)")
