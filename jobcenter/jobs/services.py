"""Writes for jobs. Every state transition is a conditional UPDATE that checks the current
state (and, for a worker, that it still owns the job) and looks at the row count: two racing
writers can never both win, on SQLite or PostgreSQL."""

from __future__ import annotations

import copy
import logging
import shutil
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from jobcenter.core.errors import InvalidInput, InvalidState, PermissionDenied, ServiceError
from jobcenter.core.uploads import (
    safe_filename,
    upload_of,
    upload_root,
    uploads_expire,
    uploads_expire_unowned,
    uploads_missing,
    uploads_named,
    uploads_store,
    uploads_touch,
)
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.models import Graph
from jobcenter.graphs.plan import ImportPlan, PlanError
from jobcenter.graphs.services import graph_import_plan, graph_lock_release
from jobcenter.jobs import engine
from jobcenter.jobs.choices import (
    ACTIVE_STATUSES,
    CLAIMED_STATUSES,
    RETRYABLE_STATUSES,
    TERMINAL_STATUSES,
    EventKind,
    JobDialect,
    JobStatus,
    JobType,
)
from jobcenter.jobs.models import FailedLine, Job, JobEvent, JobFile, JobThroughput
from jobcenter.projects.choices import Role
from jobcenter.projects.selectors import user_has_role

logger = logging.getLogger("jobcenter.jobs")


def _event(job_id: str, kind: EventKind, *, actor: Any = None, message: str = "") -> None:
    JobEvent.objects.create(job_id=job_id, kind=kind, actor=actor, message=message)


def _require_role(user: AbstractBaseUser | None, project: Any, role: Role) -> None:
    if user is not None and not user_has_role(user=user, project=project, role=role):
        raise PermissionDenied(f"you need the {role.label.lower()} role in project {project.name}")


def _dispatch(job: Job) -> None:
    from jobcenter.jobs.tasks import run_job

    job.task_id = engine.enqueue(run_job, job.id)
    Job.objects.filter(pk=job.pk).update(task_id=job.task_id)


# --- submission -----------------------------------------------------------------------------


def job_submit_import(
    *,
    graph: Graph,
    params: dict[str, Any],
    request: dict[str, Any] | None = None,
    dialect: str = JobDialect.NATIVE,
    user: AbstractBaseUser | None = None,
    name: str = "ImportGraph",
    retry_of: Job | None = None,
) -> Job:
    """Validate an import against the graph (paths, schema, mappings) and queue it.

    ``params`` is normalised: ``{"format": "ges", "request": {...}}`` or
    ``{"format": "graphscope", "mapping": {...}}``; ``request`` is kept as the caller sent it.
    Nothing is written unless the whole request is valid.
    """
    _ready(graph, user)
    _uploads_still_there(graph, params)
    try:
        plan = graph_import_plan(graph=graph, params=params)
    except PlanError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    # The uploads it reads (whoever named them, however): retention keeps them while it waits
    # or runs, and a retry knows which files it needs.
    uploads = sorted(
        {u for spec in plan.files if (u := upload_of(spec.path, graph.project_id)) is not None}
    )
    stored_params = {k: v for k, v in params.items() if k != "uploads"}
    if uploads:
        stored_params["uploads"] = uploads
    with transaction.atomic():
        job = Job.objects.create(
            type=JobType.IMPORT,
            name=name,
            project=graph.project,
            graph=graph,
            graph_name=graph.name,
            dialect=dialect,
            request=request if request is not None else params,
            params=stored_params,
            submitted_by=user,
            retry_of=retry_of,
        )
        JobFile.objects.bulk_create(_job_files(job, plan))
        _event(job.id, EventKind.SUBMITTED, actor=user)
        _dispatch(job)
    return job


def _uploads_still_there(graph: Graph, params: dict[str, Any]) -> None:
    """An import naming uploads (a retry) needs them: say so when retention removed them, and
    otherwise count their retention from now."""
    named = uploads_named(params)
    if missing := uploads_missing(graph.project_id, named):
        days = graph.project.effective_result_retention_days
        raise InvalidState(
            f"the files uploaded for this import ({', '.join(missing)}) were removed under "
            f"project {graph.project.name}'s retention of {days} days; upload them again",
            field="uploads",
        )
    uploads_touch(graph.project_id, named)


