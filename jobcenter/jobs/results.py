"""Job results: one SQLite file per job under ``JOBCENTER_RESULT_DIR``.

Why a file per job rather than rows in the job database: a result can hold millions of rows
(a pagerank of every vertex, a query without a limit); writing them into the job database would
hold its write lock (SQLite) for seconds and bloat it, while a file of its own is written by the
worker without touching anyone else, is paged with an index on its row number, and is removed
with one unlink when the job is purged. A result is written to ``<id>.sqlite3.part`` and renamed
into place only after the job passed its commit gate, so a cancelled or crashed job never leaves
a partial result that could be read.

Many machines: a result (and the vertex-name snapshot it refers to) is also published to the
shared storage (jobcenter.core.shared) before it is put in place, so that the job can only have
succeeded once every machine can read it; a reader without a local copy fetches one into its
own result directory by job id. A result never changes once published, so a local copy is
right for as long as the job says it has a result (see ``selectors.job_result_reader``).

Layout: ``meta(key, value)`` with ``kind`` (``vertices``, ``edges`` or ``rows``: what GES serves
as ``data.vertices``, ``data.edges`` or ``data.outputs``), ``columns`` (JSON list) and
``outputs`` (JSON object: the summary figures); ``rows(rid INTEGER PRIMARY KEY, c0..cN)``
holding one result row each, in result order. ``properties`` columns hold a JSON object.

A result is always plain JSON: NaN and Infinity are refused when it is written
(:class:`InvalidResult`; the algorithms give ``null`` or leave the row out where a value is
undefined, see docs/analytics.md), and read back as ``null`` should an older file hold one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
import threading
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from jobcenter.core import shared

KINDS = ("vertices", "edges", "rows")


class InvalidResult(Exception):
    """A result holds a value JSON cannot (NaN, Infinity); ``str()`` says which and where."""


def _first_non_finite(value: Any, where: str) -> tuple[str, Any] | None:
    if isinstance(value, float) and not math.isfinite(value):
        return where, value
    if isinstance(value, dict):
        items: Iterable[tuple[Any, Any]] = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        if found := _first_non_finite(item, f"{where}.{key}"):
            return found
    return None


def check_json(value: Any, where: str) -> None:
    """Raise :class:`InvalidResult` unless ``value`` is plain JSON both job databases take
    (no NaN or Infinity, which PostgreSQL's jsonb and SQLite's JSON_VALID refuse)."""
    if found := _first_non_finite(value, where):
        raise InvalidResult(
            f"the result cannot be stored: {found[0]} is {found[1]!r}, not a finite number"
        )
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidResult(
            f"the result cannot be stored: {where} is not plain JSON: {exc}"
        ) from None


def _lenient_json(text: str) -> Any:
    """JSON as stored, with any NaN or Infinity (files written before they were refused)
    read as ``null``."""
    return json.loads(text, parse_constant=lambda _: None)


def result_dir() -> Path:
    return Path(settings.JOBCENTER_RESULT_DIR)


def result_path(job_id: str) -> Path:
    return result_dir() / f"{job_id}.sqlite3"


def result_name(job_id: str) -> str:
    """The result's name in the shared storage."""
    return f"results/{job_id}.sqlite3"


def result_delete(job_id: str) -> None:
    """Remove the result here and from the shared storage (copies other machines fetched are
    no longer served: the job says its result is gone, or the job is gone)."""
    shared.delete(result_name(job_id))
    for path in (result_path(job_id), Path(f"{result_path(job_id)}.part")):
        path.unlink(missing_ok=True)


def result_exists(job_id: str) -> bool:
    """Whether the job has a published result (here or in the shared storage)."""
    return result_path(job_id).exists() or shared.exists(result_name(job_id))


def result_drop_copy(job_id: str) -> None:
    """Remove this machine's copy of a result only."""
    result_path(job_id).unlink(missing_ok=True)


def names_path(key: str) -> Path:
    return result_dir() / "names" / f"{key}.sqlite3"


def names_name(key: str) -> str:
    return f"results/names/{key}.sqlite3"


def names_ref(key: str, job_id: str) -> str:
    """An empty file in the shared storage saying that job ``job_id``'s result uses the names
    snapshot ``key`` (so that the storage's snapshots are removed without reading results)."""
    return f"results/refs/{key}/{job_id}"


def shared_is_local() -> bool:
    """Whether the shared storage's results are this machine's result directory (one machine)."""
    return shared.is_local("results", result_dir())


