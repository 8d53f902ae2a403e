"""A job kind is one module: the kind of tests/jobs/echo_kind.py, which no other module names,
registers itself and runs end to end through its submit service, the jobs core (retry) and a
real ``db_worker`` process that loads it from ``JOBCENTER_JOB_KINDS``, and is shown by the
native API, the dashboard and the CLI, none of which names it."""

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


def test_a_kind_of_the_test_suite_is_shown_by_every_face(project, worker_factory, echo_registered):
    """No face names the echo kind, yet the native API, the dashboard and the CLI show its job
    (type, status, phase-free end, result) and the API cancels/retries it through the core."""
    import io
    import json

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from rest_framework.test import APIClient

    job = echo_kind.job_submit_echo(graph=ges_graph(project), text="hello faces")
    worker_factory(JOBCENTER_JOB_KINDS="tests.jobs.echo_kind")
    wait_for(lambda: Job.objects.get(pk=job.pk).status in TERMINAL_STATUSES, timeout=60)
    oscar = get_user_model().objects.get(username="oscar")

    api = APIClient()
    api.force_authenticate(oscar)
    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert (body["type"], body["status"], body["phase"]) == ("echo", "succeeded", None)
    assert body["result"] == {"echo": "hello faces", "phase_seen": "echoing"}
    listed = api.get("/api/v1/jobs/").json()["results"]
    assert [(row["id"], row["type"]) for row in listed] == [(job.pk, "echo")]
    retried = api.post(f"/api/v1/jobs/{job.pk}/retry/")
    assert retried.status_code == 201, retried.content
    assert Job.objects.get(pk=retried.json()["id"]).params == {"text": "hello faces"}

    browser = Client()
    browser.force_login(oscar)
    page = browser.get(f"/jobs/{job.pk}/")
    assert page.status_code == 200
    assert b"hello faces" in page.content  # its result, shown as the job's result

    out = io.StringIO()
    call_command("jobs", "show", job.pk, "--json", stdout=out)
    shown = json.loads(out.getvalue())
    assert (shown["id"], shown["status"]) == (job.pk, "succeeded")