def _job_files(job: Job, plan: ImportPlan) -> list[JobFile]:
    return [
        JobFile(
            job=job,
            index=i,
            role=spec.role,
            path=_fit(spec.display_path or spec.path.name, JobFile._meta.get_field("path")),
            bytes_total=_size(spec.path),
        )
        for i, spec in enumerate(plan.files)
    ]


def _fit(text: str, field: Any) -> str:
    """``text`` shortened in its middle to the column's length (a path as shown, never read
    back: a deep path of long names is longer than the column)."""
    limit = field.max_length
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[-(limit - 1 - half) :]}"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def job_retryable(job: Job) -> bool:
    """Whether :func:`job_retry` takes the job once it has finished: an import whose graph
    still exists, or an analytics job or graph operation other than a deletion."""
    if job.type == JobType.IMPORT:
        return job.graph_id is not None
    params = job.params if isinstance(job.params, dict) else {}
    return job.type in CANCELLABLE and params.get("operation") != "delete"


def job_retry(*, job: Job, user: AbstractBaseUser | None = None) -> Job:
    """A new job with the same request, linked to the original (which must have finished)."""
    if job.status not in TERMINAL_STATUSES:
        raise InvalidState(f"job {job.pk} is still {job.get_status_display().lower()}")
    if not job_retryable(job):
        if job.type == JobType.IMPORT:
            raise InvalidState(f"the graph of job {job.pk} no longer exists")
        raise InvalidState(f"jobs of type {job.get_type_display().lower()} cannot be retried")
    if job.type == JobType.IMPORT:
        return job_submit_import(
            graph=job.graph,
            params=job.params,
            request=job.request,
            dialect=job.dialect,
            user=user,
            name=job.name,
            retry_of=job,
        )
    return _retry_analytics(job, user)


def graph_delete_submit(
    *, graph: Graph, user: AbstractBaseUser | None = None, dialect: str = JobDialect.NATIVE
) -> Job:
    """Deleting a graph is a job: it waits for a running write to finish, then removes the
    graph and its data. The graph stops accepting new work at once."""
    _require_role(user, graph.project, Role.OPERATOR)
    with transaction.atomic():
        if not Graph.objects.filter(pk=graph.pk, status=GraphStatus.READY).update(
            status=GraphStatus.DELETING
        ):
            raise InvalidState(f"graph {graph.name!r} is already being deleted", field="graph")
        job = Job.objects.create(
            type=JobType.GRAPH_OPERATION,
            name="DeleteGraph",
            project=graph.project,
            graph=graph,
            graph_name=graph.name,
            dialect=dialect,
            request={"graph": graph.name},
            params={"operation": "delete"},
            cancellable=False,
            submitted_by=user,
        )
        _event(job.id, EventKind.SUBMITTED, actor=user)
        _dispatch(job)
    return job


# --- cancellation ---------------------------------------------------------------------------


def job_cancel(*, job: Job, user: AbstractBaseUser | None = None) -> Job:
    """Cancel a job: a waiting one ends at once, a running one moves to cancelling and its
    worker stops it (observed within about a second). Raises InvalidState when the job has
    finished or cannot be cancelled."""
    _require_role(user, job.project, Role.OPERATOR)
    now = timezone.now()
    stamp = {"cancel_requested_by": user, "cancel_requested_at": now}
    with transaction.atomic():
        # Non-cancellable jobs (graph deletion) are refused even while waiting: cancelling a
        # waiting deletion would leave its graph marked as being deleted for ever.
        if Job.objects.filter(pk=job.pk, status=JobStatus.WAITING, cancellable=True).update(
            status=JobStatus.CANCELLED, finished_at=now, cancellable=False, **stamp
        ):
            _event(job.pk, EventKind.CANCEL_REQUESTED, actor=user)
            _event(job.pk, EventKind.FINISHED, message="cancelled before it started")
        elif Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, cancellable=True).update(
            status=JobStatus.CANCELLING, **stamp
        ):
            _event(job.pk, EventKind.CANCEL_REQUESTED, actor=user)
        else:
            job.refresh_from_db()
            if job.status == JobStatus.CANCELLING:
                return job  # already being cancelled: asking again is harmless
            if job.status in TERMINAL_STATUSES:
                raise InvalidState(
                    f"job {job.pk} has already finished ({job.get_status_display().lower()})"
                )
            raise InvalidState(f"job {job.pk} cannot be cancelled now")
    job.refresh_from_db()
    return job


