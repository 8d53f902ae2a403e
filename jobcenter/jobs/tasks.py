"""Engine tasks: thin wrappers that hand a job id to the runner (registered with the engine
adapter when the jobs app starts, so that nothing below imports this module)."""

from __future__ import annotations

from jobcenter.jobs.engine import register_job_task, task


@register_job_task
@task()
def run_job(job_id: str) -> None:
    from jobcenter.jobs.resident import warm_after_job
    from jobcenter.jobs.runner import SHUTDOWN, execute_job

    execute_job(job_id=job_id)
    if not SHUTDOWN.is_set():
        # A graph whose data has just changed is loaded for the algorithm jobs that follow
        # (stops at once if the worker is asked to shut down meanwhile).
        warm_after_job(job_id)
