"""Pagination (limit/offset with a total, cursors for deep pages), stable order, one response
shape for every job state, UTC times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from jobcenter.api.pagination import MAX_LIMIT
from jobcenter.jobs.models import Job
from tests.api.conftest import assert_error
from tests.api.test_job_detail import CHAIN_KEYS, FILE_KEYS, JOB_KEYS, TOTAL_KEYS
from tests.factories.jobs import make_job

URL = "/api/v1/jobs/"
ENVELOPE = {"count", "count_exact", "next", "previous", "results"}
UTC_ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(project, graph) -> list[str]:
    """120 jobs, one a minute; returns their ids newest first (the default order)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    ids = []
    for i in range(120):
        job = make_job(project, graph)
        Job.objects.filter(pk=job.pk).update(created_at=start + timedelta(minutes=i))
        ids.append(job.pk)
    return ids[::-1]


def page_ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [row["id"] for row in response.json()["results"]]


def test_limit_offset_with_a_total_and_links(api, many):
    first = api.get(URL, {"limit": 50})
    body = first.json()
    assert set(body) == ENVELOPE
    assert (body["count"], body["previous"]) == (120, None)
    assert page_ids(first) == many[:50]
    assert body["next"] == "http://testserver/api/v1/jobs/?limit=50&offset=50"
    second = api.get(body["next"])
    assert page_ids(second) == many[50:100]
    assert second.json()["previous"] == "http://testserver/api/v1/jobs/?limit=50"
    last = api.get(second.json()["next"])
    assert page_ids(last) == many[100:] and last.json()["next"] is None
    beyond = api.get(URL, {"limit": 50, "offset": 500}).json()
    assert (beyond["count"], beyond["results"], beyond["next"]) == (120, [], None)
    assert beyond["previous"] == "http://testserver/api/v1/jobs/?limit=50&offset=70"


def test_filters_are_kept_in_the_links(api, many):
    body = api.get(URL, {"status": "waiting", "limit": 10, "ordering": "created_at"}).json()
    assert "status=waiting" in body["next"] and "ordering=created_at" in body["next"]
    assert page_ids(api.get(body["next"])) == many[::-1][10:20]


def test_default_and_maximum_page_size(api, many, project, graph):
    assert len(api.get(URL).json()["results"]) == 50
    for _ in range(MAX_LIMIT + 5 - len(many)):
        make_job(project, graph)
    assert len(api.get(URL, {"limit": MAX_LIMIT}).json()["results"]) == MAX_LIMIT
    body = assert_error(api.get(URL, {"limit": MAX_LIMIT + 1}), 400, "invalid", "limit")
    assert f"from 1 to {MAX_LIMIT}" in body["message"]


def walk(api: Any, url: str, key: str = "next") -> tuple[list[str], int]:
    body = api.get(url).json()
    ids, pages = [r["id"] for r in body["results"]], 1
    while body[key]:
        body = api.get(body[key]).json()
        ids += [r["id"] for r in body["results"]]
        pages += 1
        assert body["count"] is None
    return ids, pages


def test_cursor_mode_walks_every_row_once_both_ways(api, many):
    forward, pages = walk(api, URL + "?cursor=&limit=25")
    assert forward == many and pages == 5
    last = api.get(URL, {"cursor": "", "limit": 25}).json()
    while last["next"]:
        last = api.get(last["next"]).json()
    backward = [r["id"] for r in last["results"]]
    body = last
    while body["previous"]:
        body = api.get(body["previous"]).json()
        backward = [r["id"] for r in body["results"]] + backward
    assert backward == many


