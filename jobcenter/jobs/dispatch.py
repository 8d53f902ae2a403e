"""The two writes both sides share: a job's event, and handing a job to the task engine.

Kept apart so that submission (services, kinds) and the worker's transitions use them without
importing each other. The task itself is the engine adapter's to name (jobcenter.jobs.tasks
registers it), so nothing here reaches the worker side.
"""

from __future__ import annotations

from typing import Any

from jobcenter.jobs import engine
from jobcenter.jobs.choices import EventKind
from jobcenter.jobs.models import Job, JobEvent


def record_event(job_id: str, kind: EventKind, *, actor: Any = None, message: str = "") -> None:
    JobEvent.objects.create(job_id=job_id, kind=kind, actor=actor, message=message)


def dispatch(job: Job) -> None:
    """Queue the engine task "run job <id>" (in the caller's transaction)."""
    job.task_id = engine.enqueue_job(job.id)
    Job.objects.filter(pk=job.pk).update(task_id=job.task_id)
