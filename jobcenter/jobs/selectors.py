"""Reads about jobs, always scoped to the projects a user belongs to."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections import Counter
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from jobcenter.core.errors import InvalidInput, NotFound
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.models import Graph
from jobcenter.jobs.choices import (
    ACTIVE_STATUSES,
    RETRYABLE_STATUSES,
    TERMINAL_STATUSES,
    JobStatus,
    JobType,
)
from jobcenter.jobs.filtersets import JobFilterSet
from jobcenter.jobs.models import FailedLine, Job, JobEvent, JobFile
from jobcenter.jobs.results import ResultPage, ResultReader
from jobcenter.projects.selectors import project_list_for_user


def job_list(*, user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[Job]:
    """Jobs the user may see (``user=None``: every job, for operators' commands).

    The user's projects are looked up first and named in the query (superusers see every
    project: no condition at all), rather than as a subquery: with a literal project id SQLite
    walks the (project, created_at) and (project, status) indexes in list order, with a
    subquery it may read and sort every job of the project (a million rows).
    """
    qs = Job.objects.all()
    if user is not None and not (user.is_authenticated and user.is_superuser):
        projects = list(project_list_for_user(user=user).values_list("pk", flat=True))
        qs = qs.filter(project_id__in=projects)
    return qs.select_related("project", "graph", "submitted_by", "cancel_requested_by")


def job_list_filtered(
    *, user: AbstractBaseUser | AnonymousUser | None, data: Mapping[str, Any]
) -> QuerySet[Job]:
    """:func:`job_list` narrowed and ordered by the shared JobFilterSet (``data`` holds the job
    list's query parameters, e.g. a QueryDict). Raises InvalidInput naming the first bad filter,
    with every filter's messages in ``errors``."""
    filterset = JobFilterSet(data=data, queryset=job_list(user=user))
    if not filterset.is_valid():
        errors = {name: [str(m) for m in messages] for name, messages in filterset.errors.items()}
        name, messages = next(iter(errors.items()))
        raise InvalidInput(f"{name}: {messages[0]}", field=name, errors=errors)
    return filterset.qs


def job_get(*, user: AbstractBaseUser | AnonymousUser | None, job_id: str) -> Job:
    job = job_list(user=user).filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"job {job_id!r} does not exist", field="job_id")
    return job


def job_files(*, job: Job) -> QuerySet[JobFile]:
    return job.files.order_by("index")


def job_failed_lines(*, job: Job, file_index: int | None = None) -> QuerySet[FailedLine]:
    qs = FailedLine.objects.filter(job=job).select_related("file")
    if file_index is not None:
        qs = qs.filter(file__index=file_index)
    return qs.order_by("file__index", "line_number", "id")


def job_seconds_remaining(job: Job) -> float | None:
    """Estimated seconds to finish a running job from its recent line rate."""
    if job.status != JobStatus.RUNNING or job.lines_per_second <= 0 or not job.lines_total:
        return None
    return max(0.0, (job.lines_total - job.lines_done) / job.lines_per_second)


def job_timeline(*, job: Job) -> QuerySet[JobEvent]:
    return job.events.select_related("actor").order_by("at", "id")


def job_retry_candidates(jobs: QuerySet[Job]) -> QuerySet[Job]:
    """The jobs of ``jobs`` that a "retry every failed job" would retry: ended failed,
    partially failed or cancelled, and not retried yet."""
    return jobs.filter(status__in=RETRYABLE_STATUSES, retries__isnull=True)


def job_result_page(*, job: Job, offset: int, limit: int) -> ResultPage | None:
    """Rows ``offset`` to ``offset + limit`` of a job's result; None when the job has no
    result (yet, or any more: it has not finished, it keeps none, or retention removed it)."""
    try:
        reader = job_result_reader(job=job)
    except NotFound:
        return None
    with reader:
        return reader.page(offset=offset, limit=limit)


# --- dashboard additions (jobcenter.dashboard) ------------------------------------------------
# Exact per-status counts that stay cheap on a table of millions of jobs. A finished job never
# changes again, so the finished jobs created before a boundary are counted once and cached; on
# every call only the few jobs that were unfinished at that time and the jobs created since are
# counted again. The cache entry is rebuilt after STATUS_COUNT_TTL seconds (which is also how
# long a deletion of old jobs may take to show) or when the recent part grows large.

STATUS_COUNT_TTL = 300.0
# Jobs created within this many seconds of a rebuild count as recent: a submission that commits
# later than this after its creation time would be missed until the next rebuild.
STATUS_COUNT_SETTLE_SECONDS = 60.0
STATUS_COUNT_MAX_RECENT = 5_000
STATUS_COUNT_MAX_PENDING = 5_000


def _status_count_rows(qs: QuerySet[Job]) -> Counter[str]:
    # COUNT(*), not COUNT(id): the (project, status, created_at) index then answers on its own;
    # counting the (text) primary key makes SQLite read every row (20x slower at 1M jobs).
    return Counter(
        dict(qs.order_by().values_list("status").annotate(n=Count("*")).values_list("status", "n"))
    )


