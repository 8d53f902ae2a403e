"""A tiny job kind defined in the test suite (tests/jobs/test_kind_registry.py): it proves that
a kind is one module that registers itself, and runs through the jobs core and a real worker
without any other module knowing it. A worker loads it from ``JOBCENTER_JOB_KINDS``.

``echo`` answers its text. Its handler stores its phase through the heartbeat, reads it back
from the job's row and puts it into the result, so that the test sees the phase was stored.
"""

from __future__ import annotations

import threading
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from jobcenter.core.errors import InvalidInput
from jobcenter.graphs.models import Graph
from jobcenter.jobs import transitions
from jobcenter.jobs.choices import JobDialect, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import Kind, register
from jobcenter.jobs.runner import Heartbeat
from jobcenter.jobs.submit import require_ready, retry_common, retry_graph, submit_graph_job

TYPE = "echo"


def job_submit_echo(
    *,
    graph: Graph,
    text: Any,
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    request: dict[str, Any] | None = None,
    name: str = "Echo",
    retry_of: Job | None = None,
) -> Job:
    require_ready(graph, user)
    if not isinstance(text, str) or not text:
        raise InvalidInput("parameter [text] is invalid! expected some text", field="text")
    return submit_graph_job(
        graph=graph,
        project=graph.project,
        type=TYPE,
        name=name,
        params={"text": text},
        request=request if request is not None else {"text": text},
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


def echo(*, job: Job, worker_id: str) -> None:
    beat = Heartbeat(
        job_id=job.pk,
        worker_id=worker_id,
        stop_event=threading.Event(),
        snapshot=lambda: {
            "progress": 50.0,
            "lines_done": 1,
            "lines_total": 2,
            "lines_per_second": 0.0,
            "phase": "echoing",
        },
    )
    beat.beat()  # one write, now (no thread needed for a job this short)
    seen = Job.objects.values_list("phase", flat=True).get(pk=job.pk)
    transitions.job_finish(
        job_id=job.pk,
        worker_id=worker_id,
        status=JobStatus.SUCCEEDED,
        result={"echo": job.params["text"], "phase_seen": seen},
    )


def retry(job: Job, user: AbstractBaseUser | None) -> Job:
    return job_submit_echo(
        graph=retry_graph(job), text=job.params["text"], **retry_common(job, user)
    )


KIND = register(
    Kind(
        type=TYPE,
        handler=echo,
        retry=retry,
        cancellable=False,
        phases=("echoing",),
        result="the text it was given",
    )
)
