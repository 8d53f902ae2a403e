"""The SQLite graph store: one embedded SQLite database file per graph, apart from the job
database (the default backend).

Why a file of its own: a long import holds this file's write lock for its whole run (it is one
transaction, so a cancel or a crash leaves the graph exactly as it was), and that must never
block progress writes, cancel requests or the dashboard, which live in the job database.

Layout (all SQL of this store lives in this module):

- ``vertex(vid, scope, key, label, p0..pN)``, unique on ``(scope, key)``;
- ``edge(eid, label, src, dst, p0..pN)``, indexed by ``(src, dst)`` once an operation needs it
  (see :meth:`SqliteStore.ensure_endpoint_index`);
- ``imports(job_id, summary, committed_at)``: written in the same transaction as an import's
  data;
- ``meta``: the store's schema (normalised JSON);
- label-property indexes: partial indexes ``lp_<vertex|edge>_<label digest>_p<i> ON
  vertex(p{i}) WHERE label = '<label>'``.

Reads run in one read transaction (:meth:`SqliteStore.snapshot`): with WAL they see the last
committed import and never half of a running one. A stop interrupts a running statement
through SQLite's progress handler (:meth:`SqliteStore.watch`).

Property ``name`` can sit in a different column for each label, so a query's predicate or sort
key over several labels is compiled to one ``label = ? AND p{i} ...`` branch per label; a query
on one label property is answered from its partial index when one was built.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc

from jobcenter.graphs.plan import ParallelEdge
from jobcenter.graphs.stores.base import (
    EdgeStream,
    GraphStore,
    NotABackup,
    QuerySpec,
    RowBatch,
    StoreError,
    StoreMissing,
)

if TYPE_CHECKING:
    from jobcenter.graphs.schema import GraphSchema, LabelDef, PropertyDef

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS vertex (
    vid INTEGER PRIMARY KEY,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    label TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS vertex_key ON vertex(scope, key);
CREATE TABLE IF NOT EXISTS edge (
    eid INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    src INTEGER NOT NULL,
    dst INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS imports (
    job_id TEXT PRIMARY KEY,
    summary TEXT NOT NULL,
    committed_at REAL NOT NULL
);
"""
# Built by the first operation that looks edges up by their endpoints (parallel-edge
# handling); bulk loads that only append never pay for it. Kept up to date once it exists.
ENDPOINT_INDEX = "CREATE INDEX IF NOT EXISTS edge_endpoints ON edge(src, dst)"

SQLITE_CHECK_STEPS = 20_000  # VM steps between two looks at the stop flag inside a statement
SCAN_CACHE_SIZE = -1024  # KiB of page cache while the edges are read (SQLite's notation)
# Page cache while an import appends edges with no endpoint look-ups (parallel edges allowed),
# and writes its vertices when it looks no key up in the store (``keys_in_memory``): appends
# touch only the table's last pages, so the 64 MiB cache of the connection would only hold
# pages already written (issue 14: the import's peak). Restored at commit or rollback.
APPEND_CACHE_KIB = 8192
# Rows per INSERT statement of an import's vertices and appended edges: one statement of
# many VALUES rows binds as many values as single-row statements do, but steps once per
# ROWS_PER_INSERT rows. That halves SQLite's CPU per row (1M edges: 0.33 against 0.70 s), and
# sqlite3 drops the GIL once per statement, not once per row, so the loader's other thread is
# not made to wait for it row after row (issue 14). 512, not 128: a quarter of the GIL's
# hand-overs between the writer and the reading thread; the 1.1M-line import's CPU 1.35 ->
# 1.22 s, its wall 1.01 -> 0.89 s (256 to 768 alike).
ROWS_PER_INSERT = 512
# Page cache of a streaming query's connection: a scan reads every page once, so a big cache
# buys nothing and would make the worker's memory grow with the graph up to its size.
QUERY_CACHE_KIB = 8192
# Keys looked up in one statement by ``key_vids`` (past the in-memory key index's capacity).
KEY_VIDS_BATCH = 1 << 18
_JSON_SEP = pa.scalar('","', pa.large_string())


def readonly_uri(path: Path) -> str:
    """A SQLite URI opening ``path`` read-only, whatever characters its name holds (``?``,
    ``#`` and ``%`` are URI syntax; any byte is percent-encoded)."""
    return f"file:{quote(os.fsencode(path))}?mode=ro"


def _literal(value: str | None) -> str | None:
    """``value`` as an SQL literal (None: NULL), or None when it cannot be one (a NUL,
    text that is not valid unicode)."""
    if value is None:
        return "NULL"
    if "\0" in value:
        return None
    try:
        value.encode()
    except UnicodeEncodeError:
        return None
    return sql_text(value)


def sql_text(text: str) -> str:
    """``text`` as an SQL string literal (for the few places a parameter cannot go)."""
    return "'" + text.replace("'", "''") + "'"


