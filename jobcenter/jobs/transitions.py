"""The worker's state changes: claim, heartbeat, commit gate, finish, requeue, and the recovery
of jobs whose worker was lost. Every one is a conditional UPDATE that checks the current state
and that the worker still owns the job, and looks at the row count: two racing writers can
never both win, on SQLite or PostgreSQL.

Heartbeats are written with the job database's clock (``Now()``) and the recovery sweep reads
them against that same clock (:func:`database_now`): the workers of many machines judge one
another by one clock, so that a machine whose clock runs ahead never takes a live job for
lost, nor one behind keeps a dead worker's job running.

Worker side only: submission (``jobs.services``, the kinds' submit services) never imports
this module.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_lock_release
from jobcenter.jobs import engine
from jobcenter.jobs.choices import (
    ACTIVE_STATUSES,
    CLAIMED_STATUSES,
    TERMINAL_STATUSES,
    EventKind,
    JobStatus,
)
from jobcenter.jobs.dispatch import dispatch as _dispatch
from jobcenter.jobs.dispatch import record_event as _event
from jobcenter.jobs.endings import job_ended
from jobcenter.jobs.models import FailedLine, Job, JobFile, JobThroughput

logger = logging.getLogger("jobcenter.jobs")


def job_claim(*, job_id: str, worker_id: str) -> Job | None:
    """WAITING -> RUNNING for this worker; None when someone else got it or it was cancelled
    (a second delivery of the same task therefore does nothing)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.WAITING).update(
        status=JobStatus.RUNNING,
        started_at=now,
        heartbeat_at=Now(),
        worker_id=worker_id,
        attempt=F("attempt") + 1,
    )
    if not claimed:
        return None
    _event(job_id, EventKind.STARTED, message=f"worker {worker_id}")
    return Job.objects.select_related("graph", "project").get(pk=job_id)


@dataclass(frozen=True)
class FileUpdate:
    index: int
    fields: dict[str, Any]


class BeatOutcome:
    OK = "ok"
    CANCEL = "cancel"
    LOST = "lost"


def job_heartbeat(
    *,
    job_id: str,
    worker_id: str,
    progress: float,
    lines_done: int,
    lines_total: int,
    lines_per_second: float,
    files: Sequence[FileUpdate] = (),
    failed: Iterable[FailedLine] = (),
    samples: Sequence[Sequence[float]] | None = None,
    phase: str | None = None,
) -> str:
    """One write carrying heartbeat, progress, file counters and new failed lines.

    ``samples``: the job's throughput points (jobcenter.jobs.throughput) when they changed
    since the last beat (about once per sampling step; None the rest of the time).
    ``phase``: what the handler is doing now, in its kind's words (None: unchanged).

    Returns BeatOutcome.CANCEL when a cancel was requested and LOST when the job is no longer
    this worker's (swept as lost, or finished elsewhere).
    """
    values: dict[str, Any] = {
        "heartbeat_at": Now(),
        "progress": progress,
        "lines_done": lines_done,
        "lines_total": lines_total,
        "lines_per_second": lines_per_second,
    }
    if phase is not None:
        values["phase"] = phase[: Job._meta.get_field("phase").max_length]
    with transaction.atomic():
        owned = Job.objects.filter(pk=job_id, worker_id=worker_id)
        if owned.filter(status=JobStatus.RUNNING).update(**values):
            outcome = BeatOutcome.OK
        elif owned.filter(status=JobStatus.CANCELLING).update(heartbeat_at=Now()):
            return BeatOutcome.CANCEL
        else:
            return BeatOutcome.LOST
        _write_files(job_id, files)
        FailedLine.objects.bulk_create(failed, batch_size=500)
        _write_samples(job_id, samples)
    return outcome


def _write_files(job_id: str, files: Sequence[FileUpdate]) -> None:
    for update in files:
        JobFile.objects.filter(job_id=job_id, index=update.index).update(**update.fields)


def _write_samples(job_id: str, samples: Sequence[Sequence[float]] | None) -> None:
    """The job's throughput points, replaced in one statement (an upsert)."""
    if samples is None:
        return
    JobThroughput.objects.bulk_create(
        [JobThroughput(job_id=job_id, points=[list(p) for p in samples])],
        update_conflicts=True,
        unique_fields=["job"],
        update_fields=["points"],
    )


def job_commit_gate(*, job_id: str, worker_id: str) -> bool:
    """The point of no return: a running job stops being cancellable just before its results
    are committed. False when a cancel (or the sweeper) got there first."""
    return bool(
        Job.objects.filter(pk=job_id, worker_id=worker_id, status=JobStatus.RUNNING).update(
            cancellable=False
        )
    )


