"""A job kind of the test suite whose handler works a minute without looking at its stop flag,
as one long library call run in the worker's own process would: a stop signal cannot end its
job early, so tests/jobs/test_worker.py can signal a worker again while its job still runs. A
worker loads it from ``JOBCENTER_JOB_KINDS``.
"""

from __future__ import annotations

import threading
import time

from django.contrib.auth.models import AbstractBaseUser

from jobcenter.graphs.models import Graph
from jobcenter.jobs import transitions
from jobcenter.jobs.choices import JobDialect, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import Kind, register
from jobcenter.jobs.runner import Heartbeat, end_stopped
from jobcenter.jobs.submit import submit_graph_job

TYPE = "sleepy"
SECONDS = 60


def job_submit_sleepy(*, graph: Graph, retry_of: Job | None = None) -> Job:
    return submit_graph_job(
        graph=graph,
        project=graph.project,
        type=TYPE,
        name="Sleepy",
        params={},
        request={},
        user=None,
        dialect=JobDialect.NATIVE,
        retry_of=retry_of,
    )


def sleepy(*, job: Job, worker_id: str) -> None:
    stop = threading.Event()
    beat = Heartbeat(
        job_id=job.pk,
        worker_id=worker_id,
        stop_event=stop,
        snapshot=lambda: {
            "progress": 0.0,
            "lines_done": 0,
            "lines_total": 0,
            "lines_per_second": 0.0,
            "phase": "sleeping",
        },
    )
    beat.start()
    try:
        time.sleep(SECONDS)  # blind to ``stop`` until it returns
    finally:
        beat.finish()
    if stop.is_set():
        end_stopped(job=job, worker_id=worker_id, reason=beat.reason)
    else:
        transitions.job_finish(job_id=job.pk, worker_id=worker_id, status=JobStatus.SUCCEEDED)


def retry(job: Job, user: AbstractBaseUser | None) -> Job:
    return job_submit_sleepy(graph=job.graph, retry_of=job)


KIND = register(
    Kind(
        type=TYPE,
        handler=sleepy,
        retry=retry,
        cancellable=True,
        phases=("sleeping",),
        result="nothing",
    )
)
