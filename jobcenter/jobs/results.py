"""Job results: one SQLite file per job under ``JOBCENTER_RESULT_DIR``.

Why a file per job rather than rows in the job database: a result can hold millions of rows
(a pagerank of every vertex, a query without a limit); writing them into the job database would
hold its write lock (SQLite) for seconds and bloat it, while a file of its own is written by the
worker without touching anyone else, is paged with an index on its row number, and is removed
with one unlink when the job is purged. A result is written to ``<id>.sqlite3.part`` and renamed
into place only after the job passed its commit gate, so a cancelled or crashed job never leaves
a partial result that could be read.

Layout: ``meta(key, value)`` with ``kind`` (``vertices``, ``edges`` or ``rows``: what GES serves
as ``data.vertices``, ``data.edges`` or ``data.outputs``), ``columns`` (JSON list) and
``outputs`` (JSON object: the summary figures); ``rows(rid INTEGER PRIMARY KEY, c0..cN)``
holding one result row each, in result order. ``properties`` columns hold a JSON object.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

KINDS = ("vertices", "edges", "rows")


def result_dir() -> Path:
    return Path(settings.JOBCENTER_RESULT_DIR)


def result_path(job_id: str) -> Path:
    return result_dir() / f"{job_id}.sqlite3"


def result_delete(job_id: str) -> None:
    for path in (result_path(job_id), Path(f"{result_path(job_id)}.part")):
        path.unlink(missing_ok=True)


class ResultWriter:
    """Writes one job's result into a temporary file; :meth:`publish` puts it in place."""

    def __init__(self, job_id: str, *, kind: str, columns: Sequence[str]) -> None:
        assert kind in KINDS
        self.job_id = job_id
        self.kind = kind
        self.columns = list(columns)
        self.final = result_path(job_id)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.temp = Path(f"{self.final}.part")
        self.temp.unlink(missing_ok=True)
        self.conn = sqlite3.connect(self.temp, isolation_level=None)
        self.conn.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=16384;"
            "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
        )
        cols = ", ".join(f"c{i}" for i in range(len(self.columns)))
        self.conn.execute(f"CREATE TABLE rows (rid INTEGER PRIMARY KEY, {cols})")
        marks = ", ".join("?" * len(self.columns))
        self.insert = f"INSERT INTO rows ({cols}) VALUES ({marks})"  # noqa: S608
        self.conn.execute("BEGIN")
        self.count = 0

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        before = self.conn.total_changes
        self.conn.executemany(self.insert, rows)
        self.count += self.conn.total_changes - before

    def finish(self, outputs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Close the file (still under its temporary name); returns the summary for Job.result."""
        meta = {
            "kind": self.kind,
            "columns": json.dumps(self.columns),
            "outputs": json.dumps(outputs or {}),
            "total": str(self.count),
        }
        self.conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
        self.conn.execute("COMMIT")
        self.conn.close()
        return {
            "kind": self.kind,
            "columns": self.columns,
            "total": self.count,
            "outputs": outputs or {},
        }

    def publish(self) -> None:
        """Make the result visible (after the commit gate)."""
        with open(self.temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(self.temp, self.final)

    def discard(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()
        self.temp.unlink(missing_ok=True)


@dataclass(frozen=True)
class ResultPage:
    kind: str
    columns: list[str]
    outputs: dict[str, Any]
    total: int
    offset: int
    limit: int
    rows: list[dict[str, Any]]


def _decode(columns: list[str], row: Sequence[Any]) -> dict[str, Any]:
    out = {}
    for name, value in zip(columns, row, strict=True):
        if name == "properties" and isinstance(value, str):
            value = json.loads(value)
        out[name] = value
    return out


class ResultReader:
    """Read access to a published result (raises FileNotFoundError when there is none)."""

    def __init__(self, job_id: str) -> None:
        path = result_path(job_id)
        if not path.exists():
            raise FileNotFoundError(path)
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        self.kind = meta["kind"]
        self.columns: list[str] = json.loads(meta["columns"])
        self.outputs: dict[str, Any] = json.loads(meta["outputs"])
        self.total = int(meta["total"])

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def page(self, *, offset: int, limit: int) -> ResultPage:
        cols = ", ".join(f"c{i}" for i in range(len(self.columns)))
        rows = self.conn.execute(
            f"SELECT {cols} FROM rows WHERE rid > ? ORDER BY rid LIMIT ?",  # noqa: S608
            (offset, limit),
        ).fetchall()
        return ResultPage(
            kind=self.kind,
            columns=self.columns,
            outputs=self.outputs,
            total=self.total,
            offset=offset,
            limit=limit,
            rows=[_decode(self.columns, r) for r in rows],
        )

    def iter_rows(self, *, chunk: int = 5000) -> Iterator[tuple]:
        """Every row as stored (properties as JSON text), in order, in bounded memory."""
        cols = ", ".join(f"c{i}" for i in range(len(self.columns)))
        last = 0
        while True:
            rows = self.conn.execute(
                f"SELECT rid, {cols} FROM rows WHERE rid > ? ORDER BY rid LIMIT ?",  # noqa: S608
                (last, chunk),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            for row in rows:
                yield row[1:]