def job_finish(
    *,
    job_id: str,
    worker_id: str,
    status: JobStatus,
    fail_reason: str = "",
    result: dict | None = None,
    files: Sequence[FileUpdate] = (),
    failed: Iterable[FailedLine] = (),
    lines_done: int | None = None,
    lines_total: int | None = None,
    progress: float | None = None,
    samples: Sequence[Sequence[float]] | None = None,
) -> bool:
    """End a job this worker holds. Counters, files, failed lines and the last throughput
    points land in the same transaction as the status, so no reader sees a finished job with
    stale numbers."""
    assert status in TERMINAL_STATUSES
    allowed = (JobStatus.CANCELLING,) if status == JobStatus.CANCELLED else CLAIMED_STATUSES
    values: dict[str, Any] = {
        "status": status,
        "finished_at": timezone.now(),
        "cancellable": False,
        "fail_reason": fail_reason,
        "result": result,
        "phase": "",
    }
    if status in (JobStatus.SUCCEEDED, JobStatus.PARTIALLY_FAILED):
        values["progress"] = 100.0
    elif progress is not None:  # how far a failed or cancelled job got
        values["progress"] = max(0.0, min(100.0, progress))
    if lines_done is not None:
        values["lines_done"] = lines_done
    if lines_total is not None:
        values["lines_total"] = lines_total
    with transaction.atomic():
        done = Job.objects.filter(pk=job_id, worker_id=worker_id, status__in=allowed).update(
            **values
        )
        if not done:
            return False
        _write_files(job_id, files)
        FailedLine.objects.bulk_create(failed, batch_size=500)
        _write_samples(job_id, samples)
        _event(job_id, EventKind.FINISHED, message=fail_reason or status.label)
        job_ended(job_id)
    return True


def job_requeue(
    *, job_id: str, worker_id: str, reason: str, before_commit_gate: bool = False
) -> bool:
    """Give a running job back to the queue (its worker is shutting down): counters and
    failed lines reset, a new task is queued, nothing it wrote was committed.
    ``before_commit_gate``: only if it is still short of its point of no return."""
    running = Job.objects.filter(pk=job_id, worker_id=worker_id, status=JobStatus.RUNNING)
    if before_commit_gate:
        running = running.filter(cancellable=True)
    with transaction.atomic():
        done = running.update(
            status=JobStatus.WAITING,
            worker_id="",
            started_at=None,
            progress=0.0,
            lines_done=0,
            lines_per_second=0.0,
            phase="",
        )
        if not done:
            return False
        FailedLine.objects.filter(job_id=job_id).delete()
        JobThroughput.objects.filter(job_id=job_id).delete()
        JobFile.objects.filter(job_id=job_id).update(
            status="",
            cause="",
            log="",
            successful_lines=0,
            failed_lines=0,
            reason_counts={},
            bytes_read=0,
            started_at=None,
            finished_at=None,
        )
        _event(job_id, EventKind.REQUEUED, message=reason)
        job = Job.objects.get(pk=job_id)
        _dispatch(job)
    return True


# --- recovery -------------------------------------------------------------------------------


LOST_WORKER_REQUEUE = "worker died; back in the queue"
UNCLAIMED_REQUEUE = "its task was taken by a worker that never started it; queued again"
# Waiting jobs whose task the recovery sweep looks at, oldest first: a task a worker took
# without claiming its job was the oldest in the queue then, so it soon is among these.
REDELIVERY_WINDOW = 50


def _jobs_redeliver(*, taken_before: datetime) -> list[str]:
    """Queue again the waiting jobs whose task a worker took off the queue before
    ``taken_before`` without claiming the job: the worker died between the two (the engine
    marks the task running, never to run it), or the task ended before its claim. Nothing
    else would ever run them. The new task replaces the old one by a conditional update."""
    again: list[str] = []
    waiting = (
        Job.objects.filter(status=JobStatus.WAITING, created_at__lt=taken_before)
        .exclude(task_id="")
        .order_by("created_at")
        .values_list("pk", "task_id")[:REDELIVERY_WINDOW]
    )
    for job_id, task_id in waiting:
        taken = engine.job_task_taken_at(task_id)
        if taken is None or taken >= taken_before:
            continue
        with transaction.atomic():
            new_task = engine.enqueue_job(job_id)
            if not Job.objects.filter(pk=job_id, status=JobStatus.WAITING, task_id=task_id).update(
                task_id=new_task
            ):
                transaction.set_rollback(True)  # claimed or cancelled meanwhile
                continue
            _event(job_id, EventKind.REQUEUED, message=UNCLAIMED_REQUEUE)
        logger.warning("job %s: %s", job_id, UNCLAIMED_REQUEUE)
        again.append(job_id)
    return again


