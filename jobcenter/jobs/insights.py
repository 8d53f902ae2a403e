"""Reads behind the dashboard's pictures and summaries (selectors, kept apart from
selectors.py): an import's throughput over time, its failed lines by reason per file, a
project's jobs per hour by status, and the last import of each graph.

Each read is bounded whatever the number of jobs: one row by primary key, the job's files, an
index range of one day of one project, one index lookup per graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet

from jobcenter.jobs.choices import FileRole, JobStatus, JobType
from jobcenter.jobs.models import FailedLine, Job, JobFile, JobThroughput

# --- an import's throughput ---------------------------------------------------------------


def job_throughput(*, job: Job) -> list[tuple[float, int]]:
    """The job's ``(seconds since it started, lines done)`` points, oldest first (empty when
    it kept none: not an import, not started, or run before points were kept). Points that
    are not two numbers, or go back in time or in lines, are skipped rather than failing the
    page."""
    if job.type != JobType.IMPORT or job.started_at is None:
        return []
    points = JobThroughput.objects.filter(job_id=job.pk).values_list("points", flat=True).first()
    out: list[tuple[float, int]] = []
    for point in points if isinstance(points, list) else ():
        if (
            isinstance(point, list)
            and len(point) == 2
            and all(isinstance(v, int | float) and not isinstance(v, bool) for v in point)
            and (not out or (point[0] > out[-1][0] and point[1] >= out[-1][1]))
        ):
            out.append((float(point[0]), int(point[1])))
    # While it runs, its last heartbeat is newer than its last point (points are one sampling
    # step apart, a minute late in a long run): it ends the line. Both times are the
    # worker's clock.
    if out and job.is_active and job.heartbeat_at is not None:
        at = (job.heartbeat_at - job.started_at).total_seconds()
        if at > out[-1][0] + 0.5 and job.lines_done >= out[-1][1]:
            out.append((at, int(job.lines_done)))
    return out


# --- failed lines by reason per file -------------------------------------------------------


@dataclass(frozen=True)
class FileFailures:
    file: JobFile
    reasons: list[tuple[str, int]]  # most first
    total: int  # failed lines of the file
    # False when the counts come from the failed-line records kept, which stop at
    # JOBCENTER_MAX_FAILED_RECORDS per file (a job run before every reason was counted).
    complete: bool = True


def job_failures_by_reason(*, job: Job, files: Sequence[JobFile]) -> list[FileFailures]:
    """Every data file of ``files`` (the job's, already read) with failed lines, with its
    failed lines per reason. The counts are the files' own (``reason_counts``, written with
    the heartbeat); a file without them (a job run before they were kept) is counted from its
    failed-line records, in one grouped query for all such files."""
    failing = [f for f in files if f.failed_lines and f.role != FileRole.SCHEMA]
    counted = {f.pk: _reason_counts(f.reason_counts) for f in failing}
    missing = [f.pk for f in failing if not counted[f.pk]]
    if missing:
        rows = (
            FailedLine.objects.filter(job=job, file_id__in=missing)
            .values_list("file_id", "reason")
            .annotate(n=Count("id"))
            .order_by()
        )
        for file_id, reason, n in rows:
            counted[file_id].append((reason, n))
    out = []
    for f in failing:
        reasons = sorted(counted[f.pk], key=lambda item: (-item[1], item[0]))
        recorded = sum(n for _, n in reasons)
        complete = f.pk not in missing or recorded >= f.failed_lines
        out.append(FileFailures(file=f, reasons=reasons, total=f.failed_lines, complete=complete))
    return out


def _reason_counts(value: Any) -> list[tuple[str, int]]:
    if not isinstance(value, dict):
        return []
    return [
        (str(reason), int(n))
        for reason, n in value.items()
        if isinstance(n, int) and not isinstance(n, bool) and n > 0
    ]


# --- a project's jobs per hour ---------------------------------------------------------------

HOURS = 24
# The most jobs one strip reads (about 50 ms at worst): beyond, it is not drawn. A million jobs
# a year are 2,700 a day.
HOURLY_LIMIT = 50_000


def hours_since_sql(vendor: str, column: str, start: datetime) -> str:
    """SQL for the whole hours from ``start`` (a Unix time, written in as a number) to the
    moment in ``column``: integer arithmetic on both databases, no per-row call into Python
    (Django's TruncHour is one on SQLite)."""
    epoch = int(start.timestamp())
    if vendor == "sqlite":
        # whole seconds of the stored text ("YYYY-MM-DD HH:MM:SS.ffffff"): SQLite would round
        # its fraction to milliseconds, and 59.9999 s to the next minute
        seconds = f"CAST(strftime('%%s', SUBSTR({column}, 1, 19)) AS INTEGER)"
        return f"(({seconds} - {epoch}) / 3600)"
    return f"(FLOOR((EXTRACT(EPOCH FROM {column}) - {epoch}) / 3600)::integer)"


@dataclass(frozen=True)
class HourlyCounts:
    start: datetime  # the first hour begins here; hour i is [start + i h, start + (i+1) h)
    end: datetime
    hours: list[dict[str, int]]  # per hour: status -> jobs submitted in it
    totals: dict[str, int]  # per status, over every hour
    too_many: bool = False  # more than HOURLY_LIMIT jobs: not counted (hours and totals empty)

    @property
    def total(self) -> int:
        return sum(self.totals.values())


def jobs_per_hour(*, jobs: QuerySet[Job], now: datetime, limit: int = HOURLY_LIMIT) -> HourlyCounts:
    """Jobs of ``jobs`` (one project's, as the list scopes them) submitted in the 24 hours up to
    ``now``, per hour and status: one grouped query over at most ``limit`` + 1 entries of a range
    of the (project, status, created_at) index (every status named, so each is a range read
    from the index alone)."""
    if now.microsecond:  # hours start on whole seconds (hours_since_sql counts those)
        now = now.replace(microsecond=0) + timedelta(seconds=1)
    start = now - timedelta(hours=HOURS)
    recent = (
        jobs.filter(status__in=JobStatus.values, created_at__gte=start, created_at__lt=now)
        .select_related(None)
        .order_by()
        .values_list("status", "created_at")[: limit + 1]
    )
    inner, params = recent.query.sql_with_params()
    hour = hours_since_sql(connection.vendor, "recent.created_at", start)
    sql = (
        f"SELECT {hour}, recent.status, COUNT(*) FROM ({inner}) recent "  # noqa: S608
        "GROUP BY 2, 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    hours: list[dict[str, int]] = [{} for _ in range(HOURS)]
    totals: dict[str, int] = {}
    if sum(n for _, _, n in rows) > limit:
        return HourlyCounts(start=start, end=now, hours=hours, totals={}, too_many=True)
    for hour_no, status, n in rows:
        slot = hours[min(max(int(hour_no), 0), HOURS - 1)]
        slot[status] = slot.get(status, 0) + n
        totals[status] = totals.get(status, 0) + n
    return HourlyCounts(start=start, end=now, hours=hours, totals=totals)


# --- the last import of each graph -------------------------------------------------------------


def graph_last_imports(*, graphs: Iterable[Any]) -> dict[str, Job]:
    """The newest import job of each graph (any status), by graph id: one read per graph of
    the (project, graph name, created_at) index, newest first, stopping at its first import."""
    out: dict[str, Job] = {}
    for graph in graphs:
        job = (
            Job.objects.filter(
                project_id=graph.project_id,
                graph_name=graph.name,
                graph_id=graph.pk,
                type=JobType.IMPORT,
            )
            .order_by("-created_at", "-id")
            .only("id", "status", "created_at", "started_at", "finished_at", "graph_id")
            .first()
        )
        if job is not None:
            out[graph.pk] = job
    return out
