"""The graph store interface: what every caller (the loader, the key index, analytics reads,
the jobs) may ask of a graph's store. A backend (``sqlite.py``) implements it with all of its
SQL; nothing outside a backend runs SQL on a store.

One store object serves one thread (the loader's writer thread takes it over while it writes).

The data model every backend keeps:

- vertices ``(vid, scope, key, label, p0..pN)``: ``key`` the vertex id as text, unique within
  ``scope`` ("" for GES, whose ids are global; the vertex type for GraphScope); ``vid`` given by
  the loader's key index. Property ``i`` of a label is column ``p{i}``;
- edges ``(eid, label, src, dst, p0..pN)``, ``src``/``dst`` vertex vids, ``eid`` in insertion
  order;
- the import records ``(job id, summary, committed at)``, written in the transaction of the data
  they describe: recovery reads them to tell a committed import from one that died before;
- the store's schema (normalised JSON).

Values: integers and floats as numbers, bool as 0/1, dates as ISO text, list and set values as
JSON arrays (text), absent values as NULL.

The loader hands rows over in a :class:`RowBatch`: pieces of Arrow columns (the lines the
columnar path built) and lists of Python rows (the lines built one by one), in line order. A
backend that writes from Arrow (PostgreSQL's ``COPY``) takes the columns as they are; the
others take Python rows through :meth:`RowBatch.rows` (the default ``add_*_batch``).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from itertools import chain, compress, repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from jobcenter.graphs.plan import ParallelEdge

if TYPE_CHECKING:
    from jobcenter.graphs.schema import GraphSchema


class StoreError(Exception):
    """The store cannot be used (corrupt, locked for too long, disk full...)."""


class StoreMissing(StoreError):
    """The store was to be opened, not created, and is not there (``str()`` says where)."""


class NotABackup(Exception):
    """The file is not a usable backup of a graph store; ``str()`` says why."""


Counts = dict[str, dict[str, int]]  # {"vertices": {label: n}, "edges": {label: n}}
# A validated filtered query, jobcenter.graphs.query.QuerySpec (not imported here: query.py
# reads through the stores, so the stores do not import it).
QuerySpec = Any


# A column of :class:`Columns`: an Arrow array, a Python list (values of mixed types), a
# ``range`` (vids given in one go) or :class:`Same` (one value in every row).
Column = Any


class Same:
    """One value in every row of a column (a label, a scope; None: an absent property)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class Columns:
    """Store rows as columns, ``length`` rows (see :data:`Column`)."""

    __slots__ = ("columns", "length")

    def __init__(self, columns: list[Column], length: int) -> None:
        self.columns = columns
        self.length = length

    def slice(self, start: int, length: int) -> Columns:
        if start == 0 and length == self.length:
            return self
        end = start + length
        return Columns(
            [c if type(c) is Same else c[start:end] for c in self.columns],  # arrays: zero-copy
            length,
        )

    def filter(self, mask: pa.Array) -> Columns:
        """The rows where ``mask`` (an Arrow bool array without nulls) is true."""
        flags: list[bool] | None = None
        out: list[Column] = []
        for c in self.columns:
            if type(c) is Same:
                out.append(c)
            elif isinstance(c, pa.Array):
                out.append(pc.filter(c, mask))
            else:
                flags = mask.to_pylist() if flags is None else flags
                out.append(list(compress(c, flags)))
        return Columns(out, pc.sum(pc.cast(mask, pa.int64())).as_py() or 0)

    def with_first(self, column: Column) -> Columns:
        """These rows with ``column`` in front (a vertex row's vid)."""
        return Columns([column, *self.columns], self.length)

    def rows(self) -> Iterator[tuple]:
        """The rows as Python tuples (column by column, as the columnar path always built them)."""
        columns = [
            repeat(c.value, self.length)
            if type(c) is Same
            else c.to_pylist()
            if isinstance(c, pa.Array)
            else c
            for c in self.columns
        ]
        return zip(*columns, strict=False)

    def flat(self, skip: frozenset[int] = frozenset()) -> list:
        """The rows' values in one list, row after row (no tuple made per row), but for the
        columns ``skip`` (their places)."""
        n = self.length
        kept = [c for k, c in enumerate(self.columns) if k not in skip]
        width = len(kept)
        out: list = [None] * (n * width)
        for k, c in enumerate(kept):
            if type(c) is Same:
                if c.value is not None:
                    out[k::width] = [c.value] * n
            else:
                out[k::width] = c.to_pylist() if isinstance(c, pa.Array) else list(c)
        return out


