"""Choosing the graph library: python-igraph, rustworkx and networkx on the same generated graph.

A random directed graph (``--edges`` edges over ``--vertices`` vertices, fixed seed) is held as
two int arrays, the form our graph store hands over. For each library this measures, in one
run on one machine:

- build: the library's graph from the two arrays;
- pagerank (damping 0.85) and weakly connected components on the built graph;
- the other algorithms issue 6 asks for, where the library has them (louvain, label
  propagation, k-core, triangles), on the undirected view.

Each timing is the best of ``--rounds`` runs (the graph is built once per library). networkx is
run on the same graph; it is pure Python, expect minutes. Results are checked against each
other (same number of components, pagerank vectors equal within 1e-6).

Run: .venv/bin/python benchmarks/graph_libraries.py [--edges 1000000] [--vertices 200000]
     [--communities]
(needs igraph, rustworkx, networkx and scipy installed; only igraph is a project dependency).
"""

from __future__ import annotations

import argparse
import gc
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

COMMUNITIES = False


def best(fn: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(rounds):
        gc.collect()
        started = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - started)
    return min(times), value


def bench_igraph(n: int, src: np.ndarray, dst: np.ndarray, rounds: int) -> dict[str, Any]:
    import igraph as ig

    pairs = np.column_stack((src, dst))
    build, g = best(lambda: ig.Graph(n=n, edges=pairs, directed=True), rounds)
    out: dict[str, Any] = {"version": ig.__version__, "build": build}
    out["pagerank"], pr = best(lambda: g.pagerank(damping=0.85), rounds)
    out["components"], cc = best(lambda: g.connected_components(mode="weak"), rounds)
    u = g.as_undirected(mode="collapse")
    out["louvain"] = out["label_propagation"] = None
    if COMMUNITIES:  # minutes on a random graph (no community structure to find)
        out["louvain"], _ = best(lambda: u.community_multilevel(), 1)
        out["label_propagation"], _ = best(lambda: u.community_label_propagation(), 1)
    out["k_core"], _ = best(lambda: u.coreness(), rounds)
    out["triangles"], _ = best(lambda: len(u.list_triangles()), 1)
    out["_pr"] = np.asarray(pr)
    out["_cc"] = len(cc)
    return out


def bench_rustworkx(n: int, src: np.ndarray, dst: np.ndarray, rounds: int) -> dict[str, Any]:
    import rustworkx as rx

    def build_graph() -> Any:
        g = rx.PyDiGraph(multigraph=True)
        g.add_nodes_from(range(n))
        g.add_edges_from_no_data(list(zip(src.tolist(), dst.tolist(), strict=True)))
        return g

    build, g = best(build_graph, rounds)
    out: dict[str, Any] = {"version": rx.__version__, "build": build}
    out["pagerank"], pr = best(lambda: rx.pagerank(g, alpha=0.85, tol=1e-6), rounds)
    out["components"], cc = best(lambda: rx.weakly_connected_components(g), rounds)
    u = g.to_undirected(multigraph=False)
    out["louvain"] = None  # not in rustworkx
    out["label_propagation"] = None  # not in rustworkx
    out["k_core"], _ = best(lambda: rx.core_number(u), rounds)
    out["triangles"] = None  # no triangle count in rustworkx (only transitivity)
    out["_pr"] = np.array([pr[i] for i in range(n)])
    out["_cc"] = len(cc)
    return out


def bench_networkx(n: int, src: np.ndarray, dst: np.ndarray, rounds: int) -> dict[str, Any]:
    import networkx as nx

    def build_graph() -> Any:
        g = nx.MultiDiGraph()
        g.add_nodes_from(range(n))
        g.add_edges_from(zip(src.tolist(), dst.tolist(), strict=True))
        return g

    build, g = best(build_graph, 1)
    out: dict[str, Any] = {"version": nx.__version__, "build": build}
    out["pagerank"], pr = best(lambda: nx.pagerank(g, alpha=0.85, tol=1e-10), 1)
    out["components"], cc = best(lambda: list(nx.weakly_connected_components(g)), 1)
    out["louvain"] = out["label_propagation"] = out["k_core"] = out["triangles"] = None
    out["_pr"] = np.array([pr[i] for i in range(n)])
    out["_cc"] = len(cc)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--vertices", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip", default="", help="comma-separated libraries to leave out")
    parser.add_argument("--communities", action="store_true", help="time louvain and LPA too")
    args = parser.parse_args()
    global COMMUNITIES
    COMMUNITIES = args.communities
    rng = np.random.default_rng(42)
    n = args.vertices
    src = rng.integers(0, n, args.edges, dtype=np.int64)
    dst = rng.integers(0, n, args.edges, dtype=np.int64)
    print(f"graph: {n} vertices, {args.edges} directed edges; load average {os.getloadavg()}")
    runs = {"igraph": bench_igraph, "rustworkx": bench_rustworkx, "networkx": bench_networkx}
    results: dict[str, dict[str, Any]] = {}
    for name, fn in runs.items():
        if name in args.skip.split(","):
            continue
        results[name] = fn(n, src, dst, args.rounds)
        shown = {k: v for k, v in results[name].items() if not k.startswith("_")}
        print(name, {k: (f"{v:.3f}s" if isinstance(v, float) else v) for k, v in shown.items()})
    base = results["igraph"]
    for name, res in results.items():
        diff = float(np.max(np.abs(res["_pr"] - base["_pr"])))
        print(f"{name}: components {res['_cc']}, max pagerank difference to igraph {diff:.2e}")


if __name__ == "__main__":
    main()
