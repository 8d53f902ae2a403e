"""A throwaway PostgreSQL server for the test suite (jobcenter/core/localpg.py on a free local
port: no fsync, anyone on this machine may log in)."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from jobcenter.core.localpg import LocalPostgres


def start_cluster() -> str:
    """Start a server and return a DATABASE_URL for it; it is stopped when the process exits."""
    base = Path(tempfile.mkdtemp(prefix="jobcenter-pg-"))
    base.chmod(0o755)  # as root the server runs as postgres, who must reach its directory
    pg = LocalPostgres(base / "pg", password=False, durable=False)
    pg.init()
    pg.start()

    def stop() -> None:
        pg.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)

    atexit.register(stop)
    return pg.url("jobcenter")


_GRAPH_STORE_URL: list[str] = []


def graph_store_server() -> str:
    """A libpq URL of a database for PostgreSQL graph stores in tests: on the suite's server
    when it runs on PostgreSQL (``JOBCENTER_TEST_PG_URL``), else on one started for them."""
    if _GRAPH_STORE_URL:
        return _GRAPH_STORE_URL[0]
    import psycopg

    url = os.environ.get("JOBCENTER_TEST_PG_URL") or start_cluster()
    base = url.rsplit("/", 1)[0]
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'graph_stores'").fetchone():
            conn.execute("CREATE DATABASE graph_stores")
    _GRAPH_STORE_URL.append(f"{base}/graph_stores")
    return _GRAPH_STORE_URL[0]
