"""The login throttle's counting (jobcenter/credentials/throttle.py): exact under concurrent
processes, per client address behind proxies, and the same for every ``authenticate()``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.test import RequestFactory, override_settings

from jobcenter.credentials.models import LoginFailureCount
from jobcenter.credentials.throttle import client_address, login_lockout

REPO = Path(__file__).resolve().parents[2]

GUESSER = """
import os, sys, time
import django
django.setup()
from django.contrib.auth import authenticate
from django.test import RequestFactory
go, attempts = sys.argv[1], int(sys.argv[2])
while not os.path.exists(go):
    time.sleep(0.002)
wrong = locked = 0
for i in range(attempts):
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    if authenticate(request, username="oscar", password=f"guess-{i}") is not None:
        raise SystemExit("a wrong password was accepted")
    if getattr(request, "login_lockout", None) is not None:
        locked += 1
    else:
        wrong += 1
print(wrong, locked)
"""


def test_concurrent_processes_get_exactly_the_limit_of_password_checks(
    transactional_db, operator, tmp_path
):
    """Four processes guess at once (as gunicorn's workers would serve them): together they
    get exactly JOBCENTER_LOGIN_MAX_FAILURES_PER_USER password checks, never more."""
    go = tmp_path / "go"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "JOBCENTER_TEST_WORKER": "1",
        "JOBCENTER_DATA_DIR": str(settings.DATA_DIR),
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", GUESSER, str(go), "15"],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err[-2000:]
        results.append(tuple(int(n) for n in out.split()))
    limit = settings.JOBCENTER_LOGIN_MAX_FAILURES_PER_USER
    assert sum(wrong for wrong, _ in results) == limit, results
    assert sum(locked for _, locked in results) == 4 * 15 - limit
    assert LoginFailureCount.objects.get(scope="user").failures == limit
    assert LoginFailureCount.objects.get(scope="address").failures == limit


@pytest.mark.django_db
def test_every_authenticate_call_is_throttled_even_without_a_request(operator):
    """E.g. the test client's login(): only the user name counts (no address known)."""
    for i in range(10):
        assert authenticate(username="oscar", password=f"guess-{i}") is None
    assert authenticate(username="oscar", password="pw-oscar") is None
    request = RequestFactory().post("/", REMOTE_ADDR="192.0.2.1")
    assert authenticate(request, username="oscar", password="pw-oscar") is None
    lockout = login_lockout(request)
    assert lockout is not None and lockout.code == "throttled"
    assert 0 < lockout.retry_after <= settings.JOBCENTER_LOGIN_FAILURE_WINDOW
    assert list(LoginFailureCount.objects.values_list("scope", flat=True)) == ["user"]


def _address(**meta: str) -> str | None:
    return client_address(RequestFactory().get("/", **meta))


def test_the_client_address_is_remote_addr_unless_proxies_are_trusted():
    spoofed = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "1.2.3.4"}
    assert _address(**spoofed) == "10.0.0.5"  # the header is anyone's to send
    with override_settings(JOBCENTER_PROXY_COUNT=1):
        # one proxy: its REMOTE_ADDR is the proxy, the last entry is who connected to it
        assert _address(**spoofed) == "1.2.3.4"
        forged = {"REMOTE_ADDR": "10.0.0.5", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4"}
        assert _address(**forged) == "1.2.3.4"
        assert _address(REMOTE_ADDR="10.0.0.5") == "10.0.0.5"
    with override_settings(JOBCENTER_PROXY_COUNT=2):
        chain = {"REMOTE_ADDR": "10.0.0.6", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 1.2.3.4, 10.0.0.5"}
        assert _address(**chain) == "1.2.3.4"


def test_ipv6_addresses_count_per_64_block():
    assert _address(REMOTE_ADDR="2001:db8:1:2:aaaa::1") == "2001:db8:1:2::/64"
    assert _address(REMOTE_ADDR="2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert _address(REMOTE_ADDR="::ffff:192.0.2.1") == "192.0.2.1"
    assert _address(REMOTE_ADDR="192.0.2.1") == "192.0.2.1"
