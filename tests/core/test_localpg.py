"""jobcenter/core/localpg.py: a PostgreSQL server of our own (make run-pg, the suite's, the
benchmarks'), started for real."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from jobcenter.core.localpg import LocalPostgres


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A new directory the postgres user can reach (as root, the server runs as that user)."""
    path = Path(tempfile.mkdtemp(prefix="jobcenter-localpg-"))
    path.chmod(0o755)
    yield path
    for base in path.iterdir():
        pg = LocalPostgres(base)
        if pg.initialised() and pg.running():
            pg.stop("immediate")
    shutil.rmtree(path, ignore_errors=True)


def test_a_server_left_running_is_taken_over_and_a_taken_port_replaced(data_dir):
    pg = LocalPostgres(data_dir / "pg", password=False, durable=False)
    assert pg.init() and pg.start()
    first_port = pg.port
    again = LocalPostgres(data_dir / "pg", password=False, durable=False)
    assert not again.init() and not again.start()  # running already: used as it is
    assert again.port == first_port
    again.create_database("kept")
    again.stop()
    assert not pg.running()

    with socket.socket() as taken:  # someone else has its port now
        taken.bind(("127.0.0.1", first_port))
        taken.listen()
        assert pg.start()
        assert pg.port != first_port
    assert not pg.create_database("kept")  # the same cluster, with its database
    pg.stop()


def test_tcp_logins_need_the_generated_password(data_dir):
    pg = LocalPostgres(data_dir / "pg")
    assert pg.init() and pg.start()
    password = pg.password_file.read_text().strip()
    assert len(password) >= 24 and oct(pg.password_file.stat().st_mode)[-3:] == "600"
    with psycopg.connect(pg.url()) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
    for login in ("postgres", "postgres:not-the-password"):
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(f"postgres://{login}@127.0.0.1:{pg.port}/postgres").close()
    pg.stop()
