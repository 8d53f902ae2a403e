"""Settings read from the environment: a value that cannot be right stops the start with an
error that names the variable (not a bare ``int()`` traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from jobcenter.env import env_bool, env_float, env_int

REPO = Path(__file__).resolve().parent.parent


def test_whole_numbers_and_their_least_value(monkeypatch):
    monkeypatch.setenv("JC_TEST_N", " 10_000 ")
    assert env_int("JC_TEST_N", 5, minimum=0) == 10_000
    monkeypatch.setenv("JC_TEST_N", "")
    assert env_int("JC_TEST_N", 5, minimum=0) == 5
    monkeypatch.delenv("JC_TEST_N")
    assert env_int("JC_TEST_N", 5) == 5
    monkeypatch.setenv("JC_TEST_N", "1.5")
    with pytest.raises(
        ImproperlyConfigured, match=r"^JC_TEST_N must be a whole number, not '1.5'$"
    ):
        env_int("JC_TEST_N", 5)
    monkeypatch.setenv("JC_TEST_N", "-1")
    with pytest.raises(ImproperlyConfigured, match=r"^JC_TEST_N must be at least 0, not -1$"):
        env_int("JC_TEST_N", 5, minimum=0)
    assert env_int("JC_TEST_N", 5) == -1  # no least value: any whole number


def test_numbers_and_their_least_value(monkeypatch):
    monkeypatch.setenv("JC_TEST_F", "0.25")
    assert env_float("JC_TEST_F", 1.0, minimum=0.01) == 0.25
    for bad, message in [
        ("fast", r"^JC_TEST_F must be a number, not 'fast'$"),
        ("0", r"^JC_TEST_F must be at least 0.01, not 0$"),
        ("nan", r"^JC_TEST_F must be at least 0.01, not nan$"),
        ("inf", r"^JC_TEST_F must be at least 0.01, not inf$"),
    ]:
        monkeypatch.setenv("JC_TEST_F", bad)
        with pytest.raises(ImproperlyConfigured, match=message):
            env_float("JC_TEST_F", 1.0, minimum=0.01)
    monkeypatch.setenv("JC_TEST_F", "inf")
    with pytest.raises(ImproperlyConfigured, match=r"^JC_TEST_F must be finite, not inf$"):
        env_float("JC_TEST_F", 1.0)


def test_on_and_off(monkeypatch):
    for value, on in [("1", True), (" Yes ", True), ("ON", True), ("false", False), ("0", False)]:
        monkeypatch.setenv("JC_TEST_B", value)
        assert env_bool("JC_TEST_B", not on) is on
    monkeypatch.setenv("JC_TEST_B", " ")
    assert env_bool("JC_TEST_B", True) is True
    monkeypatch.setenv("JC_TEST_B", "ture")
    with pytest.raises(ImproperlyConfigured, match=r"^JC_TEST_B must be one of .*, not 'ture'$"):
        env_bool("JC_TEST_B")
    assert env_bool("JC_TEST_B", True, strict=False) is False  # (DEBUG: other tools set it)


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("JOBCENTER_IMPORT_MAX_LINES_PER_SECOND", "fast", "must be a whole number, not 'fast'"),
        ("JOBCENTER_IMPORT_MAX_LINES_PER_SECOND", "-100", "must be at least 0, not -100"),
        ("JOBCENTER_HEARTBEAT_INTERVAL", "0", "must be at least 0.01, not 0"),
        (
            "JOBCENTER_TLS",
            "ture",
            "must be one of 1, true, yes, on or 0, false, no, off, not 'ture'",
        ),
        (
            "DATABASE_URL",
            "mysql://ops:pw@db/jobs",
            "must be postgres://user:password@host:port/name (or sqlite:///path, or unset: "
            "SQLite in the data directory), not a URL of scheme 'mysql'",
        ),
        ("DATABASE_URL", "postgres://ops:pw@db:5432", "names no database: postgres://.../name"),
    ],
)
def test_a_bad_setting_stops_the_start_and_names_itself(name, value, said, tmp_path):
    """As an operator meets it: ``manage.py check`` with the bad variable exits non-zero with
    one line that says which variable and why (no traceback, no password)."""
    env = {**os.environ, name: value, "JOBCENTER_DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    done = subprocess.run(
        [sys.executable, str(REPO / "manage.py"), "check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1
    assert done.stderr.strip() == f"ImproperlyConfigured: {name} {said}", done.stderr[-2000:]
    assert ":pw@" not in done.stderr


def test_zero_turns_a_login_limit_off_as_documented(tmp_path):
    """docs/security.md: "0 turns a limit off"; the start must accept it."""
    env = {
        **os.environ,
        "JOBCENTER_LOGIN_MAX_FAILURES_PER_USER": "0",
        "JOBCENTER_LOGIN_MAX_FAILURES_PER_ADDRESS": "0",
        "JOBCENTER_DATA_DIR": str(tmp_path),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    code = "from django.conf import settings; print(settings.JOBCENTER_LOGIN_MAX_FAILURES_PER_USER)"
    done = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=REPO,
        env={**env, "DJANGO_SETTINGS_MODULE": "jobcenter.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "0"
