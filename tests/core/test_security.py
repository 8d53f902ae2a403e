"""Security headers on every response (jobcenter/core/security.py and Django's own), and the
TLS settings that JOBCENTER_TLS=1 turns on."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management.utils import get_random_secret_key
from django.test import Client, override_settings

from jobcenter.api.docs import LOGO, redoc_bundle

REPO = Path(__file__).resolve().parents[2]

STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def directives(header: str) -> dict[str, list[str]]:
    parts = [p.split() for p in header.split(";") if p.strip()]
    return {p[0]: p[1:] for p in parts}


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/accounts/login/",
        "/",
        "/jobs/0123456789abcdef0123456789abcdef/",
        "/api/v1/jobs/",
        "/api/health/",
        "/api/schema/?format=json",
        "/api/schema/swagger-ui/",
        "/api/schema/swagger-ui/?script=",
        "/admin/",
        "/no/such/page/",
        "/ges/v1.0/p/graphs/g/jobs/status",
    ],
)
def test_every_response_carries_the_strict_policy_and_the_other_headers(url, operator):
    browser = Client()
    browser.force_login(operator)
    response = browser.get(url)
    assert response.status_code < 500
    assert response["Content-Security-Policy"] == STRICT
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    # plain HTTP on 127.0.0.1 (make run): no HSTS, no Secure cookies, no redirect
    assert "Strict-Transport-Security" not in response


@pytest.mark.django_db
def test_redoc_gets_its_own_policy_and_nothing_from_elsewhere(operator):
    browser = Client()
    browser.force_login(operator)
    response = browser.get("/api/schema/redoc/")
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]  # scripts as strict as everywhere
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]  # ReDoc injects <style>s
    assert policy["worker-src"] == ["'self'", "blob:"]  # its search runs in a worker
    assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
    html = response.content.decode()
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert not re.search(r"<script>|<style>|style=", html)
    script = browser.get("/api/schema/redoc/redoc.standalone.js")
    assert script.status_code == 200
    body = b"".join(script.streaming_content) if script.streaming else script.content
    assert body == redoc_bundle()[0]
    assert LOGO not in body and b"API docs by Redocly" in body
    again = browser.get("/api/schema/redoc/redoc.standalone.js", HTTP_IF_NONE_MATCH=script["ETag"])
    assert again.status_code == 304


@pytest.mark.django_db
def test_swagger_ui_has_no_inline_script_or_style(operator):
    browser = Client()
    browser.force_login(operator)
    html = browser.get("/api/schema/swagger-ui/").content.decode()
    assert '<script src="/api/schema/swagger-ui/?script="></script>' in html
    assert not re.search(r"<script>|<style>|style=", html)


def test_no_template_has_inline_scripts_styles_or_handlers():
    """What the policy would refuse in a browser, found in the templates themselves."""
    templates = [*(REPO / "templates").rglob("*.html"), *(REPO / "jobcenter").rglob("*.html")]
    assert len(templates) > 15
    for template in templates:
        text = template.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")",
            r"<style",
            r"\sstyle=",
            r"\son[a-z]+=",
            r"\shx-on",
            r"javascript:",
            r"js:",
        ):
            assert not re.search(pattern, text), (template, pattern)


def python(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Settings are read from the environment when they are imported: a fresh process, with
    none of the test run's settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("JOBCENTER_", "DJANGO"))}
    return subprocess.run(
        [sys.executable, *args],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


TLS_SETTINGS = [
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER",
]
SHOW = f"""
import json, os
os.environ["DJANGO_SETTINGS_MODULE"] = "jobcenter.settings"
from django.conf import settings
print(json.dumps({{n: getattr(settings, n) for n in {TLS_SETTINGS!r}}}))
"""


def tls_settings(tmp_path: Path, **env: str) -> dict:
    base = {"JOBCENTER_DATA_DIR": str(tmp_path), "SECRET_KEY": get_random_secret_key()}
    done = python("-c", SHOW, **base, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_jobcenter_tls_turns_on_secure_cookies_hsts_and_the_redirect(tmp_path):
    assert tls_settings(tmp_path) == {
        "SECURE_SSL_REDIRECT": False,
        "SESSION_COOKIE_SECURE": False,
        "CSRF_COOKIE_SECURE": False,
        "SECURE_HSTS_SECONDS": 0,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": None,
    }
    assert tls_settings(tmp_path, JOBCENTER_TLS="1") == {
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31_536_000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": True,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
    }
    tuned = tls_settings(
        tmp_path,
        JOBCENTER_TLS="1",
        JOBCENTER_HSTS_SECONDS="3600",
        JOBCENTER_HSTS_PRELOAD="0",
        JOBCENTER_HSTS_INCLUDE_SUBDOMAINS="0",
    )
    assert tuned["SECURE_HSTS_SECONDS"] == 3600
    assert tuned["SECURE_HSTS_PRELOAD"] is False
    assert tuned["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False


@pytest.mark.django_db
def test_behind_a_tls_proxy_cookies_are_secure_http_redirects_and_hsts_is_sent(tmp_path, operator):
    values = tls_settings(tmp_path, JOBCENTER_TLS="1")
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    with override_settings(**values):
        browser = Client()
        plain = browser.get("/accounts/login/?next=/")
        assert plain.status_code == 301
        assert plain["Location"] == "https://testserver/accounts/login/?next=/"
        assert browser.get("/api/health/").status_code == 200  # load balancers probe over HTTP
        https = {"HTTP_X_FORWARDED_PROTO": "https"}
        page = browser.get("/accounts/login/", **https)
        assert page.status_code == 200
        assert page["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
        assert page.cookies["csrftoken"]["secure"] is True
        login = browser.post(
            "/accounts/login/", {"username": "oscar", "password": "pw-oscar"}, **https
        )
        assert login.status_code == 302
        assert login.cookies["sessionid"]["secure"] is True
        assert login.cookies["sessionid"]["httponly"] is True


def test_check_deploy_has_nothing_to_say_with_tls_on(tmp_path):
    env = {
        "JOBCENTER_DATA_DIR": str(tmp_path),
        "SECRET_KEY": get_random_secret_key(),
        "ALLOWED_HOSTS": "jobs.example.com",
    }
    on = python(
        "manage.py", "check", "--deploy", "--fail-level", "WARNING", JOBCENTER_TLS="1", **env
    )
    assert on.returncode == 0, on.stdout + on.stderr
    assert "System check identified no issues" in on.stdout
    # without TLS, exactly what JOBCENTER_TLS would fix is reported
    off = python("manage.py", "check", "--deploy", **env)
    found = sorted(set(re.findall(r"\((security\.W\d+)\)", off.stdout + off.stderr)))
    assert found == ["security.W004", "security.W008", "security.W012", "security.W016"]
