"""Invariants every graph store must hold after any import, checked after every test.

- **No dangling edge**: every stored edge's ``src`` and ``dst`` are stored vertices.
- **Counts add up**: the rows in the store equal what its committed history says: the sum of
  every import's ``vertices_added``/``edges_added`` less what imports removed
  (``vertices_removed``/``edges_removed``: an ``init``/``overwrite`` clearing the graph, edges
  replaced under ``override``) and less what ``clear`` operations removed. A ``restore`` brings
  the backup's own history along with its rows, so the sum still holds.
- **Each summary adds up**: per file ``successful + failed = total``, the totals over the data
  files equal ``lines_total``/``lines_failed``, and ``vertices_added`` is the vertex files'
  successful lines.
- **The job database agrees** (where the jobs exist): a finished import job's result and file
  rows carry the counts its store committed with, and a finished import job of a graph whose
  store was never restored has its commit record in that store.

``check_store`` needs only the store; ``check_jobs`` reads the job database through Django.
The test suite runs both after every test (``tests/conftest.py``) on the graph stores the test
created or changed: under ``JOBCENTER_GRAPH_DIR``, the export roots (backups) and the test's
``tmp_path``.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SQLITE_MAGIC = b"SQLite format 3\x00"
STORE_TABLES = frozenset({"vertex", "edge", "imports"})
COUNTED = ("vertices_added", "edges_added", "vertices_removed", "edges_removed")


class StoreInvariantError(AssertionError):
    """A graph store breaks an invariant; the message names the store and what is wrong."""


@dataclass(frozen=True)
class StoreFacts:
    """What ``check_store`` read from one store (in one read transaction)."""

    path: Path
    vertices: int
    edges: int
    records: tuple[tuple[str, dict[str, Any]], ...]  # (job id, summary), in commit order

    @property
    def restored(self) -> bool:
        return any(s.get("operation") == "restore" for _, s in self.records)


# -- finding the stores a test touched -----------------------------------------------------------

Signature = tuple[int, int, int, int]


def signatures(directories: Iterable[Path]) -> dict[Path, Signature]:
    """``path -> (mtime, size)`` of every file (and its WAL) directly in, or below, the
    directories: cheap enough to take before and after every test."""
    found: dict[Path, Signature] = {}
    for directory in directories:
        for root, _dirs, files in os.walk(directory):
            names = set(files)
            for name in files:
                if name.endswith(("-wal", "-shm", "-journal")):
                    continue
                path = Path(root, name)
                try:
                    main = path.stat()
                except OSError:
                    continue
                wal = (0, 0)
                if f"{name}-wal" in names:
                    try:
                        st = Path(root, f"{name}-wal").stat()
                        wal = (st.st_mtime_ns, st.st_size)
                    except OSError:
                        pass
                found[path] = (main.st_mtime_ns, main.st_size, *wal)
    return found


def changed(before: dict[Path, Signature], after: dict[Path, Signature]) -> list[Path]:
    return sorted(path for path, sig in after.items() if before.get(path) != sig)


def is_graph_store(path: Path) -> bool:
    """A SQLite file with the graph store's tables (results, job databases and damaged copies
    are not graph stores)."""
    try:
        with path.open("rb") as handle:
            if handle.read(16) != SQLITE_MAGIC:
                return False
        conn = sqlite3.connect(path, timeout=30)
        try:
            names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        finally:
            conn.close()
    except (OSError, sqlite3.DatabaseError):
        return False
    return names >= STORE_TABLES


# -- the store on its own ------------------------------------------------------------------------


def check_store(path: Path | str) -> StoreFacts:
    """Check the invariants a store holds on its own; raises :class:`StoreInvariantError`."""
    path = Path(path)
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        conn.execute("BEGIN")  # one snapshot: rows and history from the same commit
        dangling = conn.execute(
            "SELECT e.eid, e.label, e.src, e.dst FROM edge e "
            "LEFT JOIN vertex s ON s.vid = e.src LEFT JOIN vertex d ON d.vid = e.dst "
            "WHERE s.vid IS NULL OR d.vid IS NULL LIMIT 5"
        ).fetchall()
        vertices = conn.execute("SELECT count(*) FROM vertex").fetchone()[0]
        edges = conn.execute("SELECT count(*) FROM edge").fetchone()[0]
        rows = conn.execute(
            "SELECT job_id, summary FROM imports ORDER BY committed_at, rowid"
        ).fetchall()
        conn.execute("COMMIT")
    finally:
        conn.close()
    return _check_rows(path, dangling, vertices, edges, rows)


def check_postgresql_store(conninfo: str, schema: str) -> StoreFacts:
    """:func:`check_store` for a PostgreSQL store (its schema on the server of ``conninfo``)."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn, conn.transaction():
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        # One pass over the edges whatever the statistics say: a store read right after a
        # bulk load, before its statistics caught up, got a nested loop over a vertex table
        # it took for empty (6M edges: minutes, a CI run's whole budget).
        conn.execute("SET LOCAL enable_nestloop = off")
        s = f'"{schema}"'
        dangling = conn.execute(
            f"SELECT e.eid, e.label, e.src, e.dst FROM {s}.edge e "  # noqa: S608
            f"LEFT JOIN {s}.vertex v ON v.vid = e.src LEFT JOIN {s}.vertex d ON d.vid = e.dst "
            "WHERE v.vid IS NULL OR d.vid IS NULL LIMIT 5"
        ).fetchall()
        vertices = conn.execute(f"SELECT count(*) FROM {s}.vertex").fetchone()[0]  # noqa: S608
        edges = conn.execute(f"SELECT count(*) FROM {s}.edge").fetchone()[0]  # noqa: S608
        rows = conn.execute(
            f"SELECT job_id, summary FROM {s}.imports ORDER BY committed_at, job_id"  # noqa: S608
        ).fetchall()
    return _check_rows(Path(schema), dangling, vertices, edges, rows)


