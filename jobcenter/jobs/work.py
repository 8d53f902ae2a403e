"""What the worker sides of the analytics kinds share (algorithm, query, index, export and the
graph operations): :class:`Run`, one job in a worker with its heartbeat, its
:class:`~jobcenter.graphs.compute.Control` and its ending by outcome; staging and publishing
of files written under the export roots.

A cancel is seen within a heartbeat interval and stops the work between chunks, inside igraph
(the forked child that computes is killed) or inside the store (its cancel hook interrupts the
running statement). Results go to a temporary file and are published only after the commit
gate, so a stopped job keeps nothing. The phase the work is in (``Control.phase``) is stored on
the job with every heartbeat.

Graph access: reads (algorithms, queries, exports, backups) run in one store read transaction
on the last committed data: an import running meanwhile is invisible until it commits. Writes
(index build, clear, restore) take the graph's write lock first and wait for a running write
to end. A graph being deleted fails the job clearly.
"""

from __future__ import annotations

import itertools
import logging
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from jobcenter.core.exports import export_display, export_publish
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.compute import AlgorithmFailed, AlgorithmStopped, Control
from jobcenter.graphs.models import Graph
from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.services import graph_lock_acquire, graph_lock_release
from jobcenter.graphs.stores.base import GraphStore, StoreError
from jobcenter.graphs.stores.factory import store_errors
from jobcenter.jobs import transitions
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import InvalidResult, ResultWriter, result_delete
from jobcenter.jobs.runner import Heartbeat, end_stopped

logger = logging.getLogger("jobcenter.jobs")


LOCK_POLL_SECONDS = 0.5


class JobFailed(Exception):
    """The job cannot do its work; ``str()`` is the reason shown to the user."""


class Run:
    """One analytics job in a worker: heartbeat, control, finishing by outcome."""

    def __init__(self, job: Job, worker_id: str) -> None:
        self.job = job
        self.worker_id = worker_id
        self.control = Control()
        self.beat = Heartbeat(
            job_id=job.pk,
            worker_id=worker_id,
            snapshot=self.snapshot,
            stop_event=self.control.stop,
        )
        self.writer: ResultWriter | None = None
        self.on_stop: list[Callable[[], None]] = []  # cleanups of a stopped or failed job
        self.locked_graph: str | None = None

    def snapshot(self) -> dict[str, Any]:
        c = self.control
        return {
            "progress": min(99.9, c.progress),
            "lines_done": c.done,
            "lines_total": c.total,
            "lines_per_second": 0.0,
            "phase": c.phase,
        }

    def graph(self) -> Graph:
        """The job's graph, fresh from the database; JobFailed when it is gone or going."""
        graph = Graph.objects.filter(pk=self.job.graph_id).first() if self.job.graph_id else None
        if graph is None:
            raise JobFailed(f"graph {self.job.graph_name!r} was deleted")
        if graph.status != GraphStatus.READY:
            raise JobFailed(f"graph {graph.name!r} is being deleted")
        return graph

    def lock(self, graph: Graph) -> None:
        """Take the graph's write lock, waiting for a running write (stops on a cancel)."""
        while not graph_lock_acquire(graph_id=graph.pk, job_id=self.job.pk):
            self.control.phase = "waiting for the graph"
            if self.control.stop.wait(LOCK_POLL_SECONDS):
                raise AlgorithmStopped()
            self.graph()  # deleted meanwhile?
        self.locked_graph = graph.pk

    def watch_store(self, store: GraphStore) -> None:
        """Let a stop interrupt the store's running statement (a long scan, an index build)."""
        store.watch(self.control.stop)

    def gate(self) -> None:
        """The point of no return (see transitions.job_commit_gate)."""
        if not transitions.job_commit_gate(job_id=self.job.pk, worker_id=self.worker_id):
            raise AlgorithmStopped()

    def execute(self, work: Callable[[Run], dict[str, Any] | None]) -> None:
        self.beat.start()
        try:
            result = work(self)
        except (*ENDS_EARLY, *store_errors()) as exc:
            self._cleanup()
            self.beat.finish()  # before reading why it was stopped
            self._end_early(exc)
            return
        except BaseException:
            self._cleanup()
            raise
        finally:
            self.beat.finish()
            if self.locked_graph:
                graph_lock_release(graph_id=self.locked_graph, job_id=self.job.pk)
        # A published result belongs to a succeeded job only: when that status cannot be
        # written (the database refuses, the job is no longer ours), the result goes, so that
        # no failed job leaves one behind for the result pages to read.
        try:
            finished = self._finish(JobStatus.SUCCEEDED, result=result)
        except BaseException:
            self._unpublish()
            raise
        if not finished:
            self._unpublish()

    def _end_early(self, exc: BaseException) -> None:
        """End the job as ``exc`` says: stopped (asked to, or the store interrupted because
        it was), else failed with the reason."""
        errors = store_errors()
        stopped = isinstance(exc, AlgorithmStopped | Interrupted) or (
            isinstance(exc, errors) and self.control.stop.is_set()
        )
        if stopped:
            end_stopped(
                job=self.job,
                worker_id=self.worker_id,
                reason=self.beat.reason,
                progress=self.control.progress,
            )
        elif isinstance(exc, errors):
            self._finish(JobStatus.FAILED, fail_reason=f"graph store error: {exc}")
        else:
            reason = exc.message if isinstance(exc, PlanError) else str(exc)
            self._finish(JobStatus.FAILED, fail_reason=reason, progress=self.control.progress)

    def _unpublish(self) -> None:
        if self.writer is not None:
            result_delete(self.job.pk)

    def _cleanup(self) -> None:
        if self.writer is not None:
            self.writer.discard()
        for cleanup in self.on_stop:
            try:
                cleanup()
            except OSError:
                logger.exception("cleanup of job %s failed", self.job.pk)

    def _finish(self, status: JobStatus, **fields: Any) -> bool:
        c = self.control
        return transitions.job_finish(
            job_id=self.job.pk,
            worker_id=self.worker_id,
            status=status,
            lines_done=c.done,
            lines_total=c.total,
            **fields,
        )


