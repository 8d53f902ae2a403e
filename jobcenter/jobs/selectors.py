"""Reads about jobs, always scoped to the projects a user belongs to."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import (
    BigIntegerField,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from jobcenter.core.errors import InvalidInput, NotFound
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.models import Graph
from jobcenter.jobs.choices import (
    ACTIVE_STATUSES,
    FILE_SKIPPED,
    RETRYABLE_STATUSES,
    JobStatus,
    JobType,
)
from jobcenter.jobs.filtersets import JobFilterSet
from jobcenter.jobs.models import FailedLine, Job, JobEvent, JobFile
from jobcenter.jobs.results import ResultPage, ResultReader, result_drop_copy
from jobcenter.projects.models import Project
from jobcenter.projects.selectors import project_list_for_user

# What a row of a job list shows besides the job itself.
JOB_ROW_RELATED = ("project", "graph", "submitted_by", "cancel_requested_by")


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
    return qs.select_related(*JOB_ROW_RELATED)


def project_with_latest_job(*, project_ids: Iterable[int]) -> int | None:
    """Of these projects, the one whose newest job is the most recent (None: they have no job).
    Each project's newest job is one step down its (project, created_at) index."""
    newest = Job.objects.filter(project_id=OuterRef("pk")).order_by("-created_at", "-id")
    return (
        Project.objects.filter(pk__in=list(project_ids))
        .annotate(newest_job=Subquery(newest.values("created_at")[:1]))
        .filter(newest_job__isnull=False)
        .order_by("-newest_job", "name")
        .values_list("pk", flat=True)
        .first()
    )


def job_list_filtered(
    *, user: AbstractBaseUser | AnonymousUser | None, data: Mapping[str, Any]
) -> QuerySet[Job]:
    """:func:`job_list` narrowed and ordered by the shared JobFilterSet (``data`` holds the job
    list's query parameters, e.g. a QueryDict). Raises InvalidInput naming the first bad filter,
    with every filter's messages in ``errors``."""
    return job_list_filter(job_list(user=user), data=data)


def job_list_filter(scope: QuerySet[Job], *, data: Mapping[str, Any]) -> QuerySet[Job]:
    """``scope`` (e.g. from :func:`job_list`) narrowed and ordered by the JobFilterSet."""
    filterset = JobFilterSet(data=data, queryset=scope)
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


def job_get_in_project(*, project: Project, job_id: str) -> Job:
    """A job of ``project`` (whose access the caller has checked), named by a request's ``job``
    field; a job of another project is not told apart from none."""
    job = Job.objects.filter(pk=job_id, project=project).first()
    if job is None:
        raise NotFound(f"job {job_id!r} does not exist", field="job")
    return job


def import_committed(job: Job) -> bool | None:
    """Whether an import's data is in its graph. An import is one store transaction, committed
    at its end or not at all: None while the job is active; True once it committed (the job
    then keeps the import's summary as ``result``, written with the final status or recovered
    from the store's commit record); False when it ended without committing (cancelled,
    aborted by the error threshold, failed, worker lost, or a dry run). Derived, so exact:
    nothing else sets an import's ``result``."""
    if job.status in ACTIVE_STATUSES:
        return None
    return job.result is not None and not job.dry_run


def file_committed_lines(job: Job, file: JobFile) -> int | None:
    """Lines of ``file`` the import stored in the graph (None while the job is active)."""
    committed = import_committed(job)
    if committed is None:
        return None
    return file.successful_lines if committed else 0


def file_status(job: Job, file: JobFile) -> str | None:
    """A file's status on every face: the loader's verdict (success, partFailed, failed) on a
    file it read to the end; ``skipped`` for one it did not finish before the job ended (never
    reached, or stopped part-way by a cancel, the error threshold or a lost worker); None while
    the job is active and the file is not finished yet."""
    if file.status:
        return file.status
    return None if job.status in ACTIVE_STATUSES else FILE_SKIPPED