def _table(target: str) -> str:
    return "vertex" if target == "vertices" else "edge"


class SqliteStore(GraphStore):
    """One graph's data in its SQLite file. Not thread-safe: one store object per thread."""

    errors = (sqlite3.Error,)

    def __init__(self, path: Path | str, *, timeout: float = 30.0, create: bool = True) -> None:
        """Open the store at ``path``; ``create``: make it when it is not there (otherwise
        :class:`StoreMissing`: a graph that has data must never be read as an empty one)."""
        self.path = Path(path)
        if create:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            target: Path | str = self.path
        elif not self.path.is_file():
            raise StoreMissing(f"graph store {self.path} does not exist")
        else:  # mode=rw: removed meanwhile, it is still not created
            target = f"file:{quote(os.fsencode(self.path.resolve()))}?mode=rw"
        try:
            self.conn = sqlite3.connect(
                target,
                isolation_level=None,
                timeout=timeout,
                check_same_thread=False,
                uri=not create,
            )
            # 16 KiB pages: bulk appends write about 20% faster than with the 4 KiB default
            # (only takes effect when the file is new).
            self.conn.executescript(
                "PRAGMA page_size=16384; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA cache_size=-65536; PRAGMA temp_store=FILE;"
            )
            self.conn.executescript(SCHEMA_SQL)
        except sqlite3.Error as exc:
            if not create and not self.path.is_file():
                raise StoreMissing(f"graph store {self.path} does not exist") from exc
            raise StoreError(f"graph store {self.path.name} cannot be opened: {exc}") from exc
        self.in_transaction = False
        self._vertex_sql = self._vertex_many = ""
        self._width = 0
        self._per_insert = 1
        self._edge_insert = self._edge_delete = self._edge_many = ""
        self._policy: ParallelEdge = "allow"
        self._ignore_label = True
        self._cache_before: int | None = None  # the cache size before the small one

    # -- the backend's operations ---------------------------------------------------------------

    @classmethod
    def open(cls, location: Path, *, create: bool) -> SqliteStore:
        return cls(location, create=create)

    @classmethod
    def exists(cls, location: Path) -> bool:
        return Path(location).exists()

    @classmethod
    def key_of(cls, location: Path) -> str:
        return str(Path(location).resolve())

    @classmethod
    def delete(cls, location: Path) -> None:
        """Remove a graph's store file and its WAL companions."""
        delete_store(location)

    @classmethod
    def data_counts(
        cls, location: Path, *, unless_version: tuple | None = None
    ) -> tuple[tuple, tuple[int, int] | None]:
        # A read-only connection: a running import is not seen, nor waited for.
        conn = sqlite3.connect(readonly_uri(Path(location)), uri=True, timeout=5)
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

    @classmethod
    def inspect_backup(cls, path: Path) -> dict[str, Any] | None:
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
            return json.loads(row[0]) if row else None
        except ValueError as exc:
            raise NotABackup(f"{path.name} holds an invalid schema: {exc}") from None

    @property
    def identity(self) -> str:
        return self.key_of(self.path)

    def close(self) -> None:
        try:
            self.rollback()
        finally:
            self.conn.close()

    # -- reading ----------------------------------------------------------------------------

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        self.conn.execute("BEGIN")
        try:
            yield
        finally:
            self.conn.execute("COMMIT")

    def width(self) -> int:
        cols = self.conn.execute("PRAGMA table_info(vertex)").fetchall()
        return sum(1 for c in cols if re.fullmatch(r"p\d+", c[1]))

    def counts(self) -> dict[str, dict[str, int]]:
        vertices = dict(
            self.conn.execute("SELECT label, count(*) FROM vertex GROUP BY label ORDER BY label")
        )
        edges = dict(
            self.conn.execute("SELECT label, count(*) FROM edge GROUP BY label ORDER BY label")
        )
        return {"vertices": vertices, "edges": edges}

    def count_rows(self) -> tuple[int, int]:
        v = self.conn.execute("SELECT count(*) FROM vertex").fetchone()[0]
        e = self.conn.execute("SELECT count(*) FROM edge").fetchone()[0]
        return int(v), int(e)

    def count_edges(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM edge").fetchone()[0])

    def edge_count(self) -> int:
        row = self.conn.execute("SELECT max(eid) FROM edge").fetchone()
        return int(row[0] or 0)

    def data_version(self) -> tuple:
        row = self.conn.execute("SELECT count(*), max(committed_at) FROM imports").fetchone()
        return (row[0], row[1])

    def stored_schema(self) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        return json.loads(row[0]) if row else None

    def applied_summary(self, job_id: str) -> dict | None:
        row = self.conn.execute(
            "SELECT summary FROM imports WHERE job_id = ?", (job_id,)
        ).fetchone()
        return json.loads(row[0]) if row else None

    def vertices(self, label: str | None = None) -> list[tuple]:
        width = self.width()
        cols = "".join(f", p{i}" for i in range(width))
        sql = f"SELECT key, label{cols} FROM vertex"  # noqa: S608 (column names are ours)
        if label is None:
            return self.conn.execute(sql + " ORDER BY vid").fetchall()
        return self.conn.execute(sql + " WHERE label = ? ORDER BY vid", (label,)).fetchall()

    def edges(self, label: str | None = None) -> list[tuple]:
        width = self.width()
        cols = "".join(f", e.p{i}" for i in range(width))
        sql = (
            f"SELECT s.key, d.key, e.label{cols} FROM edge e "  # noqa: S608
            "JOIN vertex s ON s.vid = e.src JOIN vertex d ON d.vid = e.dst"
        )
        if label is None:
            return self.conn.execute(sql + " ORDER BY e.eid").fetchall()
        return self.conn.execute(sql + " WHERE e.label = ? ORDER BY e.eid", (label,)).fetchall()

    def table_size(self, target: str) -> int:
        sql = f"SELECT max(rowid) FROM {_table(target)}"  # noqa: S608
        return int(self.conn.execute(sql).fetchone()[0] or 0)

    def label_size(self, target: str, label: str) -> int:
        sql = f"SELECT count(*) FROM {_table(target)} WHERE label = ?"  # noqa: S608
        return int(self.conn.execute(sql, (label,)).fetchone()[0])

    def colliding_key(self) -> tuple[str, list[str]] | None:
        row = self.conn.execute(
            "SELECT key, group_concat(label, ',') FROM vertex GROUP BY key "
            "HAVING count(*) > 1 LIMIT 1"
        ).fetchone()
        return (row[0], row[1].split(",")) if row else None

    def stream_vertices(self, *, chunk: int = 10_000) -> Iterator[list[tuple]]:
        cols = "".join(f", p{i}" for i in range(self.width()))
        cursor = self.conn.execute(f"SELECT key, label{cols} FROM vertex ORDER BY vid")  # noqa: S608
        while rows := cursor.fetchmany(chunk):
            yield rows

    def stream_edges(self, *, chunk: int = 10_000) -> Iterator[list[tuple]]:
        cols = "".join(f", e.p{i}" for i in range(self.width()))
        cursor = self.conn.execute(
            f"SELECT s.key, d.key, e.label{cols} FROM edge e "  # noqa: S608
            "JOIN vertex s ON s.vid = e.src JOIN vertex d ON d.vid = e.dst ORDER BY e.eid"
        )
        while rows := cursor.fetchmany(chunk):
            yield rows

    # -- vertex keys and the graph for the graph library ---------------------------------------

    def max_vid(self) -> int:
        row = self.conn.execute("SELECT max(vid) FROM vertex").fetchone()
        return int(row[0] or 0)

    def vertex_count(self) -> int:
        row = self.conn.execute("SELECT count(*) FROM vertex").fetchone()
        return int(row[0])

    def vertex_keys(self) -> Iterable[tuple[str, str, int]]:
        return self.conn.execute("SELECT scope, key, vid FROM vertex")

    def find_vid(self, scope: str, key: str) -> int | None:
        row = self.conn.execute(
            "SELECT vid FROM vertex WHERE scope = ? AND key = ?", (scope, key)
        ).fetchone()
        return row[0] if row else None

    def find_vids(self, scope: str, keys: Sequence[str]) -> list[tuple[str, int]]:
        return self.conn.execute(
            "SELECT key, vid FROM vertex WHERE scope = ? AND key IN "
            "(SELECT value FROM json_each(?))",
            (scope, json.dumps(list(keys), ensure_ascii=False)),
        ).fetchall()

    def key_vids(self, scope: str, keys: pa.Array) -> pa.Array:
        # The keys go in as one JSON array joined by Arrow (json.dumps of a list cost more
        # than the look-ups), the vids come back as one JSON array in the keys' order (the
        # LEFT JOIN reads json_each first, in order): no tuple per key either way.
        keys = keys.cast(pa.large_string())
        pieces = []
        for at in range(0, len(keys), KEY_VIDS_BATCH):
            part = keys.slice(at, KEY_VIDS_BATCH)
            if pc.any(pc.match_substring_regex(part, r'["\\\x00-\x1f]')).as_py():
                doc = json.dumps(part.to_pylist(), ensure_ascii=False)
            else:
                offsets = pa.array([0, len(part)], pa.int64())
                joined = pc.binary_join(pa.LargeListArray.from_arrays(offsets, part), _JSON_SEP)
                doc = '["' + joined[0].as_py() + '"]'
            (found,) = self.conn.execute(
                "SELECT json_group_array(v.vid) FROM json_each(?) j "
                "LEFT JOIN vertex v ON v.scope = ? AND v.key = j.value",
                (doc, scope),
            ).fetchone()
            pieces.append(pa.array(json.loads(found), pa.int64()))
        if not pieces:
            return pa.array([], pa.int64())
        return pa.concat_arrays(pieces)

    def find_vertices(self, key: str) -> list[tuple[int, str, str]]:
        return self.conn.execute(
            "SELECT vid, scope, label FROM vertex WHERE key = ? ORDER BY scope", (key,)
        ).fetchall()

    def vid_range(self) -> tuple[int | None, int | None, int]:
        low, high, n = self.conn.execute(
            "SELECT min(vid), max(vid), count(*) FROM vertex"
        ).fetchone()
        return low, high, int(n)

    def vids(self) -> Iterator[int]:
        return (r[0] for r in self.conn.execute("SELECT vid FROM vertex ORDER BY vid"))

    def vertex_names(self) -> list[tuple[str, str]]:
        return self.conn.execute("SELECT key, label FROM vertex ORDER BY vid").fetchall()

    def edge_stream(
        self, *, base: int | None, weights: dict[str, int] | None, chunk: int
    ) -> _SqliteEdgeStream:
        columns = "src, dst" if base is None else "src - ?1, dst - ?1"
        if weights is not None:
            whens = " ".join(f"WHEN {sql_text(label)} THEN p{i}" for label, i in weights.items())
            expression = f"CASE label {whens} END" if whens else "NULL"
            columns += f", coalesce(CAST({expression} AS REAL), 1.0)"
        params = () if base is None else (base,)
        return _SqliteEdgeStream(self.conn, f"SELECT {columns} FROM edge", params, chunk)  # noqa: S608

    # -- writing: one transaction per import -------------------------------------------------

    def begin(
        self,
        *,
        width: int,
        schema: dict[str, Any],
        parallel_edge: ParallelEdge = "allow",
        ignore_label: bool = True,
    ) -> None:
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreError(f"graph store is busy: {exc}") from exc
        self.in_transaction = True
        current = self.width()
        for i in range(current, width):
            self.conn.execute(f"ALTER TABLE vertex ADD COLUMN p{i}")
            self.conn.execute(f"ALTER TABLE edge ADD COLUMN p{i}")
        self.conn.execute(
            "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?)", (json.dumps(schema),)
        )
        self._vertex_sql = _vertex_sql(width)
        self._edge_insert, self._edge_delete = _edge_sqls(width, parallel_edge, ignore_label)
        self._width = width
        self._per_insert = max(
            1,
            min(
                ROWS_PER_INSERT,
                self.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // (width + 4),
            ),
        )
        self._vertex_many = _many_sql(self._vertex_sql, width + 4, self._per_insert)
        self._edge_many = (  # appended edges only: ignore/override look each one up
            _many_sql(self._edge_insert, width + 3, self._per_insert)
            if parallel_edge == "allow"
            else ""
        )
        self._policy, self._ignore_label = parallel_edge, ignore_label

    def clear(self) -> None:
        self.conn.execute("DELETE FROM edge")
        self.conn.execute("DELETE FROM vertex")

    def ensure_endpoint_index(self) -> None:
        self.conn.execute(ENDPOINT_INDEX)

    def add_vertices(self, rows: Sequence[tuple]) -> None:
        self._insert(self._vertex_sql, self._vertex_many, self._width + 4, rows)

    def add_vertex_batch(self, batch: RowBatch) -> None:
        self._insert_batch(self._vertex_sql, self._vertex_many, self._width + 4, batch)

    def add_edge_batch(self, batch: RowBatch) -> int:
        if self._policy != "allow":
            return self.add_edges(batch.rows())
        self._append_cache()
        self._insert_batch(self._edge_insert, self._edge_many, self._width + 3, batch)
        return 0

    def _insert(self, one: str, many: str, values: int, rows: Sequence[tuple]) -> None:
        """``rows`` of ``values`` values inserted in order (see :meth:`_insert_flat`; every
        row by ``one`` when a row's length is not ``values``: its statement says what is
        wrong)."""
        if len(rows) >= self._per_insert > 1 and set(map(len, rows)) == {values}:
            self._insert_flat(one, many, values, list(chain.from_iterable(rows)))
        elif rows:
            self.conn.executemany(one, rows)

    def _insert_batch(self, one: str, many: str, values: int, batch: RowBatch) -> None:
        if not len(batch) >= self._per_insert > 1:
            self._insert(one, many, values, batch.rows())
            return
        # Columns with one text (or NULL) in every row (a label, a scope, an absent property)
        # go into the statements as literals: a quarter of an edge's values not bound (1M
        # edges: 0.42 against 0.32 s of CPU) and not made into Python values.
        literals = tuple(
            (k, literal) for k, v in batch.same(values).items() if (literal := _literal(v))
        )
        if literals and " VALUES (" in one:
            flat = batch.flat(values, frozenset(k for k, _ in literals))
            if flat is not None:
                self._insert_flat(
                    _many_sql(one, values, 1, literals),
                    _many_sql(one, values, self._per_insert, literals),
                    values - len(literals),
                    flat,
                )
                return
        flat = batch.flat(values)
        if flat is None:
            self._insert(one, many, values, batch.rows())
        else:
            self._insert_flat(one, many, values, flat)

    def _insert_flat(self, one: str, many: str, values: int, flat: list) -> None:
        """Rows of ``values`` values each, given as one list of their values row after row,
        inserted in order: whole groups by ``many`` (``self._per_insert`` rows a statement),
        the rest by ``one``."""
        step = values * self._per_insert
        full = len(flat) - len(flat) % step
        if full:
            self.conn.executemany(many, [flat[i : i + step] for i in range(0, full, step)])
        if full < len(flat):
            self.conn.executemany(
                one, [flat[i : i + values] for i in range(full, len(flat), values)]
            )

    def add_edges(self, rows: Sequence[tuple]) -> int:
        conn = self.conn
        if self._policy == "override":
            keys = [row[1:3] for row in rows] if self._ignore_label else [row[:3] for row in rows]
            before = conn.total_changes
            conn.executemany(self._edge_delete, keys)
            deleted = conn.total_changes - before
            conn.executemany(self._edge_insert, rows)
            return deleted
        if self._policy == "allow":
            self._append_cache()
        before = conn.total_changes
        if self._policy == "allow":
            self._insert(self._edge_insert, self._edge_many, self._width + 3, rows)
        else:
            conn.executemany(self._edge_insert, rows)
        if self._policy == "ignore":
            return len(rows) - (conn.total_changes - before)
        return 0

    def keys_in_memory(self) -> None:
        # Vertex inserts with the appends' small page cache too (edges under ignore/override
        # look their endpoints up: those keep it): the vertex table and its key index no
        # longer fill 64 MiB of dirty pages, held to the commit, under the import's peak,
        # the sort of its key index for the edges (1 GB file: 312 against 267 MB; the
        # inserts' CPU the same within the noise at 500,000 vertices) (issue 14).
        if self._policy == "allow":
            self._append_cache()

    def _append_cache(self) -> None:
        if self._cache_before is None:
            self._cache_before = self.conn.execute("PRAGMA cache_size").fetchone()[0]
            self.conn.execute(f"PRAGMA cache_size=-{APPEND_CACHE_KIB}")

    def commit(self, *, job_id: str, summary: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT INTO imports(job_id, summary, committed_at) VALUES (?, ?, ?)",
            (job_id, json.dumps(summary), time.time()),
        )
        self.conn.execute("COMMIT")
        self.in_transaction = False
        self._restore_cache()

    def rollback(self) -> None:
        if self.in_transaction:
            self.conn.execute("ROLLBACK")
            self.in_transaction = False
        self._restore_cache()

    def _restore_cache(self) -> None:
        if self._cache_before is not None:
            self.conn.execute(f"PRAGMA cache_size={int(self._cache_before)}")
            self._cache_before = None

    def record_operation(self, job_id: str, summary: dict[str, Any]) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO imports(job_id, summary, committed_at) VALUES (?, ?, ?)",
            (job_id, json.dumps(summary), time.time()),
        )

    # -- filtered queries and label-property indexes ----------------------------------------

    def query_rows(
        self, spec: QuerySpec, schema: GraphSchema, *, chunk: int
    ) -> Iterator[list[tuple]]:
        self.conn.execute(f"PRAGMA cache_size=-{QUERY_CACHE_KIB}")
        sql, params = CompiledQuery(spec, schema).select(self.width())
        cursor = self.conn.execute(sql, params)
        while rows := cursor.fetchmany(chunk):
            yield rows

    def count_matches(self, spec: QuerySpec, schema: GraphSchema) -> int:
        sql, params = CompiledQuery(spec, schema).count()
        return int(self.conn.execute(sql, params).fetchone()[0])

    def explain(self, spec: QuerySpec, schema: GraphSchema) -> str:
        sql, params = CompiledQuery(spec, schema).select(self.width())
        rows = self.conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        return "\n".join(str(r[-1]) for r in rows)

    def create_label_index(
        self,
        target: str,
        label: str,
        column: int,
        name: str,
        *,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {_table(target)}(p{column}) "
                f"WHERE label = {sql_text(label)}"
            )
            if before_commit is not None:
                before_commit()
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def label_indexes(self) -> list[tuple[str, str]]:
        rows = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'lp_%'"
        ).fetchall()
        out = []
        for name, sql in rows:
            label = re.search(r"WHERE label = '((?:[^']|'')*)'", sql or "")
            if label:
                out.append((name, label.group(1).replace("''", "'")))
        return out

    # -- backup, restore, size, cancel --------------------------------------------------------

    def backup_size(self) -> int:
        return int(self.conn.execute("PRAGMA page_count").fetchone()[0])

    def backup(self, target: Path, *, progress: Callable[[int, int], None]) -> None:
        copy = sqlite3.connect(target)
        try:
            self.conn.backup(
                copy,
                pages=1024,
                progress=lambda _status, remaining, total: progress(total - remaining, total),
            )
            # A backup is one self-contained file: reading it (a restore) then needs no -wal
            # or -shm beside it, whose names might not fit next to a long backup name.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()

    def restore(self, source: Path, *, before: Callable[[], None] | None = None) -> None:
        backup = sqlite3.connect(readonly_uri(source), uri=True)
        try:
            if before is not None:
                before()
            backup.backup(self.conn)
        finally:
            backup.close()

    def watch(self, stop: threading.Event) -> None:
        self.conn.set_progress_handler(lambda: 1 if stop.is_set() else 0, SQLITE_CHECK_STEPS)


