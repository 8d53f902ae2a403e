"""The README's "Try an import" commands, run exactly as printed, as a new user runs them.

The ```sh block under "## Try an import" is read from README.md and each of its commands runs
in a shell, in a directory laid out like a fresh clone (``manage.py``, ``.venv``, ``tests``)
with its own empty data directory (``var/``), on SQLite or on a new PostgreSQL database
(whichever the suite runs on), after what ``make run`` does first (migrate, bootstrap) and with
a real worker running, as under ``make run``. ``<job id>`` is the id the submission printed.
The import must end as tests/data/ges_movie/README.md says.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parents[2]

# tests/data/ges_movie/README.md: file -> (total, successful, failed, status)
EXPECTED_FILES = {
    "schema": (4, 4, 0, "success"),
    "vertex": (10, 6, 4, "partFailed"),
    "edge": (9, 5, 4, "partFailed"),
}
EXPECTED_FAILED = [
    ("ges_movie/vertex.csv", 4, "not_in_enum"),
    ("ges_movie/vertex.csv", 5, "bad_type"),
    ("ges_movie/vertex.csv", 9, "unknown_label"),
    ("ges_movie/vertex.csv", 10, "too_long"),
    ("ges_movie/edge.csv", 6, "missing_vertex"),
    ("ges_movie/edge.csv", 7, "bad_type"),
    ("ges_movie/edge.csv", 8, "bad_date"),
    ("ges_movie/edge.csv", 9, "column_count"),
]


def readme_commands() -> list[str]:
    """The commands of the first ```sh block under "## Try an import", one per entry
    (continuation lines joined; a trailing comment stays, for the shell to ignore)."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Try an import\n", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"^```sh\n(.*?)^```", section, re.S | re.M)
    assert found, "no ```sh block under ## Try an import"
    joined = re.sub(r"\\\n", " ", found.group(1))
    return [line.strip() for line in joined.splitlines() if line.strip()]


@pytest.fixture
def database_url() -> Iterator[str | None]:
    """None on SQLite (the data directory's own file, as by default); on PostgreSQL a new,
    empty database on the suite's server, dropped afterwards."""
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
        yield None
        return
    import psycopg

    server = os.environ["JOBCENTER_TEST_PG_URL"].rsplit("/", 1)[0]
    name = f"readme_{secrets.token_hex(4)}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def clone(tmp_path: Path, database_url: str | None) -> Iterator[tuple[Path, dict[str, str]]]:
    """A directory laid out like a fresh clone, its environment, and a worker running there."""
    home = tmp_path / "jobcenter"
    home.mkdir()
    (home / "manage.py").symlink_to(REPO / "manage.py")
    (home / ".venv").symlink_to(Path(sys.prefix))  # the virtualenv running these tests
    (home / "tests").symlink_to(REPO / "tests")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DJANGO_", "JOBCENTER_", "DATABASE_URL", "SECRET_KEY"))
    }
    env |= {"JOBCENTER_DATA_DIR": str(home / "var"), "PYTHONUNBUFFERED": "1"}
    if database_url:
        env["DATABASE_URL"] = database_url
    for step in ("migrate --noinput -v 0", "bootstrap"):  # what `make run` does first
        sh(f".venv/bin/python manage.py {step}", home, env)
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [
            ".venv/bin/python",
            "manage.py",
            "db_worker",
            "--interval",
            "0.1",
            "--no-startup-delay",
            "--no-reload",
        ],
        cwd=home,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        yield home, env
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()


def sh(command: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        ["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{command}\nexit {done.returncode}\n{done.stdout}{done.stderr}"
    return done.stdout


def test_try_an_import_as_printed(clone):
    home, env = clone
    commands = readme_commands()
    actions = [re.search(r"manage\.py jobs ([\w-]+)", c) for c in commands]
    used = {a.group(1) for a in actions if a}
    assert {"submit-import", "list", "show", "failed-lines"} <= used, commands
    job_id = None
    for command in commands:
        if "<job id>" in command:
            assert job_id, f"{command!r} comes before the submission that prints a job id"
            command = command.replace("<job id>", job_id)
        out = sh(command, home, env)
        action = re.search(r"manage\.py jobs ([\w-]+)", command)
        if action is None:
            continue
        if action.group(1) == "submit-import":
            assert "--wait" in command  # so that what follows sees the finished import
            job_id = out.split()[0]
            assert re.fullmatch(r"[0-9a-f]{32}", job_id), out
            assert "partially_failed  100.0%  (19/19 lines)" in out, out
        elif action.group(1) == "list":
            assert out.startswith(f"{job_id}  ImportGraph  graph=movies  partially_failed"), out
        elif action.group(1) == "show":
            for role, (total, ok, failed, status) in EXPECTED_FILES.items():
                assert re.search(
                    rf"{role}\s+ges_movie/\S+: {status}  total={total} valid={ok} failed={failed} "
                    rf"committed={ok}",
                    out,
                ), out
            assert "showing 8 of 8 failed lines" in out, out
        elif action.group(1) == "failed-lines" and "--csv" in command:
            rows = list(csv.DictReader(io.StringIO(out)))
            assert [(r["path"], int(r["line_number"]), r["reason"]) for r in rows] == (
                EXPECTED_FAILED
            )
    # Beyond what the README prints: the same job, exactly, in JSON.
    shown = json.loads(sh(f".venv/bin/python manage.py jobs show {job_id} --json", home, env))
    assert shown["status"] == "partially_failed"
    files = {
        f["role"]: (f["total_lines"], f["successful_lines"], f["failed_lines"], f["status"])
        for f in shown["files"]
    }
    assert files == EXPECTED_FILES
    assert [(f["file"], f["line"], f["reason"]) for f in shown["failed_lines"]] == EXPECTED_FAILED
    # On the database the suite runs on: SQLite in the data directory, or the new database.
    assert (home / "var" / "jobcenter.sqlite3").exists() == ("DATABASE_URL" not in env)
