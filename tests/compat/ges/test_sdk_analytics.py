"""GES's analytics producers against a live jobcenter with a real worker, nothing mocked.

The official huaweicloudsdkges SDK (3.1.219, the newest) has clients for the management plane
only: no request class for execute-algorithm, vertex/edge queries, indices, export-result or
the service plane's job status. So the SDK imports the graphs (ImportGraph2) and reads the job
center (ListJobs2, ShowJob2); the service plane is driven with requests signed by the SDK's
own SDK-HMAC-SHA256 Signer, and with an X-Auth-Token."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

import pytest

from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import result_path
from tests.compat.ges.test_sdk import movie_body, refused, self_service_key, value
from tests.factories.files import random_ges_files
from tests.factories.graphs import ges_graph
from tests.factories.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def finished(job_id: str) -> bool:
    return Job.objects.get(pk=job_id).status in TERMINAL_STATUSES


def http(base: str, method: str, path: str, token: str, body: Any = None) -> tuple[int, Any]:
    """A plain request with an X-Auth-Token, as GES's own examples make them."""
    request = urllib.request.Request(  # noqa: S310 (the live test server)
        base + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json", "X-Auth-Token": token},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_ges_analytics_over_a_live_server(
    project, ges_sdk, worker_factory, imports_dir, live_server
):
    ak, sk = self_service_key(live_server.url, "oscar", "pw-oscar")
    sdk = ges_sdk(ak, sk, "alpha")
    ges_graph(project, "movies")
    ges_graph(project, "big")
    worker = worker_factory(JOBCENTER_HEARTBEAT_INTERVAL="0.2")

    def signed(method: str, path: str, query: dict | None = None, body: Any = None) -> dict:
        return sdk(
            "signed", method=method, path=f"/ges/v1.0/alpha/graphs/{path}", query=query, body=body
        )

    def ges_status(graph: str, job_id: str, **query: Any) -> dict:
        reply = signed("GET", f"{graph}/jobs/{job_id}/status", query or None)
        assert reply["status_code"] == 200, reply
        return reply["body"]

    def produced(reply: dict) -> str:
        assert reply["status_code"] == 200 and set(reply["body"]) == {"jobId"}, reply
        return reply["body"]["jobId"]

    # the SDK imports the movie graph and a generated one (150,000 random edges)
    imports = [
        value(sdk("import_graph2", graph_id="movies", body=movie_body()))["job_id"],
        value(
            sdk(
                "import_graph2",
                graph_id="big",
                body=random_ges_files(
                    imports_dir / "random", vertices=30_000, edges=150_000, seed=7
                ),
            )
        )["job_id"],
    ]
    wait_for(lambda: all(finished(j) for j in imports), timeout=120)
    assert Job.objects.get(pk=imports[1]).status == JobStatus.SUCCEEDED

    # an algorithm, signed; its result read page by page through the job status
    pagerank = produced(
        signed(
            "POST",
            "movies/action",
            {"action_id": "execute-algorithm"},
            {"algorithmName": "pagerank", "parameters": {"alpha": 0.85, "max_iterations": 100}},
        )
    )
    wait_for(lambda: ges_status("movies", pagerank)["status"] == "success", timeout=60)
    first = ges_status("movies", pagerank, offset=0, limit=4)["data"]["outputs"]
    rest = ges_status("movies", pagerank, offset=4, limit=4)["data"]["outputs"]
    assert (first["data_total_size"], first["data_return_size"], rest["data_return_size"]) == (
        6,
        4,
        2,
    )
    ranks = {k: v for e in first["pagerank"] + rest["pagerank"] for k, v in e.items()}
    assert len(ranks) == 6 and sum(ranks.values()) == pytest.approx(1.0)

    # a filtered query with an X-Auth-Token (a token for the password, as any client gets one)
    _, answer = http(
        live_server.url,
        "POST",
        "/api/v1/auth/token/",
        "",
        {"username": "oscar", "password": "pw-oscar"},
    )
    token = answer["token"]
    query = {
        "labels": ["user"],
        "vertexFilters": [{"propertyName": "Age", "predicate": ">", "values": ["20"]}],
        "sorts": [{"key": "id", "orderValue": "decr"}],
    }
    code, body = http(
        live_server.url,
        "POST",
        "/ges/v1.0/alpha/graphs/movies/vertices/action?action_id=query",
        token,
        query,
    )
    assert code == 200 and set(body) == {"jobId"}, body
    query_job = body["jobId"]
    path = f"/ges/v1.0/alpha/graphs/movies/jobs/{query_job}/status?limit=1"
    wait_for(
        lambda: http(live_server.url, "GET", path, token)[1]["status"] == "success", timeout=60
    )
    outputs = http(live_server.url, "GET", path, token)[1]["data"]["outputs"]
    assert outputs["data_total_size"] == 2 and outputs["vertices"][0]["id"] == "Vivian"
    assert outputs["vertices"][0]["properties"]["Age"] == [31]

    # the service plane's list shows them; the SDK's job center lists graph management only
    jobs = signed("GET", "movies/jobs/status")["body"]["jobs"]
    kinds = {j["jobId"]: (j["taskType"], j["canStop"], j["status"]) for j in jobs}
    assert kinds[pagerank] == ("Algorithm", False, "success")
    assert kinds[query_job] == ("VertexQuery", False, "success")
    listed = value(sdk("list_jobs2", limit=100))
    assert {j["job_name"] for j in listed["job_list"]} == {"ImportGraph"}
    shown = value(sdk("show_job2", graph_id="movies", job_id=pagerank))
    assert (shown["status"], shown["job_type"], shown["related_graph"]) == (
        "success",
        "Algorithm",
        "movies",
    )

    # a running louvain on the generated graph, cancelled through the service plane
    louvain = produced(
        signed(
            "POST", "big/action", {"action_id": "execute-algorithm"}, {"algorithmName": "louvain"}
        )
    )
    wait_for(lambda: Job.objects.get(pk=louvain).progress >= 50.0, timeout=90, interval=0.02)
    item = next(
        j for j in signed("GET", "big/jobs/status")["body"]["jobs"] if j["jobId"] == louvain
    )
    assert (item["status"], item["canStop"], item["taskType"]) == ("running", True, "Algorithm")
    requested = time.monotonic()
    reply = signed("DELETE", f"big/jobs/{louvain}")
    assert (reply["status_code"], reply["body"]) == (200, {})
    wait_for(lambda: finished(louvain), timeout=30, interval=0.02)
    took = time.monotonic() - requested
    assert Job.objects.get(pk=louvain).status == JobStatus.CANCELLED
    assert took < 2.0, f"louvain stopped {took:.2f}s after the cancel request"
    body = ges_status("big", louvain)
    assert (body["status"], body["failReason"]) == ("cancelled", "cancelled by oscar")
    assert not result_path(louvain).exists()
    reply = signed("DELETE", f"big/jobs/{louvain}")
    assert (reply["status_code"], reply["body"]["errorCode"]) == (400, "GES.8303")

    # the documented codes, signed
    reply = signed(
        "POST",
        "movies/action",
        {"action_id": "execute-algorithm"},
        {"algorithmName": "sssp", "parameters": {"source": "Ghost"}},
    )
    assert (reply["status_code"], reply["body"]["errorCode"]) == (400, "GES.8402")
    assert "parameter [source] is invalid!" in reply["body"]["errorMessage"]
    reply = signed("POST", "movies/vertices/action", {"action_id": "query"}, {"labels": ["ship"]})
    assert (reply["status_code"], reply["body"]["errorCode"]) == (400, "GES.8201")
    reply = signed("POST", "movies/indices", None, {"indexName": "x", "indexType": "FullTextIndex"})
    assert (reply["status_code"], reply["body"]["errorCode"]) == (400, "GES.8603")
    reply = signed(
        "POST", f"nope/jobs/{pagerank}/action", {"action_id": "export-result"}, {"exportPath": "x"}
    )
    assert (reply["status_code"], reply["body"]["errorCode"]) == (400, "GES.8011")
    refused(sdk("show_job2", graph_id="nope", job_id=pagerank), 400, "GES.7000")
    assert worker.stop() == 0
