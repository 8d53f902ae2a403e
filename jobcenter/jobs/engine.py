"""The one adapter to the task engine (Django's Tasks API through the django-tasks backport).

Nothing else imports the engine, so moving to Django 6's ``django.tasks`` or to another
backend (``django-tasks-rq``) is a change here and in settings. The engine only delivers
"run job <id>", at least once; the Job row and its conditional claim make it at most once.
"""

from __future__ import annotations

from typing import Any

from django_tasks import task  # noqa: F401  (re-exported for jobcenter.jobs.tasks)


def enqueue(task_obj: Any, *args: Any) -> str:
    """Queue ``task_obj(*args)``; returns the engine's id for it."""
    return str(task_obj.enqueue(*args).id)