def job_files(*, job: Job) -> QuerySet[JobFile]:
    """The job's files in order, each with ``failed_lines_kept`` (failed lines stored, at most
    the import's ``max_failed_records`` per file) and ``committed_lines`` (see
    :func:`file_committed_lines`)."""
    kept = (
        FailedLine.objects.filter(file=OuterRef("pk"))
        .order_by()
        .values("file")
        .annotate(n=Count("pk"))
        .values("n")
    )
    committed = import_committed(job)
    if committed is None:
        lines: Any = Value(None, output_field=BigIntegerField())
    else:
        lines = F("successful_lines") if committed else Value(0, output_field=BigIntegerField())
    return job.files.order_by("index").annotate(
        failed_lines_kept=Coalesce(Subquery(kept), 0), committed_lines=lines
    )


def failed_lines_kept(*, job: Job, file_index: int | None = None) -> tuple[int, int]:
    """``(kept, failed)``: failed lines stored and failed lines counted, for the job's data
    files or for one file."""
    files = job.files.exclude(role="schema")
    if file_index is not None:
        files = files.filter(index=file_index)
    failed = sum(files.values_list("failed_lines", flat=True))
    return job_failed_lines(job=job, file_index=file_index).count(), failed


@dataclass(frozen=True)
class LineTotals:
    """An import's line counts over its data files (the schema file's "lines" are labels)."""

    total_lines: int
    successful_lines: int
    failed_lines: int
    failed_lines_kept: int | None  # None: the files were not read through job_files
    committed_lines: int | None


def import_line_totals(job: Job, files: Iterable[JobFile]) -> LineTotals:
    """Totals of ``files`` over the data files (``failed_lines_kept`` needs them from
    :func:`job_files`)."""
    data = [f for f in files if f.role != "schema"]
    committed = import_committed(job)
    successful = sum(f.successful_lines for f in data)
    kept = [getattr(f, "failed_lines_kept", None) for f in data]
    return LineTotals(
        total_lines=sum(f.total_lines for f in data),
        successful_lines=successful,
        failed_lines=sum(f.failed_lines for f in data),
        failed_lines_kept=None if None in kept else sum(kept),  # type: ignore[arg-type]
        committed_lines=None if committed is None else (successful if committed else 0),
    )


def job_failed_lines(
    *, job: Job, file_index: int | None = None, reason: str | None = None
) -> QuerySet[FailedLine]:
    qs = FailedLine.objects.filter(job=job).select_related("file")
    if file_index is not None:
        qs = qs.filter(file__index=file_index)
    if reason is not None:
        qs = qs.filter(reason=reason)
    return qs.order_by("file__index", "line_number", "id")


def job_failed_line_reasons(*, job: Job, file_index: int | None = None) -> list[tuple[str, int]]:
    """The stored failed lines of ``job`` (of one file) counted by reason, most first."""
    qs = FailedLine.objects.filter(job=job)
    if file_index is not None:
        qs = qs.filter(file__index=file_index)
    counted = qs.values("reason").annotate(n=Count("id")).order_by("-n", "reason")
    return [(row["reason"], row["n"]) for row in counted]


def job_seconds_remaining(job: Job) -> float | None:
    """Estimated seconds to finish a running job from its recent line rate."""
    if job.status != JobStatus.RUNNING or job.lines_per_second <= 0 or not job.lines_total:
        return None
    return max(0.0, (job.lines_total - job.lines_done) / job.lines_per_second)


def job_timeline(*, job: Job) -> QuerySet[JobEvent]:
    return job.events.select_related("actor").order_by("at", "id")


