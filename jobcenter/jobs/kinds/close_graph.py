"""The close graph kind: release a graph from the workers' memory, everywhere (GES's
management plane: ``CloseGraph``, ``POST .../graphs/{graph_id}/stop``).

The job clears the graph's ``kept_in_memory`` flag and bumps its ``memory_epoch`` in one
conditional update, and drops the worker's own copies at once. Every other worker drops the
copies it loaded under an older epoch before it runs its next job and while it is idle
(:func:`drop_closed`, this kind's ``between_jobs`` hook): no algorithm job that starts after
the close is served from a copy loaded before it. A later algorithm job may load the graph
again, as any job on a graph that was never started does.

- Phase: "releasing". Not cancellable (it is instant).
- Closing a graph that was not started and that the worker did not hold succeeds, and says
  there was nothing to release.
- Result: whether the graph was started, whether this worker held it, in a message.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from jobcenter.graphs.models import Graph
from jobcenter.graphs.resident import RESIDENT
from jobcenter.graphs.stores.factory import store_key
from jobcenter.jobs.choices import JobDialect, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import Kind, register
from jobcenter.jobs.submit import require_ready, retry_common, retry_graph, submit_graph_job
from jobcenter.jobs.work import JobFailed, Run

logger = logging.getLogger("jobcenter.jobs")


def job_submit_close_graph(
    *,
    graph: Graph,
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    request: dict[str, Any] | None = None,
    name: str = "CloseGraph",
    retry_of: Job | None = None,
) -> Job:
    """Queue the release of ``graph`` from the workers' memory (operator role)."""
    require_ready(graph, user)
    return submit_graph_job(
        graph=graph,
        project=graph.project,
        type=JobType.CLOSE_GRAPH,
        name=name,
        params={},
        request=request if request is not None else {},
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


# --- worker -----------------------------------------------------------------------------------


def _held(key: str) -> bool:
    return any(held[0] == key for held in RESIDENT.held())


def close_graph(*, job: Job, worker_id: str) -> None:
    Run(job, worker_id).execute(lambda run: _close(run, job))


def _close(run: Run, job: Job) -> dict[str, Any]:
    graph = run.graph()
    run.control.set_phase("releasing", 50.0)
    run.gate()
    while True:  # one conditional update, tried again if another close got in between
        row = Graph.objects.filter(pk=graph.pk).values_list("kept_in_memory", "memory_epoch")
        state = row.first()
        if state is None:
            raise JobFailed(f"graph {graph.name!r} was deleted")
        was_started, epoch = state
        if Graph.objects.filter(pk=graph.pk, memory_epoch=epoch).update(
            kept_in_memory=False, memory_epoch=epoch + 1
        ):
            break
    key = store_key(graph)
    held_here = _held(key)
    RESIDENT.forget(key)
    RESIDENT.unpin(key)
    _SEEN[graph.pk] = epoch + 1  # this worker's copies are gone already
    if was_started or held_here:
        message = (
            f"graph {graph.name!r} released: "
            + ("dropped from this worker's memory" if held_here else "this worker held no copy")
            + "; every other worker drops it before its next job"
        )
    else:
        message = (
            f"graph {graph.name!r} was not started and no copy was held here: nothing to release"
        )
    return {
        "graph": graph.name,
        "was_started": was_started,
        "released_here": held_here,
        "message": message,
    }


# --- every worker: drop the closed graphs -----------------------------------------------------

# graph id -> the memory epoch this worker last saw; its copies of the graph were loaded then
# or later (a copy loaded by a job is loaded after the look this module takes before the job)
_SEEN: dict[str, int] = {}


def drop_closed(*, idle: bool) -> None:
    """Drop this worker's copies of the graphs closed since it last looked. A graph never
    seen counts as seen at epoch 0: the worker command looks once before it loads any graph,
    so nothing loaded after a close is dropped for it, and nothing loaded before is kept."""
    for gid, epoch in Graph.objects.filter(memory_epoch__gt=0).values_list("id", "memory_epoch"):
        if _SEEN.get(gid, 0) == epoch:
            continue
        _SEEN[gid] = epoch
        key = store_key(Graph(id=gid))
        if _held(key):
            RESIDENT.forget(key)
            logger.info("graph %s was closed: dropped from memory", gid)


def retry(job: Job, user: AbstractBaseUser | None) -> Job:
    return job_submit_close_graph(graph=retry_graph(job), **retry_common(job, user))


KIND = register(
    Kind(
        type=JobType.CLOSE_GRAPH,
        handler=close_graph,
        retry=retry,
        cancellable=False,
        phases=("releasing",),
        result="the graph released from every worker's memory (or nothing to release)",
        between_jobs=drop_closed,
    )
)
