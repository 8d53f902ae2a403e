"""``make run-pg`` (jobcenter/core/run_pg.py): ``make run`` on a PostgreSQL server of its own.

Run as a new operator runs it, in a terminal of its own (``Console``), through the Makefile,
with a stand-in pip (nothing is downloaded) and everything else real: the PostgreSQL server
set up under the data directory, migrate, collectstatic, serve, gunicorn and two workers.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from jobcenter.core.localpg import LocalPostgres
from tests.core.test_serve import (
    Console,
    answers,
    command_line,
    descendants,
    free_port,
    fresh_install_env,
    gone,
    said,
    venv_with_a_stand_in_pip,
)
from tests.factories.waiting import wait_for

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A new data directory outside pytest's (which is closed to other users: as root, the
    server runs as the postgres user, who must reach its files)."""
    path = Path(tempfile.mkdtemp(prefix="jobcenter-run-pg-"))
    path.chmod(0o755)
    yield path
    pg = LocalPostgres(path / "postgres")
    if pg.initialised() and pg.running():
        pg.stop("immediate")
    shutil.rmtree(path, ignore_errors=True)


def environ_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def listening_workers(pg: LocalPostgres) -> int:
    """Connections of the jobcenter database waiting for new tasks (each worker has one)."""
    with psycopg.connect(pg.url("jobcenter"), autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = 'jobcenter' AND query = 'LISTEN jobcenter_tasks'"
        ).fetchone()
    return row[0]


def users(pg: LocalPostgres) -> list[str]:
    with psycopg.connect(pg.url("jobcenter"), autocommit=True) as conn:
        return [row[0] for row in conn.execute("SELECT username FROM auth_user")]


@pytest.mark.slow
def test_make_run_pg_serves_on_its_own_postgresql_with_two_workers_and_stops_it_all(
    tmp_path, data_dir
):
    venv = venv_with_a_stand_in_pip(tmp_path)
    env = fresh_install_env(data_dir)
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    argv = ["make", "--no-print-directory", "run-pg", f"VENV={venv}", f"PORT={port}"]
    pg = LocalPostgres(data_dir / "postgres")

    first = Console(argv, env)
    try:
        text = "\n".join(first.lines_until("Ctrl-C", timeout=240))
        assert "Setting up a PostgreSQL server in" in text, text
        assert re.search(
            rf"^  PostgreSQL on 127\.0\.0\.1:{pg.port} \(database jobcenter", text, re.M
        )
        assert f"  jobcenter is running at {url}" in text, text
        assert "  First start: log in as admin with password" in text, text
        wait_for(lambda: answers(f"{url}api/health/"), timeout=60)
        with urllib.request.urlopen(f"{url}accounts/login/", timeout=10) as resp:  # noqa: S310
            assert resp.status == 200 and b"password" in resp.read()

        assert pg.running()
        server = pg.server_pids()
        processes = descendants(first.proc.pid)
        workers = [pid for pid in processes if "manage.py db_worker" in command_line(pid)]
        assert len(workers) == 2, [command_line(pid) for pid in processes]
        assert any("gunicorn" in command_line(pid) for pid in processes)
        for pid in workers:
            seen = environ_of(pid)
            assert seen["DATABASE_URL"] == pg.url("jobcenter")
            assert seen["JOBCENTER_GRAPH_STORE"] == "postgresql"
        # both workers are connected to that server, waiting for tasks; the admin is there
        wait_for(lambda: listening_workers(pg) == 2, timeout=30)
        assert users(pg) == ["admin"]
        assert not (data_dir / "jobcenter.sqlite3").exists()

        # A command in another shell, after the line the banner gives: an import through
        # this server and its workers, into its graph store.
        settings_file = data_dir / "env"
        assert f"  Commands in another shell (manage.py jobs ...): . {settings_file} first" in text
        assert settings_file.stat().st_mode & 0o777 == 0o600  # its URL holds the password
        shutil.copytree(REPO / "tests" / "data" / "ges_movie", data_dir / "imports" / "movie")
        movie = data_dir / "imports" / "movie"
        submit = (
            f". {settings_file} && {venv}/bin/python manage.py jobs submit-import --json "
            "--project default --graph movies --create-graph --format ges "
            f"--schema {movie}/schema.xml --vertices {movie}/vertex.csv "
            f"--edges {movie}/edge.csv --wait"
        )
        shell_env = {k: v for k, v in env.items() if k != "JOBCENTER_DATA_DIR"}
        done = subprocess.run(
            ["bash", "-c", submit],
            cwd=REPO,
            env=shell_env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        job = json.loads(done.stdout)
        assert job["status"] == "partially_failed", (done.stdout, done.stderr)
        assert [f["successful_lines"] for f in job["files"]] == [4, 6, 5], job["files"]
        with psycopg.connect(pg.url("jobcenter"), autocommit=True) as conn:
            assert conn.execute("SELECT count(*) FROM jobs_job").fetchone()[0] == 1

        # A second make run-pg of the same data directory (another port) would stop the
        # server under this one when it ends: it stops at once, naming this one.
        other = [*argv[:-1], f"PORT={free_port()}"]
        second = subprocess.run(other, env=env, capture_output=True, text=True, timeout=120)
        assert second.returncode != 0
        (runner,) = [pid for pid in processes if "jobcenter.core.run_pg" in command_line(pid)]
        assert (
            f"make run-pg: already running with the data directory {data_dir} (process "
            f"{runner}). Stop it first" in second.stderr
        ), second.stderr
        assert "Setting up" not in second.stdout and "PostgreSQL on" not in second.stdout
        assert pg.running() and answers(f"{url}api/health/")
        output = first.ctrl_c()
    finally:
        first.kill()
    # the server last: its line right after ours (the output's lines are joined without a
    # last newline, so it may end the output)
    assert "\nStopped.\nPostgreSQL stopped.\n" in output + "\n", output
    wait_for(lambda: all(gone(pid) for pid in [*processes, *server]), timeout=30)
    assert not pg.running()

    again = Console(argv, env)  # the same server and its data: no set-up, no new admin
    try:
        shown = said(again.lines_until("Ctrl-C", timeout=240))
        assert shown == [
            f"  PostgreSQL on 127.0.0.1:{pg.port} (database jobcenter; its files and log in "
            f"{pg.base}, password in {pg.password_file})",
            f"  Commands in another shell (manage.py jobs ...): . {data_dir / 'env'} first",
            f"  jobcenter is running at {url}",
            "  Press Ctrl-C to stop it.",
        ], "\n".join(shown)
        assert users(pg) == ["admin"]
        output = again.ctrl_c()
    finally:
        again.kill()
    assert "\nStopped.\nPostgreSQL stopped.\n" in output + "\n", output
    assert not pg.running()
