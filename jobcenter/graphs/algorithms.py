"""Graph algorithms on a stored graph, computed with python-igraph (chosen by measurement, see
docs/benchmarks.md "Algorithms").

Two halves:

- :func:`parse_algorithm` validates an algorithm request before a job exists (every parameter
  checked, unknown ones refused, vertex ids looked up in the store), in GES's words:
  ``parameter [source] is invalid!`` plus what is expected.
- :func:`run_algorithm` loads the graph (or takes the copy the worker holds in memory), runs
  the algorithm and streams its result rows to a writer. It reports phases and counts through
  a :class:`Control` and stops when asked: between chunks while loading and writing, and during
  the computation itself by running it in a forked child process that is killed on a stop
  (igraph's C loops do not check for interruption; see :meth:`Control.compute`).
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import pickle
import random
import select
import signal
import statistics
import sys
import threading
import time
import warnings
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobcenter.graphs.arrays import EdgeArrays, find_vertices, load_edge_arrays, vertex_names
from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.query import data_version, snapshot
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.store import GraphStore
from jobcenter.graphs.whole_graph import count_rows

# igraph's OpenMP runtime (libgomp) is not fork-safe: once its thread pool exists in a process,
# a forked child that uses OpenMP hangs. Computations run in forked children (see
# Control.compute), so OpenMP runs single-threaded unless the operator says otherwise; it must
# be set before igraph is first imported (it is imported lazily, below).
os.environ.setdefault("OMP_NUM_THREADS", "1")

NUMERIC = frozenset({"int", "long", "uint32", "uint64", "float", "double"})


class AlgorithmStopped(Exception):
    """The job was asked to stop (cancel, shutdown, lost)."""


class AlgorithmFailed(Exception):
    """The algorithm cannot run on this graph (e.g. a negative weight); ``str()`` says why."""


# --- parameters ---------------------------------------------------------------------------------


def invalid(name: str, why: str) -> PlanError:
    return PlanError(f"parameter [{name}] is invalid! {why}", field=f"parameters.{name}")


def _number(low: float, high: float, *, low_open: bool = False, high_open: bool = False):
    def check(name: str, value: Any, ctx: Any) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
        ok = ok and (value > low if low_open else value >= low)
        ok = ok and (value < high if high_open else value <= high)
        if not ok:
            lo = "(" if low_open else "["
            hi = ")" if high_open else "]"
            raise invalid(name, f"expected a number in {lo}{low}, {high}{hi}")
        return float(value)

    return check


def _whole(low: int, high: int):
    def check(name: str, value: Any, ctx: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid(name, f"expected a whole number from {low} to {high}")
        return value

    return check


def _bool(name: str, value: Any, ctx: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid(name, "expected true or false")
    return value


def _vertex(name: str, value: Any, ctx: ParseContext) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > 4096:
        raise invalid(name, "expected a vertex id")
    matches = ctx.find(value)
    label = ctx.params.get(f"{name}_label")
    if label is not None:
        matches = [m for m in matches if m[2] == label]
    if not matches:
        raise invalid(name, f"vertex {value!r} does not exist in the graph")
    if len(matches) > 1:
        raise invalid(name, f"vertex id {value!r} is used by several types: give {name}_label")
    return value


def _vertex_label(name: str, value: Any, ctx: ParseContext) -> str:
    if not isinstance(value, str) or ctx.schema.label(value) is None:
        raise invalid(name, "expected a vertex label of the graph")
    return value


def _weight(name: str, value: Any, ctx: ParseContext) -> str:
    if not isinstance(value, str) or not value:
        raise invalid(name, "expected the name of a numeric edge property")
    found = False
    for label in ctx.schema.edge_labels():
        prop = label.property(value)
        if prop is None:
            continue
        if prop.type not in NUMERIC or prop.cardinality != "single":
            raise invalid(name, f"property {value!r} of label {label.name!r} is not a number")
        found = True
    if not found:
        raise invalid(name, f"no edge label has a property {value!r}")
    return value


Check = Callable[[str, Any, Any], Any]


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


REQUIRED = object()


@dataclass
class ParseContext:
    schema: GraphSchema
    find: Callable[[str], list[tuple[int, str, str]]]
    params: dict[str, Any]


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


# --- running ------------------------------------------------------------------------------------


@dataclass
class Control:
    """What an algorithm run reports and obeys. ``stop`` is set by the job's heartbeat."""

    stop: threading.Event = field(default_factory=threading.Event)
    phase: str = "starting"
    progress: float = 0.0  # percent
    done: int = 0  # rows read or written in the current phase
    total: int = 0
    expected_seconds: float | None = None  # of the next computation, when it can be told

    def check(self) -> None:
        if self.stop.is_set():
            raise AlgorithmStopped()

    def set_phase(self, phase: str, progress: float, total: int | None = None) -> None:
        """Enter a phase; with ``total`` its counters start again (rows to read or write),
        without it they keep showing what the previous phase counted."""
        self.check()
        self.phase, self.progress = phase, progress
        if total is not None:
            self.done, self.total = 0, total

    def compute(self, fn: Callable[[], Any]) -> Any:
        """One library computation, ``fn()``, in a forked child; a stop kills the child at
        once. The result comes back pickled through a pipe. A computation known to be short
        (``expected_seconds``, see :meth:`_short`), or any without fork (not POSIX), runs
        here, stopping only after.

        Why a child process: igraph's C code does not check for interruption inside its long
        loops (measured with python-igraph 1.0: a signal raised during label propagation or
        all-pairs BFS is only seen when the call returns), so the only stop that always lands
        within the cancel deadline is killing the process that computes. The child shares the
        built graph copy-on-write; only the result travels back."""
        self.check()
        if not hasattr(os, "fork") or self._short():
            try:
                value = fn()
            except Exception as exc:
                raise AlgorithmFailed(f"{type(exc).__name__}: {exc}") from exc
            self.check()
            return value
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: compute, send, leave without running any cleanup
            code = 0
            try:
                os.close(read_end)
                _child_signals()
                try:
                    payload = pickle.dumps(("ok", fn()), protocol=pickle.HIGHEST_PROTOCOL)
                except BaseException as exc:
                    payload, code = pickle.dumps(("error", f"{type(exc).__name__}: {exc}")), 1
                view = memoryview(payload)
                while view:
                    view = view[os.write(write_end, view) :]
            finally:
                os._exit(code)
        os.close(write_end)
        chunks: list[bytes] = []
        try:
            while True:
                if self.stop.is_set():
                    os.kill(pid, signal.SIGKILL)
                    raise AlgorithmStopped()
                ready, _, _ = select.select([read_end], [], [], 0.1)
                if ready:
                    data = os.read(read_end, 1 << 20)
                    if not data:
                        break
                    chunks.append(data)
        finally:
            os.close(read_end)
            os.waitpid(pid, 0)
        if not chunks:
            raise AlgorithmFailed("the algorithm's process ended without a result")
        status, value = pickle.loads(b"".join(chunks))  # noqa: S301 - our own child
        if status != "ok":
            raise AlgorithmFailed(value)
        return value

    def _short(self) -> bool:
        """A computation that ends sooner than a cancel can be seen anyway (a heartbeat
        interval) runs here: a child costs a fork, copy-on-write faults and the result's trip
        back (30 to 60 ms at 1,000,000 edges). Only with OpenMP single-threaded: a thread pool
        started here would hang the children forked later."""
        return (
            self.expected_seconds is not None
            and self.expected_seconds <= INLINE_SECONDS
            and os.environ.get("OMP_NUM_THREADS") == "1"
        )


