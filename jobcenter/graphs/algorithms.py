"""Graph algorithms on a stored graph, computed with python-igraph (chosen by measurement, see
docs/benchmarks.md "Algorithms").

- :func:`parse_algorithm` validates an algorithm request before a job exists (every parameter
  checked, unknown ones refused, vertex ids looked up in the store: ``algorithm_params``).
- :func:`run_algorithm` takes the graph (the copy this worker holds, or read from the store:
  ``build``), runs the algorithm and hands back its result rows. It reports phases and counts
  through a :class:`~jobcenter.graphs.compute.Control` and stops when asked (``compute``).
"""

from __future__ import annotations

import math
import random
import statistics
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from jobcenter.graphs.algorithm_params import (
    REQUIRED,
    Check,
    ParseContext,
    boolean,
    invalid,
    number,
    vertex,
    vertex_label,
    weight,
    whole,
)
from jobcenter.graphs.build import LoadedGraph, load_graph
from jobcenter.graphs.compute import AlgorithmFailed, Control
from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.query import snapshot
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.stores.base import GraphStore


@dataclass(frozen=True)
class AlgorithmDef:
    name: str
    run: Callable[..., AlgorithmResult]
    params: dict[str, tuple[Check, Any]]  # name -> (check, default; REQUIRED if required)
    description: str
    # Upper bound of the computation's seconds per vertex and edge, for the algorithms whose
    # time is linear in the graph's size (about twice the slowest seen: docs/benchmarks.md);
    # None when it is not, so it always runs in a child process (see Control.compute).
    seconds_per_element: float | None = None


def parse_algorithm(
    name: Any,
    params: Any,
    *,
    schema: GraphSchema | None,
    find: Callable[[str], list[tuple[int, str, str]]],
) -> tuple[str, dict[str, Any]]:
    """Validate an algorithm request; returns its name and complete, normalised parameters."""
    if not isinstance(name, str) or name not in ALGORITHMS:
        raise PlanError(
            f"parameter [algorithm] is invalid! expected one of {', '.join(ALGORITHMS)}",
            field="algorithm",
        )
    definition = ALGORITHMS[name]
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise PlanError("parameter [parameters] is invalid! expected an object", field="parameters")
    unknown = sorted(set(params) - set(definition.params))
    if unknown:
        known = ", ".join(definition.params) or "none"
        raise invalid(unknown[0], f"{name} takes no such parameter (known: {known})")
    ctx = ParseContext(schema=schema or GraphSchema(id_scope="global"), find=find, params=params)
    out: dict[str, Any] = {}
    # labels first: vertex checks read them
    for key in sorted(definition.params, key=lambda k: not k.endswith("_label")):
        check, default = definition.params[key]
        if key not in params or params[key] is None:
            if default is REQUIRED:
                raise invalid(key, "it is required")
            out[key] = default
            continue
        out[key] = check(key, params[key], ctx)
    return name, {k: out[k] for k in definition.params}


@dataclass
class AlgorithmResult:
    kind: str  # vertices | rows
    columns: list[str]
    rows: Iterator[tuple]
    outputs: dict[str, Any]
    expected: int = 0  # rows to expect at most (progress of the writing phase)
    # One value per vertex (or per vertex of ``indices``), for results stored compactly as an
    # array next to the graph's vertex ids (see jobcenter.jobs.results.VertexValuesWriter);
    # ``rows`` yields the same rows for callers that want them one by one.
    values: Any = None
    indices: list[int] | None = None
    names: list[tuple[str, str]] | None = None  # (id, label) of every vertex index
    names_key: str = ""  # identifies ``names``: the graph store and its data version
    graph_in_memory: bool = False  # the worker held the graph: nothing was read from the store
    seconds_loading: float = 0.0