class _SqliteEdgeStream(EdgeStream):
    """One pass over the edges: the store's page cache (64 MiB) would fill up for nothing and
    still be held while igraph indexes the edges, the load's peak. (Counting the edges filled it
    already: shrunk, it frees those pages, then given back when the stream closes.)"""

    def __init__(self, conn: sqlite3.Connection, sql: str, params: tuple, chunk: int) -> None:
        self.conn = conn
        self.chunk = chunk
        self.cache_size = conn.execute("PRAGMA cache_size").fetchone()[0]
        conn.execute(f"PRAGMA cache_size = {SCAN_CACHE_SIZE}")
        self.cursor = conn.execute(sql, params)

    def chunks(self) -> Iterator[list[tuple]]:
        fetch, chunk = self.cursor.fetchmany, self.chunk
        while True:
            rows = fetch(chunk)
            if not rows:
                return
            yield rows
            del rows  # one chunk alive at a time: the caller's goes before the next is read

    def close(self) -> None:
        self.cursor.close()
        self.conn.execute(f"PRAGMA cache_size = {int(self.cache_size)}")


def _vertex_sql(width: int) -> str:
    """Insert of ``(vid, scope, key, label, p0..)`` rows."""
    cols = "".join(f", p{i}" for i in range(width))
    marks = ", ?" * width
    return f"INSERT INTO vertex(vid, scope, key, label{cols}) VALUES (?, ?, ?, ?{marks})"  # noqa: S608


