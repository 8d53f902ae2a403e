"""GET /api/v1/jobs/{id}/, its files (list and one) and its timeline."""

from __future__ import annotations

import pytest

from jobcenter.jobs.models import JobFile
from jobcenter.jobs.services import job_cancel
from tests.api.conftest import assert_error, run_job
from tests.factories import ges_movie_import

pytestmark = pytest.mark.django_db

JOB_KEYS = {
    "id",
    "type",
    "name",
    "project",
    "graph",
    "graph_name",
    "status",
    "progress",
    "dialect",
    "cancellable",
    "fail_reason",
    "result",
    "created_at",
    "started_at",
    "finished_at",
    "submitted_by",
    "cancel_requested_by",
    "cancel_requested_at",
    "retry_of",
    "lines_done",
    "lines_total",
    "lines_per_second",
    "seconds_remaining",
}
# An import's line totals over its data files (null for other jobs).
TOTAL_KEYS = {"successful_lines", "failed_lines", "failed_lines_kept", "committed_lines"}
FILE_KEYS = {
    "index",
    "role",
    "path",
    "status",
    "cause",
    "total_lines",
    "successful_lines",
    "failed_lines",
    "failed_lines_kept",
    "committed_lines",
    "bytes_read",
    "bytes_total",
    "started_at",
    "finished_at",
}


def test_detail_has_the_request_as_submitted_and_every_file(api, graph, operator):
    job = ges_movie_import(graph, user=operator, delimiter=",")
    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert set(body) == JOB_KEYS | TOTAL_KEYS | {"request", "files"}
    assert body["request"]["request"]["delimiter"] == ","
    assert body["request"]["request"]["vertexset_path"].endswith("ges_movie/vertex.csv")
    assert [f["role"] for f in body["files"]] == ["schema", "vertex", "edge"]
    assert all(set(f) == FILE_KEYS for f in body["files"])
    assert body["files"][1]["bytes_total"] > 0
    assert body["files"][1]["status"] is None  # not started: null, not ""
    assert (body["status"], body["submitted_by"], body["graph_name"]) == (
        "waiting",
        "oscar",
        "movies",
    )


def test_running_job_shows_progress_rate_and_estimate(api, jobs):
    body = api.get(f"/api/v1/jobs/{jobs['running'].pk}/").json()
    assert (body["status"], body["progress"], body["lines_done"], body["lines_total"]) == (
        "running",
        40.0,
        40,
        100,
    )
    assert body["lines_per_second"] == 20.0
    assert body["seconds_remaining"] == 3.0  # 60 lines left at 20 lines/s
    assert body["started_at"].endswith("Z") and body["finished_at"] is None


def test_finished_job_shows_result_and_reason(api, jobs):
    body = api.get(f"/api/v1/jobs/{jobs['partially_failed'].pk}/").json()
    assert body["status"] == "partially_failed"
    assert body["result"] == {"lines_failed": 3}
    assert body["fail_reason"] == "some lines failed"
    assert body["seconds_remaining"] is None and body["cancellable"] is False
    assert body["files"][0]["status"] == "partFailed"


def test_files_list_and_one_file_with_its_log(api, jobs):
    job = jobs["partially_failed"]
    JobFile.objects.filter(job=job, index=1).update(log="read 10 lines\n", cause="")
    files = api.get(f"/api/v1/jobs/{job.pk}/files/").json()
    assert files["count"] == 2
    assert [f["index"] for f in files["results"]] == [0, 1]
    one = api.get(f"/api/v1/jobs/{job.pk}/files/1/").json()
    assert set(one) == FILE_KEYS | {"log"}
    assert (one["path"], one["log"], one["cause"]) == ("edge.csv", "read 10 lines\n", None)
    assert api.get(f"/api/v1/jobs/{job.pk}/files/0/").json()["log"] is None


def test_unknown_job_or_file_is_404_in_the_error_shape(api, jobs):
    job = jobs["waiting"]
    assert_error(api.get("/api/v1/jobs/" + "f" * 32 + "/"), 404, "not_found", "job_id")
    assert_error(api.get(f"/api/v1/jobs/{job.pk}/files/2/"), 404, "not_found", "index")
    assert_error(api.get(f"/api/v1/jobs/{job.pk}/files/-1/"), 404, "not_found")
    assert_error(api.get(f"/api/v1/jobs/{job.pk}/files/99999999999/"), 404, "not_found")
    assert_error(api.get("/api/v1/jobs/..%2F..%2Fetc/"), 404, "not_found")


def test_timeline_says_who_did_what_and_when(api, graph, operator, viewer):
    job = ges_movie_import(graph, user=operator)
    run_job(job)
    job_cancel(job=job, user=operator)
    events = api.get(f"/api/v1/jobs/{job.pk}/timeline/").json()
    kinds = [(e["kind"], e["actor"]) for e in events["results"]]
    assert kinds == [("submitted", "oscar"), ("started", None), ("cancel_requested", "oscar")]
    assert all(e["at"].endswith("Z") for e in events["results"])
    assert events["results"][1]["message"] == "worker w1"
    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert (body["status"], body["cancel_requested_by"]) == ("cancelling", "oscar")
    assert body["cancel_requested_at"].endswith("Z")