def job_retry_candidates(jobs: QuerySet[Job]) -> QuerySet[Job]:
    """The jobs of ``jobs`` that a "retry every failed job" would retry: ended failed,
    partially failed or cancelled, and not retried yet.

    "Not retried" is ``NOT EXISTS`` (one lookup in the ``retry_of`` index per job), never a
    LEFT JOIN anti-join: once SQLite has statistics saying most jobs have no ``retry_of``, it
    plans that join as a scan of the whole table for every matching job (minutes at 1M).
    """
    retried = Job.objects.filter(retry_of=OuterRef("pk"))
    return jobs.filter(status__in=RETRYABLE_STATUSES).filter(~Exists(retried))


def job_result_page(*, job: Job, offset: int, limit: int) -> ResultPage | None:
    """Rows ``offset`` to ``offset + limit`` of a job's result; None when the job has no
    result (yet, or any more: it has not finished, it keeps none, or retention removed it)."""
    try:
        reader = job_result_reader(job=job)
    except NotFound:
        return None
    with reader:
        return reader.page(offset=offset, limit=limit)


# --- analytics results (issue 6) ---------------------------------------------------------------


def job_result_reader(*, job: Job) -> ResultReader:
    """The published result of ``job`` as a :class:`~jobcenter.jobs.results.ResultReader` (the
    caller closes it); NotFound saying why when there is none (not finished, no result kind,
    removed by the retention policy, or unreadable). Only a succeeded job has one: a file left
    by a job that then failed (or was cancelled) is never served."""
    if job.status != JobStatus.SUCCEEDED:
        why = "has not finished" if job.is_active else f"ended {job.status} and has no result"
        raise NotFound(f"job {job.pk} {why}", field="job_id")
    if isinstance(job.result, dict) and job.result.get("purged"):
        result_drop_copy(job.pk)  # a copy this machine fetched before it was removed
        raise NotFound(f"job {job.pk} had its result removed (retention)", field="job_id")
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


# --- chains (issue 17) ------------------------------------------------------------------------


@dataclass
class JobLinks:
    """A job's place in a chain: the jobs it depends on, the jobs that depend on it, and (while
    it waits for them) those of its dependencies that have not ended as it needs."""

    depends_on: list[Job]
    dependents: list[Job]
    waiting_for: list[Job]
    accept_partial: bool


def job_links(*, job: Job) -> JobLinks:
    """Two small queries (each an index range): a job has at most a hundred dependencies."""
    from jobcenter.jobs.chains import accepted
    from jobcenter.jobs.models import JobDependency

    links = list(
        JobDependency.objects.filter(job_id=job.pk)
        .select_related("depends_on")
        .order_by("depends_on_id")
    )
    depends_on = [link.depends_on for link in links]
    accept_partial = bool(links) and links[0].accept_partial
    dependents = list(Job.objects.filter(dependency_links__depends_on_id=job.pk).order_by("pk"))
    waiting_for = (
        [dep for dep in depends_on if not accepted(dep.status, accept_partial)]
        if job.status == JobStatus.WAITING
        else []
    )
    return JobLinks(depends_on, dependents, waiting_for, accept_partial)


def jobs_waiting_for(jobs: Iterable[Job]) -> dict[str, list[Job]]:
    """For the jobs of a page that wait for dependencies (waiting, not queued): the
    dependencies they still wait for, by job id. One query, and none when no row waits (rows
    annotated with ``chains.has_dependencies()`` say so)."""
    from jobcenter.jobs.chains import accepted
    from jobcenter.jobs.models import JobDependency

    held = [
        job.pk
        for job in jobs
        if job.status == JobStatus.WAITING
        and not job.task_id
        and getattr(job, "has_dependencies", True)  # rows of listing.job_rows know
    ]
    found: dict[str, list[Job]] = {}
    if not held:
        return found
    links = (
        JobDependency.objects.filter(job_id__in=held)
        .select_related("depends_on")
        .order_by("job_id", "depends_on_id")
    )
    for link in links:
        if not accepted(link.depends_on.status, link.accept_partial):
            found.setdefault(link.job_id, []).append(link.depends_on)
    return found
