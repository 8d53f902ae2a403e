"""Engine tasks: thin wrappers that hand a job id to the runner."""

from __future__ import annotations

from jobcenter.jobs.engine import task


@task()
def run_job(job_id: str) -> None:
    from jobcenter.jobs.runner import execute_job

    execute_job(job_id=job_id)
