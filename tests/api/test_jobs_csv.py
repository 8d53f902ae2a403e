"""GET /api/v1/jobs.csv: the whole filtered job list as a CSV download."""

from __future__ import annotations

import csv
import io

import pytest

from jobcenter.jobs.downloads import JOBS_HEADER
from tests.api.conftest import assert_error
from tests.factories.jobs import make_job

pytestmark = pytest.mark.django_db


def rows_of(response) -> list[list[str]]:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="jobs-')
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_every_job_matching_in_the_list_order_not_one_page(api, jobs, other):
    rows = rows_of(api.get("/api/v1/jobs.csv"))
    assert rows[0] == JOBS_HEADER
    listed = api.get("/api/v1/jobs/", {"limit": 100}).json()["results"]
    assert [r[0] for r in rows[1:]] == [j["id"] for j in listed]  # newest first, same jobs
    assert other["job"].pk not in {r[0] for r in rows}  # another project's job is not there
    by_id = {r[0]: dict(zip(JOBS_HEADER, r, strict=True)) for r in rows[1:]}
    failed = by_id[jobs["partially_failed"].pk]
    assert (failed["status"], failed["project"], failed["graph"]) == (
        "partially_failed",
        "alpha",
        "movies",
    )
    assert failed["created_at"].endswith("Z") and failed["finished_at"].endswith("Z")
    assert float(failed["duration_seconds"]) >= 0
    waiting = by_id[jobs["waiting"].pk]
    assert (waiting["started_at"], waiting["duration_seconds"], waiting["submitted_by"]) == (
        "",
        "",
        "oscar",
    )


def test_filters_and_ordering_apply_and_the_whole_set_streams(api, project, graph, jobs):
    for _ in range(120):
        make_job(project, graph)
    waiting = rows_of(api.get("/api/v1/jobs.csv", {"status": "waiting", "ordering": "id"}))
    ids = [r[0] for r in waiting[1:]]
    assert len(ids) == 121 and ids == sorted(ids)  # more than a page, in the asked order
    assert {r[5] for r in waiting[1:]} == {"waiting"}


def test_bad_filters_are_400_and_anonymous_401(api, client_for, jobs):
    assert_error(api.get("/api/v1/jobs.csv", {"status": "sleeping"}), 400, "invalid", "status")
    assert_error(api.get("/api/v1/jobs.csv", {"limit": "5"}), 400, "invalid", "limit")
    assert_error(client_for(None).get("/api/v1/jobs.csv"), 401)
