"""GES's algorithms: each ``algorithmName`` as one of ours, the GES-only parameters checked
and not passed on, and how a result row becomes one of GES's ``data.outputs`` entries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def _fraction(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1
    return None if ok else "expected a number in (0, 1)"


def _iterations(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**31 - 1
    return None if ok else "expected a whole number from 1 to 2147483647"


def _unweighted(value: Any) -> str | None:
    return None if value in (None, "") else "edge weights are not supported by this algorithm here"


def _by_id(row: dict[str, Any]) -> dict[str, Any]:
    vertex, _label, value = row.values()
    return {vertex: value}


def _community(row: dict[str, Any]) -> dict[str, str]:
    vertex, _label, value = row.values()
    return {vertex: str(value)}  # GES's community ids are strings


def _degrees(row: dict[str, Any]) -> dict[str, Any]:
    return {row["id"]: {k: row[k] for k in ("in_degree", "out_degree", "degree")}}


def _path_step(row: dict[str, Any]) -> Any:
    return row["id"]


# GES's convergence parameters: the library's solvers run to their own convergence (PRPACK
# solves pagerank exactly), so these are checked against GES's ranges and not passed on.
_ITERATIVE: dict[str, Callable[[Any], str | None]] = {
    "convergence": _fraction,
    "max_iterations": _iterations,
}


@dataclass(frozen=True)
class GesAlgorithm:
    """One GES algorithm name: our algorithm, the ``data.outputs`` key of its per-row results,
    how a result row becomes one of GES's entries, GES's names of its summary figures, and
    GES parameters that are checked but not passed on (anything else goes to our algorithm,
    whose parameter names GES's match)."""

    algorithm: str
    output: str
    entry: Callable[[dict[str, Any]], Any]
    summary: dict[str, str] = field(default_factory=dict)  # our output name -> GES's
    ges_only: dict[str, Callable[[Any], str | None]] = field(default_factory=dict)


_PAGERANK = GesAlgorithm("pagerank", "pagerank", _by_id, ges_only=_ITERATIVE)
_PERSONALRANK = GesAlgorithm("personalized_pagerank", "personalrank", _by_id, ges_only=_ITERATIVE)
_SHORTEST_PATH = GesAlgorithm("shortest_path", "path", _path_step)
_SSSP = GesAlgorithm("single_source_shortest_paths", "distance", _by_id)
_COMPONENTS = GesAlgorithm(
    "connected_components",
    "community",
    _community,
    {"components": "community_num", "largest": "Max_WCC_size"},
)
_KCORE = GesAlgorithm("k_core", "kcore", _by_id)
_LABEL_PROPAGATION = GesAlgorithm(
    "label_propagation",
    "community",
    _community,
    {"communities": "community_num"},
    ges_only=_ITERATIVE,
)
_LOUVAIN = GesAlgorithm(
    "louvain",
    "community",
    _community,
    {"communities": "community_num"},
    ges_only={**_ITERATIVE, "weight": _unweighted},
)
_TRIANGLES = GesAlgorithm("triangle_count", "triangles", _by_id, {"triangles": "triangle_count"})
_DEGREE = GesAlgorithm("degree_statistics", "degree", _degrees)

# GES's algorithmName -> ours. GES's own names first; our names are accepted as well.
ALGORITHMS: dict[str, GesAlgorithm] = {
    "pagerank": _PAGERANK,
    "personalrank": _PERSONALRANK,
    "personalized_pagerank": _PERSONALRANK,
    "shortest_path": _SHORTEST_PATH,
    "sssp": _SSSP,
    "single_source_shortest_path": _SSSP,
    "single_source_shortest_paths": _SSSP,
    "connected_component": _COMPONENTS,
    "connected_components": _COMPONENTS,
    "kcore": _KCORE,
    "k_core": _KCORE,
    "label_propagation": _LABEL_PROPAGATION,
    "louvain": _LOUVAIN,
    "triangle_count": _TRIANGLES,
    "degree": _DEGREE,
    "degree_statistics": _DEGREE,
}
# By our algorithm name: a job's result is shaped by it, whichever face submitted the job.
ALGORITHM_RESULTS: dict[str, GesAlgorithm] = {a.algorithm: a for a in ALGORITHMS.values()}
# GES's executionMode: every algorithm runs as a job, so only async is possible.
EXECUTION_MODES = ("async",)
