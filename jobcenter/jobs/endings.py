"""What happens with a job's ending, in the ending's own transaction: its webhook deliveries
are queued (the outbox of jobcenter.notifications; docs/notifications.md), and the jobs that
depend on it are queued or cancelled (jobcenter.jobs.chains; a cancelled one's ending is
processed the same way, transitively). Every ending calls :func:`job_ended`: the worker's
``transitions`` and the cancel of a waiting job."""

from __future__ import annotations

from typing import Any

from django.db.models import Sum

from jobcenter.jobs.chains import dependents_lock, dependents_settle
from jobcenter.jobs.choices import JobType
from jobcenter.jobs.models import Job, JobFile
from jobcenter.notifications.services import JobEnding, deliveries_enqueue


def _when(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def job_ended(job_id: str) -> None:
    """Queue the deliveries of this ended job (none when no webhook of its project wants it),
    and settle the jobs that depend on it (and, for those cancelled, theirs...)."""
    dependents_lock(job_id)
    ended = [job_id]
    while ended:
        current = ended.pop()
        _deliveries_enqueue(current)
        ended.extend(dependents_settle(current))


def _deliveries_enqueue(job_id: str) -> None:
    job = Job.objects.select_related("project").get(pk=job_id)
    data: dict[str, Any] = {
        "id": job.pk,
        "name": job.name,
        "type": job.type,
        "status": job.status,
        "graph": job.graph_name or None,
        "graph_id": job.graph_id,
        "fail_reason": job.fail_reason,
        "created_at": _when(job.created_at),
        "started_at": _when(job.started_at),
        "finished_at": _when(job.finished_at),
        "duration_seconds": (
            round((job.finished_at - job.started_at).total_seconds(), 3)
            if job.started_at and job.finished_at
            else None
        ),
        "lines_done": job.lines_done,
        "lines_total": job.lines_total,
    }
    ending = JobEnding(
        job_id=job.pk,
        project_id=job.project_id,
        project_name=job.project.name,
        type=job.type,
        status=job.status,
        graph_name=job.graph_name,
        job=data,
    )
    if job.type == JobType.IMPORT:
        data["lines_failed"] = (
            JobFile.objects.filter(job_id=job.pk).aggregate(n=Sum("failed_lines"))["n"] or 0
        )
    deliveries_enqueue(ending)
