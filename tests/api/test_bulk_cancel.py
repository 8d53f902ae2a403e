"""POST /api/v1/jobs/cancel/: every job matching a filter, in one request."""

from __future__ import annotations

import pytest

from jobcenter.jobs.choices import ACTIVE_STATUSES
from jobcenter.jobs.models import Job
from jobcenter.projects.services import membership_set
from tests.api.conftest import assert_error
from tests.factories.jobs import make_job

URL = "/api/v1/jobs/cancel/"

pytestmark = pytest.mark.django_db


def status(job: Job) -> str:
    return Job.objects.get(pk=job.pk).status


def test_cancels_every_active_job_matching_and_leaves_the_rest(api, jobs, other):
    response = api.post(URL, {"filter": {"status": ["waiting", "running"]}}, format="json")
    assert response.status_code == 200
    body = response.json()
    expected = sorted([jobs["waiting"].pk, jobs["running"].pk])
    assert body == {
        "matched": 2,
        "cancelled": 2,
        "cancelled_ids": expected,
        "not_cancelled": [],
    }
    assert status(jobs["waiting"]) == "cancelled"
    assert status(jobs["running"]) == "cancelling"
    for name in ("succeeded", "partially_failed", "failed", "cancelled", "cancelling"):
        assert status(jobs[name]) == jobs[name].status
    assert status(other["job"]) == "waiting"  # another project's job is out of reach
    cancelled = Job.objects.get(pk=jobs["waiting"].pk)
    assert cancelled.cancel_requested_by.username == "oscar"


def test_finished_jobs_matching_the_filter_are_left_alone(api, jobs):
    body = api.post(URL, {"filter": {"graph": "movies"}}, format="json").json()
    active = sorted(j.pk for j in jobs.values() if j.status in ACTIVE_STATUSES)
    assert body["matched"] == len(active) == 3  # waiting, running, cancelling
    assert body["cancelled_ids"] == active  # cancelling counts: it is on its way
    assert status(jobs["succeeded"]) == "succeeded"


def test_filters_combine_as_in_the_list(api, jobs, project, graph):
    from jobcenter.graphs.services import graph_create

    other_graph = graph_create(project=project, name="social", dialect="ges")
    keep = make_job(project, other_graph)
    body = api.post(URL, {"filter": {"graph": "movies", "status": "waiting"}}, format="json").json()
    assert body["cancelled_ids"] == [jobs["waiting"].pk]
    assert status(keep) == "waiting"
    by_date = api.post(
        URL, {"filter": {"created_before": "2000-01-01", "status": ["waiting"]}}, format="json"
    ).json()
    assert by_date == {"matched": 0, "cancelled": 0, "cancelled_ids": [], "not_cancelled": []}


def test_jobs_where_the_user_is_only_a_viewer_are_reported_not_cancelled(
    client_for, jobs, other, viewer
):
    membership_set(project=other["project"], user=viewer, role="operator")
    response = client_for(viewer).post(URL, {"filter": {"status": "waiting"}}, format="json")
    body = response.json()
    assert body["matched"] == 2
    assert body["cancelled_ids"] == [other["job"].pk]
    assert body["not_cancelled"] == [
        {"id": jobs["waiting"].pk, "reason": "you need the operator role in project alpha"}
    ]
    assert status(jobs["waiting"]) == "waiting"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "filter"),
        ({"filter": {}}, "filter"),
        ({"filter": {"status": ""}}, "filter.status"),
        ({"filter": "status=waiting"}, "filter"),
        ({"filter": {"colour": "red"}}, "filter"),
        ({"filter": {"ordering": "id"}}, "filter"),
        ({"filter": {"status": [["waiting"]]}}, "filter.status"),
        ({"filter": {"status": True}}, "filter.status"),
        # The rules of the list's query string, as the schema states them: no empty value
        # (which used to be skipped, widening the filter), strings only, one value for a
        # filter that takes one.
        ({"filter": {"status": []}}, "filter.status"),
        ({"filter": {"status": ["waiting", " "]}}, "filter.status"),
        ({"filter": {"status": "waiting", "id": ""}}, "filter.id"),
        ({"filter": {"graph": 5}}, "filter.graph"),
        ({"filter": {"graph": ["movies", "social"]}}, "filter.graph"),
        ({"filter": {"status": "sleeping"}}, "filter.status"),
        ({"filter": {"created_after": "not a date"}}, "filter.created_after"),
    ],
)
def test_bad_filters_are_400_and_cancel_nothing(api, jobs, payload, field):
    assert_error(api.post(URL, payload, format="json"), 400, "invalid", field)
    assert status(jobs["waiting"]) == "waiting"


def test_a_viewer_cancels_nothing_and_anonymous_is_401(viewer_api, client_for, jobs):
    body = viewer_api.post(URL, {"filter": {"status": "running"}}, format="json").json()
    assert (body["cancelled"], [n["id"] for n in body["not_cancelled"]]) == (
        0,
        [jobs["running"].pk],
    )
    assert_error(client_for(None).post(URL, {"filter": {"status": "waiting"}}, format="json"), 401)
    assert status(jobs["running"]) == "running"