# A piece of a run of at least 1/BIG_PART of its rows is made into values on its own, and
# so are the first SMALL_PARTS smaller ones: the run's values are made at once for the rest.
BIG_PART = 8
SMALL_PARTS = 16


class RunRows:
    """A run's rows (:class:`Columns`) written in several pieces (:class:`RunPart`): made
    into Python values once, when the first piece is written (on the writer's thread), not
    piece by piece nor on the thread that reads the file (issue 14)."""

    __slots__ = ("_flat", "_rows", "columns", "small")

    def __init__(self, columns: Columns) -> None:
        self.columns = columns
        self._flat: list | None = None
        self._rows: list[tuple] | None = None
        self.small = 0  # small pieces made into values on their own

    def flat(self) -> list:
        if self._flat is None:
            self._flat = self.columns.flat()
        return self._flat

    def rows(self) -> list[tuple]:
        if self._rows is None:
            self._rows = list(self.columns.rows())
        return self._rows

    def part(self, start: int, length: int, vid: int | None = None) -> RunPart:
        return RunPart(self, start, length, vid)


class RunPart:
    """Rows ``start`` to ``start + length`` of a :class:`RunRows`; with ``vid``, each row
    has a leading vid, from ``vid`` on (vertex rows)."""

    __slots__ = ("length", "run", "start", "vid")

    def __init__(self, run: RunRows, start: int, length: int, vid: int | None = None) -> None:
        self.run, self.start, self.length, self.vid = run, start, length, vid

    @property
    def columns(self) -> list[Column]:
        columns = self.run.columns.columns
        if self.vid is None:
            return columns
        return [range(self.vid, self.vid + self.length), *columns]

    def extend(self, other: RunPart) -> bool:
        """Take in ``other`` when it continues this part (the rows, and vids, next to them):
        the pieces of a run cut only by lines that failed are written as one (a messy file's
        pieces were sliced and joined again on the writer's thread, under the GIL)."""
        if other.run is not self.run or other.start != self.start + self.length:
            return False
        if (self.vid is None) != (other.vid is None):
            return False
        if self.vid is not None and other.vid != self.vid + self.length:
            return False
        self.length += other.length
        return True

    def rows(self) -> Iterator[tuple]:
        rows = self.run.rows()[self.start : self.start + self.length]
        if self.vid is None:
            return iter(rows)
        vids = range(self.vid, self.vid + self.length)
        return ((vid, *row) for vid, row in zip(vids, rows, strict=True))

    def flat(self, skip: frozenset[int] = frozenset()) -> list:
        """The part's values, row after row (but for the columns ``skip``): a big part's made
        from its columns (as a run in one piece is: the run's values made and then sliced
        touched every value twice), and the first few small ones (a run cut only where a
        batch ends has one or two: the run's values made for one took as long as the whole
        run's writes of a messy file's batch); the others sliced from the run's, made once
        for them all (a run cut by many lines judged one by one)."""
        run, columns = self.run, self.run.columns
        big = self.length * BIG_PART >= columns.length
        if big or (run._flat is None and run.small < SMALL_PARTS):
            run.small += not big
            part = columns.slice(self.start, self.length)
            return (part if self.vid is None else part.with_first(self._vids())).flat(skip)
        width = len(columns.columns)
        values = self.run.flat()[self.start * width : (self.start + self.length) * width]
        if self.vid is None and not skip:
            return values
        # The columns kept, by their place in the run's rows (-1: the vid in front)
        lead = 0 if self.vid is None else 1
        kept = [at - lead for at in range(lead + width) if at not in skip]
        out: list = [None] * (self.length * len(kept))
        for j, k in enumerate(kept):
            out[j :: len(kept)] = self._vids() if k < 0 else values[k::width]
        return out

    def _vids(self) -> range:
        assert self.vid is not None
        return range(self.vid, self.vid + self.length)