# Longest computation run in the worker itself: a cancel arriving as it starts is seen at the
# next heartbeat (1 s) and the job stops when it returns, within the 2 s cancel deadline.
INLINE_SECONDS = 0.5


def _child_signals() -> None:
    """In the computing child: leave Ctrl-C and SIGTERM to the worker (which stops the job and
    kills this child), and die with the worker if it is killed (Linux)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        if os.getppid() == 1:  # the worker died before prctl took effect
            os._exit(1)


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


# --- graphs kept in memory ---------------------------------------------------------------------
#
# Loading a graph from its store (reading every edge out of SQLite and building the igraph
# graph) costs more than pagerank or connected components themselves, so a worker keeps the
# graphs it built, as analytics engines keep loaded graphs in memory: a job on a resident graph
# only computes. Keyed by store file, data version and weight property, so a change to the
# data is never served from an old copy. Sizes are estimates from measured figures (python-igraph
# 1.0, 1,000,000 edges and 200,000 vertices: 45 B per edge, 48 B per edge of weights, 185 B
# per vertex with its (id, label) pair).
EDGE_BYTES = 48
WEIGHT_BYTES = 48
VERTEX_BYTES = 200


@dataclass
class ResidentGraph:
    graph: Any  # igraph.Graph
    names: list[tuple[str, str]]
    arrays: EdgeArrays  # the vertex numbering (edges and weights are in the graph)
    nbytes: int


DEFAULT_MEMORY_MB = 2048  # JOBCENTER_GRAPH_MEMORY_MB's default


class ResidentGraphs:
    """The graphs this worker holds, least recently used dropped first when one more would
    exceed the budget (``JOBCENTER_GRAPH_MEMORY_MB``); a graph larger than the whole budget is
    built for its job and not kept."""

    # The budget in bytes, asked at every use; the jobs app points it at
    # JOBCENTER_GRAPH_MEMORY_MB for every instance (the engine reads no settings itself).
    budget_source: Callable[[], int] = staticmethod(lambda: DEFAULT_MEMORY_MB * 1024 * 1024)

    def __init__(self) -> None:
        self._graphs: OrderedDict[tuple, ResidentGraph] = OrderedDict()
        self._lock = threading.Lock()

    def budget(self) -> int:
        return self.budget_source()

    @staticmethod
    def estimate(vertices: int, edges: int, *, weighted: bool) -> int:
        return vertices * VERTEX_BYTES + edges * (EDGE_BYTES + (WEIGHT_BYTES if weighted else 0))

    def get(self, key: tuple) -> ResidentGraph | None:
        with self._lock:
            entry = self._graphs.get(key)
            if entry is not None:
                self._graphs.move_to_end(key)
            return entry

    def put(self, key: tuple, entry: ResidentGraph) -> bool:
        budget = self.budget()
        with self._lock:
            self._graphs.pop(key, None)
            # Older versions of the same graph are of no more use.
            for old in [k for k in self._graphs if k[0] == key[0] and k[1] != key[1]]:
                del self._graphs[old]
            if entry.nbytes > budget:
                return False
            while self._graphs and self.used() + entry.nbytes > budget:
                self._graphs.popitem(last=False)
            self._graphs[key] = entry
            return True

    def used(self) -> int:
        return sum(entry.nbytes for entry in self._graphs.values())

    def forget(self, store_path: str | os.PathLike) -> None:
        """Drop every copy of one graph (its store was cleared, restored or deleted)."""
        path = str(Path(store_path).resolve())
        with self._lock:
            for key in [k for k in self._graphs if k[0] == path]:
                del self._graphs[key]

    def held(self) -> list[tuple]:
        with self._lock:
            return list(self._graphs)

    def clear(self) -> None:
        with self._lock:
            self._graphs.clear()


RESIDENT = ResidentGraphs()


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
    values: list[Any],
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
    values = control.compute(lambda: g.pagerank(damping=p["alpha"], directed=p["directed"]))
    return _vertex_values(loaded, "pagerank", values, {"vertices": g.vcount()})


def _personalized_pagerank(
    loaded: LoadedGraph, p: dict[str, Any], control: Control
) -> AlgorithmResult:
    g = loaded.graph
    source = loaded.index_of(p["source"], p["source_label"], "source")
    values = control.compute(
        lambda: g.personalized_pagerank(
            damping=p["alpha"], directed=p["directed"], reset_vertices=[source]
        )
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
    membership = control.compute(lambda: ig.GraphBase.connected_components(g, "weak"))
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
    core = control.compute(lambda: _undirected(g).coreness(mode="all"))
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

    membership = control.compute(compute)
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

    counts = control.compute(compute)
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


_ALPHA = (_number(0.0, 1.0, low_open=True, high_open=True), 0.85)
_DIRECTED = (_bool, True)
_SOURCE = {"source": (_vertex, REQUIRED), "source_label": (_vertex_label, None)}
_SEED = (_whole(0, 2**31 - 1), 1)

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
                "target": (_vertex, REQUIRED),
                "target_label": (_vertex_label, None),
                "weight": (_weight, None),
                "directed": _DIRECTED,
            },
            "One shortest path from source to target (hops, or the sum of an edge property).",
        ),
        AlgorithmDef(
            "single_source_shortest_paths",
            _sssp,
            {**_SOURCE, "weight": (_weight, None), "directed": _DIRECTED},
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
            {"k": (_whole(0, 2**31 - 1), 0)},
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
            {"resolution": (_number(0.0, 1000.0, low_open=True), 1.0), "seed": _SEED},
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
