"""Settings for the test suite.

``JOBCENTER_TEST_DB=postgres`` runs the suite on a PostgreSQL server that this module starts
(see tests/pgcluster.py); otherwise SQLite in a file, so that real worker processes started by
tests share the test database. Worker processes get ``JOBCENTER_TEST_WORKER=1`` and connect to
the test database directly.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

if "JOBCENTER_DATA_DIR" not in os.environ:
    os.environ["JOBCENTER_DATA_DIR"] = tempfile.mkdtemp(prefix="jobcenter-test-")
    atexit.register(shutil.rmtree, os.environ["JOBCENTER_DATA_DIR"], ignore_errors=True)
os.environ.setdefault("SECRET_KEY", "tests-only-secret-key-not-for-production-000000000000")

import dj_database_url

from jobcenter.settings import *  # noqa: F403
from jobcenter.settings import BASE_DIR, DATA_DIR, STATIC_ROOT

# The example graphs (tests/data: copies of ../shared/data, so that any clone runs the suite).
SHARED_DATA = Path(
    os.environ.get("JOBCENTER_SHARED_DATA", str(BASE_DIR / "tests" / "data"))
).resolve()
# Workers playing other machines see the test's import root (tests/machines.py).
IMPORTS_DIR = Path(os.environ.get("JOBCENTER_TEST_IMPORTS_DIR") or DATA_DIR / "imports")
JOBCENTER_IMPORT_ROOTS = [IMPORTS_DIR, SHARED_DATA]

TEST_DB = os.environ.get("JOBCENTER_TEST_DB", "sqlite")
IN_WORKER = os.environ.get("JOBCENTER_TEST_WORKER") == "1"

if TEST_DB == "postgres":
    from tests.pgcluster import start_cluster

    url = os.environ.get("JOBCENTER_TEST_PG_URL") or start_cluster()
    os.environ["JOBCENTER_TEST_PG_URL"] = url
    default = dj_database_url.parse(url, conn_max_age=0)
    default["TEST"] = {"NAME": "test_jobcenter"}
    if IN_WORKER:
        default["NAME"] = "test_jobcenter"
else:
    # A worker started with a data directory of its own (another machine, played) names the
    # test database it shares in JOBCENTER_TEST_SQLITE.
    test_name = os.environ.get("JOBCENTER_TEST_SQLITE") or str(DATA_DIR / "test.sqlite3")
    # How long a process waits for another's write lock (a test worker may be given less).
    busy = float(os.environ.get("JOBCENTER_TEST_SQLITE_BUSY", "20"))
    default = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": test_name if IN_WORKER else str(DATA_DIR / "jobcenter.sqlite3"),
        "TEST": {"NAME": test_name},
        "OPTIONS": {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                f"PRAGMA busy_timeout={int(busy * 1000)};"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": busy,
        },
    }
DATABASES = {"default": default}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# WhiteNoise warns on every request when STATIC_ROOT is missing; tests serve static files from
# the finders (the live server's static handler) instead.
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    **STORAGES,  # noqa: F405
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