def names_snapshot(key: str, names: Sequence[tuple[str, str]]) -> Path:
    """The ``(id, label)`` of every vertex of one graph version, by vertex index: written once
    per graph data version and shared by the compact results computed on it."""
    path = names_path(key)
    if path.exists():
        _names_publish(key, path)
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{path.name}.{os.getpid()}.part")
    conn = sqlite3.connect(temp, isolation_level=None)
    try:
        conn.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA page_size=16384;"
            "CREATE TABLE names (i INTEGER PRIMARY KEY, key TEXT, label TEXT);"
        )
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO names VALUES (?, ?, ?)", ((i, k, lbl) for i, (k, lbl) in enumerate(names))
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    _names_publish(key, temp)
    os.replace(temp, path)
    return path


def _names_publish(key: str, path: Path) -> None:
    """Publish a names snapshot unless the shared storage has it (one per graph version)."""
    name = names_name(key)
    if not shared.is_local(name, names_path(key)) and not shared.exists(name):
        shared.publish(path, name)


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
        self.names_key: str | None = None

    def add(self, rows: Iterable[Sequence[Any]]) -> None:
        before = self.conn.total_changes
        self.conn.executemany(self.insert, rows)
        self.count += self.conn.total_changes - before

    def finish(self, outputs: dict[str, Any] | None = None) -> dict[str, Any]:
        """Close the file (still under its temporary name); returns the summary for Job.result.
        :class:`InvalidResult` when ``outputs`` is not plain JSON."""
        check_json(outputs or {}, "outputs")
        meta = {
            "kind": self.kind,
            "columns": json.dumps(self.columns),
            "outputs": json.dumps(outputs or {}, allow_nan=False),
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
        """Make the result visible (after the commit gate): in the shared storage, then here."""
        with open(self.temp, "rb") as handle:
            os.fsync(handle.fileno())
        name = result_name(self.job_id)
        if not shared.is_local(name, self.final):
            if self.names_key:  # what the retention of names snapshots goes by
                shared.save_bytes(names_ref(self.names_key, self.job_id), b"")
            shared.publish(self.temp, name)
        os.replace(self.temp, self.final)

    def add_vertex_values(
        self, *, names_key: str, values: Sequence[Any], indices: Sequence[int] | None
    ) -> None:
        """The compact form of a one-value-per-vertex result: the values (and, when not every
        vertex has one, their vertex indices) as arrays; ids and labels stay in the shared
        names snapshot ``names_key``. Rows read back the same as row by row."""
        if isinstance(values, array) and values.typecode in ("q", "d"):
            packed = values  # as a computation returns them (Control.compute's vector=)
        else:
            try:  # whole numbers (components, communities...) as such; array() checks in C
                packed = array("q", values)
            except TypeError:
                packed = array("d", values)
        if packed.typecode == "d" and not _all_finite(packed):
            for i, value in enumerate(packed):
                if not math.isfinite(value):
                    raise InvalidResult(
                        f"the result cannot be stored: the value of vertex index {i} is "
                        f"{value!r}, not a finite number"
                    )
        blobs = [("values", packed)]
        if indices is not None:
            blobs.append(("indices", array("q", indices)))
        self.conn.execute("CREATE TABLE arrays (name TEXT PRIMARY KEY, type TEXT, data BLOB)")
        for name, blob in blobs:
            # Written in place (an empty blob of the size, then its bytes): binding the bytes
            # has SQLite copy them into a record first (3 to 4 ms at 200,000 values).
            data = memoryview(blob).cast("B")
            row = self.conn.execute(
                "INSERT INTO arrays VALUES (?, ?, zeroblob(?))", (name, blob.typecode, len(data))
            ).lastrowid
            if len(data):
                with self.conn.blobopen("arrays", "data", row) as handle:
                    handle.write(data)
        self.conn.execute("INSERT INTO meta VALUES ('names', ?)", (names_key,))
        self.names_key = names_key
        self.count = len(values)

    def discard(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()
        self.temp.unlink(missing_ok=True)


def _all_finite(values: array) -> bool:
    """Whether no value of an array of doubles is NaN or infinite: one vectorized pass over
    its buffer (not copied), 0.1 ms at 200,000 values against 1.4 ms for Python's sum()."""
    import pyarrow as pa
    import pyarrow.compute as pc

    doubles = pa.Array.from_buffers(pa.float64(), len(values), [None, pa.py_buffer(values)])
    return pc.all(pc.is_finite(doubles)).as_py() is not False  # None: no values


@dataclass(frozen=True)
class ResultPage:
    kind: str
    columns: list[str]
    outputs: dict[str, Any]
    total: int
    offset: int
    limit: int
    rows: list[dict[str, Any]]


# --- other orders than the result's own ----------------------------------------------------------

# A property of a query's rows is sorted on as "properties.<name>".
PROPERTY_PREFIX = "properties."


class ResultOrders:
    """Row positions of results in another order than their own (sorted by a column), kept
    per process while they fit: sorting a million rows costs about a second, its pages then
    cost a slice. A result file never changes once published, so an order stays right as long
    as the file is the same (its inode and modification time are part of the key)."""

    def __init__(self, max_positions: int) -> None:
        self.max_positions = max_positions
        self._orders: OrderedDict[tuple, array] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> array | None:
        with self._lock:
            found = self._orders.get(key)
            if found is not None:
                self._orders.move_to_end(key)
            return found

    def put(self, key: tuple, positions: array) -> None:
        with self._lock:
            self._orders[key] = positions
            self._orders.move_to_end(key)
            while sum(len(p) for p in self._orders.values()) > self.max_positions:
                if len(self._orders) == 1:
                    break  # one bigger than the budget is kept until the next one comes
                self._orders.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._orders.clear()


# 4 million positions (32 MB) per process.
ORDERS = ResultOrders(max_positions=4_000_000)


def _decode(columns: list[str], row: Sequence[Any]) -> dict[str, Any]:
    out = {}
    for name, value in zip(columns, row, strict=True):
        if name == "properties" and isinstance(value, str):
            value = _lenient_json(value)
        elif isinstance(value, float) and not math.isfinite(value):
            value = None  # never written since NaN and Infinity are refused; older files
        out[name] = value
    return out


def _fetch(name: str, local: Path) -> bool:
    """A local copy of the shared file ``name`` (see jobcenter.core.shared.fetch)."""
    try:
        return shared.fetch(name, local, check=shared.sqlite_whole)
    except shared.SharedFileIncomplete as exc:
        raise sqlite3.DatabaseError(f"{exc} (still being written?)") from None


class ResultReader:
    """Read access to a published result (raises FileNotFoundError when there is none here
    nor in the shared storage, sqlite3.DatabaseError when it cannot be read)."""

    def __init__(self, job_id: str) -> None:
        path = result_path(job_id)
        if not _fetch(result_name(job_id), path):
            raise FileNotFoundError(path)
        self.job_id = job_id
        self.path = path
        self.conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        self.conn.execute("PRAGMA query_only=1")
        meta = dict(self.conn.execute("SELECT key, value FROM meta"))
        self.kind = meta["kind"]
        self.columns: list[str] = json.loads(meta["columns"])
        self.outputs: dict[str, Any] = _lenient_json(meta["outputs"])
        self.total = int(meta["total"])
        self.names_key = meta.get("names")
        if self.names_key:
            names = names_path(self.names_key)
            if not _fetch(names_name(self.names_key), names):
                self.conn.close()
                raise FileNotFoundError(names)
            self.conn.execute("ATTACH DATABASE ? AS n", (f"file:{names}?mode=ro",))
            self.arrays = {
                name: (kind, rowid)
                for rowid, name, kind in self.conn.execute("SELECT rowid, name, type FROM arrays")
            }

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ResultReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _array(self, name: str, start: int, count: int) -> list[Any]:
        kind, rowid = self.arrays[name]
        size = array(kind).itemsize
        with self.conn.blobopen("arrays", "data", rowid, readonly=True) as blob:
            blob.seek(start * size)
            return array(kind, blob.read(count * size)).tolist()

    def _compact_rows(self, offset: int, limit: int) -> list[tuple]:
        count = max(0, min(limit, self.total - offset))
        if count == 0:
            return []
        values = self._array("values", offset, count)
        if "indices" in self.arrays:
            indices = self._array("indices", offset, count)
            names = {
                i: (key, label)
                for i, key, label in self.conn.execute(
                    "SELECT i, key, label FROM n.names WHERE i IN (SELECT value FROM json_each(?))",
                    (json.dumps(indices),),
                )
            }
            pairs = [names[i] for i in indices]
        else:
            pairs = self.conn.execute(
                "SELECT key, label FROM n.names WHERE i >= ? ORDER BY i LIMIT ?", (offset, count)
            ).fetchall()
        return [(k, lbl, v) for (k, lbl), v in zip(pairs, values, strict=True)]

    def _rows(self, offset: int, limit: int) -> list[tuple]:
        if self.names_key:
            return self._compact_rows(offset, limit)
        cols = ", ".join(f"c{i}" for i in range(len(self.columns)))
        return self.conn.execute(
            f"SELECT {cols} FROM rows WHERE rid > ? ORDER BY rid LIMIT ?",  # noqa: S608
            (offset, limit),
        ).fetchall()

    def sortable(self, column: str) -> bool:
        """Whether the rows can be sorted by ``column``: one of the result's columns (not the
        properties object as a whole), or ``properties.<name>`` for a property of a query's
        rows (any name: rows without it come last)."""
        if column.startswith(PROPERTY_PREFIX):
            name = column[len(PROPERTY_PREFIX) :]
            return (
                "properties" in self.columns
                and 0 < len(name) <= 200
                and not any(c in name for c in '"\\')
                and name.isprintable()
            )
        return column in self.columns and column != "properties"

    def order(self, column: str, *, descending: bool = False) -> array:
        """The rows' positions (0-based, in the result's own order) sorted by ``column``:
        empty values last, ties in the result's own order. ValueError when not sortable."""
        if not self.sortable(column):
            raise ValueError(f"the result cannot be sorted by {column!r}")
        stat = self.path.stat()
        key = (self.job_id, stat.st_ino, stat.st_mtime_ns, column, descending)
        positions = ORDERS.get(key)
        if positions is None:
            if self.names_key:
                positions = self._compact_order(column, descending)
            else:
                positions = self._table_order(column, descending)
            ORDERS.put(key, positions)
        return positions

    def _table_order(self, column: str, descending: bool) -> array:
        params: list[Any] = []
        if column.startswith(PROPERTY_PREFIX):
            name = column[len(PROPERTY_PREFIX) :]
            expr = f"json_extract(c{self.columns.index('properties')}, ?)"
            params = [f'$."{name}"', f'$."{name}"']
        else:
            expr = f"c{self.columns.index(column)}"
        way = "DESC" if descending else "ASC"
        sql = f"SELECT rid FROM rows ORDER BY {expr} IS NULL, {expr} {way}, rid"  # noqa: S608
        # rid starts at 1: positions are rid - 1
        return array("q", (rid - 1 for (rid,) in self.conn.execute(sql, params)))

    def _compact_order(self, column: str, descending: bool) -> array:
        has_indices = "indices" in self.arrays
        if column == self.columns[-1]:  # the value
            values = self._array("values", 0, self.total)
            return array("q", sorted(range(self.total), key=values.__getitem__, reverse=descending))
        # id or label: the names snapshot, in that order (vertex index breaks ties)
        name = "key" if column == self.columns[0] else "label"
        way = "DESC" if descending else "ASC"
        sql = f"SELECT i FROM n.names ORDER BY {name} {way}, i"  # noqa: S608 (our names)
        ordered = (i for (i,) in self.conn.execute(sql))
        if not has_indices:
            return array("q", (i for i in ordered if i < self.total))
        position = {v: p for p, v in enumerate(self._array("indices", 0, self.total))}
        return array("q", (position[i] for i in ordered if i in position))

    def _array_at(self, name: str, positions: Sequence[int]) -> list[Any]:
        kind, rowid = self.arrays[name]
        size = array(kind).itemsize
        out = array(kind)
        with self.conn.blobopen("arrays", "data", rowid, readonly=True) as blob:
            for position in positions:
                blob.seek(position * size)
                out.frombytes(blob.read(size))
        return out.tolist()

    def _rows_at(self, positions: Sequence[int]) -> list[tuple]:
        """The rows at ``positions`` (0-based, in the result's own order), in that order."""
        if not positions:
            return []
        if self.names_key:
            values = self._array_at("values", positions)
            if "indices" in self.arrays:
                vertices = self._array_at("indices", positions)
            else:
                vertices = list(positions)
            names = {
                i: (key, label)
                for i, key, label in self.conn.execute(
                    "SELECT i, key, label FROM n.names WHERE i IN (SELECT value FROM json_each(?))",
                    (json.dumps(vertices),),
                )
            }
            return [(*names[v], value) for v, value in zip(vertices, values, strict=True)]
        cols = ", ".join(f"c{i}" for i in range(len(self.columns)))
        found = {
            rid: values
            for rid, *values in self.conn.execute(
                f"SELECT rid, {cols} FROM rows WHERE rid IN (SELECT value FROM json_each(?))",  # noqa: S608
                (json.dumps([p + 1 for p in positions]),),
            )
        }
        return [tuple(found[p + 1]) for p in positions]

    def page(
        self, *, offset: int, limit: int, sort: str | None = None, descending: bool = False
    ) -> ResultPage:
        """``limit`` rows from ``offset``, in the result's own order or sorted by ``sort``
        (see :meth:`order`; the whole result is sorted, not the page)."""
        if sort is None:
            rows = self._rows(offset, limit)
        else:
            positions = self.order(sort, descending=descending)
            rows = self._rows_at(positions[max(0, offset) : max(0, offset) + max(0, limit)])
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
        offset = 0
        while rows := self._rows(offset, chunk):
            offset += len(rows)
            yield from rows
