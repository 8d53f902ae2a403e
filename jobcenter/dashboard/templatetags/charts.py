"""The dashboard's charts as template tags: each reads what it draws (jobcenter.jobs.insights),
shapes it (jobcenter.dashboard.charts) and renders its own partial template
(templates/dashboard/charts/), so a page only names the chart where it goes.

``{% jobs_by_hour_chart %}`` sits outside the job list's htmx partials: it is drawn on full page
loads only, never on a filter change or a live refresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import template
from django.utils import timezone

from jobcenter.dashboard import charts
from jobcenter.jobs import insights
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import kind_of

register = template.Library()


@register.inclusion_tag("dashboard/charts/throughput.html")
def throughput_chart(job: Any) -> dict[str, Any]:
    """Lines per second over an import's run (refreshed with the job page's live part)."""
    if not kind_of(getattr(job, "type", "")).loads_files:
        return {"chart": None, "show": False}
    points = insights.job_throughput(job=job)
    return {
        "chart": charts.throughput_chart(points, running=job.is_active),
        "show": job.started_at is not None,
        "job": job,
    }


@register.inclusion_tag("dashboard/charts/failures.html")
def failures_chart(job: Any, files: Sequence[Any]) -> dict[str, Any]:
    """An import's failed lines by reason, one bar per file (``files``: the page's, read once)."""
    if not kind_of(getattr(job, "type", "")).loads_files:
        return {"chart": None}
    found = insights.job_failures_by_reason(job=job, files=files)
    return {"chart": charts.failure_chart(found), "job": job}


@register.inclusion_tag("dashboard/charts/jobs_by_hour.html")
def jobs_by_hour_chart(project: Any) -> dict[str, Any]:
    """The project's jobs of the last 24 hours, per hour and status, whatever the list's
    filters. ``project`` is the list's, which the view gave only to one of its members."""
    if project is None:
        return {"chart": None}
    scope = Job.objects.filter(project=project)
    counts = insights.jobs_per_hour(jobs=scope, now=timezone.now())
    return {"chart": charts.hourly_chart(counts), "project": project}
