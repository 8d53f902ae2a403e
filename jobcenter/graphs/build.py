"""The store's graph as the graph library's object: read from the store, built with igraph and
kept in this worker's memory (:data:`jobcenter.graphs.resident.RESIDENT`), or taken from there.
"""

from __future__ import annotations

import bisect
import contextlib
import ctypes
import hashlib
import itertools
import sys
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from jobcenter.graphs.compute import AlgorithmFailed, Control
from jobcenter.graphs.query import data_version, snapshot, stored_schema
from jobcenter.graphs.resident import RESIDENT, ResidentGraph, ResidentGraphs
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.stores.base import GraphStore


def find_vertices(store: GraphStore, key: str) -> list[tuple[int, str, str]]:
    """``(vid, scope, label)`` of every vertex whose id is ``key`` (one per scope)."""
    return store.find_vertices(key)


def weight_columns(schema: GraphSchema, prop: str) -> dict[str, int]:
    """Edge label -> the column of its property ``prop`` (labels without one are left out:
    their edges weigh 1.0)."""
    columns = {}
    for label in schema.edge_labels():
        index = label.property_index(prop)
        if index >= 0:
            columns[label.name] = index
    return columns


# --- the graph from the store --------------------------------------------------------------------


@dataclass
class VertexNumbering:
    """Vertices numbered 0..n-1 in vid order: the graph library's vertex indexes."""

    n: int
    base: int | None  # vid of index 0 when vids are contiguous (index = vid - base)
    vids: array | None  # otherwise the vid of every index, ascending

    def index(self, vid: int) -> int:
        if self.base is not None:
            return vid - self.base
        assert self.vids is not None
        return bisect.bisect_left(self.vids, vid)


def vertex_numbering(store: GraphStore) -> VertexNumbering:
    low, high, n = store.vid_range()
    if n == 0 or high - low + 1 == n:  # type: ignore[operator]
        return VertexNumbering(n=int(n), base=low or 0, vids=None)
    vids = array("q", store.vids())
    return VertexNumbering(n=int(n), base=None, vids=vids)


def build_graph(
    store: GraphStore,
    *,
    weight: str | None = None,
    chunk: int = 100_000,
    total: int | None = None,
    on_chunk: Callable[[int, int], None] | None = None,
    on_read: Callable[[], None] | None = None,
) -> tuple[Any, VertexNumbering]:
    """The store's graph as an ``igraph.Graph`` (directed, multi-edges kept, edge i the i-th
    edge in the store) with one numeric edge property as its ``weight`` attribute (1.0 where
    an edge has none), and its vertex numbering.

    The edges stream out of the store into igraph's own conversion, a chunk at a time, so no list
    of all edges exists (it cost about 170 bytes an edge on top of the graph). Why not arrays:
    python-igraph's wheel is built for the stable ABI, where an edge buffer (a memoryview, a
    NumPy array) is turned into a Python list of pairs first; an iterable of pairs is
    consumed as it comes. ``on_chunk(edges read, edges total)`` runs between chunks and may
    raise to stop (the edges read so far are built, then discarded); ``on_read()`` when every
    edge is read and igraph is about to index them. ``total`` is the edge count when the caller
    has it already (counted otherwise)."""
    import igraph as ig

    numbering = vertex_numbering(store)
    if total is None:
        total = store.count_edges()
    schema = stored_schema(store) or GraphSchema(id_scope="global")
    wcolumns = weight_columns(schema, weight) if weight else None
    stream = store.edge_stream(
        base=numbering.base if numbering.vids is None else None, weights=wcolumns, chunk=chunk
    )
    _return_free_heap()
    weights = array("d") if wcolumns is not None else None
    position = (
        {vid: i for i, vid in enumerate(numbering.vids)} if numbering.vids is not None else None
    )
    failed: list[BaseException] = []

    def chunks() -> Iterator[Iterable[tuple[int, int]]]:
        # An exception must not leave this generator: raised inside igraph's conversion, it
        # comes out as an unrelated MemoryError. It is kept, the edges end, and it is raised
        # once the graph is built.
        read = 0
        try:
            for rows in stream.chunks():
                read += len(rows)
                if weights is not None:
                    weights.extend(map(itemgetter(2), rows))
                if position is not None:
                    yield [(position[row[0]], position[row[1]]) for row in rows]
                elif weights is not None:
                    yield map(itemgetter(0, 1), rows)
                else:
                    yield rows
                del rows  # one chunk alive at a time: this one goes before the next is read
                if on_chunk is not None:
                    on_chunk(read, total)
            # Every edge is in igraph's vector now: what reading them left free (SQLite's
            # scan, the chunks' lists) goes back before igraph indexes them, the load's peak.
            stream.close()
            _return_free_heap()
            if on_read is not None:
                on_read()
        except BaseException as exc:
            failed.append(exc)

    try:
        graph = ig.Graph(
            n=numbering.n, edges=itertools.chain.from_iterable(chunks()), directed=True
        )
    finally:
        stream.close()
    if failed:
        raise failed[0]
    if weights is not None:
        graph.es["weight"] = weights
    return graph, numbering


