"""Shared set-up for benchmarks: a throwaway data directory and a migrated SQLite database."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# The checkout this file is in, before anything else: the virtualenv may hold an editable
# install of another checkout, whose code would otherwise be measured.
if sys.path[:1] != [str(REPO)]:
    sys.path.insert(0, str(REPO))


def describe_run() -> str:
    """What is measured: the commit (and whether the tree differs from it), the code's path,
    the database, the machine's cores and load."""
    import subprocess

    from django.db import connection

    import jobcenter

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
        return done.stdout.strip()

    dirty = " (with uncommitted changes)" if git("status", "--porcelain", "--", ".") else ""
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    if connection.vendor == "sqlite":
        version = connection.Database.sqlite_version
    else:
        version = str(connection.pg_version)
    code = Path(jobcenter.__file__).parent
    return (
        f"commit {git('rev-parse', '--short', 'HEAD')}{dirty}, code {code}, database "
        f"{connection.vendor} {version}, {os.cpu_count()} cores, load average (1/5/15 min) {load}"
    )


def django_in_tempdir(prefix: str, database: str = "sqlite") -> Path:
    """Point jobcenter at a fresh data dir, set Django up and migrate. Returns the dir.

    ``database``: "sqlite" (the data dir's job database) or "postgres" (a throwaway server
    started as the test suite starts one, tests/pgcluster.py, stopped when this process ends)."""
    data = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ["JOBCENTER_DATA_DIR"] = str(data)
    os.environ.setdefault("JOBCENTER_IMPORT_ROOTS", str(data / "imports"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "jobcenter.settings"
    os.environ.pop("DATABASE_URL", None)
    if database == "postgres":
        from tests.pgcluster import start_cluster

        url = start_cluster()
        os.environ["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/postgres"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data
