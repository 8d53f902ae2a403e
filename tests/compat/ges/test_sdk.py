"""The official Huawei Cloud GES SDK (huaweicloudsdkges, its own virtualenv), signing with an
access key, against a live jobcenter with a real worker: nothing mocked."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from jobcenter.credentials.models import AccessKey
from jobcenter.credentials.services import access_key_revoke
from jobcenter.jobs.choices import TERMINAL_STATUSES
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import job_submit_import
from tests.compat.conftest import graph_counts
from tests.factories.files import PACED, shared_data, write_ges_files
from tests.factories.graphs import ges_graph
from tests.factories.projects import project_with_members
from tests.factories.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def movie_body() -> dict:
    return {
        "schema_path": str(shared_data("ges_movie", "schema.xml")),
        "vertexset_path": str(shared_data("ges_movie", "vertex.csv")),
        "edgeset_path": str(shared_data("ges_movie", "edge.csv")),
        "delimiter": ",",
        "parallel_edge": {"action": "allow", "ignore_label": True},
    }


def finished(job_id: str) -> bool:
    return Job.objects.get(pk=job_id).status in TERMINAL_STATUSES


def value(reply: dict, status: int = 200) -> dict:
    assert reply["ok"] and reply["status_code"] == status, reply
    return reply["value"]


def refused(reply: dict, status: int, code: str) -> str:
    assert not reply["ok"], reply
    assert (reply["status_code"], reply["error_code"]) == (status, code), reply
    return reply["error_msg"]


def self_service_key(base_url: str, username: str, password: str) -> tuple[str, str]:
    """An access key pair made the way a user makes one: exchange the password for an API
    token, then create the pair through Huawei IAM's permanent access key API."""

    def post(path: str, body: dict, **headers: str) -> dict:
        request = urllib.request.Request(  # noqa: S310 (the live test server)
            base_url + path,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", **headers},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 (our server)
            assert response.status in (200, 201)
            return json.loads(response.read())

    token = post("/api/v1/auth/token/", {"username": username, "password": password})["token"]
    created = post(
        "/v3.0/OS-CREDENTIAL/credentials",
        {"credential": {"user_id": username, "description": "GES SDK"}},
        **{"X-Auth-Token": token},
    )["credential"]
    return created["access"], created["secret"]


def test_ges_sdk_job_center(project, operator, ges_sdk, worker_factory, imports_dir, live_server):
    ak, sk = self_service_key(live_server.url, "oscar", "pw-oscar")
    ak_key = AccessKey.objects.get(access_key=ak)
    sdk = ges_sdk(ak, sk, "alpha")

    # the official IAM SDK, signing with that key, manages the user's keys
    second = value(sdk("iam_create", user_id="oscar", description="second"), 201)["credential"]
    assert (second["user_id"], second["status"], second["description"]) == (
        "oscar",
        "active",
        "second",
    )
    assert len(second["secret"]) == 40
    assert (
        value(ges_sdk(second["access"], second["secret"], "alpha")("list_jobs2"))["job_count"] == 0
    )
    keys = value(sdk("iam_list"))["credentials"]
    assert {(k["access"], k["status"]) for k in keys} == {
        (ak, "active"),
        (second["access"], "active"),
    }
    assert all(k.get("secret") is None for k in keys)
    shown = value(sdk("iam_show", access_key=ak))["credential"]
    assert shown["last_use_time"] and shown.get("secret") is None
    deleted = sdk("iam_delete", access_key=second["access"])
    assert deleted["ok"] and deleted["status_code"] == 204, deleted
    refused(ges_sdk(second["access"], second["secret"], "alpha")("list_jobs2"), 401, "APIGW.0301")
    assert value(sdk("iam_show", access_key=second["access"]))["credential"]["status"] == (
        "inactive"
    )
    reply = sdk("iam_show", access_key="NOSUCHKEY")
    assert (reply["ok"], reply["status_code"], reply["error_code"]) == (False, 404, 404), reply
    reply = sdk("iam_create", user_id="vera")
    assert (reply["status_code"], reply["error_code"]) == (403, 403), reply
    movies = ges_graph(project, "movies")
    other = ges_graph(project, "other")

    # imports through the SDK (management plane v2) and the service plane, run by a worker
    # a stop lands while the big import runs
    worker = worker_factory(JOBCENTER_HEARTBEAT_INTERVAL="0.2", **PACED)
    movie_job = value(sdk("import_graph2", graph_id="movies", body=movie_body()))["job_id"]
    small = write_ges_files(imports_dir / "small", vertices=10, edges=10)
    service = sdk(
        "signed",
        method="POST",
        path="/ges/v1.0/alpha/graphs/other/action",
        query={"action_id": "import-graph"},
        body={
            "schemaPath": small["schema_path"],
            "vertexsetPath": small["vertexset_path"],
            "edgesetPath": small["edgeset_path"],
        },
    )
    assert service["status_code"] == 200 and set(service["body"]) == {"jobId"}, service
    other_job = service["body"]["jobId"]
    wait_for(lambda: finished(movie_job) and finished(other_job), timeout=60)

    # a running import: the "running" filter finds it, the service plane can stop it, and it
    # ends with the graph as it was
    before = graph_counts(other.pk)
    big_files = write_ges_files(imports_dir / "big", vertices=20_000, edges=4_500_000)
    big = value(sdk("import_graph2", graph_id="other", body=big_files))["job_id"]
    wait_for(lambda: Job.objects.get(pk=big).lines_done > 0, timeout=60)
    body = value(sdk("list_jobs2", status="running"))
    assert (body["job_count"], [j["job_id"] for j in body["job_list"]]) == (1, [big])
    assert body["job_list"][0]["status"] == "running" and body["job_list"][0]["end_time"] is None
    reply = sdk("signed", method="GET", path="/ges/v1.0/alpha/graphs/other/jobs/status")
    item = next(j for j in reply["body"]["jobs"] if j["jobId"] == big)
    assert (item["status"], item["canStop"], item["endTime"]) == ("running", True, None)
    reply = sdk("signed", method="DELETE", path=f"/ges/v1.0/alpha/graphs/other/jobs/{big}")
    assert (reply["status_code"], reply["body"]) == (200, {})
    wait_for(lambda: finished(big), timeout=60)
    assert Job.objects.get(pk=big).status == "cancelled"
    assert graph_counts(other.pk) == before
    reply = sdk("signed", method="GET", path=f"/ges/v1.0/alpha/graphs/other/jobs/{big}/status")
    assert reply["body"]["status"] == "cancelled"
    shown = value(sdk("show_job2", graph_id="other", job_id=big))
    assert (shown["status"], shown["fail_reason"]) == ("failed", "cancelled by oscar")
    assert worker.stop() == 0

    # with no worker running: one job left waiting, one cancelled while waiting
    waiting = job_submit_import(
        graph=other, params={"format": "ges", "request": small}, user=operator
    ).pk
    cancelled = job_submit_import(
        graph=movies, params={"format": "ges", "request": small}, user=operator
    ).pk
    reply = sdk("signed", method="DELETE", path=f"/ges/v1.0/alpha/graphs/movies/jobs/{cancelled}")
    assert (reply["status_code"], reply["body"]) == (200, {})

    # show a job with its import details, by graph name and by graph id
    for graph_ref in ("movies", movies.pk):
        shown = value(sdk("show_job2", graph_id=graph_ref, job_id=movie_job))
        assert shown["status"] == "partiallyFailed", shown
        assert (shown["job_type"], shown["job_name"]) == ("GraphManagement", "ImportGraph")
        assert shown["related_graph"] == "movies" and shown["begin_time"] and shown["end_time"]
        assert shown["job_progress"] == 100.0
        detail = shown["job_detail"]
        entry = {k: detail[k][0] for k in ("schema_path", "vertexset_path", "edgeset_path")}
        # relative to its import root, not the server path the request named
        assert entry["vertexset_path"]["path"] == "ges_movie/vertex.csv"
        assert [
            (e["status"], e["total_lines"], e["successful_lines"], e["failed_lines"])
            for e in entry.values()
        ] == [("success", 4, 4, 0), ("partFailed", 10, 6, 4), ("partFailed", 9, 5, 4)]
        assert "lines failed" in shown["fail_reason"]
    shown = value(sdk("show_job2", graph_id="other", job_id=other_job))
    assert (shown["status"], shown["fail_reason"]) == ("success", None)
    assert [e["total_lines"] for e in shown["job_detail"]["vertexset_path"]] == [10]

    # the job center list with every documented filter
    def listed(**filters) -> tuple[int, list[str]]:
        body = value(sdk("list_jobs2", **filters))
        return body["job_count"], [j["job_id"] for j in body["job_list"]]

    everything = [cancelled, waiting, big, other_job, movie_job]  # newest first
    assert listed() == (5, everything)
    assert listed(limit=2, offset=1) == (5, everything[1:3])
    assert listed(offset=4) == (5, everything[4:])
    assert listed(status="success") == (1, [other_job])
    assert listed(status="partiallyFailed") == (1, [movie_job])
    assert listed(status="waiting") == (1, [waiting])
    assert listed(status="failed") == (2, [cancelled, big])
    assert listed(status="running") == (0, [])
    assert listed(graph_name="movies") == (2, [cancelled, movie_job])
    assert listed(graph_name="other") == (3, [waiting, big, other_job])
    assert listed(graph_name="nope") == (0, [])
    today = timezone.now().date()
    day = timedelta(days=1)
    assert listed(start_time=str(today)) == (5, everything)
    assert listed(start_time=str(today + day)) == (0, [])
    assert listed(end_time=str(today)) == (4, [cancelled, big, other_job, movie_job])
    assert listed(end_time=str(today - day)) == (0, [])
    assert listed(start_time=str(today - day), end_time=str(today + day)) == (
        4,
        [cancelled, big, other_job, movie_job],
    )
    assert listed(graph_name="movies", status="failed", start_time=str(today)) == (1, [cancelled])
    msg = refused(sdk("list_jobs2", status="finished"), 400, "GES.0001")
    assert "status must be one of" in msg
    refused(sdk("list_jobs2", start_time="27/03/2019"), 400, "GES.0001")
    refused(sdk("list_jobs2", end_time="2019-02-30"), 400, "GES.0001")
    refused(sdk("list_jobs2", limit=-1), 400, "GES.0001")
    body = value(sdk("list_jobs2", status="failed", graph_name="movies"))
    assert body["job_list"][0]["fail_reason"] == "cancelled by oscar"

    # unknown ids and projects
    refused(sdk("show_job2", graph_id="movies", job_id="f" * 32), 400, "GES.7007")
    refused(sdk("show_job2", graph_id="movies", job_id=other_job), 400, "GES.7007")
    refused(sdk("show_job2", graph_id="nope", job_id=movie_job), 400, "GES.7000")
    refused(sdk("import_graph2", graph_id="nope", body=movie_body()), 400, "GES.7000")
    bad_path = {**movie_body(), "vertexset_path": "/no/such/vertex.csv"}
    assert "vertex.csv" in refused(
        sdk("import_graph2", graph_id="movies", body=bad_path), 400, "GES.7011"
    )
    project_with_members("beta")  # oscar is not a member: it answers as if it did not exist
    beta = ges_sdk(ak, sk, "beta")
    gamma = ges_sdk(ak, sk, "gamma")
    assert refused(beta("list_jobs2"), 400, "GES.0016").replace("beta", "?") == refused(
        gamma("list_jobs2"), 400, "GES.0016"
    ).replace("gamma", "?")
    refused(beta("show_job2", graph_id="movies", job_id=movie_job), 400, "GES.0016")

    # the service plane, signed by the SDK's own signer
    reply = sdk("signed", method="GET", path="/ges/v1.0/alpha/graphs/movies/jobs/status")
    assert reply["status_code"] == 200 and reply["body"]["totalCount"] == 2
    item = next(j for j in reply["body"]["jobs"] if j["jobId"] == movie_job)
    assert (item["status"], item["taskType"], item["canStop"]) == ("success", "ImportGraph", False)
    assert json.loads(item["rawRequest"]) == movie_body()
    vertex_files = next(g["vertexFiles"] for g in item["files"] if "vertexFiles" in g)
    assert (vertex_files[0]["totalLines"], vertex_files[0]["failedLines"]) == (10, 4)
    reply = sdk(
        "signed",
        method="GET",
        path="/ges/v1.0/alpha/graphs/movies/jobs/status",
        query={"limit": 1, "offset": 1},
    )
    assert [j["jobId"] for j in reply["body"]["jobs"]] == [movie_job]
    reply = sdk(
        "signed",
        method="GET",
        path=f"/ges/v1.0/alpha/graphs/movies/jobs/{movie_job}/status",
        query={"offset": 0, "limit": 10},
    )
    assert reply["status_code"] == 200 and reply["body"]["status"] == "success"
    assert reply["body"]["data"]["outputs"]["failedLines"] == 8
    reply = sdk("signed", method="GET", path="/ges/v1.0/alpha/graphs/movies/jobs/nope/status")
    assert (reply["status_code"], reply["body"]["errorCode"]) == (400, "GES.8301")
    reply = sdk("signed", method="DELETE", path=f"/ges/v1.0/alpha/graphs/movies/jobs/{movie_job}")
    assert (reply["status_code"], reply["body"]["errorCode"]) == (400, "GES.8303")
    assert Job.objects.get(pk=movie_job).status == "partially_failed"
    reply = sdk("signed", method="DELETE", path="/ges/v1.0/alpha/graphs/movies/jobs/nope")
    assert (reply["status_code"], reply["body"]["errorCode"]) == (400, "GES.8303")
    reply = sdk("signed", method="GET", path="/ges/v1.0/alpha/graphs/movidde/jobs/status")
    assert reply["body"] == {
        "errorCode": "GES.8000",
        "errorMessage": "graph : movidde not exist",
        "result": "failed",
    }

    # authentication: a wrong secret, a stale date, a revoked key are all 401
    refused(ges_sdk(ak, sk[::-1], "alpha")("list_jobs2"), 401, "APIGW.0301")
    stale = (datetime.now(UTC) - timedelta(minutes=16)).strftime("%Y%m%dT%H%M%SZ")
    reply = sdk("signed", method="GET", path="/v2/alpha/graphs/jobs", sdk_date=stale)
    assert (reply["status_code"], reply["body"]["error_code"]) == (401, "APIGW.0301")
    access_key_revoke(key=ak_key)
    refused(sdk("list_jobs2"), 401, "APIGW.0301")