@dataclass
class BulkCancelResult:
    cancelled: list[str]
    not_cancelled: list[dict[str, str]]  # {"id", "reason"}

    def summary(self) -> dict[str, Any]:
        """What the API and the CLI answer: counts, and who was (not) cancelled."""
        return {
            "matched": len(self.cancelled) + len(self.not_cancelled),
            "cancelled": len(self.cancelled),
            "cancelled_ids": self.cancelled,
            "not_cancelled": self.not_cancelled,
        }


def job_cancel_many(*, jobs: Any, user: AbstractBaseUser | None = None) -> BulkCancelResult:
    """Cancel every active job of ``jobs`` (a queryset, e.g. from the FilterSet); finished
    jobs in it are left alone. Each job is cancelled by the same conditional updates as
    :func:`job_cancel`, so racing workers and users stay consistent."""
    result = BulkCancelResult(cancelled=[], not_cancelled=[])
    for job in jobs.filter(status__in=ACTIVE_STATUSES).select_related("project").order_by("pk"):
        try:
            job_cancel(job=job, user=user)
        except (InvalidState, PermissionDenied) as exc:
            result.not_cancelled.append({"id": job.pk, "reason": exc.message})
        else:
            result.cancelled.append(job.pk)
    return result


@dataclass
class BulkRetryResult:
    retried: list[dict[str, str]]  # {"id", "retry"}: the job and its new job
    not_retried: list[dict[str, str]]  # {"id", "reason"}

    def summary(self) -> dict[str, Any]:
        """What the API and the CLI answer: counts, and which job became which."""
        return {
            "matched": len(self.retried) + len(self.not_retried),
            "retried": len(self.retried),
            "retries": self.retried,
            "not_retried": self.not_retried,
        }


def job_retry_many(*, jobs: Any, user: AbstractBaseUser | None = None) -> BulkRetryResult:
    """Retry every job of ``jobs`` (a queryset, e.g. from the FilterSet) that ended failed,
    partially failed or cancelled, once: a job that already has a retry is skipped and named,
    so running the same bulk retry twice (or two users at once) starts nothing twice. The
    original's row is locked while its retry is created (SQLite: IMMEDIATE transactions)."""
    result = BulkRetryResult(retried=[], not_retried=[])
    for job in (
        jobs.filter(status__in=RETRYABLE_STATUSES).order_by("pk").values_list("pk", flat=True)
    ):
        try:
            with transaction.atomic():
                original = (
                    Job.objects.select_for_update(of=("self",))
                    .select_related("project", "graph")
                    .get(pk=job)
                )
                earlier = original.retries.order_by("-created_at").values_list("pk", flat=True)
                if (first := earlier.first()) is not None:
                    raise InvalidState(f"already retried as job {first}")
                _require_role(user, original.project, Role.OPERATOR)
                new = job_retry(job=original, user=user)
        except ServiceError as exc:
            result.not_retried.append({"id": job, "reason": exc.message})
        else:
            result.retried.append({"id": job, "retry": new.pk})
    return result


# --- worker side ----------------------------------------------------------------------------