@functools.lru_cache(maxsize=64)
def _many_sql(one: str, values: int, rows: int, literals: tuple[tuple[int, str], ...] = ()) -> str:
    """The single-row INSERT ``one`` (of ``values`` values, ``VALUES (...)`` at its end) made
    to insert ``rows`` rows; ``literals``: (place, SQL literal) of values written in the
    statement, not bound."""
    head, _, _ = one.partition(" VALUES (")
    written = dict(literals)
    group = "(" + ", ".join(written.get(k, "?") for k in range(values)) + ")"
    return f"{head} VALUES " + ", ".join([group] * rows)


def _edge_sqls(width: int, policy: ParallelEdge, ignore_label: bool) -> tuple[str, str]:
    """Insert (and, for ``override``, delete) of ``(label, src vid, dst vid, p0..)`` rows."""
    cols = "".join(f", p{i}" for i in range(width))
    marks = "".join(f", ?{i + 4}" for i in range(width))
    same_label = "" if ignore_label else " AND label = ?1"
    if policy == "ignore":
        insert = (
            f"INSERT INTO edge(label, src, dst{cols}) SELECT ?1, ?2, ?3{marks} "  # noqa: S608
            f"WHERE NOT EXISTS (SELECT 1 FROM edge WHERE src = ?2 AND dst = ?3{same_label})"
        )
    else:
        insert = f"INSERT INTO edge(label, src, dst{cols}) VALUES (?1, ?2, ?3{marks})"  # noqa: S608
    if ignore_label:  # deletes take (src, dst) ...
        delete = "DELETE FROM edge WHERE src = ?1 AND dst = ?2"
    else:  # ... or (label, src, dst)
        delete = "DELETE FROM edge WHERE src = ?2 AND dst = ?3 AND label = ?1"
    return insert, delete


