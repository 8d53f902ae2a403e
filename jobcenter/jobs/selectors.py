"""Reads about jobs, always scoped to the projects a user belongs to."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from jobcenter.core.errors import NotFound
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import FailedLine, Job, JobEvent, JobFile
from jobcenter.projects.selectors import project_list_for_user


def job_list(*, user: AbstractBaseUser | AnonymousUser | None) -> QuerySet[Job]:
    """Jobs the user may see (``user=None``: every job, for operators' commands)."""
    qs = Job.objects.all()
    if user is not None:
        qs = qs.filter(project__in=project_list_for_user(user=user))
    return qs.select_related("project", "graph", "submitted_by", "cancel_requested_by")


def job_get(*, user: AbstractBaseUser | AnonymousUser | None, job_id: str) -> Job:
    job = job_list(user=user).filter(pk=job_id).first()
    if job is None:
        raise NotFound(f"job {job_id!r} does not exist", field="job_id")
    return job


def job_files(*, job: Job) -> QuerySet[JobFile]:
    return job.files.order_by("index")


def job_failed_lines(*, job: Job, file_index: int | None = None) -> QuerySet[FailedLine]:
    qs = FailedLine.objects.filter(job=job).select_related("file")
    if file_index is not None:
        qs = qs.filter(file__index=file_index)
    return qs.order_by("file__index", "line_number", "id")


def job_seconds_remaining(job: Job) -> float | None:
    """Estimated seconds to finish a running job from its recent line rate."""
    if job.status != JobStatus.RUNNING or job.lines_per_second <= 0 or not job.lines_total:
        return None
    return max(0.0, (job.lines_total - job.lines_done) / job.lines_per_second)


def job_timeline(*, job: Job) -> QuerySet[JobEvent]:
    return job.events.select_related("actor").order_by("at", "id")
