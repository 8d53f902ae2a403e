"""The graphs a worker keeps in memory (:data:`RESIDENT`).

Loading a graph from its store (reading every edge out of SQLite and building the igraph
graph) costs more than pagerank or connected components themselves, so a worker keeps the
graphs it built, as analytics engines keep loaded graphs in memory: a job on a resident graph
only computes. Keyed by store file, data version and weight property, so a change to the
data is never served from an old copy.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Sizes are estimates from measured figures (python-igraph 1.0, 1,000,000 edges and 200,000
# vertices: 45 B per edge, 48 B per edge of weights, 185 B per vertex with its (id, label) pair).
EDGE_BYTES = 48
WEIGHT_BYTES = 48
VERTEX_BYTES = 200


@dataclass
class ResidentGraph:
    graph: Any  # igraph.Graph
    names: list[tuple[str, str]]
    # jobcenter.graphs.build.VertexNumbering (the edges and weights are in the graph)
    arrays: Any
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
        # Store paths of the graphs started into memory (see pin()).
        self._pinned: set[str] = set()

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
            while self.used() + entry.nbytes > budget:
                victim = next((k for k in self._graphs if not self._is_pinned(k)), None)
                if victim is None:  # only started graphs are left: they stay
                    return False
                del self._graphs[victim]
            self._graphs[key] = entry
            return True

    def used(self) -> int:
        return sum(entry.nbytes for entry in self._graphs.values())

    # A graph is named by its store's identity (GraphStore.identity: the resolved path of a
    # SQLite file, the server and schema of a PostgreSQL store), as the keys' first item.

    def forget(self, store: str) -> None:
        """Drop every copy of one graph (its store was cleared, restored or deleted)."""
        path = store
        with self._lock:
            for key in [k for k in self._graphs if k[0] == path]:
                del self._graphs[key]

    def held(self) -> list[tuple]:
        with self._lock:
            return list(self._graphs)

    def largest(self) -> int:
        """The estimated size of the largest graph held (0: none)."""
        with self._lock:
            return max((entry.nbytes for entry in self._graphs.values()), default=0)

    def graph_objects(self) -> list[Any]:
        """The igraph objects held (what a standby child is forked with)."""
        with self._lock:
            return [entry.graph for entry in self._graphs.values()]

    # A started graph (a start graph job) is pinned: its unweighted copy is never dropped to
    # make room for another graph, only by forget() (closed, cleared, deleted) or a newer
    # version of its data.

    def pin(self, store: str) -> None:
        with self._lock:
            self._pinned.add(store)

    def unpin(self, store: str) -> None:
        with self._lock:
            self._pinned.discard(store)

    def pinned(self) -> set[str]:
        with self._lock:
            return set(self._pinned)

    def pinned_bytes(self, *, besides: str | None = None) -> int:
        """Memory held by pinned copies (of graphs other than ``besides``)."""
        skip = besides
        with self._lock:
            return sum(
                entry.nbytes
                for key, entry in self._graphs.items()
                if self._is_pinned(key) and key[0] != skip
            )

    def holds(self, store: str) -> bool:
        """Whether an unweighted copy of the graph is held (of any version of its data)."""
        path = store
        with self._lock:
            return any(k[0] == path and k[2] is None for k in self._graphs)

    def _is_pinned(self, key: tuple) -> bool:
        return key[0] in self._pinned and key[2] is None

    def clear(self) -> None:
        with self._lock:
            self._graphs.clear()
            self._pinned.clear()


RESIDENT = ResidentGraphs()
