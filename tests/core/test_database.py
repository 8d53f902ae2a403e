"""The operators' commands on a job database they cannot use (jobcenter/core/database.py): one
clear line naming the database, never a traceback; run as an operator runs them, in a shell
with production settings."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.core.test_serve import free_port, fresh_install_env

REPO = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_command_on_a_data_directory_never_served_says_how_to_set_it_up(tmp_path):
    env = fresh_install_env(tmp_path / "data")
    database = tmp_path / "data" / "jobcenter.sqlite3"
    for args in (["jobs", "list"], ["access_keys", "list"], ["purge_results"], ["recover_jobs"]):
        done = manage(*args, env=env)
        assert done.returncode == 1, (args, done.stdout, done.stderr)
        assert "Traceback" not in done.stderr, done.stderr
        assert f"the job database ({database}) is not set up:" in done.stderr, done.stderr
        assert "migrations are not applied" in done.stderr and "manage.py migrate" in done.stderr

    assert manage("migrate", "--noinput", "-v", "0", env=env).returncode == 0
    done = manage("jobs", "list", "--json", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_command_whose_database_server_is_down_names_it_without_its_password(tmp_path):
    port = free_port()  # nothing listens there
    url = f"postgresql://ops:s3cret-pw@127.0.0.1:{port}/jobcenter"
    env = fresh_install_env(tmp_path / "data", DATABASE_URL=url)
    done = manage("jobs", "list", env=env)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    assert f"the job database (127.0.0.1:{port}/jobcenter) cannot be reached:" in done.stderr
    assert "Is its server running?" in done.stderr
    assert "s3cret-pw" not in done.stderr + done.stdout


def test_a_sqlite_database_that_cannot_be_opened_is_named_without_asking_for_a_server(tmp_path):
    path = tmp_path / "missing" / "jobs.sqlite3"  # its directory does not exist
    env = fresh_install_env(tmp_path / "data", DATABASE_URL=f"sqlite:///{path}")
    done = manage("jobs", "list", env=env)
    assert done.returncode == 1, (done.stdout, done.stderr)
    assert done.stderr.strip() == (
        f"CommandError: the job database ({path}) cannot be reached: unable to open database file."
    ), done.stderr