def _summary_files(summary: dict[str, Any]) -> list[FileUpdate]:
    """Per-file fields from an import's committed summary (``ImportSummary.files``, in file
    order)."""
    fields = ("total_lines", "successful_lines", "failed_lines")
    return [
        FileUpdate(
            index=index,
            fields={
                "status": entry.get("status") or "",
                "cause": entry.get("cause") or "",
                **{name: int(entry.get(name) or 0) for name in fields},
            },
        )
        for index, entry in enumerate(summary.get("files") or ())
        if isinstance(entry, dict)
    ]


def database_now() -> datetime:
    """The job database's clock (the one heartbeats are written with: ``Now()``)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT statement_timestamp()")
            return cursor.fetchone()[0]
        if connection.vendor == "sqlite":
            cursor.execute("SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')")
            return datetime.fromisoformat(cursor.fetchone()[0]).replace(tzinfo=UTC)
    return timezone.now()


def job_recover_stale(*, stale_after: float, dead_workers: Sequence[str] = ()) -> list[str]:
    """End jobs whose worker stopped sending heartbeats, or is in ``dead_workers`` (ids of
    workers known to be dead: ``manage.py serve`` saw them exit).

    A job whose results were already committed to its graph store (the worker died between the
    commit and the final status write) is finished from the summary stored with the commit.
    A job of a dead worker that had not reached its commit gate goes back to the queue as after
    a graceful stop, once: should its next worker die too, it fails (no crash loop). Any other
    is failed as "worker lost" (cancelled, if a cancel was pending): a silent worker may still
    be alive. Their partial graph data needs no cleanup: an import is one store transaction,
    which the store discards when its writer dies. Waiting jobs whose task a worker took but
    never started are queued again (see :func:`_jobs_redeliver`). Returns the ids of the jobs
    recovered.
    """
    from jobcenter.graphs.stores.base import StoreMissing
    from jobcenter.graphs.stores.factory import open_store, store_exists

    silent_since = database_now() - timedelta(seconds=stale_after)
    cutoff = timezone.now() - timedelta(seconds=stale_after)  # for the engine's own times
    ended: list[str] = []
    stale = Job.objects.filter(
        Q(heartbeat_at__lt=silent_since) | Q(worker_id__in=dead_workers),
        status__in=CLAIMED_STATUSES,
    ).select_related("graph")
    for job in stale:
        summary = None
        if job.graph is not None and store_exists(job.graph):
            with contextlib.suppress(StoreMissing):  # (removed meanwhile: nothing committed)
                store = open_store(job.graph, create=False)
                try:
                    summary = store.applied_summary(job.pk)
                finally:
                    store.close()
        if (
            summary is None
            and job.worker_id in dead_workers
            and not job.events.filter(kind=EventKind.REQUEUED, message=LOST_WORKER_REQUEUE).exists()
            and job_requeue(
                job_id=job.pk,
                worker_id=job.worker_id,
                reason=LOST_WORKER_REQUEUE,
                before_commit_gate=True,
            )
        ):
            ended.append(job.pk)
            if job.graph_id:
                graph_lock_release(graph_id=job.graph_id, job_id=job.pk)
            continue
        guard = Job.objects.filter(pk=job.pk, status=job.status, worker_id=job.worker_id)
        now = timezone.now()
        with transaction.atomic():
            if summary is not None:
                failed = summary.get("lines_failed", 0)
                status = JobStatus.PARTIALLY_FAILED if failed else JobStatus.SUCCEEDED
                done = guard.update(
                    status=status,
                    finished_at=now,
                    cancellable=False,
                    progress=100.0,
                    result=summary,
                    phase="",
                )
                if done:  # the files' counters as committed (the last heartbeat may lag)
                    _write_files(job.pk, _summary_files(summary))
                message = "worker lost after its data was committed"
            elif job.status == JobStatus.CANCELLING:
                done = guard.update(
                    status=JobStatus.CANCELLED,
                    finished_at=now,
                    cancellable=False,
                    fail_reason="worker lost while cancelling",
                    phase="",
                )
                message = "worker lost while cancelling"
            else:
                done = guard.update(
                    status=JobStatus.FAILED,
                    finished_at=now,
                    cancellable=False,
                    fail_reason="worker lost",
                    phase="",
                )
                message = "worker lost"
            if done:
                _event(job.pk, EventKind.RECOVERED, message=f"{message} ({job.worker_id})")
                job_ended(job.pk)
                ended.append(job.pk)
        if done and job.graph_id:
            graph_lock_release(graph_id=job.graph_id, job_id=job.pk)
    ended += _jobs_redeliver(taken_before=cutoff)
    # Locks held by jobs that ended without releasing them (a crash between the two writes).
    for graph in Graph.objects.exclude(write_lock=""):
        if not Job.objects.filter(pk=graph.write_lock, status__in=ACTIVE_STATUSES).exists():
            graph_lock_release(graph_id=graph.pk, job_id=graph.write_lock)
    if ended:
        logger.warning("recovered %d job(s) of lost workers: %s", len(ended), ", ".join(ended))
    return ended
