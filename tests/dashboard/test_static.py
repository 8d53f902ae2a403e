"""The dashboard's assets are vendored and served by WhiteNoise in production (no CDN)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.template import Context, Template

REPO = Path(__file__).resolve().parents[2]


def test_htmx_2_comes_from_django_htmx_static_files():
    html = Template("{% load django_htmx %}{% htmx_script %}").render(Context({}))
    assert html == '<script src="/static/django_htmx/htmx-2.min.js" defer></script>'
    path = finders.find("django_htmx/htmx-2.min.js")
    assert path and Path(path).is_file()
    assert re.search(r'version:"2\.\d+\.\d+"', Path(path).read_text())


def test_our_assets_are_in_static_and_fetch_nothing_from_elsewhere():
    for name in (
        "dashboard/dashboard.css",
        "dashboard/charts.css",
        "dashboard/dashboard.js",
        "dashboard/favicon.svg",
    ):
        path = finders.find(name)
        assert path and Path(path).is_relative_to(REPO / "static"), name
        text = Path(path).read_text()
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", text), name
        assert "@import" not in text and "fetch(" not in text
    for template in (REPO / "templates").rglob("*.html"):
        text = template.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), template


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(url: str, **headers: str) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (loopback)
    with urllib.request.urlopen(request) as response:  # noqa: S310
        return response.status, dict(response.headers), response.read()


@pytest.mark.slow
def test_manage_py_serve_serves_the_dashboard_and_its_assets(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("JOBCENTER_TEST", "DATABASE_URL", "DJANGO_SETTINGS"))
    }
    env.update(JOBCENTER_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="jobcenter.settings")
    manage = [sys.executable, str(REPO / "manage.py")]
    for command in (["migrate", "-v", "0"], ["collectstatic", "--noinput", "-v", "0"]):
        subprocess.run([*manage, *command], env=env, cwd=REPO, check=True)
    port = free_port()
    proc = subprocess.Popen(
        [*manage, "serve", "--port", str(port), "--web-workers", "1"],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _, body = fetch(f"{base}/accounts/login/")
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        assert status == 200
        page = body.decode()
        assets = re.findall(r'(?:href|src)="(/static/[^"]+)"', page)
        css = next(a for a in assets if a.startswith("/static/dashboard/dashboard."))
        htmx = next(a for a in assets if a.startswith("/static/django_htmx/htmx-2.min."))
        assert re.search(r"dashboard\.[0-9a-f]{12}\.css$", css), css  # hashed, cacheable
        for asset in assets:
            status, headers, content = fetch(base + asset, **{"Accept-Encoding": "gzip"})
            assert status == 200 and content, asset
            assert "max-age=315360000" in headers.get("Cache-Control", ""), asset
        _, headers, content = fetch(base + htmx)
        assert b'version:"2.' in content and "javascript" in headers["Content-Type"]
        _, headers, _ = fetch(base + css, **{"Accept-Encoding": "gzip"})
        assert headers.get("Content-Encoding") == "gzip"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.communicate()
