"""The store's graph as the graph library's object: read from the store, built with igraph and
kept in this worker's memory (:data:`jobcenter.graphs.resident.RESIDENT`), or taken from there.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobcenter.graphs.compute import AlgorithmFailed, Control
from jobcenter.graphs.query import (
    count_rows,
    data_version,
    find_vertices,
    snapshot,
    stored_schema,
    weight_expression,
)
from jobcenter.graphs.resident import RESIDENT, ResidentGraph, ResidentGraphs
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.store import GraphStore


# --- the graph as arrays, for the graph library -------------------------------------------------
@dataclass
class EdgeArrays:
    """Vertices numbered 0..n-1 in vid order; edges as (source index, target index) pairs."""

    n: int
    edges: list[tuple[int, int]]
    weights: list[float] | None
    base: int | None  # vid of index 0 when vids are contiguous (index = vid - base)
    vids: list[int] | None  # otherwise the vid of every index


def load_edge_arrays(
    store: GraphStore,
    *,
    weight: str | None = None,
    chunk: int = 200_000,
    on_chunk: Callable[[int, int], None] | None = None,
    total: int | None = None,
) -> EdgeArrays:
    """The graph's topology (and one numeric edge property) for the graph library, read in
    chunks; ``on_chunk(edges read, edges total)`` runs between chunks and may raise to stop.
    ``total`` is the edge count when the caller has it already (a full scan otherwise)."""
    low, high, n = store.conn.execute("SELECT min(vid), max(vid), count(*) FROM vertex").fetchone()
    if total is None:
        total = store.conn.execute("SELECT count(*) FROM edge").fetchone()[0]
    schema = stored_schema(store) or GraphSchema(id_scope="global")
    wexpr = weight_expression(schema, weight) if weight else None
    contiguous = n == 0 or high - low + 1 == n
    edges: list[tuple[int, int]] = []
    weights: list[float] | None = [] if weight else None
    vids = None
    if contiguous:
        base = low or 0
        if wexpr:
            sql = f"SELECT src - ?1, dst - ?1, {wexpr} FROM edge"  # noqa: S608
        else:
            sql = "SELECT src - ?1, dst - ?1 FROM edge"
        cursor = store.conn.execute(sql, (base,))
    else:
        base = None
        vids = [r[0] for r in store.conn.execute("SELECT vid FROM vertex ORDER BY vid")]
        position = {vid: i for i, vid in enumerate(vids)}
        sql = f"SELECT src, dst{', ' + wexpr if wexpr else ''} FROM edge"  # noqa: S608
        cursor = store.conn.execute(sql)
    while rows := cursor.fetchmany(chunk):
        if weights is not None:
            for row in rows:
                w = row[2]
                weights.append(1.0 if w is None else float(w))
            rows = [(r[0], r[1]) for r in rows]
        if vids is not None:
            rows = [(position[a], position[b]) for a, b in rows]
        edges.extend(rows)
        if on_chunk is not None:
            on_chunk(len(edges), total)
    return EdgeArrays(n=int(n), edges=edges, weights=weights, base=base, vids=vids)


def vertex_names(store: GraphStore) -> list[tuple[str, str]]:
    """``(key, label)`` of every vertex in vid order (index i of :class:`EdgeArrays`)."""
    return store.conn.execute("SELECT key, label FROM vertex ORDER BY vid").fetchall()


@dataclass
class LoadedGraph:
    graph: Any  # igraph.Graph (directed, multi-edges kept)
    names: list[tuple[str, str]]  # (id, label) per vertex index
    arrays: EdgeArrays
    find: Callable[[str], list[tuple[int, str, str]]]
    seconds_loading: float = 0.0
    cached: bool = False
    names_key: str = ""

    def index_of(self, key: str, label: str | None, what: str) -> int:
        matches = [m for m in self.find(key) if label is None or m[2] == label]
        if not matches:
            raise AlgorithmFailed(f"{what} vertex {key!r} no longer exists in the graph")
        vid = matches[0][0]
        if self.arrays.base is not None:
            return vid - self.arrays.base
        assert self.arrays.vids is not None
        return self.arrays.vids.index(vid)


def _resident_key(store: GraphStore, weight: str | None) -> tuple:
    return (str(store.path.resolve()), data_version(store), weight)


def load_graph(
    store: GraphStore, *, weight: str | None, control: Control, edges: int | None = None
) -> LoadedGraph:
    """The graph as the library's object: the resident copy when this worker holds one for
    the store's current data, otherwise read from the store, built and kept (within budget).
    ``edges`` is the edge count when the caller has it (counted otherwise). Call inside
    :func:`~jobcenter.graphs.query.snapshot`."""
    import igraph as ig

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
        edges = store.conn.execute("SELECT count(*) FROM edge").fetchone()[0]
    total = edges
    control.set_phase("loading graph", 0.0, total)

    def on_chunk(read: int, of: int) -> None:
        control.done, control.total = read, of
        control.progress = 40.0 * read / of if of else 40.0
        control.check()

    arrays = load_edge_arrays(store, weight=weight, on_chunk=on_chunk, total=total)
    names = vertex_names(store)
    control.set_phase("building graph", 40.0)
    graph = ig.Graph(n=arrays.n, edges=arrays.edges, directed=True)
    if arrays.weights is not None:
        graph.es["weight"] = arrays.weights
    # The graph holds them now; only the vertex numbering is kept beside it.
    arrays.edges, arrays.weights = [], None
    size = ResidentGraphs.estimate(graph.vcount(), total, weighted=weight is not None)
    RESIDENT.put(key, ResidentGraph(graph, names, arrays, size))
    return LoadedGraph(graph, names, arrays, find, time.perf_counter() - started, False, names_key)


def warm_graph(store: GraphStore, *, stop: threading.Event | None = None) -> LoadedGraph | None:
    """Build the store's graph (unweighted, as most algorithms use it) into this worker's
    memory unless it is resident already; ``None`` when it would not fit the budget at all.
    ``stop`` set ends the loading between chunks with :class:`AlgorithmStopped`."""
    control = Control(stop=stop) if stop is not None else Control()
    with snapshot(store):
        vertices, edges = count_rows(store)
        if ResidentGraphs.estimate(vertices, edges, weighted=False) > RESIDENT.budget():
            return None
        return load_graph(store, weight=None, control=control, edges=edges)
