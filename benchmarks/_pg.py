"""Shared by the PostgreSQL benchmarks: a throwaway server of their own (holding the job
database: :func:`django_on_server`) and CPU accounting. Their worker processes: _setup.py
``start_worker``, as every benchmark's."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from _setup import django_in_tempdir  # (puts this checkout first on sys.path)

from jobcenter.core.localpg import LocalPostgres


def throwaway_server(*, durable: bool = True, **settings: str) -> LocalPostgres:
    """A new server in a temporary directory, stopped and removed when this process ends.

    ``durable``: True keeps PostgreSQL's defaults (fsync, synchronous commit: a commit waits
    for its WAL flush, as on a production server); False turns them off (as the test suite)."""
    base = Path(tempfile.mkdtemp(prefix="jobcenter-bench-pg-"))
    base.chmod(0o755)  # as root the server runs as postgres, who must reach it
    pg = LocalPostgres(base / "pg", password=False, durable=durable, settings=settings)
    pg.init()
    pg.start()

    def stop() -> None:
        pg.stop("immediate")
        shutil.rmtree(base, ignore_errors=True)

    atexit.register(stop)
    return pg


def django_on_server(
    prefix: str, *, durable: bool = True, **settings: str
) -> tuple[Path, LocalPostgres]:
    """A fresh data directory and the job database (``jobcenter``) on a new throwaway server
    (:func:`throwaway_server` with ``durable`` and ``settings``), Django set up and migrated."""
    pg = throwaway_server(durable=durable, **settings)
    pg.create_database("jobcenter")
    return django_in_tempdir(prefix, url=pg.url("jobcenter")), pg


def cpu_seconds(pid: int) -> float:
    """CPU time (user + sys) of process ``pid`` and of its children that have ended; 0 once it
    is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def server_cpu(pg: LocalPostgres) -> float:
    """CPU seconds of the server's processes (the postmaster and every live backend)."""
    return sum(cpu_seconds(pid) for pid in pg.server_pids())


def sched_seconds(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) of every thread of ``pid`` that
    is alive (/proc/<pid>/task/*/schedstat): the second says whether the machine's cores, not
    the process, were the limit."""
    on_cpu = waiting = 0.0
    for stat in Path(f"/proc/{pid}/task").glob("*/schedstat"):
        try:
            ran, queued, _ = stat.read_text().split()
        except (OSError, ValueError):
            continue
        on_cpu += int(ran) / 1e9
        waiting += int(queued) / 1e9
    return on_cpu, waiting