class Interrupted(Exception):
    pass


# What ends a job before its work is done, as stopped or failed (see Run._end_early), besides
# the store driver's errors (stores.factory.store_errors()).
ENDS_EARLY = (
    AlgorithmStopped,
    Interrupted,
    JobFailed,
    AlgorithmFailed,
    InvalidResult,
    PlanError,
    StoreError,
)


def write_rows(
    run: Run,
    writer: ResultWriter,
    rows: Iterator[tuple],
    *,
    base: float,
    span: float,
    total: int | None,
    chunk: int = 20_000,
) -> None:
    control = run.control
    control.total = total or 0
    rows = iter(rows)
    while batch := list(itertools.islice(rows, chunk)):
        writer.add(batch)
        control.done = writer.count
        if total:
            control.progress = base + span * min(1.0, writer.count / total)
        control.check()
    control.done = control.total = writer.count


STAGING_NAME_BYTES = 64  # of the target's name kept in its staging name


def staging_name(name: str, job_id: str) -> str:
    """The name of a temporary sibling of a target called ``name``: ``.<start of name>.<job
    id>.part``, at most 1 + 64 + 1 + 32 + 5 bytes whatever the target's name, so that any
    name accepted at submission also fits here (with room for SQLite's ``-journal``)."""
    start = os.fsencode(name)[:STAGING_NAME_BYTES].decode("utf-8", "ignore")
    return f".{start}.{job_id}.part"


def staging_path(target: Path, run: Run) -> Path:
    """A temporary sibling of ``target``, removed when the job stops or fails."""
    staging = target.with_name(staging_name(target.name, run.job.pk))
    if staging.exists():
        shutil.rmtree(staging) if staging.is_dir() else staging.unlink()
    run.on_stop.append(
        lambda: (
            shutil.rmtree(staging, ignore_errors=True)
            if staging.is_dir()
            else staging.unlink(missing_ok=True)
        )
    )
    return staging


def publish(staging: Path, target: Path) -> None:
    if target.exists():
        raise JobFailed(
            f"{export_display(target)} appeared while the export ran; nothing was overwritten"
        )
    os.replace(staging, target)
    export_publish(target)  # for restores and readers on other machines