def job_claim(*, job_id: str, worker_id: str) -> Job | None:
    """WAITING -> RUNNING for this worker; None when someone else got it or it was cancelled
    (a second delivery of the same task therefore does nothing)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, status=JobStatus.WAITING).update(
        status=JobStatus.RUNNING,
        started_at=now,
        heartbeat_at=now,
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
) -> str:
    """One write carrying heartbeat, progress, file counters and new failed lines.

    ``samples``: the job's throughput points (jobcenter.jobs.throughput) when they changed
    since the last beat (about once per sampling step; None the rest of the time).

    Returns BeatOutcome.CANCEL when a cancel was requested and LOST when the job is no longer
    this worker's (swept as lost, or finished elsewhere).
    """
    now = timezone.now()
    values = {
        "heartbeat_at": now,
        "progress": progress,
        "lines_done": lines_done,
        "lines_total": lines_total,
        "lines_per_second": lines_per_second,
    }
    with transaction.atomic():
        owned = Job.objects.filter(pk=job_id, worker_id=worker_id)
        if owned.filter(status=JobStatus.RUNNING).update(**values):
            outcome = BeatOutcome.OK
        elif owned.filter(status=JobStatus.CANCELLING).update(heartbeat_at=now):
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
    from jobcenter.jobs.tasks import run_job

    again: list[str] = []
    waiting = (
        Job.objects.filter(status=JobStatus.WAITING, created_at__lt=taken_before)
        .exclude(task_id="")
        .order_by("created_at")
        .values_list("pk", "task_id")[:REDELIVERY_WINDOW]
    )
    for job_id, task_id in waiting:
        taken = engine.taken_at(run_job, task_id)
        if taken is None or taken >= taken_before:
            continue
        with transaction.atomic():
            new_task = engine.enqueue(run_job, job_id)
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
    from jobcenter.graphs.store import GraphStore

    cutoff = timezone.now() - timedelta(seconds=stale_after)
    ended: list[str] = []
    stale = Job.objects.filter(
        Q(heartbeat_at__lt=cutoff) | Q(worker_id__in=dead_workers), status__in=CLAIMED_STATUSES
    ).select_related("graph")
    for job in stale:
        summary = None
        if job.graph is not None and job.graph.store_path.exists():
            store = GraphStore(job.graph.store_path)
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
                )
                message = "worker lost while cancelling"
            else:
                done = guard.update(
                    status=JobStatus.FAILED,
                    finished_at=now,
                    cancellable=False,
                    fail_reason="worker lost",
                )
                message = "worker lost"
            if done:
                _event(job.pk, EventKind.RECOVERED, message=f"{message} ({job.worker_id})")
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


# --- REST API additions (jobcenter.api) --------------------------------------------------------


def job_submit_import_upload(
    *,
    graph: Graph,
    fmt: str,
    uploads: Mapping[str, Sequence[UploadedFile]],
    options: dict[str, Any] | None = None,
    user: AbstractBaseUser | None = None,
    name: str = "ImportGraph",
) -> Job:
    """An import whose files come with the request (a multipart upload).

    GES (``fmt="ges"``): ``uploads`` may hold ``schema`` (at most one file), ``vertices`` and
    ``edges`` (any number each); ``options`` holds the other keys of a GES import request
    (``delimiter``, ``parallel_edge``, ``error_threshold``..., even server-side paths for the
    parts not uploaded). GraphScope (``fmt="graphscope"``): ``options`` is the SchemaMapping and
    ``uploads["files"]`` the data files its ``inputs`` name by file name (``@name`` as the
    GraphScope SDK writes it works too). The files are stored in a new upload of the graph's
    project (jobcenter.core.uploads) and removed again when the import is refused; nothing else
    is written then.
    """
    _require_role(user, graph.project, Role.OPERATOR)
    unknown = sorted(set(uploads) - _UPLOAD_FIELDS.get(fmt, set()))
    if fmt not in _UPLOAD_FIELDS:
        raise InvalidInput(
            f"format must be one of {', '.join(sorted(_UPLOAD_FIELDS))}", field="format"
        )
    if unknown:
        raise InvalidInput(
            f"file field {unknown[0]!r} is not used by the {fmt} format", field=unknown[0]
        )
    options = copy.deepcopy(options or {})
    stored: list[Path] = []
    try:
        if fmt == "ges":
            request = _ges_upload_request(uploads, options, stored, graph.project_id)
            params = {"format": "ges", "request": request}
        else:
            mapping = _gs_upload_mapping(uploads, options, stored, graph.project_id)
            params = {"format": "graphscope", "mapping": mapping}
        return job_submit_import(graph=graph, params=params, user=user, name=name)
    except BaseException:
        for folder in {path.parent for path in stored}:
            shutil.rmtree(folder, ignore_errors=True)
        raise


_UPLOAD_FIELDS = {"ges": {"schema", "vertices", "edges"}, "graphscope": {"files"}}
_GES_UPLOAD_KEYS = {"schema": "schema_path", "vertices": "vertexset_path", "edges": "edgeset_path"}


def _store(
    files: Sequence[UploadedFile], field: str, stored: list[Path], project_id: Any
) -> list[str]:
    """Store the files in a new upload of the project; their paths relative to the project's
    upload folder (an import root of that project only), as the import names them."""
    if len(files) == 1:
        named = {field: files[0]}
    else:  # numbered so that a directory listing keeps the upload order
        named = {f"{field}_{i:04d}": f for i, f in enumerate(files)}
    paths = list(uploads_store(named, project_id=project_id).values())
    stored.extend(paths)
    root = upload_root(project_id)
    return [path.relative_to(root).as_posix() for path in paths]


def _ges_upload_request(
    uploads: Mapping[str, Sequence[UploadedFile]],
    options: dict[str, Any],
    stored: list[Path],
    project_id: Any,
) -> dict[str, Any]:
    if len(uploads.get("schema", ())) > 1:
        raise InvalidInput("upload at most one schema file", field="schema")
    request = dict(options)
    for field, key in _GES_UPLOAD_KEYS.items():
        files = list(uploads.get(field, ()))
        if not files:
            continue
        if request.get(key):
            raise InvalidInput(f"give either {field} files or {key}, not both", field=field)
        paths = _store(files, field, stored, project_id)
        # One file is named directly; several are read as the directory that holds them.
        request[key] = paths[0] if len(paths) == 1 else paths[0].rpartition("/")[0]
    return request


def _gs_upload_mapping(
    uploads: Mapping[str, Sequence[UploadedFile]],
    mapping: dict[str, Any],
    stored: list[Path],
    project_id: Any,
) -> dict[str, Any]:
    files = list(uploads.get("files", ()))
    if not files:
        return mapping
    names = [safe_filename(f.name or "", "") for f in files]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInput(f"two uploaded files are named {duplicates[0]!r}", field="files")
    by_name = dict(zip(names, _store(files, "files", stored, project_id), strict=True))
    for group in ("vertex_mappings", "edge_mappings"):
        entries = mapping.get(group)
        for entry in entries if isinstance(entries, list) else ():
            inputs = entry.get("inputs") if isinstance(entry, dict) else None
            if not isinstance(inputs, list):
                continue
            for i, raw in enumerate(inputs):
                if not isinstance(raw, str):
                    continue
                wanted = safe_filename(raw.lstrip("@"), "")
                if wanted not in by_name:
                    raise InvalidInput(
                        f"input {raw!r} is not among the uploaded files "
                        f"({', '.join(sorted(by_name))})",
                        field="mapping",
                    )
                inputs[i] = by_name[wanted]
    config = mapping.get("loading_config")
    if isinstance(config, dict):
        source = config.get("data_source")
        if isinstance(source, dict):
            source.pop("location", None)  # the inputs name the uploads from the roots
    return mapping


# --- analytics (issue 6): algorithm, query, index, export and graph-operation jobs ----------
# Each request is validated completely against the graph (schema, vertex ids in its store,
# paths under the export roots) before anything is written; errors name the parameter, in
# GES's words ("parameter [source] is invalid! ..."). Whether a job can be cancelled is
# declared by its type (CANCELLABLE below).

# Graph operations that are short and all-or-nothing cannot be cancelled once running.
CANCELLABLE = {
    JobType.ALGORITHM: True,
    JobType.QUERY: True,
    JobType.INDEX: True,
    JobType.EXPORT: True,
    JobType.GRAPH_OPERATION: False,
}
GRAPH_OPERATIONS = ("delete", "clear", "backup", "restore")


def _submit_graph_job(
    *,
    graph: Graph | None,
    project: Any,
    type: JobType,
    name: str,
    params: dict[str, Any],
    request: dict[str, Any],
    user: AbstractBaseUser | None,
    dialect: str,
    graph_name: str | None = None,
    require_ready: bool = True,
    retry_of: Job | None = None,
) -> Job:
    with transaction.atomic():
        if (
            graph is not None
            and require_ready
            and not Graph.objects.filter(pk=graph.pk, status=GraphStatus.READY).exists()
        ):
            raise InvalidState(f"graph {graph.name!r} is being deleted", field="graph")
        job = Job.objects.create(
            type=type,
            name=name,
            project=project,
            graph=graph,
            graph_name=graph_name if graph_name is not None else (graph.name if graph else ""),
            dialect=dialect,
            request=request,
            params=params,
            cancellable=CANCELLABLE[type],
            submitted_by=user,
            retry_of=retry_of,
        )
        _event(job.id, EventKind.SUBMITTED, actor=user)
        _dispatch(job)
    return job


def _ready(graph: Graph, user: AbstractBaseUser | None) -> None:
    _require_role(user, graph.project, Role.OPERATOR)
    if graph.status != GraphStatus.READY:
        raise InvalidState(f"graph {graph.name!r} is being deleted", field="graph")


def _graph_schema(graph: Graph) -> Any:
    from jobcenter.graphs.schema import GraphSchema

    return GraphSchema.from_dict(graph.schema) if graph.schema else None


def _vertex_finder(graph: Graph) -> Any:
    from jobcenter.graphs.query import find_vertices
    from jobcenter.graphs.store import GraphStore

    def find(key: str) -> list[tuple[int, str, str]]:
        if not graph.store_path.exists():
            return []
        store = GraphStore(graph.store_path)
        try:
            return find_vertices(store, key)
        finally:
            store.close()

    return find


def job_submit_algorithm(
    *,
    graph: Graph,
    algorithm: Any,
    parameters: Any = None,
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    request: dict[str, Any] | None = None,
    name: str = "Algorithm",
    retry_of: Job | None = None,
) -> Job:
    """Queue an algorithm (see jobcenter.graphs.algorithms.ALGORITHMS) on ``graph``."""
    from jobcenter.graphs.algorithms import parse_algorithm

    _ready(graph, user)
    try:
        algorithm, params = parse_algorithm(
            algorithm, parameters, schema=_graph_schema(graph), find=_vertex_finder(graph)
        )
    except PlanError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    return _submit_graph_job(
        graph=graph,
        project=graph.project,
        type=JobType.ALGORITHM,
        name=name,
        params={"algorithm": algorithm, "parameters": params},
        request=request if request is not None else {"algorithm": algorithm, "parameters": params},
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


def job_submit_query(
    *,
    graph: Graph,
    query: Any,
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    request: dict[str, Any] | None = None,
    name: str = "",
    retry_of: Job | None = None,
) -> Job:
    """Queue a filtered vertex or edge query; its rows are kept as the job's result."""
    from django.conf import settings

    from jobcenter.graphs.query import parse_query

    _ready(graph, user)
    try:
        spec = parse_query(query, _graph_schema(graph), max_limit=settings.JOBCENTER_QUERY_MAX_ROWS)
    except PlanError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    return _submit_graph_job(
        graph=graph,
        project=graph.project,
        type=JobType.QUERY,
        name=name or ("VertexQuery" if spec.target == "vertices" else "EdgeQuery"),
        params={"query": spec.to_dict()},
        request=request if request is not None else spec.to_dict(),
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


def job_submit_index(
    *,
    graph: Graph,
    label: Any,
    property: Any,
    target: Any = "vertices",
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    request: dict[str, Any] | None = None,
    name: str = "BuildIndex",
    retry_of: Job | None = None,
) -> Job:
    """Queue an index build on ``label.property`` (later queries on it use the index)."""
    from jobcenter.graphs.query import TARGETS, resolve_index

    _ready(graph, user)
    if target not in TARGETS:
        raise InvalidInput("parameter [target] is invalid! expected vertices or edges", "target")
    if not isinstance(label, str) or not isinstance(property, str):
        raise InvalidInput("parameter [label] is invalid! expected a label name", field="label")
    try:
        column = resolve_index(_graph_schema(graph), target, label, property)
    except PlanError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    params = {"target": target, "label": label, "property": property, "column": column}
    return _submit_graph_job(
        graph=graph,
        project=graph.project,
        type=JobType.INDEX,
        name=name,
        params=params,
        request=request
        if request is not None
        else {"target": target, "label": label, "property": property},
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


def job_submit_export(
    *,
    path: Any,
    graph: Graph | None = None,
    source_job: Job | None = None,
    format: Any = None,
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    request: dict[str, Any] | None = None,
    name: str = "",
    retry_of: Job | None = None,
) -> Job:
    """Export a whole graph (``graph``; GES format: a folder with schema.xml, vertex.csv and
    edge.csv) or a finished job's result (``source_job``; one CSV file) to ``path`` under the
    export roots. The target must not exist yet."""
    from jobcenter.core.exports import export_target
    from jobcenter.jobs.results import result_path

    if (graph is None) == (source_job is None):
        raise InvalidInput("export either a graph or a job's result", field="source")
    if source_job is not None:
        _require_role(user, source_job.project, Role.OPERATOR)
        if source_job.status != JobStatus.SUCCEEDED or not result_path(source_job.pk).exists():
            raise InvalidState(f"job {source_job.pk} has no result to export", field="job")
        target = export_target(path, field="path")
        params = {"source": "result", "job": source_job.pk, "path": str(target)}
        # The export belongs to the graph the result was computed on (it reads only the
        # result file, so a graph being deleted does not stop it): per-graph job lists, such
        # as GES's service plane, show it next to the job it exports.
        return _submit_graph_job(
            graph=source_job.graph,
            graph_name=source_job.graph_name,
            require_ready=False,
            project=source_job.project,
            type=JobType.EXPORT,
            name=name or "ExportResult",
            params=params,
            request=request if request is not None else {"job": source_job.pk, "path": path},
            user=user,
            dialect=dialect,
            retry_of=retry_of,
        )
    assert graph is not None
    _ready(graph, user)
    if format not in (None, "ges"):
        raise InvalidInput("parameter [format] is invalid! expected ges", field="format")
    target = export_target(path, field="path")
    return _submit_graph_job(
        graph=graph,
        project=graph.project,
        type=JobType.EXPORT,
        name=name or "ExportGraph",
        params={"source": "graph", "format": "ges", "path": str(target)},
        request=request if request is not None else {"format": "ges", "path": path},
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


def job_submit_graph_operation(
    *,
    graph: Graph,
    operation: Any,
    path: Any = None,
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    retry_of: Job | None = None,
) -> Job:
    """A graph operation as a job: ``delete``, ``clear`` (remove every vertex and edge, keep
    the schema), ``backup`` (a consistent copy of the graph's store to ``path`` under the
    export roots) or ``restore`` (replace the graph's data and schema by a backup)."""
    from jobcenter.core.exports import backup_source, export_target

    if operation == "delete":
        return graph_delete_submit(graph=graph, user=user, dialect=dialect)
    if operation not in GRAPH_OPERATIONS:
        raise InvalidInput(
            f"parameter [operation] is invalid! expected one of {', '.join(GRAPH_OPERATIONS)}",
            field="operation",
        )
    _ready(graph, user)
    params: dict[str, Any] = {"operation": operation}
    if operation == "backup":
        params["path"] = str(export_target(path, field="path"))
    elif operation == "restore":
        params["path"] = str(backup_source(path, field="path"))
    elif path is not None:
        raise InvalidInput("parameter [path] is invalid! clear takes no path", field="path")
    names = {"clear": "ClearGraph", "backup": "BackupGraph", "restore": "RestoreGraph"}
    return _submit_graph_job(
        graph=graph,
        project=graph.project,
        type=JobType.GRAPH_OPERATION,
        name=names[operation],
        params=params,
        request={"operation": operation, **({"path": path} if path is not None else {})},
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


def job_purge(*, before: Any, project: Any = None) -> int:
    """Delete finished jobs created before ``before`` (with their results); returns how many."""
    from jobcenter.jobs.results import result_delete

    qs = Job.objects.filter(status__in=TERMINAL_STATUSES, created_at__lt=before)
    if project is not None:
        qs = qs.filter(project=project)
    ids = list(qs.values_list("pk", flat=True))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        Job.objects.filter(pk__in=chunk, status__in=TERMINAL_STATUSES).delete()
        for job_id in chunk:
            result_delete(job_id)
    return len(ids)


def _retry_analytics(job: Job, user: AbstractBaseUser | None) -> Job:
    """The same analytics request again (checked again: the graph may have changed)."""
    params = job.params
    common = {
        "user": user,
        "dialect": job.dialect,
        "request": job.request,
        "name": job.name,
        "retry_of": job,
    }
    if job.type == JobType.EXPORT and params.get("source") == "result":
        source = Job.objects.filter(pk=params["job"]).first()
        if source is None:
            raise InvalidState(f"job {params['job']} no longer exists")
        new = job_submit_export(source_job=source, path=params["path"], **common)
    else:
        if job.graph is None:
            raise InvalidState(f"the graph of job {job.pk} no longer exists")
        graph = job.graph
        if job.type == JobType.ALGORITHM:
            new = job_submit_algorithm(
                graph=graph,
                algorithm=params["algorithm"],
                parameters=params["parameters"],
                **common,
            )
        elif job.type == JobType.QUERY:
            new = job_submit_query(graph=graph, query=params["query"], **common)
        elif job.type == JobType.INDEX:
            new = job_submit_index(
                graph=graph,
                target=params["target"],
                label=params["label"],
                property=params["property"],
                **common,
            )
        elif job.type == JobType.EXPORT:
            new = job_submit_export(graph=graph, path=params["path"], **common)
        else:
            new = job_submit_graph_operation(
                graph=graph,
                operation=params["operation"],
                path=params.get("path"),
                user=user,
                dialect=job.dialect,
                retry_of=job,
            )
    return new


# --- retention of results -----------------------------------------------------------------------


@dataclass
class ExpiryReport:
    removed: int  # results removed (or, with delete_jobs, jobs deleted)
    orphans: int  # files no job needs any more
    uploads: int = 0  # uploads removed


def job_results_expire(
    *, days: int | None = None, project: Any = None, delete_jobs: bool = False
) -> ExpiryReport:
    """Apply each project's result retention (``Project.effective_result_retention_days``; 0
    keeps results for ever): results of jobs finished longer ago are removed and the job says
    so (``result.purged``); with ``delete_jobs`` the jobs themselves go. ``days`` overrides every
    project's retention. Uploads last used before the same cutoff go too, unless a waiting or
    running job still needs them. Without ``project``, files no job or project needs any more
    go too."""
    from django.conf import settings

    from jobcenter.jobs.results import result_delete, result_dir
    from jobcenter.projects.models import Project

    projects = Project.objects.all() if project is None else [project]
    removed = uploads = 0
    for each in projects:
        keep = days if days is not None else each.effective_result_retention_days
        if keep == 0 and days is None:
            continue  # kept for ever
        cutoff = timezone.now() - timedelta(days=keep)
        uploads += uploads_expire(project_id=each.pk, days=keep, keep=_uploads_needed(each))
        if delete_jobs:
            removed += job_purge(before=cutoff, project=each)
            continue
        # Only jobs that keep a result file (their result names its kind): imports and the
        # like are not looked at again every hour.
        expired = Job.objects.filter(
            project=each,
            status__in=TERMINAL_STATUSES,
            finished_at__lte=cutoff,
            result__has_key="kind",
        )
        for job in expired.only("pk", "result").iterator():
            if not isinstance(job.result, dict) or job.result.get("purged"):
                continue
            result_delete(job.pk)
            # conditional: a retry or another purge may have changed it meanwhile
            if Job.objects.filter(pk=job.pk, result=job.result).update(
                result={**job.result, "purged": True}
            ):
                removed += 1
    orphans = 0
    folder = result_dir()
    if project is None and folder.exists():
        orphans = _orphan_results_remove(folder) + _unused_names_remove(folder)
    unowned_days = days if days is not None else settings.JOBCENTER_RESULT_RETENTION_DAYS
    if project is None and (unowned_days or days is not None):
        uploads += uploads_expire_unowned(
            days=unowned_days, projects=set(Project.objects.values_list("pk", flat=True))
        )
    return ExpiryReport(removed=removed, orphans=orphans, uploads=uploads)


def _uploads_needed(project: Any) -> set[str]:
    """The uploads that the project's waiting and running jobs read."""
    needed: set[str] = set()
    active = Job.objects.filter(
        project=project, type=JobType.IMPORT, status__in=ACTIVE_STATUSES, params__has_key="uploads"
    )
    for params in active.values_list("params", flat=True).iterator():
        needed.update(uploads_named(params))
    return needed


def _orphan_results_remove(folder: Path) -> int:
    removed = 0
    for path in folder.glob("*.sqlite3"):
        if not Job.objects.filter(pk=path.stem).exists():
            path.unlink(missing_ok=True)
            removed += 1
    # Unpublished results of jobs that are over (a worker killed while writing).
    for path in folder.glob("*.sqlite3.part"):
        job_id = path.name.removesuffix(".sqlite3.part")
        if not Job.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).exists():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _unused_names_remove(folder: Path) -> int:
    """Remove vertex-name snapshots no result refers to any more (older than an hour, so that
    one a running job has just written is left alone)."""
    import sqlite3
    import time

    from jobcenter.jobs.results import ResultReader

    names = folder / "names"
    if not names.exists():
        return 0
    used = set()
    for path in folder.glob("*.sqlite3"):
        try:
            reader = ResultReader(path.stem)
        except (FileNotFoundError, sqlite3.Error, KeyError, ValueError):
            continue  # damaged or half-gone: it cannot use a snapshot any more
        with reader:
            if reader.names_key:
                used.add(reader.names_key)
    removed = 0
    now = time.time()
    for path in names.glob("*.sqlite3"):
        if path.stem not in used and now - path.stat().st_mtime > 3600:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
