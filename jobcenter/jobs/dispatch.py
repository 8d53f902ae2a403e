"""The two writes both sides share: a job's event, and handing a job to the task engine.

Kept apart so that submission (services, kinds) and the worker's transitions use them without
importing each other. The task is imported when a job is dispatched, never at import time: the
task module reaches the runner only inside the task itself.
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
    from jobcenter.jobs.tasks import run_job

    job.task_id = engine.enqueue(run_job, job.id)
    Job.objects.filter(pk=job.pk).update(task_id=job.task_id)
