"""Whole-graph reads of a graph store: its sizes and counts, streams of every vertex and edge
(exports), a backup's inspection, and the record a graph operation leaves."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.store import GraphStore

# --- whole-graph streams (exports) --------------------------------------------------------------


def table_size(store: GraphStore, target: str) -> int:
    """Rows ever given an id in the vertex or edge table (an upper bound of its size, O(1))."""
    table = "vertex" if target == "vertices" else "edge"
    return int(store.conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0] or 0)  # noqa: S608


def label_size(store: GraphStore, target: str, label: str) -> int:
    table = "vertex" if target == "vertices" else "edge"
    sql = f"SELECT count(*) FROM {table} WHERE label = ?"  # noqa: S608
    return int(store.conn.execute(sql, (label,)).fetchone()[0])


def page_count(store: GraphStore) -> int:
    return int(store.conn.execute("PRAGMA page_count").fetchone()[0])


def record_operation(store: GraphStore, job_id: str, summary: dict[str, Any]) -> None:
    """Note a write that did not go through an import (a restore) as a new data version."""
    store.conn.execute(
        "INSERT OR REPLACE INTO imports(job_id, summary, committed_at) VALUES (?, ?, ?)",
        (job_id, json.dumps(summary), time.time()),
    )


class NotABackup(Exception):
    """The file is not a usable backup of a graph store; ``str()`` says why."""


def readonly_uri(path: Path) -> str:
    """A SQLite URI opening ``path`` read-only, whatever characters its name holds (``?``,
    ``#`` and ``%`` are URI syntax; any byte is percent-encoded)."""
    return f"file:{quote(os.fsencode(path))}?mode=ro"


def inspect_backup(path: Path) -> GraphSchema | None:
    """The schema of a graph store backup, after checking that it is one."""
    try:
        conn = sqlite3.connect(readonly_uri(path), uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            if not {"vertex", "edge", "meta", "imports"} <= tables:
                raise NotABackup(f"{path.name} is not a graph backup (tables are missing)")
            row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            check = conn.execute("PRAGMA quick_check").fetchone()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise NotABackup(f"{path.name} is not a readable graph backup: {exc}") from None
    if check and check[0] != "ok":
        raise NotABackup(f"{path.name} is damaged: {check[0]}")
    try:
        return GraphSchema.from_dict(json.loads(row[0])) if row else None
    except (PlanError, ValueError) as exc:
        raise NotABackup(f"{path.name} holds an invalid schema: {exc}") from None


def store_data_counts(
    path: Path, *, unless_version: tuple | None = None
) -> tuple[tuple, tuple[int, int] | None]:
    """The data version of a graph's store and its vertex and edge counts, read in one
    snapshot through a read-only connection (a running import is not seen, nor waited for);
    the counts are None when the version is ``unless_version`` (the caller has them already).
    sqlite3.Error when the file cannot be read."""
    conn = sqlite3.connect(readonly_uri(path), uri=True, timeout=5)
    try:
        conn.execute("BEGIN")
        row = conn.execute("SELECT count(*), max(committed_at) FROM imports").fetchone()
        version = (row[0], row[1])
        if version == unless_version:
            return version, None
        vertices = conn.execute("SELECT count(*) FROM vertex").fetchone()[0]
        edges = conn.execute("SELECT count(*) FROM edge").fetchone()[0]
        return version, (int(vertices), int(edges))
    finally:
        conn.close()


def count_rows(store: GraphStore) -> tuple[int, int]:
    v = store.conn.execute("SELECT count(*) FROM vertex").fetchone()[0]
    e = store.conn.execute("SELECT count(*) FROM edge").fetchone()[0]
    return int(v), int(e)


def colliding_key(store: GraphStore) -> tuple[str, list[str]] | None:
    """A vertex key used in two scopes (GraphScope ids are per type; GES ids are global)."""
    row = store.conn.execute(
        "SELECT key, group_concat(label, ',') FROM vertex GROUP BY key HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    return (row[0], row[1].split(",")) if row else None


def stream_vertices(store: GraphStore, *, chunk: int = 10_000) -> Iterator[list[tuple]]:
    """Every vertex as ``(key, label, p0..)`` in insertion order, in chunks."""
    cols = "".join(f", p{i}" for i in range(store.width()))
    cursor = store.conn.execute(f"SELECT key, label{cols} FROM vertex ORDER BY vid")  # noqa: S608
    while rows := cursor.fetchmany(chunk):
        yield rows


def stream_edges(store: GraphStore, *, chunk: int = 10_000) -> Iterator[list[tuple]]:
    """Every edge as ``(source key, target key, label, p0..)`` in insertion order."""
    cols = "".join(f", e.p{i}" for i in range(store.width()))
    cursor = store.conn.execute(
        f"SELECT s.key, d.key, e.label{cols} FROM edge e "  # noqa: S608
        "JOIN vertex s ON s.vid = e.src JOIN vertex d ON d.vid = e.dst ORDER BY e.eid"
    )
    while rows := cursor.fetchmany(chunk):
        yield rows
