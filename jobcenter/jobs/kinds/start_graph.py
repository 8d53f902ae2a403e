"""The start graph kind: load a graph into the workers' memory and keep it there, so that
algorithm jobs find it held (their result says ``graph_loaded_from: memory``) instead of reading
it out of the store. GES's management plane starts a graph the same way (``StartGraph``).

"Started" is the graph's ``kept_in_memory`` flag, set by this job once the graph is loaded
(a conditional update: a close graph job that ran meanwhile, or a deletion, wins). Every worker
then keeps it: its copy is pinned (a graph loaded for another job never pushes it out), and an
idle worker loads the started graphs it lacks (:func:`keep_started`, this kind's
``between_jobs`` hook). A close graph job (``kinds/close_graph.py``) undoes it everywhere.

- Phases: "loading graph" (edges read from the store), "building graph".
- Cancellable while it loads; a cancelled start keeps nothing in memory.
- Fails clearly on a graph without data, on a graph that would not fit
  ``JOBCENTER_GRAPH_MEMORY_MB`` (alone, or beside the graphs started already).
- Result: the graph's vertices and edges, the memory it takes, where it was loaded from.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from jobcenter.core.errors import InvalidState
from jobcenter.graphs.build import load_graph
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.models import Graph
from jobcenter.graphs.query import snapshot
from jobcenter.graphs.resident import RESIDENT, ResidentGraphs
from jobcenter.graphs.stores.factory import open_store, store_exists, store_key
from jobcenter.jobs.choices import JobDialect, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import Kind, register
from jobcenter.jobs.resident import warm
from jobcenter.jobs.results import names_snapshot
from jobcenter.jobs.selectors import job_waiting_exists
from jobcenter.jobs.submit import require_ready, retry_common, retry_graph, submit_graph_job
from jobcenter.jobs.work import JobFailed, Run

logger = logging.getLogger("jobcenter.jobs")

BUDGET_SETTING = "JOBCENTER_GRAPH_MEMORY_MB"
# An idle worker looks again at a started graph it holds (a newer version of its data?) or
# could not keep (no room) after this many seconds.
RECHECK_SECONDS = 30.0


def _no_data(graph: Graph) -> str:
    return f"graph {graph.name!r} has no data yet: import into it before starting it"


def job_submit_start_graph(
    *,
    graph: Graph,
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    request: dict[str, Any] | None = None,
    name: str = "StartGraph",
    retry_of: Job | None = None,
) -> Job:
    """Queue the loading of ``graph`` into the workers' memory (operator role)."""
    require_ready(graph, user)
    if not store_exists(graph):
        raise InvalidState(_no_data(graph), field="graph")
    return submit_graph_job(
        graph=graph,
        project=graph.project,
        type=JobType.START_GRAPH,
        name=name,
        params={},
        request=request if request is not None else {},
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


# --- worker -----------------------------------------------------------------------------------


def _mb(nbytes: int) -> str:
    return f"{nbytes / 2**20:.1f} MB"


class _StartRun(Run):
    """A start job's progress is the loading only: ``load_graph`` counts reading the store as
    0-40 % and building as 40-50 % (of an algorithm job); shown here as 0-80 and 80-100."""

    def snapshot(self) -> dict[str, Any]:
        return {**super().snapshot(), "progress": min(99.9, 2.0 * self.control.progress)}


def start_graph(*, job: Job, worker_id: str) -> None:
    _StartRun(job, worker_id).execute(lambda run: _start(run, job))


def _start(run: Run, job: Job) -> dict[str, Any]:
    graph = run.graph()
    path = store_key(graph)
    if graph.data_updated_at is None and not store_exists(graph):
        raise JobFailed(_no_data(graph))  # (a graph with data has a store: open_store says)
    epoch = graph.memory_epoch
    if not RESIDENT.holds(path):  # a stopped or failed start keeps nothing it loaded
        run.on_stop.append(lambda: RESIDENT.forget(path))
    store = open_store(graph)
    try:
        run.watch_store(store)
        with snapshot(store):
            vertices, edges = store.count_rows()
            if vertices == 0:
                raise JobFailed(f"graph {graph.name!r} has no vertex: there is nothing to load")
            need = ResidentGraphs.estimate(vertices, edges, weighted=False)
            budget = RESIDENT.budget()
            if need > budget:
                raise JobFailed(
                    f"graph {graph.name!r} needs about {_mb(need)} of memory, more than "
                    f"{BUDGET_SETTING} allows ({_mb(budget)}): it was not started"
                )
            others = RESIDENT.pinned_bytes(besides=path)
            if others + need > budget:
                raise JobFailed(
                    f"graph {graph.name!r} (about {_mb(need)}) does not fit beside the graphs "
                    f"started already ({_mb(others)}) within {BUDGET_SETTING} "
                    f"({_mb(budget)}): close one of them first"
                )
            loaded = load_graph(store, weight=None, control=run.control, edges=edges)
    finally:
        store.close()
    names_snapshot(loaded.names_key, loaded.names)
    if not RESIDENT.holds(path):
        raise JobFailed(f"graph {graph.name!r} could not be kept within {BUDGET_SETTING}")
    run.gate()
    # Started only if no close graph job (nor a deletion) came in since this job began.
    if not Graph.objects.filter(pk=graph.pk, status=GraphStatus.READY, memory_epoch=epoch).update(
        kept_in_memory=True
    ):
        raise JobFailed(f"graph {graph.name!r} was closed or deleted while it was being started")
    RESIDENT.pin(path)
    run.control.done = run.control.total = edges
    return {
        "graph": graph.name,
        "vertices": vertices,
        "edges": edges,
        "memory_mb": round(need / 2**20, 1),
        "graph_loaded_from": "memory" if loaded.cached else "store",
        "seconds_loading": round(loaded.seconds_loading, 3),
    }


# --- every worker: keep the started graphs ----------------------------------------------------

# (graph id, memory epoch) -> when this worker last loaded or looked at that started graph
_LOOKED_AT: dict[tuple[str, int], float] = {}


def keep_started(*, idle: bool) -> None:
    """Pin the started graphs in this worker's memory (and unpin the others); when ``idle``
    and no job waits, load (or bring up to date) one started graph, each at most every
    ``RECHECK_SECONDS`` once it was looked at."""
    started = list(
        Graph.objects.filter(kept_in_memory=True, status=GraphStatus.READY).values_list(
            "id", "memory_epoch"
        )
    )
    paths = {store_key(Graph(id=gid)): (gid, epoch) for gid, epoch in started}
    for path in RESIDENT.pinned() - paths.keys():
        RESIDENT.unpin(path)
    for path in paths:
        RESIDENT.pin(path)
    if not idle or not paths:
        return
    now = time.monotonic()
    for path, (gid, epoch) in paths.items():
        looked = _LOOKED_AT.get((gid, epoch))
        if looked is not None and now - looked < RECHECK_SECONDS:
            continue
        if job_waiting_exists():
            return
        _LOOKED_AT[(gid, epoch)] = now
        graph = Graph.objects.filter(pk=gid, status=GraphStatus.READY).first()
        if graph is not None and warm(graph) and not RESIDENT.holds(path):
            logger.warning(
                "started graph %s does not fit beside the others within %s; not kept here",
                gid,
                BUDGET_SETTING,
            )
        return  # one graph per call: a job that comes in waits for one load at most


def retry(job: Job, user: AbstractBaseUser | None) -> Job:
    return job_submit_start_graph(graph=retry_graph(job), **retry_common(job, user))


KIND = register(
    Kind(
        type=JobType.START_GRAPH,
        handler=start_graph,
        retry=retry,
        cancellable=True,
        phases=("loading graph", "building graph"),
        result="the graph held in the workers' memory: its vertices, edges and memory taken",
        between_jobs=keep_started,
    )
)
