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