_LABEL_INDEX = re.compile(r"^lp_(vertex|edge)_[0-9a-f]{16}_p(\d+)$")


class BackupWriter:
    """A backup file written row by row: a SQLite store file (the one backup format, so a
    backup of any store restores into any other)."""

    def __init__(self, target: Path, *, width: int, schema: dict[str, Any] | None) -> None:
        self.target = target
        self.conn = sqlite3.connect(target, isolation_level=None)
        self.conn.executescript("PRAGMA page_size=16384; PRAGMA journal_mode=OFF;" + SCHEMA_SQL)
        for i in range(width):
            self.conn.execute(f"ALTER TABLE vertex ADD COLUMN p{i}")
            self.conn.execute(f"ALTER TABLE edge ADD COLUMN p{i}")
        self.conn.execute("BEGIN")
        if schema is not None:
            self.conn.execute(
                "INSERT INTO meta(key, value) VALUES ('schema', ?)", (json.dumps(schema),)
            )
        cols = "".join(f", p{i}" for i in range(width))
        marks = ", ?" * width
        vertex = f"INSERT INTO vertex(vid, scope, key, label{cols}) VALUES (?, ?, ?, ?{marks})"  # noqa: S608
        edge = f"INSERT INTO edge(eid, label, src, dst{cols}) VALUES (?, ?, ?, ?{marks})"  # noqa: S608
        self.inserts = {"vertex": vertex, "edge": edge}

    def add(self, table: str, rows: Sequence[tuple]) -> None:
        """``vertex``: ``(vid, scope, key, label, p0..)``; ``edge``: ``(eid, label, src, dst,
        p0..)`` rows."""
        self.conn.executemany(self.inserts[table], rows)

    def add_imports(self, rows: Iterable[tuple[str, str, float]]) -> None:
        self.conn.executemany(
            "INSERT INTO imports(job_id, summary, committed_at) VALUES (?, ?, ?)", rows
        )

    def add_index(self, name: str, label: str) -> None:
        match = _LABEL_INDEX.match(name)
        if match:
            self.conn.execute(
                f"CREATE INDEX {name} ON {match.group(1)}(p{match.group(2)}) "
                f"WHERE label = {sql_text(label)}"
            )

    def finish(self) -> None:
        self.conn.execute("COMMIT")
        self.conn.close()

    def discard(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()
        self.target.unlink(missing_ok=True)


class BackupReader:
    """A backup file (a SQLite store file, checked with :meth:`SqliteStore.inspect_backup`)
    read row by row."""

    def __init__(self, source: Path) -> None:
        self.conn = sqlite3.connect(readonly_uri(source), uri=True)
        cols = self.conn.execute("PRAGMA table_info(vertex)").fetchall()
        self.width = sum(1 for c in cols if re.fullmatch(r"p\d+", c[1]))
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
        self.schema: dict[str, Any] | None = json.loads(row[0]) if row else None

    def rows(self, table: str, *, chunk: int = 20_000) -> Iterator[list[tuple]]:
        cols = "".join(f", p{i}" for i in range(self.width))
        if table == "vertex":
            sql = f"SELECT vid, scope, key, label{cols} FROM vertex ORDER BY vid"  # noqa: S608
        else:
            sql = f"SELECT eid, label, src, dst{cols} FROM edge ORDER BY eid"  # noqa: S608
        cursor = self.conn.execute(sql)
        while rows := cursor.fetchmany(chunk):
            yield rows

    def imports(self) -> list[tuple[str, str, float]]:
        return self.conn.execute("SELECT job_id, summary, committed_at FROM imports").fetchall()

    def indexes(self) -> list[tuple[str, str, int, str]]:
        """``(target, label, column, name)`` of the backup's label-property indexes."""
        out = []
        rows = self.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'lp_%'"
        ).fetchall()
        for name, sql in rows:
            match = _LABEL_INDEX.match(name)
            label = re.search(r"WHERE label = '((?:[^']|'')*)'", sql or "")
            if match and label:
                target = "vertices" if match.group(1) == "vertex" else "edges"
                out.append((target, label.group(1).replace("''", "'"), int(match.group(2)), name))
        return out

    def close(self) -> None:
        self.conn.close()