def run_algorithm(
    store: GraphStore, name: str, params: dict[str, Any], control: Control
) -> AlgorithmResult:
    """Run a validated algorithm (see :func:`parse_algorithm`) on the store's committed data."""
    definition = ALGORITHMS[name]
    with snapshot(store):
        loaded = load_graph(store, weight=params.get("weight"), control=control)
        control.set_phase("computing", 50.0)
        if definition.seconds_per_element is not None:
            size = loaded.graph.vcount() + loaded.graph.ecount()
            control.expected_seconds = definition.seconds_per_element * size
        result = definition.run(loaded, params, control)
    if result.values is not None:
        result.names, result.names_key = loaded.names, loaded.names_key
    result.graph_in_memory, result.seconds_loading = loaded.cached, loaded.seconds_loading
    result.expected = result.expected or loaded.graph.vcount()
    control.set_phase("writing result", 85.0, result.expected)
    return result


# --- the algorithms -----------------------------------------------------------------------------


def _mode(params: dict[str, Any]) -> str:
    return "out" if params.get("directed", True) else "all"


def _per_vertex(loaded: LoadedGraph, values: Any) -> Iterator[tuple]:
    """``(id, label, value)`` per vertex."""
    return ((key, label, value) for (key, label), value in zip(loaded.names, values, strict=True))


def _vertex_values(
    loaded: LoadedGraph,
    column: str,
    values: Sequence[Any],
    outputs: dict[str, Any],
    keep: Callable[[Any], bool] | None = None,
) -> AlgorithmResult:
    """A result of one value per vertex (those ``keep`` accepts), stored compactly."""
    indices = None
    if keep is not None:
        indices = [i for i, value in enumerate(values) if keep(value)]
        values = [values[i] for i in indices]
    return AlgorithmResult(
        "vertices",
        ["id", "label", column],
        _per_vertex(loaded, values)
        if indices is None
        else ((*loaded.names[i], v) for i, v in zip(indices, values, strict=True)),
        outputs,
        expected=len(values),
        values=values,
        indices=indices,
    )


def _pagerank(loaded: LoadedGraph, p: dict[str, Any], control: Control) -> AlgorithmResult:
    g = loaded.graph
    values = control.compute(
        lambda: g.pagerank(damping=p["alpha"], directed=p["directed"]), vector="d"
    )
    return _vertex_values(loaded, "pagerank", values, {"vertices": g.vcount()})


def _personalized_pagerank(
    loaded: LoadedGraph, p: dict[str, Any], control: Control
) -> AlgorithmResult:
    g = loaded.graph
    source = loaded.index_of(p["source"], p["source_label"], "source")
    values = control.compute(
        lambda: g.personalized_pagerank(
            damping=p["alpha"], directed=p["directed"], reset_vertices=[source]
        ),
        vector="d",
    )
    return _vertex_values(
        loaded, "pagerank", values, {"vertices": g.vcount(), "source": p["source"]}
    )


