"""The graph as arrays for the graph library: its edges (with weights) as integer arrays, the
vertices' names, and the vertices a key names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from jobcenter.graphs.query import sql_text, stored_schema
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


def find_vertices(store: GraphStore, key: str) -> list[tuple[int, str, str]]:
    """``(vid, scope, label)`` of every vertex whose id is ``key`` (one per scope)."""
    return store.conn.execute(
        "SELECT vid, scope, label FROM vertex WHERE key = ? ORDER BY scope", (key,)
    ).fetchall()


def weight_expression(schema: GraphSchema, prop: str) -> str:
    cases = []
    for label in schema.edge_labels():
        index = label.property_index(prop)
        if index >= 0:
            cases.append(f"WHEN {sql_text(label.name)} THEN p{index}")
    return f"CASE label {' '.join(cases)} END" if cases else "NULL"


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