def _return_free_heap() -> None:
    """Give the C heap's free pages back to the system before the load's peak: glibc keeps
    what was freed (by the import before, say) for later allocations, but igraph's vectors
    are allocations of their own (mapped apart), so that memory would only add to the peak.
    pyarrow's default pool (mimalloc) keeps what it freed until asked too: about 20 MB after
    an import (docs/benchmarks.md). pyarrow is not imported for this."""
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:
        pyarrow.default_memory_pool().release_unused()
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None).malloc_trim(0)


def vertex_names(store: GraphStore) -> list[tuple[str, str]]:
    """``(key, label)`` of every vertex in vid order (index i of :class:`VertexNumbering`)."""
    return store.vertex_names()


@dataclass
class LoadedGraph:
    graph: Any  # igraph.Graph (directed, multi-edges kept)
    names: list[tuple[str, str]]  # (id, label) per vertex index
    arrays: VertexNumbering
    find: Callable[[str], list[tuple[int, str, str]]]
    seconds_loading: float = 0.0
    cached: bool = False
    names_key: str = ""

    def index_of(self, key: str, label: str | None, what: str) -> int:
        matches = [m for m in self.find(key) if label is None or m[2] == label]
        if not matches:
            raise AlgorithmFailed(f"{what} vertex {key!r} no longer exists in the graph")
        return self.arrays.index(matches[0][0])


def _resident_key(store: GraphStore, weight: str | None) -> tuple:
    return (store.identity, data_version(store), weight)


def load_graph(
    store: GraphStore, *, weight: str | None, control: Control, edges: int | None = None
) -> LoadedGraph:
    """The graph as the library's object: the resident copy when this worker holds one for
    the store's current data, otherwise read from the store, built and kept (within budget).
    ``edges`` is the edge count when the caller has it (counted otherwise). Call inside
    :func:`~jobcenter.graphs.query.snapshot`."""
    started = time.perf_counter()
    key = _resident_key(store, weight)
    find = lambda k: find_vertices(store, k)  # noqa: E731
    names_key = hashlib.sha256(repr(key[:2]).encode()).hexdigest()[:32]
    entry = RESIDENT.get(key)
    if entry is not None:
        control.done = control.total = entry.graph.ecount()  # every edge is there already
        control.phase, control.progress = "loading graph", 40.0
        return LoadedGraph(
            entry.graph,
            entry.names,
            entry.arrays,
            find,
            time.perf_counter() - started,
            True,
            names_key,
        )
    if edges is None:
        edges = store.count_edges()
    total = edges
    control.set_phase("loading graph", 0.0, total)

    def on_chunk(read: int, of: int) -> None:
        control.done, control.total = read, of
        control.progress = 40.0 * read / of if of else 40.0
        control.check()

    def on_read() -> None:
        control.phase, control.progress = "building graph", 40.0

    graph, arrays = build_graph(
        store, weight=weight, total=total, on_chunk=on_chunk, on_read=on_read
    )
    names = vertex_names(store)
    control.check()
    size = ResidentGraphs.estimate(graph.vcount(), total, weighted=weight is not None)
    RESIDENT.put(key, ResidentGraph(graph, names, arrays, size))
    return LoadedGraph(graph, names, arrays, find, time.perf_counter() - started, False, names_key)


def warm_graph(store: GraphStore, *, stop: threading.Event | None = None) -> LoadedGraph | None:
    """Build the store's graph (unweighted, as most algorithms use it) into this worker's
    memory unless it is resident already; ``None`` when it would not fit the budget at all.
    ``stop`` set ends the loading between chunks with :class:`AlgorithmStopped`."""
    control = Control(stop=stop) if stop is not None else Control()
    with snapshot(store):
        vertices, edges = store.count_rows()
        if ResidentGraphs.estimate(vertices, edges, weighted=False) > RESIDENT.budget():
            return None
        return load_graph(store, weight=None, control=control, edges=edges)
