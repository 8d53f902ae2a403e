"""GET /api/v1/jobs/{id}/, its files (list and one) and its timeline."""

from __future__ import annotations

import pytest

from jobcenter.jobs.models import JobFile
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_cancel
from tests.api.conftest import assert_error
from tests.factories.jobs import ges_movie_aborted, ges_movie_cancelled, ges_movie_import, run_job

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
    "dry_run",  # issue 17
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
# A job's place in a chain (issue 17).
CHAIN_KEYS = {"depends_on", "accept_partial", "dependents", "waiting_for"}
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
    assert set(body) == JOB_KEYS | TOTAL_KEYS | {"request", "phase", "files"} | CHAIN_KEYS
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


# --- validated and committed lines, and files the job did not finish (issue 13) ----------------


def counts(body: dict) -> tuple:
    return tuple(
        body[k]
        for k in ("successful_lines", "failed_lines", "failed_lines_kept", "committed_lines")
    )


def file_counts(body: dict) -> list[tuple]:
    return [(f["role"], f["status"], *counts(f)) for f in body["files"]]


@pytest.mark.django_db(transaction=True)  # the worker's code runs here
def test_an_import_aborted_by_the_error_threshold_validated_lines_and_committed_none(
    api, graph, operator
):
    job = ges_movie_aborted(graph, operator)
    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["status"] == "failed" and "error threshold" in body["fail_reason"]
    assert counts(body) == (6, 4, 4, 0)
    assert file_counts(body) == [
        ("schema", "success", 4, 0, 0, 0),
        ("vertex", "failed", 6, 4, 4, 0),  # the file the abort happened in
        ("edge", "skipped", 0, 0, 0, 0),  # never reached
    ]
    listed = api.get(f"/api/v1/jobs/{job.pk}/files/").json()["results"]
    assert [(f["status"], f["committed_lines"]) for f in listed] == [
        ("success", 0),
        ("failed", 0),
        ("skipped", 0),
    ]
    one = api.get(f"/api/v1/jobs/{job.pk}/files/2/").json()
    assert (one["status"], one["committed_lines"]) == ("skipped", 0)


def test_a_cancelled_import_shows_what_it_validated_and_that_it_committed_nothing(
    api, graph, operator
):
    job = ges_movie_cancelled(graph, operator)
    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["status"] == "cancelled"
    assert counts(body) == (6, 4, 0, 0)  # the worker kept no failed line before it stopped
    assert [(f["status"], f["successful_lines"], f["committed_lines"]) for f in body["files"]] == [
        ("success", 4, 0),
        ("partFailed", 6, 0),
        ("skipped", 0, 0),
    ]


@pytest.mark.django_db(transaction=True)  # the worker's code runs here
def test_a_committed_import_committed_its_valid_lines(api, graph, operator):
    job = ges_movie_import(graph, user=operator)
    waiting = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert counts(waiting) == (0, 0, 0, None)  # nothing is decided while the job is active
    assert {(f["status"], f["committed_lines"]) for f in waiting["files"]} == {(None, None)}
    execute_job(job_id=job.pk)
    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert body["status"] == "partially_failed"
    assert counts(body) == (11, 8, 8, 11)
    assert file_counts(body) == [
        ("schema", "success", 4, 0, 0, 4),
        ("vertex", "partFailed", 6, 4, 4, 6),
        ("edge", "partFailed", 5, 4, 4, 5),
    ]


@pytest.mark.django_db(transaction=True)  # the worker's code runs here
def test_jobs_other_than_imports_have_no_line_totals(api, graph, operator):
    execute_job(job_id=ges_movie_import(graph, user=operator).pk)
    response = api.post(
        f"/api/v1/graphs/{graph.pk}/algorithms/",
        {"algorithm": "pagerank", "parameters": {}},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = api.get(f"/api/v1/jobs/{response.json()['id']}/").json()
    assert counts(body) == (None, None, None, None) and body["files"] == []