def delete_store(path: Path | str) -> None:
    """Remove a graph's store file and its WAL companions."""
    path = Path(path)
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
        candidate.unlink(missing_ok=True)


def store_counts(path: Path | str) -> dict[str, dict[str, int]]:
    """Counts of a graph's store, or empty counts when it has no store yet."""
    if not Path(path).exists():
        return {"vertices": {}, "edges": {}}
    store = SqliteStore(path)
    try:
        return store.counts()
    finally:
        store.close()


# --- compiling a query to SQL -------------------------------------------------------------------

# Pseudo-properties every row has: vertices their id and label, edges their endpoints and label.
VERTEX_FIELDS = {"id": "v.key", "label": "v.label"}
EDGE_FIELDS = {"source": "s.key", "target": "d.key", "label": "e.label"}


@dataclass
class _Sql:
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)


def _column_cases(
    name: str, labels: Sequence[LabelDef], alias: str
) -> list[tuple[LabelDef, PropertyDef, str]]:
    out = []
    for label in labels:
        index = label.property_index(name)
        if index >= 0:
            out.append((label, label.properties[index], f"{alias}.p{index}"))
    return out


def _predicate_sql(column: str, prop: PropertyDef | None, flt: Any) -> tuple[str, list[Any]]:
    p, values = flt.predicate, list(flt.values)
    if p in ("=", "!=", "<", "<=", ">", ">="):
        return f"{column} {p} ?", values
    if p == "in":
        return f"{column} IN ({', '.join('?' * len(values))})", values
    if p == "range":
        return f"{column} BETWEEN ? AND ?", values
    # contains: an element of a list/set, or a piece of a text
    if prop is not None and prop.cardinality != "single":
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)", values  # noqa: S608
    return f"instr({column}, ?) > 0", values


