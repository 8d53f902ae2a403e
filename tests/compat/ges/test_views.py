"""GES's two planes over HTTP with X-Auth-Token (no worker: jobs stay waiting unless
cancelled). The official SDK drives the same endpoints in test_sdk.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import graph_delete_submit
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_aborted, ges_movie_cancelled, ges_movie_import
from tests.factories.projects import project_with_members

pytestmark = pytest.mark.django_db


def movie_request(*, camel: bool) -> dict:
    paths = {
        "schema": str(shared_data("ges_movie", "schema.xml")),
        "vertexset": str(shared_data("ges_movie", "vertex.csv")),
        "edgeset": str(shared_data("ges_movie", "edge.csv")),
    }
    if camel:
        return {f"{k}Path": v for k, v in paths.items()} | {"delimiter": ",", "trimQuote": '"'}
    return {f"{k}_path": v for k, v in paths.items()} | {"delimiter": ","}


@pytest.fixture
def api(operator) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_AUTH_TOKEN=Token.objects.create(user=operator).key)
    return client


@pytest.fixture
def movies(project):
    return ges_graph(project, "movies")


SERVICE = "/ges/v1.0/alpha/graphs/movies"


def service_error(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"errorCode", "errorMessage", "result"}
    return body


def mgmt_error(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error_code", "error_msg"}
    return body


def test_service_plane_import_list_status_cancel(api, movies, operator):
    request = movie_request(camel=True)
    response = api.post(f"{SERVICE}/action?action_id=import-graph", request, format="json")
    assert response.status_code == 200, response.content
    job_id = response.json()["jobId"]
    job = Job.objects.get(pk=job_id)
    assert job.request == request and job.dialect == "ges" and job.submitted_by == operator
    assert job.params["request"]["vertexset_path"] == request["vertexsetPath"]

    listed = api.get(f"{SERVICE}/jobs/status").json()
    assert listed["result"] == "success" and listed["totalCount"] == 1
    (item,) = listed["jobs"]
    assert item["jobId"] == job_id and item["status"] == "pending" and item["canStop"] is True
    assert item["taskType"] == "ImportGraph" and item["progress"] == "0"
    files = {next(iter(group)): next(iter(group.values())) for group in item["files"]}
    # shown relative to the import root, not as the server path the request named
    assert [f["fileName"] for f in files["vertexFiles"]] == ["ges_movie/vertex.csv"]
    assert [f["fileName"] for f in files["schemaFiles"]] == ["ges_movie/schema.xml"]

    status = api.get(f"{SERVICE}/jobs/{job_id}/status").json()
    assert status == {"status": "pending", "result": "success", "progress": "0"}

    # the status path does not cancel, the job path is no status query
    assert service_error(api.delete(f"{SERVICE}/jobs/{job_id}/status"), 405)
    assert service_error(api.get(f"{SERVICE}/jobs/{job_id}"), 405)
    assert Job.objects.get(pk=job_id).status == "waiting"
    response = api.delete(f"{SERVICE}/jobs/{job_id}")
    assert response.status_code == 200 and response.json() == {}
    status = api.get(f"{SERVICE}/jobs/{job_id}/status").json()
    assert status["status"] == "cancelled" and status["failReason"] == "cancelled by oscar"
    body = service_error(api.delete(f"{SERVICE}/jobs/{job_id}"))
    assert body["errorCode"] == "GES.8303" and "already finished" in body["errorMessage"]
    assert Job.objects.get(pk=job_id).status == "cancelled"


def test_service_plane_errors(api, project, movies):
    body = service_error(api.get(f"{SERVICE}/jobs/nope/status"))
    assert body == {
        "errorCode": "GES.8301",
        "errorMessage": "can not find job, jobId is nope",
        "result": "failed",
    }
    body = service_error(api.delete(f"{SERVICE}/jobs/nope"))
    assert body["errorCode"] == "GES.8303"
    assert body["errorMessage"] == "can not find job to cancel, id is nope"
    body = service_error(api.get("/ges/v1.0/alpha/graphs/movidde/jobs/status"))
    assert (body["errorCode"], body["errorMessage"]) == ("GES.8000", "graph : movidde not exist")
    project_with_members("beta")  # exists, but oscar is not in it
    outsider = service_error(api.get("/ges/v1.0/beta/graphs/movies/jobs/status"))
    missing = service_error(api.get("/ges/v1.0/gamma/graphs/movies/jobs/status"))
    assert outsider["errorCode"] == missing["errorCode"] == "GES.8006"
    assert outsider["errorMessage"].replace("beta", "X") == missing["errorMessage"].replace(
        "gamma", "X"
    )
    for query in ("limit=0", "limit=100001", "offset=-1", "limit=ten"):
        body = service_error(api.get(f"{SERVICE}/jobs/status?{query}"))
        assert body["errorCode"] == "GES.8000"
    body = service_error(api.post(f"{SERVICE}/action?action_id=explode", {}, format="json"))
    assert body["errorCode"] == "GES.8000"
    body = service_error(
        api.post(
            f"{SERVICE}/action?action_id=import-graph",
            {"vertexsetPath": "/no/such.csv"},
            format="json",
        )
    )
    assert body["errorCode"] == "GES.8013"
    # a job type the service plane cannot stop
    job = graph_delete_submit(graph=ges_graph(project, "doomed"))
    body = service_error(api.delete(f"/ges/v1.0/alpha/graphs/doomed/jobs/{job.pk}"))
    assert body["errorCode"] == "GES.8303" and "Unsupported Operation" in body["errorMessage"]
    assert Job.objects.count() == 1


def test_service_plane_paging(api, movies):
    ids = [
        api.post(
            f"{SERVICE}/action?action_id=import-graph", movie_request(camel=True), format="json"
        ).json()["jobId"]
        for _ in range(3)
    ]
    page = api.get(f"{SERVICE}/jobs/status?limit=2&offset=1").json()
    assert page["totalCount"] == 3 and [j["jobId"] for j in page["jobs"]] == ids[::-1][1:3]


def test_viewer_may_read_but_not_write(project, movies, viewer):
    client = APIClient()
    client.credentials(HTTP_X_AUTH_TOKEN=Token.objects.create(user=viewer).key)
    assert client.get(f"{SERVICE}/jobs/status").status_code == 200
    response = client.post(
        f"{SERVICE}/action?action_id=import-graph", movie_request(camel=True), format="json"
    )
    assert service_error(response, 403)["errorCode"] == "GES.8006"
    response = client.post(
        "/v2/alpha/graphs/movies/import-graph", movie_request(camel=False), format="json"
    )
    assert mgmt_error(response, 403)["error_code"] == "APIGW.0302"


def test_mgmt_import_show_and_errors(api, project, movies):
    response = api.post(
        "/v2/alpha/graphs/movies/import-graph", movie_request(camel=False), format="json"
    )
    assert response.status_code == 200, response.content
    job_id = response.json()["job_id"]
    for ref in ("movies", movies.pk):
        shown = api.get(f"/v2/alpha/graphs/{ref}/jobs/{job_id}/status").json()
        assert shown["job_id"] == job_id and shown["status"] == "pending"
        assert (shown["job_type"], shown["job_name"]) == ("GraphManagement", "ImportGraph")
        assert shown["related_graph"] == "movies" and shown["end_time"] is None
        detail = shown["job_detail"]
        assert [e["path"] for e in detail["vertexset_path"]] == ["ges_movie/vertex.csv"]
        assert detail["schema_path"][0]["status"] is None

    body = mgmt_error(api.get(f"/v2/alpha/graphs/movies/jobs/{'0' * 32}/status"))
    assert body["error_code"] == "GES.7007"
    body = mgmt_error(api.get(f"/v2/alpha/graphs/nope/jobs/{job_id}/status"))
    assert body["error_code"] == "GES.7000"
    body = mgmt_error(api.post("/v2/alpha/graphs/nope/import-graph", {}, format="json"))
    assert body["error_code"] == "GES.7000"
    body = mgmt_error(api.post("/v2/alpha/graphs/movies/import-graph", [1], format="json"))
    assert body["error_code"] == "GES.7016"
    missing = movie_request(camel=False) | {"vertexset_path": "/no/such.csv"}
    body = mgmt_error(api.post("/v2/alpha/graphs/movies/import-graph", missing, format="json"))
    assert body["error_code"] in ("GES.7011", "GES.7016") and "such.csv" in body["error_msg"]
    project_with_members("beta")
    outsider = mgmt_error(api.get("/v2/beta/graphs/jobs"))
    missing_project = mgmt_error(api.get("/v2/gamma/graphs/jobs"))
    assert outsider["error_code"] == missing_project["error_code"] == "GES.0016"
    assert mgmt_error(api.get("/v2/alpha/graphs/movies/backups"))["error_code"] == "GES.0001"


def test_mgmt_list_filters(api, project, movies):
    other = ges_graph(project, "other")
    submit = "/v2/alpha/graphs/{}/import-graph"
    movie_jobs = [
        api.post(submit.format("movies"), movie_request(camel=False), format="json").json()[
            "job_id"
        ]
        for _ in range(11)
    ]
    other_job = api.post(submit.format("other"), movie_request(camel=False), format="json").json()[
        "job_id"
    ]
    cancelled = movie_jobs[0]
    assert api.delete(f"{SERVICE}/jobs/{cancelled}").status_code == 200
    delete_job = graph_delete_submit(graph=other).pk

    def listed(query: str = "") -> tuple[int, list[str]]:
        response = api.get(f"/v2/alpha/graphs/jobs{query}")
        assert response.status_code == 200, response.content
        body = response.json()
        return body["job_count"], [j["job_id"] for j in body["job_list"]]

    newest_first = [delete_job, other_job, *movie_jobs[::-1]]
    assert listed() == (13, newest_first[:10])  # default limit 10
    assert listed("?limit=3&offset=2") == (13, newest_first[2:5])
    assert listed("?limit=100") == (13, newest_first)
    assert listed("?graph_name=other") == (2, [delete_job, other_job])
    assert listed("?status=waiting") == (12, newest_first[:-1][:10])
    assert listed("?status=pending&limit=20")[0] == 12
    assert listed("?status=failed") == (1, [cancelled])  # cancelled shows as failed
    assert listed("?status=success") == (0, [])
    assert listed("?status=partiallyFailed") == (0, [])
    assert listed("?status=running") == (0, [])
    today = timezone.now().date()
    day = timedelta(days=1)
    assert listed(f"?start_time={today}&limit=100")[0] == 13
    assert listed(f"?start_time={today + day}") == (0, [])
    assert listed(f"?end_time={today}") == (1, [cancelled])  # only it has ended
    assert listed(f"?end_time={today - day}") == (0, [])
    assert listed(f"?start_time={today}&end_time={today}&graph_name=movies&status=failed") == (
        1,
        [cancelled],
    )
    for bad in (
        "status=done",
        "start_time=2019-3-27",
        "end_time=2019-03-27T00:00:00",
        "limit=-1",
        "limit=1001",
        "offset=x",
    ):
        assert mgmt_error(api.get(f"/v2/alpha/graphs/jobs?{bad}"))["error_code"] == "GES.0001"


@pytest.mark.django_db(transaction=True)  # the worker's code runs here
def test_both_planes_claim_only_what_an_import_committed(api, movies, operator):
    """Issue 13: an import aborted by its error threshold and a cancelled one stored nothing:
    every entry is failed with 0 successful lines (what passed validation is in the added
    ``validated_lines``), the file never reached says why it was not imported, and the status
    query's ``result`` is failed. A committed import's counts are its committed lines."""
    aborted = ges_movie_aborted(movies, operator)
    cancelled = ges_movie_cancelled(movies, operator)
    for job, status, why in (
        (aborted, "failed", "import aborted"),
        (cancelled, "cancelled", "cancelled by oscar"),
    ):
        shown = api.get(f"/v2/alpha/graphs/movies/jobs/{job.pk}/status").json()
        assert shown["status"] == "failed"
        detail = shown["job_detail"]
        entries = detail["schema_path"] + detail["vertexset_path"] + detail["edgeset_path"]
        assert [(e["status"], e["successful_lines"]) for e in entries] == [("failed", 0)] * 3
        assert [e["validated_lines"] for e in entries] == [4, 6, 0]
        assert detail["edgeset_path"][0]["cause"] == f"not imported: {job.fail_reason or why}"
        assert why in detail["edgeset_path"][0]["cause"]
        body = api.get(f"{SERVICE}/jobs/{job.pk}/status").json()
        assert (body["status"], body["result"]) == (status, "failed")
        (item,) = [
            i for i in api.get(f"{SERVICE}/jobs/status").json()["jobs"] if i["jobId"] == job.pk
        ]
        files = {next(iter(group)): next(iter(group.values())) for group in item["files"]}
        (vertex,) = files["vertexFiles"]
        assert (vertex["status"], vertex["successfulLines"], vertex["validatedLines"]) == (
            "failed",
            0,
            6,
        )
        assert files["edgeFiles"][0]["status"] == "failed"
        # natively the same files: the verdicts as read, the one never reached skipped
        native = [f.status or None for f in job.files.order_by("index")]
        assert native[2] is None
    committed = ges_movie_import(movies, user=operator)
    execute_job(job_id=committed.pk)
    shown = api.get(f"/v2/alpha/graphs/movies/jobs/{committed.pk}/status").json()
    vertex = shown["job_detail"]["vertexset_path"][0]
    assert (vertex["status"], vertex["successful_lines"], vertex["validated_lines"]) == (
        "partFailed",
        6,
        6,
    )
    body = api.get(f"{SERVICE}/jobs/{committed.pk}/status").json()
    assert (body["status"], body["result"]) == ("success", "success")
