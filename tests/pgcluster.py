"""A throwaway PostgreSQL server for the test suite (jobcenter/core/localpg.py on a free local
port: no fsync, anyone on this machine may log in)."""

from __future__ import annotations

import atexit
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