class RowBatch:
    """The rows of one store write, in order: pieces of :class:`Columns` and lists of Python
    rows (``append`` adds to the last list)."""

    __slots__ = ("_tail", "pieces", "size")

    def __init__(self, rows: list[tuple] | None = None) -> None:
        self.pieces: list[Columns | RunPart | list[tuple]] = []
        self._tail: list[tuple] | None = None
        self.size = 0
        if rows:
            self.pieces.append(rows)
            self._tail = rows
            self.size = len(rows)

    def __len__(self) -> int:
        return self.size

    def append(self, row: tuple) -> None:
        if self._tail is None:
            self._tail = []
            self.pieces.append(self._tail)
        self._tail.append(row)
        self.size += 1

    def extend(self, rows: list[tuple]) -> None:
        if self._tail is None:
            self._tail = []
            self.pieces.append(self._tail)
        self._tail.extend(rows)
        self.size += len(rows)

    def add(self, columns: Columns | RunPart) -> None:
        if columns.length:
            last = self.pieces[-1] if self._tail is None and self.pieces else None
            if type(columns) is RunPart and type(last) is RunPart and last.extend(columns):
                self.size += columns.length
                return
            self.pieces.append(columns)
            self._tail = None
            self.size += columns.length

    def same(self, width: int) -> dict[int, str | None]:
        """The columns (places in rows of ``width`` values) that hold one text, or None, in
        every row: a store may write them once per statement, not once per row. Empty when
        some rows are Python rows."""
        found: dict[int, str | None] | None = None
        for p in self.pieces:
            if type(p) is list or len(p.columns) != width:
                return {}
            here = {
                k: c.value
                for k, c in enumerate(p.columns)
                if type(c) is Same and (c.value is None or type(c.value) is str)
            }
            if found is not None:
                here = {k: v for k, v in found.items() if k in here and here[k] == v}
            found = here
            if not found:
                return {}
        return found or {}

    def flat(self, width: int, skip: frozenset[int] = frozenset()) -> list | None:
        """Every row's values in one list, row after row, but for the columns ``skip`` (None:
        a row is not ``width`` long, or Python rows have columns to skip)."""
        parts: list[list] = []
        for p in self.pieces:
            if type(p) is list:
                if skip or set(map(len, p)) != {width}:
                    return None
                parts.append(list(chain.from_iterable(p)))
            else:
                if len(p.columns) != width:
                    return None
                parts.append(p.flat(skip))
        return parts[0] if len(parts) == 1 else list(chain.from_iterable(parts))

    def rows(self) -> list[tuple]:
        """Every row as a Python tuple (the default adapter of the stores that take rows)."""
        if len(self.pieces) == 1 and type(self.pieces[0]) is list:
            return self.pieces[0]
        return list(chain.from_iterable(p if type(p) is list else p.rows() for p in self.pieces))


