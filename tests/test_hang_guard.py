"""tests/hang_guard.py: a hanging test ends the run, with stacks, its children killed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

HANGING = """
import subprocess, time

def test_hangs(tmp_path):
    child = subprocess.Popen(["sleep", "120"])
    (PIDFILE).write_text(str(child.pid))
    time.sleep(120)
"""


def test_a_hanging_test_ends_the_run_with_every_stack_and_no_child_left(tmp_path):
    pidfile = tmp_path / "child.pid"
    test_file = tmp_path / "test_hangs.py"
    test_file.write_text(
        HANGING.replace("(PIDFILE)", f"__import__('pathlib').Path({str(pidfile)!r})")
    )
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.hang_guard",
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            "-c",
            os.devnull,
            "--rootdir",
            str(tmp_path),
            str(test_file),
        ],
        cwd=REPO,
        env={**os.environ, "JOBCENTER_TEST_HANG_SECONDS": "2", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    took = time.monotonic() - started
    assert done.returncode == 3, done.stdout + done.stderr
    assert "test_hangs.py::test_hangs is still running after 2s" in done.stderr
    assert "in test_hangs" in done.stderr  # the hanging test's own frame is in the stacks
    assert took < 30
    child = int(pidfile.read_text())
    time.sleep(0.2)
    assert not _alive(child), "the hanging test's child process was left running"


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie waiting to be reaped does not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
