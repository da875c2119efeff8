"""Helpers of the systemd guest's tests (a module name of its own: in a
pytest session that also runs tests/integration files, `conftest` may be
either folder's conftest.py)."""
import subprocess


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