class GraphStore(ABC):
    """One graph's data (see the module's docstring)."""

    #: the exceptions the backend's driver raises (a job ends "graph store error" on them)
    errors: ClassVar[tuple[type[BaseException], ...]] = ()
    #: the backend writes :class:`Columns` pieces as they are (otherwise the loader hands it
    #: Python rows, made once per run of lines, when lines judged one by one cut the run into
    #: many small pieces: each would pay a conversion)
    takes_columns: ClassVar[bool] = False
    in_transaction: bool = False

    # -- the backend's operations on a store it has not opened ----------------------------------
    # ``location`` is the backend's address of one graph's store (a file, a schema...).

    @classmethod
    @abstractmethod
    def open(cls, location: Any, *, create: bool) -> GraphStore:
        """Open the store at ``location``; ``create``: make it when it is not there, otherwise
        :class:`StoreMissing` (a graph that has data is never read as an empty one)."""

    @classmethod
    @abstractmethod
    def exists(cls, location: Any) -> bool: ...

    @classmethod
    @abstractmethod
    def key_of(cls, location: Any) -> str:
        """The :attr:`identity` of the store at ``location``, without opening it."""

    @classmethod
    @abstractmethod
    def delete(cls, location: Any) -> None:
        """Remove the store and everything in it (nothing when there is none)."""

    @classmethod
    @abstractmethod
    def data_counts(
        cls, location: Any, *, unless_version: tuple | None = None
    ) -> tuple[tuple, tuple[int, int] | None]:
        """The data version and the vertex and edge counts, read in one snapshot without
        waiting for a running write; the counts are None when the version is
        ``unless_version`` (the caller has them already). One of :attr:`errors` when the store
        cannot be read."""

    @classmethod
    @abstractmethod
    def inspect_backup(cls, path: Path) -> dict[str, Any] | None:
        """The schema of a backup file (normalised form) after checking that it is one of
        this backend's backups; :class:`NotABackup` saying why not."""

    # -- an open store ----------------------------------------------------------------------------

    @property
    @abstractmethod
    def identity(self) -> str:
        """Names this graph's data the same way in every process (the resident graphs' key)."""

    @abstractmethod
    def close(self) -> None:
        """Roll back a write left open and let the connection go."""

    # -- reading --------------------------------------------------------------------------------

    @abstractmethod
    def snapshot(self) -> AbstractContextManager[None]:
        """One read transaction: every read inside sees the same committed state (a running
        import is not seen, nor waited for)."""

    @abstractmethod
    def width(self) -> int:
        """How many property columns the tables have."""

    @abstractmethod
    def counts(self) -> Counts:
        """Vertices and edges per label."""

    @abstractmethod
    def count_rows(self) -> tuple[int, int]:
        """How many vertices and edges."""

    @abstractmethod
    def count_edges(self) -> int: ...

    @abstractmethod
    def data_version(self) -> tuple:
        """Changes whenever the graph's data changes (every write commits an import record)."""

    @abstractmethod
    def stored_schema(self) -> dict[str, Any] | None:
        """The schema the data was written with (normalised form), None before any write."""

    @abstractmethod
    def applied_summary(self, job_id: str) -> dict | None:
        """The summary an import committed with, or None when that job committed nothing."""

    @abstractmethod
    def vertices(self, label: str | None = None) -> list[tuple]:
        """Every vertex as ``(key, label, p0..)``, in insertion order (tests, small reads)."""

    @abstractmethod
    def edges(self, label: str | None = None) -> list[tuple]:
        """Every edge as ``(source key, target key, label, p0..)``, in insertion order."""

    @abstractmethod
    def table_size(self, target: str) -> int:
        """Rows ever given an id among ``target`` (vertices/edges): an upper bound, O(1)."""

    @abstractmethod
    def label_size(self, target: str, label: str) -> int: ...

    @abstractmethod
    def colliding_key(self) -> tuple[str, list[str]] | None:
        """A vertex key used in two scopes, with the labels using it."""

    @abstractmethod
    def stream_vertices(self, *, chunk: int = 10_000) -> Iterator[list[tuple]]:
        """Every vertex as ``(key, label, p0..)`` in insertion order, in chunks (exports)."""

    @abstractmethod
    def stream_edges(self, *, chunk: int = 10_000) -> Iterator[list[tuple]]:
        """Every edge as ``(source key, target key, label, p0..)`` in insertion order."""

    # -- vertex keys and the graph for the graph library -----------------------------------------

    @abstractmethod
    def max_vid(self) -> int: ...

    @abstractmethod
    def vertex_count(self) -> int: ...

    @abstractmethod
    def vertex_keys(self) -> Iterable[tuple[str, str, int]]:
        """Every ``(scope, key, vid)``, for building an in-memory key index."""

    @abstractmethod
    def find_vid(self, scope: str, key: str) -> int | None: ...

    @abstractmethod
    def find_vids(self, scope: str, keys: Sequence[str]) -> list[tuple[str, int]]:
        """``(key, vid)`` of those of ``keys`` that are vertices of ``scope`` (one round trip
        for a whole batch of keys)."""

    def key_vids(self, scope: str, keys: pa.Array) -> pa.Array:
        """The vids of ``keys`` (distinct, no nulls) in ``scope``, in their order (int64, null:
        no such vertex): the batched look-up of an import whose keys are past the in-memory
        index's capacity. Stores answer in one statement without a Python object per key."""
        found = dict(self.find_vids(scope, keys.to_pylist()))
        return pa.array([found.get(k) for k in keys.to_pylist()], pa.int64())

    @abstractmethod
    def find_vertices(self, key: str) -> list[tuple[int, str, str]]:
        """``(vid, scope, label)`` of every vertex whose id is ``key`` (one per scope)."""

    @abstractmethod
    def vid_range(self) -> tuple[int | None, int | None, int]:
        """``(lowest vid, highest vid, vertices)``."""

    @abstractmethod
    def vids(self) -> Iterator[int]:
        """Every vid, ascending."""

    @abstractmethod
    def vertex_names(self) -> list[tuple[str, str]]:
        """``(key, label)`` of every vertex in vid order."""

    @abstractmethod
    def edge_stream(
        self, *, base: int | None, weights: dict[str, int] | None, chunk: int
    ) -> EdgeStream:
        """Every edge as ``(src, dst)`` (``src - base, dst - base`` when ``base`` is given),
        with a third value when ``weights`` maps edge labels to the column of their weight
        (the value as a float, 1.0 where it is absent), a chunk at a time, in no set order but
        the same for every column. A scan reads every row once: it must not fill a cache."""

    # -- writing: one transaction per import ----------------------------------------------------

    @abstractmethod
    def begin(
        self,
        *,
        width: int,
        schema: dict[str, Any],
        parallel_edge: ParallelEdge = "allow",
        ignore_label: bool = True,
    ) -> None:
        """Start the write transaction (waits for another writer of this graph: StoreError
        "busy" after the store's timeout), make room for ``width`` property columns and keep
        ``schema``. Edge rows added in it follow ``parallel_edge``: ``ignore``/``override``
        identify an edge by ``(src, dst)``, or by ``(label, src, dst)`` unless
        ``ignore_label``."""

    @abstractmethod
    def clear(self) -> None:
        """Remove every vertex and edge (inside the write transaction)."""

    @abstractmethod
    def ensure_endpoint_index(self) -> None:
        """Index edges by their endpoints (inside the write transaction; kept from then on)."""

    def keys_in_memory(self) -> None:  # noqa: B027 (a hook: a store may have nothing to do)
        """The import looks no vertex key up in the store (its key index is in memory; inside
        the write transaction): a store may cache less while it writes."""

    @abstractmethod
    def add_vertices(self, rows: Sequence[tuple]) -> None:
        """``(vid, scope, key, label, p0..p{width-1})`` rows."""

    @abstractmethod
    def add_edges(self, rows: Sequence[tuple]) -> int:
        """``(label, src, dst, p0..)`` rows. Returns, under ``ignore``, how many rows changed
        nothing (the edge existed); under ``override``, how many stored edges the rows
        replaced (removed first); under ``allow``, 0."""

    def add_vertex_batch(self, batch: RowBatch) -> None:
        """:meth:`add_vertices` of a batch (a backend that writes Arrow columns overrides it)."""
        self.add_vertices(batch.rows())

    def add_edge_batch(self, batch: RowBatch) -> int:
        """:meth:`add_edges` of a batch (the same)."""
        return self.add_edges(batch.rows())

    @abstractmethod
    def commit(self, *, job_id: str, summary: dict[str, Any]) -> None:
        """Commit the data with its import record (one job's data commits once at most)."""

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def record_operation(self, job_id: str, summary: dict[str, Any]) -> None:
        """Note a write that did not go through an import as a new data version."""

    # -- filtered queries and label-property indexes --------------------------------------------

    @abstractmethod
    def query_rows(
        self, spec: QuerySpec, schema: GraphSchema, *, chunk: int
    ) -> Iterator[list[tuple]]:
        """The rows of a validated query, as stored (``vertices``: key, label, p0..; edges:
        source key, target key, label, p0..), in chunks."""

    @abstractmethod
    def count_matches(self, spec: QuerySpec, schema: GraphSchema) -> int:
        """How many rows match ``spec``'s labels and conditions (its offset and limit aside)."""

    @abstractmethod
    def explain(self, spec: QuerySpec, schema: GraphSchema) -> str:
        """The backend's plan for the query (tests check that an index is used)."""

    @abstractmethod
    def create_label_index(
        self,
        target: str,
        label: str,
        column: int,
        name: str,
        *,
        before_commit: Callable[[], None] | None = None,
    ) -> None:
        """Index column ``p{column}`` of ``label``'s rows among ``target``, in a write
        transaction of its own; ``before_commit`` runs before it commits (it may raise)."""

    @abstractmethod
    def label_indexes(self) -> list[tuple[str, str]]:
        """``(name, label)`` of every label-property index built."""

    # -- backup, restore, size, cancel ------------------------------------------------------------

    @abstractmethod
    def backup_size(self) -> int:
        """The units :meth:`backup` reports progress in."""

    @abstractmethod
    def backup(self, target: Path, *, progress: Callable[[int, int], None]) -> None:
        """A consistent copy of the store written to the file ``target``; ``progress(done,
        total)`` is called as it goes and may raise to stop."""

    @abstractmethod
    def restore(self, source: Path, *, before: Callable[[], None] | None = None) -> None:
        """Replace the store's data and schema by a backup's (checked with
        :meth:`inspect_backup` first); ``before`` runs at the point of no return."""

    @abstractmethod
    def watch(self, stop: threading.Event) -> None:
        """Let ``stop`` interrupt a running statement (a long scan, an index build): it then
        raises one of :attr:`errors`."""


class EdgeStream(ABC):
    """An open scan of every edge (see :meth:`GraphStore.edge_stream`)."""

    @abstractmethod
    def chunks(self) -> Iterator[list[tuple]]: ...

    @abstractmethod
    def close(self) -> None:
        """End the scan (also when it was not read to its end)."""
