"""GET /api/v1/jobs/: what is listed, every filter of the shared JobFilterSet, and ordering."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from jobcenter.jobs.choices import JobType
from jobcenter.jobs.filtersets import ORDERING_FIELDS
from jobcenter.jobs.models import Job
from tests.api.conftest import assert_error
from tests.factories.jobs import make_job

URL = "/api/v1/jobs/"

pytestmark = pytest.mark.django_db


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def newest_first(jobs: list[Job]) -> list[str]:
    rows = Job.objects.filter(pk__in=[j.pk for j in jobs]).order_by("-created_at", "-id")
    return [j.pk for j in rows]


def test_lists_the_jobs_of_my_projects_newest_first(api, jobs, other):
    response = api.get(URL)
    assert ids(response) == newest_first(list(jobs.values()))
    assert response.json()["count"] == len(jobs)
    assert other["job"].pk not in ids(response)


def test_a_superuser_sees_every_project(admin_api, jobs, other):
    assert set(ids(admin_api.get(URL))) == {j.pk for j in jobs.values()} | {other["job"].pk}


def test_status_filter_takes_several_values(api, jobs):
    assert ids(api.get(URL, {"status": "running"})) == [jobs["running"].pk]
    both = {jobs["running"].pk, jobs["waiting"].pk}
    assert set(ids(api.get(URL + "?status=running&status=waiting"))) == both
    assert set(ids(api.get(URL, {"status": "running,waiting"}))) == both
    assert ids(api.get(URL, {"status": "succeeded,partially_failed"})) == newest_first(
        [jobs["succeeded"], jobs["partially_failed"]]
    )


def test_type_filter(api, jobs, project, graph):
    delete = make_job(project, graph)
    Job.objects.filter(pk=delete.pk).update(type=JobType.GRAPH_OPERATION, name="DeleteGraph")
    assert ids(api.get(URL, {"type": "graph_operation"})) == [delete.pk]
    assert len(ids(api.get(URL, {"type": "import"}))) == len(jobs)
    assert len(ids(api.get(URL, {"type": "import,graph_operation"}))) == len(jobs) + 1


def test_graph_filter_by_name_or_id(api, jobs, project):
    from jobcenter.graphs.services import graph_create

    social = graph_create(project=project, name="social", dialect="ges")
    mine = make_job(project, social)
    assert ids(api.get(URL, {"graph": "social"})) == [mine.pk]
    assert ids(api.get(URL, {"graph": social.pk})) == [mine.pk]
    assert ids(api.get(URL, {"graph": "nope"})) == []


def test_project_and_submitter_filters(admin_api, jobs, other, operator):
    assert ids(admin_api.get(URL, {"project": "beta"})) == [other["job"].pk]
    mine = [j for j in jobs.values() if j.submitted_by_id == operator.pk]
    assert ids(admin_api.get(URL, {"submitted_by": "oscar"})) == newest_first(mine)
    assert ids(admin_api.get(URL, {"submitted_by": "bob"})) == [other["job"].pk]


def test_id_filter_takes_an_id_or_a_prefix(api, jobs):
    job = jobs["failed"]
    assert ids(api.get(URL, {"id": job.pk})) == [job.pk]
    assert ids(api.get(URL, {"id": job.pk[:20]})) == [job.pk]
    assert ids(api.get(URL, {"id": job.pk[:20].upper()})) == [job.pk]
    assert set(ids(api.get(URL, {"id": job.pk[:4]}))) == {j.pk for j in jobs.values()}
    assert ids(api.get(URL, {"id": "zz%_"})) == []


def test_free_text_search_over_name_graph_and_fail_reason(api, jobs, project):
    Job.objects.filter(pk=jobs["waiting"].pk).update(name="NightlyLoad")
    Job.objects.filter(pk=jobs["running"].pk).update(graph_name="Social-Network")
    Job.objects.filter(pk=jobs["failed"].pk).update(fail_reason="disk full on worker 3")
    assert ids(api.get(URL, {"q": "nightly"})) == [jobs["waiting"].pk]
    assert ids(api.get(URL, {"q": "social"})) == [jobs["running"].pk]
    assert ids(api.get(URL, {"q": "DISK FULL"})) == [jobs["failed"].pk]
    assert ids(api.get(URL, {"q": "  "})) == newest_first(list(jobs.values()))


@pytest.fixture
def dated(project, graph) -> dict[str, Job]:
    """Three jobs around midnight UTC between 2 and 3 January 2026."""
    times = {
        "a": ("2026-01-01T10:00:00Z", "2026-01-01T10:00:05Z", "2026-01-01T11:00:00Z"),
        "b": ("2026-01-02T23:30:00Z", "2026-01-02T23:59:59.999999Z", None),
        "c": ("2026-01-03T00:30:00Z", None, None),
    }
    out = {}
    for name, (created, started, finished) in times.items():
        job = make_job(project, graph)
        Job.objects.filter(pk=job.pk).update(
            created_at=at(created),
            started_at=at(started) if started else None,
            finished_at=at(finished) if finished else None,
        )
        out[name] = job
    return out


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"created_after": "2026-01-02"}, "bc"),
        ({"created_before": "2026-01-02"}, "ab"),  # a date means the whole day
        ({"created_after": "2026-01-02", "created_before": "2026-01-02"}, "b"),
        ({"created_before": "2026-01-01"}, "a"),
        ({"created_after": "2026-01-03T01:00:00+02:00"}, "bc"),  # = 2 Jan 23:00 UTC
        ({"created_after": "2026-01-02T23:30:00"}, "bc"),  # no offset: UTC, inclusive
        ({"created_before": "2026-01-02T23:30:00Z"}, "ab"),  # inclusive
        ({"created_before": "2026-01-02T18:29:59-05:00"}, "a"),
        ({"created_after": "2026-01-02T23:30:00.000001Z"}, "c"),
        ({"started_after": "2026-01-02"}, "b"),
        ({"started_before": "2026-01-02"}, "ab"),
        ({"finished_after": "2026-01-01"}, "a"),
        ({"finished_before": "2025-12-31"}, ""),
        ({"created_before": "9999-12-31"}, "abc"),
        ({"created_after": "0001-01-01"}, "abc"),
    ],
)
def test_date_and_datetime_ranges(api, dated, params, expected):
    assert set(ids(api.get(URL, params))) == {dated[k].pk for k in expected}


@pytest.mark.parametrize("field", ORDERING_FIELDS)
@pytest.mark.parametrize("descending", [False, True])
def test_ordering_on_every_column_with_a_stable_tie_break(api, jobs, field, descending):
    rows = list(Job.objects.filter(pk__in=[j.pk for j in jobs.values()]))
    # Ties on purpose: half the jobs share a name and a progress value.
    Job.objects.filter(pk__in=[j.pk for j in rows[::2]]).update(name="Same", progress=50.0)
    rows = list(Job.objects.filter(pk__in=[j.pk for j in rows]))
    present = [j for j in rows if getattr(j, field) is not None]
    empty = [j for j in rows if getattr(j, field) is None]
    present.sort(key=lambda j: (getattr(j, field), j.pk), reverse=descending)
    empty.sort(key=lambda j: j.pk, reverse=descending)
    expected = [j.pk for j in present + empty]  # empty values last, in either direction
    ordering = ("-" if descending else "") + field
    assert ids(api.get(URL, {"ordering": ordering, "limit": 50})) == expected
    cursor = api.get(URL, {"ordering": ordering, "limit": 3, "cursor": ""})
    seen = ids(cursor)
    while cursor.json()["next"]:
        cursor = api.get(cursor.json()["next"])
        seen += ids(cursor)
    assert seen == expected


def test_unknown_ordering_and_bad_filter_values_are_400(api, jobs):
    assert_error(api.get(URL, {"ordering": "password"}), 400, "invalid", "ordering")
    assert_error(api.get(URL, {"status": "sleeping"}), 400, "invalid", "status")
    assert_error(api.get(URL, {"type": "teleport"}), 400, "invalid", "type")
    assert_error(api.get(URL, {"created_after": "yesterday"}), 400, "invalid", "created_after")
