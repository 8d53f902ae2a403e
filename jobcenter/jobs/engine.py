"""The one adapter to the task engine (Django's Tasks API through the django-tasks backport).

Nothing else imports the engine, so moving to Django 6's ``django.tasks`` or to another
backend (``django-tasks-rq``) is a change here and in settings. The engine only delivers
"run job <id>", at least once; the Job row and its conditional claim make it at most once.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django_tasks import task  # noqa: F401  (re-exported for jobcenter.jobs.tasks)
from django_tasks.base import TaskResultStatus
from django_tasks.exceptions import TaskResultDoesNotExist

from jobcenter.jobs.wakeup import announce

# When a task the engine no longer knows was taken: long ago.
LONG_AGO = datetime.min.replace(tzinfo=UTC)


# The task that runs a job ("run job <id>"), registered by jobcenter.jobs.tasks when the app
# starts: submission and the worker's transitions queue it through here without importing the
# task module (which reaches the runner).
_job_task: Any = None


def register_job_task(task_obj: Any) -> Any:
    global _job_task
    _job_task = task_obj
    return task_obj


def enqueue_job(job_id: str) -> str:
    """Queue "run job ``job_id``" and wake an idle worker; returns the engine's id for it."""
    if _job_task is None:  # pragma: no cover - the jobs app registers it in ready()
        raise RuntimeError("no job task registered: is jobcenter.jobs in INSTALLED_APPS?")
    return enqueue(_job_task, job_id)


def job_task_taken_at(task_id: str) -> datetime | None:
    """:func:`taken_at` of a task queued by :func:`enqueue_job`."""
    return taken_at(_job_task, task_id)


def enqueue(task_obj: Any, *args: Any) -> str:
    """Queue ``task_obj(*args)`` and wake an idle worker; returns the engine's id for it."""
    task_id = str(task_obj.enqueue(*args).id)
    announce()
    return task_id


def taken_at(task_obj: Any, task_id: str) -> datetime | None:
    """When a worker took task ``task_id`` off the queue, or None while it waits there. A task
    the engine does not know (any more) counts as taken :data:`LONG_AGO`."""
    try:
        result = task_obj.get_result(task_id)
    except (TaskResultDoesNotExist, ValidationError, ValueError):
        return LONG_AGO
    if result.status == TaskResultStatus.READY:
        return None
    return result.started_at or result.finished_at or result.enqueued_at or LONG_AGO