def _status_count_base(scope: QuerySet[Job], filtered: QuerySet[Job]) -> dict[str, Any] | None:
    boundary = timezone.now() - timedelta(seconds=STATUS_COUNT_SETTLE_SECONDS)
    old = {"created_at__lt": boundary}
    for _attempt in range(3):
        # Unfinished old jobs are always counted live. Whatever is not among them was finished
        # before the count below started, so it is counted exactly once and never changes.
        # No ORDER BY: the model's default order would make the database walk the project's
        # jobs by date instead of the (project, status) index (0.5 s instead of 2 ms at 1M).
        pending = list(
            scope.filter(status__in=ACTIVE_STATUSES, **old)
            .order_by()
            .values_list("pk", flat=True)[: STATUS_COUNT_MAX_PENDING + 1]
        )
        if len(pending) > STATUS_COUNT_MAX_PENDING:
            return None
        counts = _status_count_rows(filtered.filter(status__in=TERMINAL_STATUSES, **old))
        # A pending job that finished while we counted may or may not be in ``counts``: retry.
        if not Job.objects.filter(pk__in=pending, status__in=TERMINAL_STATUSES).exists():
            return {
                "boundary": boundary,
                "counts": dict(counts),
                "pending": pending,
                "built": time.monotonic(),
            }
    return None


def job_status_counts(
    *,
    scope: QuerySet[Job],
    filtered: QuerySet[Job] | None = None,
    cache_key: str | None = None,
) -> dict[str, int]:
    """Number of jobs per status (every status present, zeros included) in ``filtered``.

    ``scope`` is what the user may see (e.g. one project's jobs); ``filtered`` narrows it by
    anything but status (default: ``scope``). With ``cache_key`` (which must identify scope and
    filters, e.g. a project id plus the normalised filter parameters) the counts of old finished
    jobs are cached as described above; without it everything is counted directly.
    """
    filtered = scope if filtered is None else filtered
    counts: Counter[str] = Counter()
    base = None
    if cache_key is not None:
        key = "jobcenter:job-status-counts:" + hashlib.sha256(cache_key.encode()).hexdigest()
        base = cache.get(key)
        if base is None or time.monotonic() - base["built"] > STATUS_COUNT_TTL:
            base = _status_count_base(scope, filtered)
            if base is not None:
                cache.set(key, base, int(STATUS_COUNT_TTL))
    if base is None:
        counts = _status_count_rows(filtered)
    else:
        counts.update(base["counts"])
        if base["pending"]:
            counts.update(_status_count_rows(filtered.filter(pk__in=base["pending"])))
        # Newest first through the (project, created_at) index; counted in Python so that the
        # query planner never picks a whole-project index scan for it.
        recent = list(
            filtered.filter(created_at__gte=base["boundary"])
            .order_by("-created_at", "-id")
            .values_list("status", flat=True)[: STATUS_COUNT_MAX_RECENT + 1]
        )
        if len(recent) > STATUS_COUNT_MAX_RECENT:
            cache.delete(key)
            return job_status_counts(scope=scope, filtered=filtered, cache_key=cache_key)
        counts.update(recent)
    return {status: counts.get(status, 0) for status in JobStatus.values}


# --- analytics results (issue 6) ---------------------------------------------------------------


def job_result_reader(*, job: Job) -> ResultReader:
    """The published result of ``job`` as a :class:`~jobcenter.jobs.results.ResultReader` (the
    caller closes it); NotFound saying why when there is none (not finished, no result kind,
    removed by the retention policy, or unreadable). Only a succeeded job has one: a file left
    by a job that then failed (or was cancelled) is never served."""
    if job.status != JobStatus.SUCCEEDED:
        why = "has not finished" if job.is_active else f"ended {job.status} and has no result"
        raise NotFound(f"job {job.pk} {why}", field="job_id")
    try:
        return ResultReader(job.pk)
    except FileNotFoundError:
        why = "has not finished" if job.is_active else "has no result"
        if isinstance(job.result, dict) and job.result.get("purged"):
            why = "had its result removed (retention)"
        raise NotFound(f"job {job.pk} {why}", field="job_id") from None
    except (sqlite3.DatabaseError, KeyError, ValueError):
        raise NotFound(f"the result of job {job.pk} cannot be read", field="job_id") from None


def graphs_last_analysed(*, limit: int) -> QuerySet[Graph]:
    """Ready graphs that algorithm jobs ran on, the most recently used first."""
    return (
        Graph.objects.filter(status=GraphStatus.READY)
        .annotate(last_used=Max("jobs__created_at", filter=Q(jobs__type=JobType.ALGORITHM)))
        .filter(last_used__isnull=False)
        .order_by("-last_used")[:limit]
    )


def job_waiting_exists() -> bool:
    """Whether any job waits for a worker."""
    return Job.objects.filter(status=JobStatus.WAITING).exists()
