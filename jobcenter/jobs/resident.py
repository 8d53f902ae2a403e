"""Graphs kept in a worker's memory (``jobcenter.graphs.resident.RESIDENT``).

A worker holds the graphs it built. It builds a graph as soon as a job that changed its data
has ended well (the job's kind says which do: ``Kind.writes_graph``), and at start the graphs of
the latest algorithm jobs, so that algorithm jobs find their graph in memory instead of paying
to read it out of the store (which takes longer than pagerank itself: docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import time

from jobcenter.graphs.build import warm_graph
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.compute import AlgorithmStopped, standby_keep
from jobcenter.graphs.models import Graph
from jobcenter.graphs.resident import RESIDENT
from jobcenter.graphs.stores.factory import open_store, store_exists
from jobcenter.jobs import selectors as job_selectors
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import kind_for
from jobcenter.jobs.results import names_snapshot
from jobcenter.jobs.runner import SHUTDOWN

logger = logging.getLogger("jobcenter.jobs")


def warm(graph: Graph) -> bool:
    """Build ``graph`` in this worker's memory with its vertex-id snapshot; ``False`` when it
    cannot be (being deleted, never written, larger than the memory budget, the worker is
    shutting down). Never raises: a graph that fails to load here fails its algorithm jobs
    with the reason instead."""
    if graph.status != GraphStatus.READY or not store_exists(graph):
        return False
    try:
        store = open_store(graph)
        try:
            loaded = warm_graph(store, stop=SHUTDOWN)
        finally:
            store.close()
        if loaded is None:
            logger.info("graph %s is larger than JOBCENTER_GRAPH_MEMORY_MB; not kept", graph.pk)
            return False
        names_snapshot(loaded.names_key, loaded.names)
        if not loaded.cached:
            logger.info(
                "graph %s (%s) loaded into memory: %d vertices, %d edges in %.2f s",
                graph.name,
                graph.pk,
                loaded.graph.vcount(),
                loaded.graph.ecount(),
                loaded.seconds_loading,
            )
        return True
    except AlgorithmStopped:
        return False
    except Exception:
        logger.exception("could not load graph %s into memory", graph.pk)
        return False


def warm_after_job(job_id: str) -> bool:
    """After a job that changed a graph's data ended well, load the new data into memory,
    unless jobs are waiting: a head start for later jobs never delays queued ones (a waiting
    algorithm job then loads the graph itself, and the worker keeps it)."""
    try:
        job = Job.objects.filter(pk=job_id).select_related("graph").first()
        if job is None or job.graph is None:
            return False
        if job.status not in (JobStatus.SUCCEEDED, JobStatus.PARTIALLY_FAILED):
            return False
        kind = kind_for(job.type)
        wrote = kind is not None and kind.writes_graph(job)
        if not wrote or job_selectors.job_waiting_exists():
            return False
    except Exception:  # the job's own outcome is recorded already; this is only a head start
        logger.exception("could not look up job %s", job_id)
        return False
    return warm(job.graph)


def warm_recent(limit: int) -> list[Graph]:
    """At worker start: load the graphs of the latest algorithm jobs, most recent first, as
    many as ``limit`` and the memory budget allow."""
    if limit <= 0:
        return []
    return [graph for graph in job_selectors.graphs_last_analysed(limit=limit) if warm(graph)]


def keep_standby() -> int | None:
    """While idle: a standby child forked with the graphs held now, so that the next
    algorithm job's computation starts without a fork (graphs/compute.py; a graph loaded or
    replaced since the last one has it replaced). It faults in heap for half the largest
    graph held by its estimate (pagerank at 1,000,000 edges faulted in about 60% of it in a
    fresh child, not all of it heap; more would only cost the idle worker CPU). Returns its
    pid, or None."""
    global _standby_failed_at
    if time.monotonic() - _standby_failed_at < STANDBY_RETRY_SECONDS:
        return None
    try:
        return standby_keep(RESIDENT.graph_objects(), heap_bytes=RESIDENT.largest() // 2)
    except OSError:  # no memory or processes left for it: jobs fork their own child
        _standby_failed_at = time.monotonic()
        logger.exception("could not fork a standby child; trying again in a minute")
        return None


# After a failed fork of the standby, the idle worker tries again this much later (not at
# every look at the queue).
STANDBY_RETRY_SECONDS = 60.0
_standby_failed_at = -STANDBY_RETRY_SECONDS