def test_an_offset_in_cursor_mode_skips_rows_from_the_cursor(api, many):
    """What the schema allows (the parameters are independent) the API takes: ``offset`` with
    a cursor counts from the cursor's position, and the links go on from their own cursors."""
    first = api.get(URL, {"cursor": "", "offset": 5, "limit": 10})
    assert page_ids(first) == many[5:15]
    body = first.json()
    assert body["count"] is None
    assert "offset" not in body["next"] and "offset" not in body["previous"]
    assert page_ids(api.get(body["next"])) == many[15:25]
    assert page_ids(api.get(body["previous"])) == many[:5]  # the rows it skipped
    deeper = api.get(body["next"] + "&offset=20")
    assert page_ids(deeper) == many[35:45]
    back = api.get(deeper.json()["previous"] + "&offset=10")
    assert page_ids(back) == many[15:25]  # ten rows before the page skipped, going back
    assert page_ids(api.get(URL, {"cursor": "", "offset": 500})) == []


def test_cursor_pages_do_not_shift_when_jobs_arrive(api, many, project, graph):
    first = api.get(URL, {"cursor": "", "limit": 30}).json()
    for _ in range(5):
        make_job(project, graph)  # newer than everything listed
    second = api.get(first["next"]).json()
    assert [r["id"] for r in second["results"]] == many[30:60]


def test_stable_tie_break_when_every_job_has_the_same_time(api, project, graph):
    for _ in range(37):
        make_job(project, graph)
    Job.objects.update(created_at=datetime(2026, 5, 5, tzinfo=UTC))
    expected = sorted(Job.objects.values_list("pk", flat=True), reverse=True)
    offset_ids = []
    for offset in range(0, 37, 10):
        offset_ids += page_ids(api.get(URL, {"limit": 10, "offset": offset}))
    assert offset_ids == expected
    assert walk(api, URL + "?cursor=&limit=10")[0] == expected
    ascending, _ = walk(api, URL + "?cursor=&limit=7&ordering=created_at")
    assert ascending == expected[::-1]


def test_other_lists_share_the_envelope_and_the_modes(api, jobs, project):
    job = jobs["partially_failed"]
    for url in (
        "/api/v1/graphs/",
        "/api/v1/projects/",
        "/api/v1/projects/alpha/members/",
        f"/api/v1/jobs/{job.pk}/timeline/",
        f"/api/v1/jobs/{job.pk}/files/",
        f"/api/v1/jobs/{job.pk}/failed-lines/",
    ):
        offset = api.get(url, {"limit": 1}).json()
        assert set(offset) == ENVELOPE and offset["count"] >= 1, url
        everything = [r for r in api.get(url, {"limit": 500}).json()["results"]]
        cursor_rows, _ = [], None
        body = api.get(url, {"limit": 1, "cursor": ""}).json()
        cursor_rows += body["results"]
        while body["next"]:
            body = api.get(body["next"]).json()
            cursor_rows += body["results"]
        assert cursor_rows == everything, url


def test_every_state_has_the_same_keys_with_nulls_not_missing_keys(api, jobs):
    listed = api.get(URL).json()["results"]
    assert {r["status"] for r in listed} == set(jobs)
    for row in listed:
        assert set(row) == JOB_KEYS, row["status"]
    waiting = next(r for r in listed if r["status"] == "waiting")
    for key in ("started_at", "finished_at", "fail_reason", "result", "cancel_requested_by"):
        assert waiting[key] is None
    for job in jobs.values():
        detail = api.get(f"{URL}{job.pk}/").json()
        assert set(detail) == JOB_KEYS | TOTAL_KEYS | {"request", "phase", "files"} | CHAIN_KEYS
        assert all(set(f) == FILE_KEYS for f in detail["files"])


def test_times_are_utc_iso_8601_whatever_time_zone_is_active(api, jobs):
    with timezone.override("Asia/Tokyo"):
        body = api.get(f"{URL}{jobs['cancelled'].pk}/").json()
        events = api.get(f"{URL}{jobs['cancelled'].pk}/timeline/").json()["results"]
        graphs = api.get("/api/v1/graphs/").json()["results"]
    times = [body[k] for k in ("created_at", "finished_at", "cancel_requested_at")]
    times += [e["at"] for e in events] + [g["created_at"] for g in graphs]
    assert all(UTC_ISO.match(t) for t in times), times
    stored = Job.objects.get(pk=jobs["cancelled"].pk).created_at
    assert datetime.fromisoformat(body["created_at"]) == stored