def _shortest_path(loaded: LoadedGraph, p: dict[str, Any], control: Control) -> AlgorithmResult:
    g = loaded.graph
    source = loaded.index_of(p["source"], p["source_label"], "source")
    target = loaded.index_of(p["target"], p["target_label"], "target")
    weights = "weight" if p["weight"] else None

    def compute() -> list[tuple[int, float]]:
        """(vertex, cumulative distance) along the path; empty when there is none."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # "couldn't reach": no path
            epath = g.get_shortest_path(
                source, to=target, weights=weights, mode=_mode(p), output="epath"
            )
        if not epath and source != target:
            return []
        steps, current, distance = [(source, 0.0)], source, 0.0
        for eid in epath:
            edge = g.es[eid]
            current = edge.target if edge.source == current else edge.source
            distance += edge["weight"] if weights else 1.0
            steps.append((current, distance))
        return steps

    steps = control.compute(compute)
    if steps and not math.isfinite(steps[-1][1]):  # weights near the largest double
        raise AlgorithmFailed(
            f"the path's length from {p['source']!r} to {p['target']!r} is larger than the "
            "largest number a result can hold (about 1.8e308)"
        )
    rows = [(i, *loaded.names[v], d) for i, (v, d) in enumerate(steps)]
    return AlgorithmResult(
        "rows",
        ["step", "id", "label", "distance"],
        iter(rows),
        {
            "found": bool(steps),
            "source": p["source"],
            "target": p["target"],
            "hops": max(0, len(steps) - 1),
            "distance": steps[-1][1] if steps else None,
        },
    )


def _sssp(loaded: LoadedGraph, p: dict[str, Any], control: Control) -> AlgorithmResult:
    g = loaded.graph
    source = loaded.index_of(p["source"], p["source_label"], "source")
    weights = "weight" if p["weight"] else None
    (distances,) = control.compute(
        lambda: g.distances(source=[source], weights=weights, mode=_mode(p))
    )
    # A vertex the source does not reach has no row (igraph says infinity, which JSON cannot
    # hold); ``unreachable`` counts them.
    reached = sum(1 for d in distances if math.isfinite(d))
    return _vertex_values(
        loaded,
        "distance",
        distances,
        {"source": p["source"], "reached": reached, "unreachable": len(distances) - reached},
        math.isfinite,
    )


def _components(loaded: LoadedGraph, p: dict[str, Any], control: Control) -> AlgorithmResult:
    import igraph as ig

    g = loaded.graph
    # The C call gives the membership list itself; Graph.connected_components wraps it in a
    # VertexClustering whose Python bookkeeping costs a third of the computation (1M edges).
    membership = control.compute(lambda: ig.GraphBase.connected_components(g, "weak"), vector="q")
    sizes = Counter(membership)
    return _vertex_values(
        loaded,
        "component",
        membership,
        {"components": len(sizes), "largest": max(sizes.values(), default=0)},
    )


def _undirected(graph: Any) -> Any:
    """The simple undirected view (no multi-edges, no loops) the community and core
    algorithms work on."""
    u = graph.as_undirected(mode="collapse")
    u.simplify(multiple=True, loops=True)
    return u


def _k_core(loaded: LoadedGraph, p: dict[str, Any], control: Control) -> AlgorithmResult:
    g = loaded.graph
    core = control.compute(lambda: _undirected(g).coreness(mode="all"), vector="q")
    k = p["k"]
    return _vertex_values(
        loaded,
        "coreness",
        core,
        {"k": k, "max_core": max(core, default=0), "in_core": sum(1 for c in core if c >= k)},
        lambda c: c >= k,
    )


def _label_propagation(loaded: LoadedGraph, p: dict[str, Any], control: Control) -> AlgorithmResult:
    g = loaded.graph

    def compute() -> list[int]:
        random.seed(p["seed"])  # python-igraph draws from Python's random module
        return _undirected(g).community_label_propagation().membership

    membership = control.compute(compute, vector="q")
    return _vertex_values(loaded, "community", membership, {"communities": len(set(membership))})


def _louvain(loaded: LoadedGraph, p: dict[str, Any], control: Control) -> AlgorithmResult:
    g = loaded.graph

    def compute() -> tuple[list[int], float]:
        random.seed(p["seed"])
        clusters = _undirected(g).community_multilevel(resolution=p["resolution"])
        return clusters.membership, clusters.modularity

    membership, modularity = control.compute(compute)
    # Modularity divides by the edge count: with no edge (once loops and directions are
    # dropped) it is undefined, NaN from igraph, and reported as null.
    return _vertex_values(
        loaded,
        "community",
        membership,
        {
            "communities": len(set(membership)),
            "modularity": modularity if math.isfinite(modularity) else None,
        },
    )


def _triangles(loaded: LoadedGraph, p: dict[str, Any], control: Control) -> AlgorithmResult:
    g = loaded.graph

    def compute() -> list[int]:
        u = _undirected(g)
        local = u.transitivity_local_undirected(mode="zero")
        degrees = u.degree()
        return [round(t * d * (d - 1) / 2) for t, d in zip(local, degrees, strict=True)]

    counts = control.compute(compute, vector="q")
    return _vertex_values(loaded, "triangles", counts, {"triangles": sum(counts) // 3})


def _degrees(loaded: LoadedGraph, p: dict[str, Any], control: Control) -> AlgorithmResult:
    g = loaded.graph
    ins, outs = g.indegree(), g.outdegree()  # linear and quick: no child process needed
    control.check()
    both = [a + b for a, b in zip(ins, outs, strict=True)]

    def stats(values: list[int]) -> dict[str, Any]:
        if not values:
            return {"min": None, "max": None, "mean": None, "median": None}
        return {
            "min": min(values),
            "max": max(values),
            "mean": sum(values) / len(values),
            "median": statistics.median(values),
        }

    rows = ((*loaded.names[i], ins[i], outs[i], both[i]) for i in range(g.vcount()))
    return AlgorithmResult(
        "vertices",
        ["id", "label", "in_degree", "out_degree", "degree"],
        rows,
        {
            "vertices": g.vcount(),
            "edges": g.ecount(),
            "in_degree": stats(ins),
            "out_degree": stats(outs),
            "degree": stats(both),
        },
    )


_ALPHA = (number(0.0, 1.0, low_open=True, high_open=True), 0.85)
_DIRECTED = (boolean, True)
_SOURCE = {"source": (vertex, REQUIRED), "source_label": (vertex_label, None)}
_SEED = (whole(0, 2**31 - 1), 1)

ALGORITHMS: dict[str, AlgorithmDef] = {
    d.name: d
    for d in (
        AlgorithmDef(
            "pagerank",
            _pagerank,
            {"alpha": _ALPHA, "directed": _DIRECTED},
            "PageRank of every vertex (alpha: damping factor).",
            seconds_per_element=8e-7,
        ),
        AlgorithmDef(
            "personalized_pagerank",
            _personalized_pagerank,
            {**_SOURCE, "alpha": _ALPHA, "directed": _DIRECTED},
            "PageRank with every restart at the source vertex.",
            seconds_per_element=8e-7,
        ),
        AlgorithmDef(
            "shortest_path",
            _shortest_path,
            {
                **_SOURCE,
                "target": (vertex, REQUIRED),
                "target_label": (vertex_label, None),
                "weight": (weight, None),
                "directed": _DIRECTED,
            },
            "One shortest path from source to target (hops, or the sum of an edge property).",
        ),
        AlgorithmDef(
            "single_source_shortest_paths",
            _sssp,
            {**_SOURCE, "weight": (weight, None), "directed": _DIRECTED},
            "Distance from the source to every vertex it reaches.",
        ),
        AlgorithmDef(
            "connected_components",
            _components,
            {},
            "Weakly connected components: a component number per vertex.",
            seconds_per_element=2.5e-7,
        ),
        AlgorithmDef(
            "k_core",
            _k_core,
            {"k": (whole(0, 2**31 - 1), 0)},
            "Coreness of every vertex in the k-core (coreness >= k), edges undirected.",
        ),
        AlgorithmDef(
            "label_propagation",
            _label_propagation,
            {"seed": _SEED},
            "Communities by label propagation, edges undirected.",
        ),
        AlgorithmDef(
            "louvain",
            _louvain,
            {"resolution": (number(0.0, 1000.0, low_open=True), 1.0), "seed": _SEED},
            "Communities by Louvain modularity optimisation, edges undirected.",
        ),
        AlgorithmDef(
            "triangle_count",
            _triangles,
            {},
            "Triangles through every vertex and in the whole graph, edges undirected.",
        ),
        AlgorithmDef(
            "degree_statistics",
            _degrees,
            {},
            "In-, out- and total degree of every vertex with their min, max, mean, median.",
            seconds_per_element=2.5e-7,
        ),
    )
}
