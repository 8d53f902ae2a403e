"""Writes for jobs on the submission side: cancel, retry, purge and the retention of results.
Every state transition is a conditional UPDATE that checks the current state and looks at the
row count: two racing writers can never both win, on SQLite or PostgreSQL.

Each kind of job submits through its own module (``jobcenter.jobs.kinds``); the worker's state
changes are in ``jobcenter.jobs.transitions``, which this module never imports. The kinds'
submit services are re-exported here for the faces that import them from this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from jobcenter.core.errors import InvalidState, PermissionDenied, ServiceError
from jobcenter.core.uploads import uploads_expire, uploads_expire_unowned, uploads_named
from jobcenter.jobs.chains import jobs_lock, retry_dependencies, waiting_for
from jobcenter.jobs.choices import (
    ACTIVE_STATUSES,
    RETRYABLE_STATUSES,
    TERMINAL_STATUSES,
    EventKind,
    JobStatus,
)
from jobcenter.jobs.dispatch import record_event as _event
from jobcenter.jobs.endings import job_ended
from jobcenter.jobs.kinds.algorithm import job_submit_algorithm
from jobcenter.jobs.kinds.export import job_submit_export
from jobcenter.jobs.kinds.graph_operation import (
    GRAPH_OPERATIONS,
    graph_delete_submit,
    job_submit_graph_operation,
)
from jobcenter.jobs.kinds.imports import job_submit_import, job_submit_import_request
from jobcenter.jobs.kinds.index import job_submit_index
from jobcenter.jobs.kinds.query import job_submit_query
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import kind_for
from jobcenter.jobs.submit import require_role as _require_role
from jobcenter.projects.choices import Role

logger = logging.getLogger("jobcenter.jobs")

# Re-exported for the faces (api/, compat/, dashboard/, commands), which import them from here.
__all__ = [
    "GRAPH_OPERATIONS",
    "BulkCancelResult",
    "BulkRetryResult",
    "ExpiryReport",
    "graph_delete_submit",
    "job_cancel",
    "job_cancel_many",
    "job_purge",
    "job_results_expire",
    "job_retry",
    "job_retry_many",
    "job_retryable",
    "job_submit_algorithm",
    "job_submit_export",
    "job_submit_graph_operation",
    "job_submit_import",
    "job_submit_import_request",
    "job_submit_index",
    "job_submit_query",
]


# --- retries --------------------------------------------------------------------------------


def _retry_refused(job: Job) -> str | None:
    kind = kind_for(job.type)
    if kind is None:
        return f"jobs of type {job.get_type_display().lower()} cannot be retried"
    return kind.retry_refused(job)


def job_retryable(job: Job) -> bool:
    """Whether :func:`job_retry` takes the job once it has finished (its kind says: an import
    whose graph still exists, or an analytics job or graph operation other than a deletion)."""
    return _retry_refused(job) is None


def job_retry(*, job: Job, user: AbstractBaseUser | None = None) -> Job:
    """A new job with the same request, linked to the original (which must have finished).
    A job that depended on others depends on the same ones again (a dependency that did not
    succeed is replaced by its newest retry: ``chains.retry_dependencies``); it is refused
    while one of them is still failed or cancelled."""
    if job.status not in TERMINAL_STATUSES:
        raise InvalidState(f"job {job.pk} is still {job.get_status_display().lower()}")
    if (refused := _retry_refused(job)) is not None:
        raise InvalidState(refused)
    kind = kind_for(job.type)
    assert kind is not None
    with waiting_for(retry_dependencies(job)):
        return kind.retry(job, user)


# --- cancellation ---------------------------------------------------------------------------


def job_cancel(*, job: Job, user: AbstractBaseUser | None = None) -> Job:
    """Cancel a job: a waiting one ends at once, a running one moves to cancelling and its
    worker stops it (observed within about a second). The jobs that depend on it end
    cancelled with it, transitively (when it ends). Raises InvalidState when the job has
    finished or cannot be cancelled."""
    _require_role(user, job.project, Role.OPERATOR)
    now = timezone.now()
    stamp = {"cancel_requested_by": user, "cancel_requested_at": now}
    # Two transactions. Only the ending of a waiting job settles its dependents
    # (jobs.chains): it takes the job's chain lock before its row, as an ending that settles
    # dependents takes the lock, then the dependent's row. A running job's row may be held by
    # its finishing worker, which then wants the job's lock: the running -> cancelling update
    # (which ends nothing) takes no lock.
    with transaction.atomic():
        jobs_lock([job.pk])
        # Non-cancellable jobs (graph deletion) are refused even while waiting: cancelling a
        # waiting deletion would leave its graph marked as being deleted for ever.
        ended = Job.objects.filter(pk=job.pk, status=JobStatus.WAITING, cancellable=True).update(
            status=JobStatus.CANCELLED, finished_at=now, cancellable=False, **stamp
        )
        if ended:
            _event(job.pk, EventKind.CANCEL_REQUESTED, actor=user)
            _event(job.pk, EventKind.FINISHED, message="cancelled before it started")
            job_ended(job.pk)
    if not ended:
        with transaction.atomic():
            if Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, cancellable=True).update(
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

    from jobcenter.jobs.results import result_delete, result_dir, shared_is_local
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
    if project is None and not shared_is_local():
        orphans += _shared_orphans_remove()
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
        project=project, status__in=ACTIVE_STATUSES, params__has_key="uploads"
    )
    for params in active.values_list("params", flat=True).iterator():
        needed.update(uploads_named(params))
    return needed


def _orphan_results_remove(folder: Path) -> int:
    removed = 0
    for path in folder.glob("*.sqlite3"):
        # Results of jobs that are gone, and copies of results removed (by retention, on
        # whichever machine ran it) after this one fetched them.
        result = Job.objects.filter(pk=path.stem).values_list("result", flat=True).first()
        if result is None or (isinstance(result, dict) and result.get("purged")):
            path.unlink(missing_ok=True)
            removed += 1
    # Unpublished results of jobs that are over (a worker killed while writing).
    for path in folder.glob("*.sqlite3.part"):
        job_id = path.name.removesuffix(".sqlite3.part")
        if not Job.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).exists():
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _shared_orphans_remove() -> int:
    """The shared storage's results of jobs that are gone, and its vertex-name snapshots that
    no result refers to any more (older than an hour, as below). The references are the empty
    files ``results/refs/<names key>/<job id>`` written with each compact result."""
    import time

    from jobcenter.core import shared
    from jobcenter.jobs.results import names_name, result_name

    removed = 0
    for file in shared.listdir("results")[1]:
        job_id = file.removesuffix(".sqlite3")
        if file.endswith(".sqlite3") and not Job.objects.filter(pk=job_id).exists():
            shared.delete(f"results/{file}")
            removed += 1
    active = set(Job.objects.filter(status__in=ACTIVE_STATUSES).values_list("pk", flat=True))
    referred = set()
    for key in shared.listdir("results/refs")[0]:
        for job_id in shared.listdir(f"results/refs/{key}")[1]:
            if job_id in active or shared.exists(result_name(job_id)):
                referred.add(key)
            else:
                shared.delete(f"results/refs/{key}/{job_id}")
    now = time.time()
    for file in shared.listdir("results/names")[1]:
        key = file.removesuffix(".sqlite3")
        written = shared.modified(names_name(key))
        if key not in referred and written is not None and now - written > 3600:
            shared.delete(names_name(key))
            removed += 1
    return removed


def _unused_names_remove(folder: Path) -> int:
    """Remove vertex-name snapshots no result refers to any more (older than an hour, so that
    one a running job has just written is left alone)."""
    import sqlite3
    import time

    names = folder / "names"
    if not names.exists():
        return 0
    used = set()
    for path in folder.glob("*.sqlite3"):
        try:  # the result's own meta only (a reader would fetch a snapshot it lacks)
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                row = conn.execute("SELECT value FROM meta WHERE key = 'names'").fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            continue  # damaged or half-gone: it cannot use a snapshot any more
        if row:
            used.add(row[0])
    removed = 0
    now = time.time()
    for path in names.glob("*.sqlite3"):
        if path.stem not in used and now - path.stat().st_mtime > 3600:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
