"""POST /api/v1/jobs/retry/: every failed job matching a filter, retried once, in one request."""

from __future__ import annotations

import pytest

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import graph_delete_submit, job_cancel
from jobcenter.jobs.transitions import job_claim, job_finish
from jobcenter.projects.services import membership_set
from tests.api.conftest import assert_error
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import

URL = "/api/v1/jobs/retry/"

pytestmark = pytest.mark.django_db


def ended(job: Job, status: JobStatus) -> Job:
    job_claim(job_id=job.pk, worker_id="w1")
    job_finish(job_id=job.pk, worker_id="w1", status=status, fail_reason="boom")
    return Job.objects.get(pk=job.pk)


@pytest.fixture
def history(project, graph, operator) -> dict[str, Job]:
    """Imports of the movie graph that ended every way, and one still waiting."""
    cancelled = ges_movie_import(graph, user=operator)
    job_cancel(job=cancelled, user=operator)
    return {
        "failed": ended(ges_movie_import(graph, user=operator), JobStatus.FAILED),
        "partial": ended(ges_movie_import(graph, user=operator), JobStatus.PARTIALLY_FAILED),
        "succeeded": ended(ges_movie_import(graph, user=operator), JobStatus.SUCCEEDED),
        "cancelled": Job.objects.get(pk=cancelled.pk),
        "waiting": ges_movie_import(graph, user=operator),
    }


def test_retries_every_failed_job_matching_once(api, history, other):
    response = api.post(URL, {"filter": {"status": ["failed", "partially_failed"]}}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    originals = sorted([history["failed"].pk, history["partial"].pk])
    assert (body["matched"], body["retried"], body["not_retried"]) == (2, 2, [])
    assert [r["id"] for r in body["retries"]] == originals
    for pair in body["retries"]:
        new = Job.objects.get(pk=pair["retry"])
        original = Job.objects.get(pk=pair["id"])
        assert (new.status, new.retry_of_id, new.request) == (
            "waiting",
            pair["id"],
            original.request,
        )
        assert new.submitted_by.username == "oscar" and new.task_id
        assert original.status in ("failed", "partially_failed")  # untouched
    # The same request again starts nothing: each is named with its retry.
    again = api.post(URL, {"filter": {"status": ["failed", "partially_failed"]}}, format="json")
    retry_of = {r["id"]: r["retry"] for r in body["retries"]}
    assert again.json() == {
        "matched": 2,
        "retried": 0,
        "retries": [],
        "not_retried": [
            {"id": pk, "reason": f"already retried as job {retry_of[pk]}"} for pk in originals
        ],
    }
    assert Job.objects.filter(retry_of__isnull=False).count() == 2
    assert not other["job"].retries.exists()  # another project's job is out of reach


def test_succeeded_and_active_jobs_matching_are_left_alone(api, history):
    body = api.post(URL, {"filter": {"graph": "movies"}}, format="json").json()
    expected = sorted(history[k].pk for k in ("failed", "partial", "cancelled"))
    assert sorted(r["id"] for r in body["retries"]) == expected
    assert not history["succeeded"].retries.exists() and not history["waiting"].retries.exists()


def test_jobs_that_cannot_be_retried_are_reported_with_the_reason(
    api, client_for, project, operator, viewer, history
):
    doomed = ges_graph(project, "doomed")
    deletion = ended(graph_delete_submit(graph=doomed, user=operator), JobStatus.FAILED)
    body = api.post(URL, {"filter": {"type": "graph_operation"}}, format="json").json()
    assert body["not_retried"] == [
        {"id": deletion.pk, "reason": "jobs of type graph operation cannot be retried"}
    ]
    membership_set(project=project, user=viewer, role="viewer")
    seen = client_for(viewer).post(URL, {"filter": {"status": "failed"}}, format="json").json()
    assert seen["not_retried"] == [
        {"id": pk, "reason": "you need the operator role in project alpha"}
        for pk in sorted([history["failed"].pk, deletion.pk])
    ]
    assert not history["failed"].retries.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "filter"),
        ({"filter": {}}, "filter"),
        ({"filter": {"status": ""}}, "filter.status"),
        ({"filter": {"colour": "red"}}, "filter"),
        ({"filter": {"status": "sleeping"}}, "filter.status"),
        ({"filter": {"finished_after": "yesterday"}}, "filter.finished_after"),
    ],
)
def test_bad_filters_are_400_and_retry_nothing(api, history, payload, field):
    assert_error(api.post(URL, payload, format="json"), 400, "invalid", field)
    assert not Job.objects.filter(retry_of__isnull=False).exists()


def test_an_empty_filter_says_how_to_retry_everything(api, history):
    body = assert_error(api.post(URL, {"filter": {}}, format="json"), 400)
    assert "to retry every failed job" in body["errors"]["filter"][0]


def test_anonymous_is_401(client_for, history):
    assert_error(client_for(None).post(URL, {"filter": {"status": "failed"}}, format="json"), 401)
