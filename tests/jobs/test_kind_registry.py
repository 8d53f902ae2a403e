"""A job kind is one module: the kind of tests/jobs/echo_kind.py, which no other module names,
registers itself and runs end to end through its submit service, the jobs core (retry) and a
real ``db_worker`` process that loads it from ``JOBCENTER_JOB_KINDS``."""

from __future__ import annotations

import pytest

from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import kind_for, kinds, register, unregister
from jobcenter.jobs.services import job_retry
from tests.factories.graphs import ges_graph
from tests.factories.waiting import wait_for
from tests.jobs import echo_kind

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def echo_registered():
    register(echo_kind.KIND)
    yield echo_kind.KIND
    unregister(echo_kind.TYPE)


def test_the_shipped_kinds_are_registered_by_the_app():
    assert {str(kind.type) for kind in kinds()} >= {
        "import",
        "algorithm",
        "query",
        "index",
        "export",
        "graph_operation",
    }
    for kind in kinds():
        assert kind.phases, f"kind {kind.type} names no phase"
        assert kind.result, f"kind {kind.type} says nothing of its result"


def test_a_kind_of_the_test_suite_runs_through_service_and_worker(
    project, worker_factory, echo_registered
):
    assert kind_for("echo") is echo_registered
    graph = ges_graph(project)
    job = echo_kind.job_submit_echo(graph=graph, text="hello")
    assert (job.type, job.status, job.cancellable) == ("echo", JobStatus.WAITING, False)

    worker_factory(JOBCENTER_JOB_KINDS="tests.jobs.echo_kind")
    wait_for(lambda: Job.objects.get(pk=job.pk).status in TERMINAL_STATUSES, timeout=60)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    assert job.result == {"echo": "hello", "phase_seen": "echoing"}
    assert job.phase == ""  # a finished job is in no phase

    again = job_retry(job=job)  # the core retries it through the registry
    assert (again.type, again.params, again.retry_of_id) == ("echo", {"text": "hello"}, job.pk)
    wait_for(lambda: Job.objects.get(pk=again.pk).status in TERMINAL_STATUSES, timeout=60)
    again.refresh_from_db()
    assert again.result == {"echo": "hello", "phase_seen": "echoing"}


def test_a_worker_without_the_kind_fails_its_jobs_clearly(project, worker_factory):
    register(echo_kind.KIND)
    try:
        job = echo_kind.job_submit_echo(graph=ges_graph(project), text="hello")
    finally:
        unregister(echo_kind.TYPE)
    worker_factory()
    wait_for(lambda: Job.objects.get(pk=job.pk).status in TERMINAL_STATUSES, timeout=60)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.fail_reason == "internal error: RuntimeError: no handler for job type 'echo'"
