"""``manage.py serve`` (what ``make run`` starts): gunicorn + a worker; Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children_of(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def test_serve_runs_web_and_worker_and_stops_on_ctrl_c(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JOBCENTER_TEST", "DATABASE_URL", "DJANGO_SETTINGS"))
    }
    env.update(JOBCENTER_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="jobcenter.settings")
    manage = [sys.executable, str(REPO / "manage.py")]
    for command in (["migrate", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([*manage, *command], env=env, cwd=REPO, check=True)
    bootstrap = subprocess.run(
        [*manage, "bootstrap"], env=env, cwd=REPO, check=True, capture_output=True, text=True
    )
    assert "username: admin" in bootstrap.stdout
    port = free_port()
    proc = subprocess.Popen(
        [*manage, "serve", "--port", str(port)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/") as resp:
                    assert resp.status == 200
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        static = f"http://127.0.0.1:{port}/static/admin/css/base.css"
        with urllib.request.urlopen(static) as resp:  # served by WhiteNoise, not runserver
            assert resp.status == 200 and b"body" in resp.read()
        kids = children_of(proc.pid)
        assert len(kids) == 2  # gunicorn master and the worker
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "Stopped." in output
    for kid in kids:
        assert (
            not Path(f"/proc/{kid}").exists() or "zombie" in Path(f"/proc/{kid}/status").read_text()
        )