class CompiledQuery:
    """SQL for one :class:`~jobcenter.graphs.query.QuerySpec` against one store's schema."""

    def __init__(self, spec: QuerySpec, schema: GraphSchema) -> None:
        self.spec = spec
        vertices = spec.target == "vertices"
        candidates = schema.vertex_labels() if vertices else schema.edge_labels()
        by_name = {label.name: label for label in candidates}
        self.labels = [by_name[n] for n in spec.labels if n in by_name] or list(candidates)
        alias = "v" if vertices else "e"
        pseudo = VERTEX_FIELDS if vertices else EDGE_FIELDS
        sql = _Sql()
        if spec.labels:
            names = [label.name for label in self.labels]
            if len(names) == 1:
                sql.where.append(f"{alias}.label = ?")
            else:
                sql.where.append(f"{alias}.label IN ({', '.join('?' * len(names))})")
            sql.params.extend(names)
        for flt in spec.filters:
            if flt.property in pseudo:
                clause, params = _predicate_sql(pseudo[flt.property], None, flt)
                sql.where.append(clause)
                sql.params.extend(params)
                continue
            branches = []
            for label, prop, column in _column_cases(flt.property, self.labels, alias):
                clause, params = _predicate_sql(column, prop, flt)
                if len(self.labels) == 1 and spec.labels:
                    branches.append(clause)  # the label is already required above
                else:
                    branches.append(f"({alias}.label = ? AND {clause})")
                    sql.params.append(label.name)
                sql.params.extend(params)
            sql.where.append("(" + " OR ".join(branches) + ")" if branches else "0")
        order = []
        for sort in spec.sorts:
            direction = "DESC" if sort.descending else "ASC"
            if sort.property in pseudo:
                order.append(f"{pseudo[sort.property]} {direction}")
                continue
            cases = _column_cases(sort.property, self.labels, alias)
            if len(cases) == 1 and len(self.labels) == 1:
                expr = cases[0][2]
            else:
                whens = " ".join(f"WHEN {sql_text(lbl.name)} THEN {col}" for lbl, _p, col in cases)
                expr = f"CASE {alias}.label {whens} END"
            if any(f.property == sort.property for f in spec.filters):
                order.append(f"{expr} {direction}")  # filtered: no NULLs left to place
            else:  # NULLs (no value) last in either direction
                order.append(f"{expr} IS NULL, {expr} {direction}")
        if order:
            # Ties in row order, in the direction of the last key, so that an index on that
            # key (whose entries end with the row id) gives the whole order.
            last = "DESC" if spec.sorts[-1].descending else "ASC"
            order.append(f"{alias}.{'vid' if vertices else 'eid'} {last}")
        # Without sort keys the rows come in the order of the scan SQLite picks (row order,
        # or an index's order): the first page of an indexed filter needs no sorting at all.
        self.where = " AND ".join(sql.where) or "1"
        self.params = sql.params
        self.order = ", ".join(order)

    def select(self, width: int) -> tuple[str, list[Any]]:
        alias = "v" if self.spec.target == "vertices" else "e"
        cols = "".join(f", {alias}.p{i}" for i in range(width))
        if self.spec.target == "vertices":
            head = f"SELECT v.key, v.label{cols} FROM vertex v"  # noqa: S608
        else:
            head = (
                f"SELECT s.key, d.key, e.label{cols} FROM edge e "  # noqa: S608
                "JOIN vertex s ON s.vid = e.src JOIN vertex d ON d.vid = e.dst"
            )
        sql = f"{head} WHERE {self.where}"
        if self.order:
            sql += f" ORDER BY {self.order}"
        params = list(self.params)
        if self.spec.limit is not None or self.spec.offset:
            sql += " LIMIT ? OFFSET ?"
            params += [self.spec.limit if self.spec.limit is not None else -1, self.spec.offset]
        return sql, params

    def count(self) -> tuple[str, list[Any]]:
        """How many rows match, whatever the offset and limit (edges join their endpoints
        only when a condition is on them)."""
        if self.spec.target == "vertices":
            head = "SELECT count(*) FROM vertex v"
        elif any(f.property in ("source", "target") for f in self.spec.filters):
            head = (
                "SELECT count(*) FROM edge e "
                "JOIN vertex s ON s.vid = e.src JOIN vertex d ON d.vid = e.dst"
            )
        else:
            head = "SELECT count(*) FROM edge e"
        return f"{head} WHERE {self.where}", list(self.params)
