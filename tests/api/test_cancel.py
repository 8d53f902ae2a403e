"""POST /api/v1/jobs/{id}/cancel/: one job, in every state, by every role; and for real, with a
worker process running the import."""

from __future__ import annotations

import pytest

from jobcenter.jobs.choices import TERMINAL_STATUSES
from jobcenter.jobs.models import Job
from tests.api.conftest import assert_error
from tests.factories.files import PACED, write_ges_files
from tests.factories.graphs import ges_graph
from tests.factories.waiting import wait_for


def cancel(client, job):
    return client.post(f"/api/v1/jobs/{job.pk}/cancel/")


@pytest.mark.django_db
def test_a_waiting_job_is_cancelled_at_once(api, jobs):
    response = cancel(api, jobs["waiting"])
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["cancel_requested_by"], body["cancellable"]) == (
        "cancelled",
        "oscar",
        False,
    )
    assert body["finished_at"].endswith("Z") and body["cancel_requested_at"].endswith("Z")
    kinds = list(Job.objects.get(pk=body["id"]).events.values_list("kind", "actor__username"))
    assert kinds == [
        ("submitted", "oscar"),
        ("cancel_requested", "oscar"),
        ("finished", None),
    ]


@pytest.mark.django_db
def test_a_running_job_becomes_cancelling_and_asking_again_is_harmless(api, jobs):
    first = cancel(api, jobs["running"])
    assert (first.status_code, first.json()["status"]) == (200, "cancelling")
    again = cancel(api, jobs["running"])
    assert (again.status_code, again.json()["status"]) == (200, "cancelling")
    events = Job.objects.get(pk=jobs["running"].pk).events.filter(kind="cancel_requested")
    assert events.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["succeeded", "partially_failed", "failed", "cancelled"])
def test_a_finished_job_cannot_be_cancelled(api, jobs, state):
    body = assert_error(cancel(api, jobs[state]), 409, "invalid_state")
    assert "already finished" in body["message"]
    assert Job.objects.get(pk=jobs[state].pk).status == state


@pytest.mark.django_db
def test_a_job_past_its_point_of_no_return_cannot_be_cancelled(api, jobs):
    Job.objects.filter(pk=jobs["running"].pk).update(cancellable=False)
    assert_error(cancel(api, jobs["running"]), 409, "invalid_state")
    assert Job.objects.get(pk=jobs["running"].pk).status == "running"


@pytest.mark.django_db
def test_a_viewer_may_not_cancel_and_an_outsider_does_not_see_the_job(
    viewer_api, client_for, jobs, other
):
    assert_error(cancel(viewer_api, jobs["waiting"]), 403, "permission_denied")
    assert_error(cancel(viewer_api, other["job"]), 404, "not_found")
    assert Job.objects.get(pk=jobs["waiting"].pk).status == "waiting"
    assert Job.objects.get(pk=other["job"].pk).status == "waiting"
    assert_error(cancel(client_for(None), jobs["waiting"]), 401, "not_authenticated")


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_cancelling_a_running_import_through_the_api(
    project, operator, client_for, worker_factory, imports_dir
):
    """A worker runs a big import submitted through the API; the cancel request stops it and
    the graph is left without its data."""
    api = client_for(operator)
    graph = ges_graph(project)
    files = write_ges_files(imports_dir / "big", vertices=20_000, edges=1_500_000)
    submitted = api.post(
        f"/api/v1/graphs/{graph.pk}/import/", {"format": "ges", "request": files}, format="json"
    )
    assert submitted.status_code == 201, submitted.content
    job_id = submitted.json()["id"]
    worker_factory(JOBCENTER_HEARTBEAT_INTERVAL="0.2", **PACED)  # the stop lands while it runs
    wait_for(lambda: api.get(f"/api/v1/jobs/{job_id}/").json()["lines_done"] > 0, timeout=60)
    assert api.post(f"/api/v1/jobs/{job_id}/cancel/").json()["status"] == "cancelling"
    wait_for(lambda: Job.objects.get(pk=job_id).status in TERMINAL_STATUSES, timeout=30)
    body = api.get(f"/api/v1/jobs/{job_id}/").json()
    assert (body["status"], body["cancel_requested_by"]) == ("cancelled", "oscar")
    timeline = api.get(f"/api/v1/jobs/{job_id}/timeline/").json()["results"]
    assert [e["kind"] for e in timeline] == ["submitted", "started", "cancel_requested", "finished"]
    assert api.get(f"/api/v1/graphs/{graph.pk}/").json()["data_updated_at"] is None