def _check_rows(path: Path, dangling: list, vertices: int, edges: int, rows: list) -> StoreFacts:
    if dangling:
        shown = ", ".join(f"edge {eid} {label} {src}->{dst}" for eid, label, src, dst in dangling)
        raise StoreInvariantError(f"{path}: edges with an endpoint that is not stored: {shown}")
    records = tuple((job_id, json.loads(summary)) for job_id, summary in rows)
    expected_vertices = expected_edges = 0
    for job_id, summary in records:
        if "vertices_added" in summary:
            _check_summary(path, job_id, summary)
            expected_vertices += summary["vertices_added"] - summary.get("vertices_removed", 0)
            expected_edges += summary["edges_added"] - summary.get("edges_removed", 0)
        elif summary.get("operation") == "clear":
            expected_vertices -= summary["vertices_removed"]
            expected_edges -= summary["edges_removed"]
        elif summary.get("operation") == "restore":
            pass  # the rows came with the backup's own records, already summed
        else:
            raise StoreInvariantError(
                f"{path}: commit record of {job_id} is neither an import's summary nor a graph "
                f"operation: {summary!r}"
            )
    if (vertices, edges) != (expected_vertices, expected_edges):
        raise StoreInvariantError(
            f"{path}: the store holds {vertices} vertices and {edges} edges, its committed "
            f"history says {expected_vertices} and {expected_edges} "
            f"({len(records)} records: {[s for _, s in records]!r})"
        )
    return StoreFacts(path, vertices, edges, records)


def _check_summary(path: Path, job_id: str, summary: dict[str, Any]) -> None:
    files = [f for f in summary.get("files", []) if f.get("role") != "schema"]
    problems = []
    for f in files:
        if f["successful_lines"] + f["failed_lines"] != f["total_lines"]:
            problems.append(f"file {f.get('path')}: {f}")
    if summary["lines_total"] != sum(f["total_lines"] for f in files):
        problems.append(f"lines_total {summary['lines_total']} is not the files' total")
    if summary["lines_failed"] != sum(f["failed_lines"] for f in files):
        problems.append(f"lines_failed {summary['lines_failed']} is not the files' failed lines")
    vertex_lines = sum(f["successful_lines"] for f in files if f.get("role") == "vertex")
    if summary["vertices_added"] != vertex_lines:
        problems.append(
            f"vertices_added {summary['vertices_added']} is not the vertex files' "
            f"successful lines {vertex_lines}"
        )
    if problems:
        raise StoreInvariantError(f"{path}: summary of {job_id} does not add up: {problems}")


# -- the store against the job database ----------------------------------------------------------


def check_jobs(facts: StoreFacts, *, graph_id: str | None) -> None:
    """Compare a store's commit records with the job database (Django must be set up and the
    database reachable). Jobs that do not exist or have not finished are not compared: store
    tests run without jobs, and a worker may still be writing a job's end."""
    from jobcenter.jobs.choices import JobStatus, JobType
    from jobcenter.jobs.models import Job, JobFile

    finished = (JobStatus.SUCCEEDED, JobStatus.PARTIALLY_FAILED, JobStatus.FAILED)
    summaries = {job_id: s for job_id, s in facts.records if "vertices_added" in s}
    jobs = Job.objects.filter(pk__in=list(summaries), status__in=finished)
    files: dict[str, list[JobFile]] = {}
    for file in JobFile.objects.filter(job__in=jobs).order_by("job_id", "index"):
        files.setdefault(file.job_id, []).append(file)
    for job in jobs:
        summary = summaries[job.pk]
        result = job.result or {}
        wrong = {
            key: (result.get(key, 0), summary.get(key, 0))
            for key in (*COUNTED, "lines_total", "lines_failed")
            if result.get(key, 0) != summary.get(key, 0)
        }
        if wrong:
            raise StoreInvariantError(
                f"{facts.path}: job {job.pk} ({job.status}) reports other counts than its store "
                f"committed (job, store): {wrong}"
            )
        stored = [
            (f.get("total_lines"), f.get("successful_lines"), f.get("failed_lines"))
            for f in summary.get("files", [])
        ]
        rows = [(f.total_lines, f.successful_lines, f.failed_lines) for f in files.get(job.pk, [])]
        if rows != stored:
            raise StoreInvariantError(
                f"{facts.path}: job {job.pk}'s files count {rows}, its store committed {stored}"
            )
    if graph_id is None or facts.restored:
        return
    recorded = {job_id for job_id, _ in facts.records}
    imports = Job.objects.filter(graph_id=graph_id, type=JobType.IMPORT)
    if dry := sorted(recorded & set(imports.filter(dry_run=True).values_list("pk", flat=True))):
        raise StoreInvariantError(f"{facts.path}: dry runs {dry} have a commit record")
    for pk, result in (
        imports.filter(status__in=finished, result__isnull=False, dry_run=False)
    ).values_list("pk", "result"):
        if isinstance(result, dict) and "vertices_added" in result and pk not in recorded:
            raise StoreInvariantError(
                f"{facts.path}: import job {pk} finished with counts but its store has no "
                "commit record of it"
            )
