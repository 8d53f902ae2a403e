"""Reads behind ``/metrics`` (jobcenter.metrics): figures over the whole job database, computed
at each scrape, so every web process answers the same (docs/metrics.md)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import (
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from jobcenter.jobs.choices import (
    CLAIMED_STATUSES,
    TERMINAL_STATUSES,
    EventKind,
    FileRole,
    JobStatus,
)
from jobcenter.jobs.models import Job, JobEvent, JobFile

# Upper bounds (seconds) of the job duration histogram's buckets (+Inf is added).
DURATION_BUCKETS = (0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)


@dataclass
class Histogram:
    buckets: list[tuple[float, int]]  # (upper bound, cumulative count), +Inf excluded
    count: int
    sum: float


@dataclass
class JobFigures:
    now: datetime
    by_kind_status: dict[tuple[str, str], int] = field(default_factory=dict)
    waiting: int = 0
    held: int = 0
    oldest_waiting_age: float = 0.0
    lines_loaded: int = 0
    lines_failed: int = 0
    durations: dict[str, Histogram] = field(default_factory=dict)
    heartbeat_ages: dict[str, float] = field(default_factory=dict)


def _durations() -> dict[str, Histogram]:
    """Run time (started to finished) of ended jobs, by kind: one grouped query counting each
    bucket."""
    took = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    counts = {
        f"le{index}": Count("pk", filter=Q(took__lte=timedelta(seconds=bound)))
        for index, bound in enumerate(DURATION_BUCKETS)
    }
    rows = (
        Job.objects.filter(
            status__in=TERMINAL_STATUSES, started_at__isnull=False, finished_at__isnull=False
        )
        .annotate(took=took)
        .values("type")
        .annotate(n=Count("pk"), total=Sum("took"), **counts)
        .order_by("type")
    )
    out = {}
    for row in rows:
        total = row["total"]
        seconds = total.total_seconds() if isinstance(total, timedelta) else (total or 0) / 1e6
        out[row["type"]] = Histogram(
            buckets=[(bound, row[f"le{index}"]) for index, bound in enumerate(DURATION_BUCKETS)],
            count=row["n"],
            sum=seconds,
        )
    return out


def job_figures() -> JobFigures:
    now = timezone.now()
    figures = JobFigures(now=now)
    for row in Job.objects.values("type", "status").annotate(n=Count("pk")).order_by():
        figures.by_kind_status[(row["type"], row["status"])] = row["n"]
    # A job held by its dependencies (no task yet) waits for them, not for a worker; a released
    # one has waited for a worker since its release.
    held = Q(status=JobStatus.WAITING, task_id="")
    figures.held = Job.objects.filter(held).count()
    released_at = (
        JobEvent.objects.filter(job=OuterRef("pk"), kind=EventKind.RELEASED)
        .order_by("-at")
        .values("at")[:1]
    )
    waiting = (
        Job.objects.filter(status=JobStatus.WAITING)
        .exclude(held)
        .aggregate(n=Count("pk"), oldest=Min(Coalesce(Subquery(released_at), "created_at")))
    )
    figures.waiting = waiting["n"]
    if waiting["oldest"] is not None:
        figures.oldest_waiting_age = max(0.0, (now - waiting["oldest"]).total_seconds())
    lines = JobFile.objects.exclude(role=FileRole.SCHEMA).aggregate(
        loaded=Sum("successful_lines"), failed=Sum("failed_lines")
    )
    figures.lines_loaded = lines["loaded"] or 0
    figures.lines_failed = lines["failed"] or 0
    figures.durations = _durations()
    beats = (
        Job.objects.filter(status__in=CLAIMED_STATUSES, heartbeat_at__isnull=False)
        .exclude(worker_id="")
        .values("worker_id")
        .annotate(last=Max("heartbeat_at"))
        .order_by()
    )
    figures.heartbeat_ages = {
        row["worker_id"]: max(0.0, (now - row["last"]).total_seconds()) for row in beats
    }
    return figures
