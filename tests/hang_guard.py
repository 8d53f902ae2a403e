"""A test that hangs ends the run at once, with the stack of every thread, instead of using up
CI's whole budget in silence (a pytest plugin: see ``pytest_plugins`` in tests/conftest.py).

The longest test takes about three minutes; ``JOBCENTER_TEST_HANG_SECONDS`` (default 900) is
how long one may run before the run is ended: the stacks are printed, this process's children
(workers, servers) are killed, the exit handlers run (the test PostgreSQL server is stopped) and
the process exits with status 3."""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import os
import signal
import sys
import threading
from pathlib import Path

import pytest

HANG_SECONDS = float(os.environ.get("JOBCENTER_TEST_HANG_SECONDS", "900"))


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (read from /proc; none where there is none)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields and int(fields[1]) == pid:
            found.append(int(entry.parent.name))
    return found


def _end_run(item: pytest.Item) -> None:
    capture = item.config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        capture.suspend_global_capture(in_=True)
    sys.stderr.write(
        f"\n\n{item.nodeid} is still running after {HANG_SECONDS:.0f}s: ending the test run. "
        "The stack of every thread:\n"
    )
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    sys.stderr.flush()
    for child in _children(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(child, signal.SIGKILL)
    try:
        atexit._run_exitfuncs()
    finally:
        os._exit(3)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    timer = threading.Timer(HANG_SECONDS, _end_run, args=(item,))
    timer.daemon = True
    timer.start()
    try:
        return (yield)
    finally:
        timer.cancel()
