"""GES's analytics producers over HTTP with X-Auth-Token: execute-algorithm, vertex and edge
queries, indices and export-result, their jobs in the service plane's list and status (the
result pages in GES's shape), cancel, and the documented error codes. Jobs run in this process
(the runner with its heartbeat thread); a real worker process and signed requests are in
test_sdk_analytics.py."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.graphs.models import Graph
from jobcenter.graphs.selectors import graph_index_list
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db(transaction=True)

SERVICE = "/ges/v1.0/alpha/graphs/movies"


def run(job_id: str) -> Job:
    execute_job(job_id=job_id)
    return Job.objects.get(pk=job_id)


def token_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_AUTH_TOKEN=Token.objects.create(user=user).key)
    return client


@pytest.fixture
def api(operator) -> APIClient:
    return token_client(operator)


@pytest.fixture
def movies(project) -> Graph:
    graph = ges_graph(project, "movies")
    assert run(ges_movie_import(graph).pk).status == JobStatus.PARTIALLY_FAILED
    return Graph.objects.get(pk=graph.pk)


def submitted(response: Any) -> str:
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"jobId"}
    return body["jobId"]


def refused(response: Any, code: str) -> str:
    assert response.status_code == 400, response.content
    body = response.json()
    assert set(body) == {"errorCode", "errorMessage", "result"}
    assert body["errorCode"] == code, body
    return body["errorMessage"]


def status(api: APIClient, job_id: str, query: str = "") -> dict:
    response = api.get(f"{SERVICE}/jobs/{job_id}/status{query}")
    assert response.status_code == 200, response.content
    return response.json()


def listed(api: APIClient, job_id: str) -> dict:
    jobs = api.get(f"{SERVICE}/jobs/status").json()["jobs"]
    return next(j for j in jobs if j["jobId"] == job_id)


def algorithm(api: APIClient, name: str, **parameters: Any) -> str:
    body = {"algorithmName": name, "parameters": parameters}
    return submitted(api.post(f"{SERVICE}/action?action_id=execute-algorithm", body, "json"))


def test_pagerank_job_listed_run_and_paged(api, movies):
    body = {
        "algorithmName": "pagerank",
        "parameters": {"alpha": 0.85, "convergence": 0.00001, "max_iterations": 1000},
    }
    job_id = submitted(api.post(f"{SERVICE}/action?action_id=execute-algorithm", body, "json"))
    job = Job.objects.get(pk=job_id)
    assert (job.type, job.dialect, job.graph_id, job.request) == (
        "algorithm",
        "ges",
        movies.pk,
        body,
    )
    # GES's convergence parameters are checked, not passed on
    assert job.params == {"algorithm": "pagerank", "parameters": {"alpha": 0.85, "directed": True}}
    item = listed(api, job_id)
    assert (item["taskType"], item["canStop"], item["status"]) == ("Algorithm", True, "pending")
    assert json.loads(item["rawRequest"]) == body
    assert status(api, job_id) == {"status": "pending", "result": "success", "progress": "0"}

    assert run(job_id).status == JobStatus.SUCCEEDED
    whole = status(api, job_id)
    assert whole["status"] == "success"
    outputs = whole["data"]["outputs"]
    assert (outputs["data_total_size"], outputs["data_return_size"], outputs["data_offset"]) == (
        6,
        6,
        0,
    )
    ranks = {k: v for entry in outputs["pagerank"] for k, v in entry.items()}
    assert set(ranks) == {"Vivian", "Eric", "Ada", "Lethal Weapon", "Heat", "Up"}
    assert sum(ranks.values()) == pytest.approx(1.0)
    page = status(api, job_id, "?offset=2&limit=2")["data"]
    assert [next(iter(e)) for e in page["outputs"]["pagerank"]] == ["Ada", "Lethal Weapon"]
    for data in (page, page["outputs"]):  # where GES's tables and its examples put them
        assert (data["data_offset"], data["data_return_size"], data["data_total_size"]) == (2, 2, 6)
    beyond = status(api, job_id, "?offset=6")["data"]["outputs"]
    assert (beyond["pagerank"], beyond["data_return_size"]) == ([], 0)
    item = listed(api, job_id)
    assert (item["canStop"], item["status"], item["progress"]) == (False, "success", "100")
    message = refused(api.delete(f"{SERVICE}/jobs/{job_id}"), "GES.8303")
    assert "already finished" in message
    for query in ("?limit=0", "?limit=100001", "?offset=-1"):
        refused(api.get(f"{SERVICE}/jobs/{job_id}/status{query}"), "GES.8000")


def test_every_ges_algorithm_name_runs_with_ges_shaped_results(api, movies):
    def result(name: str, **parameters: Any) -> dict:
        job_id = algorithm(api, name, **parameters)
        job = run(job_id)
        assert job.status == JobStatus.SUCCEEDED, job.fail_reason
        return status(api, job_id)["data"]["outputs"]

    def entries(outputs: dict, key: str) -> dict:
        return {k: v for entry in outputs[key] for k, v in entry.items()}

    assert set(entries(result("personalrank", source="Ada"), "personalrank")) == {
        "Vivian", "Eric", "Ada", "Lethal Weapon", "Heat", "Up"
    }  # fmt: skip
    path = result("shortest_path", source="Vivian", target="Up", directed=True)
    assert path["path"] == ["Vivian", "Eric", "Ada", "Up"] and path["hops"] == 3
    distances = entries(result("sssp", source="Eric"), "distance")
    assert distances == {"Eric": 0.0, "Lethal Weapon": 1.0, "Ada": 1.0, "Up": 2.0}
    assert entries(result("single_source_shortest_path", source="Up"), "distance") == {"Up": 0.0}
    components = result("connected_component")
    assert components["community_num"] == 1 and components["Max_WCC_size"] == 6
    assert set(entries(components, "community").values()) == {"0"}  # ids are strings
    kcore = result("kcore", k=1)
    assert entries(kcore, "kcore") == dict.fromkeys(
        ["Vivian", "Eric", "Ada", "Lethal Weapon", "Heat", "Up"], 1
    )
    for name in ("label_propagation", "louvain"):
        outputs = result(name, convergence=0.001, max_iterations=10)
        assert outputs["community_num"] == len(set(entries(outputs, "community").values()))
    triangles = result("triangle_count")
    assert triangles["triangle_count"] == 0 and len(triangles["triangles"]) == 6
    degrees = entries(result("degree"), "degree")
    assert degrees["Eric"] == {"in_degree": 1, "out_degree": 2, "degree": 3}


def test_bad_algorithm_requests(api, movies, viewer):
    url = f"{SERVICE}/action?action_id=execute-algorithm"

    def post(body: Any) -> Any:
        return api.post(url, body, "json")

    assert "algorithmName" in refused(post({"parameters": {}}), "GES.8401")
    refused(post({"algorithmName": ""}), "GES.8401")
    assert "not supported" in refused(post({"algorithmName": "node2vec"}), "GES.8402")
    message = refused(post({"algorithmName": "pagerank", "executionMode": "sync"}), "GES.8404")
    assert "async" in message
    refused(post({"algorithmName": "pagerank", "parameters": [1]}), "GES.8402")
    bad = {
        ("pagerank", "alpha", 1.5): "parameter [alpha] is invalid!",
        ("pagerank", "convergence", 2): "parameter [convergence] is invalid!",
        ("pagerank", "max_iterations", 0): "parameter [max_iterations] is invalid!",
        ("pagerank", "colour", "red"): "parameter [colour] is invalid!",
        ("sssp", "source", "Ghost"): "parameter [source] is invalid! vertex 'Ghost' does not exist",
        ("kcore", "k", -1): "parameter [k] is invalid!",
        ("louvain", "weight", "Score"): "parameter [weight] is invalid!",
    }
    for (name, key, value), expected in bad.items():
        message = refused(post({"algorithmName": name, "parameters": {key: value}}), "GES.8402")
        assert message.startswith(f"Running algorithm [{name}] error: {expected}"), message
    message = refused(post({"algorithmName": "shortest_path", "parameters": {}}), "GES.8402")
    assert "parameter [source] is invalid! it is required" in message
    assert "k-hop" in refused(api.post(f"{SERVICE}/action?action_id=filtered-query", {}, "json"),
                              "GES.8000")  # fmt: skip
    missing = api.post(
        "/ges/v1.0/alpha/graphs/nope/action?action_id=execute-algorithm",
        {"algorithmName": "pagerank"},
        "json",
    )
    assert refused(missing, "GES.8000") == "graph : nope not exist"
    response = token_client(viewer).post(url, {"algorithmName": "pagerank"}, "json")
    assert response.status_code == 403 and response.json()["errorCode"] == "GES.8006"
    assert not Job.objects.filter(type=JobType.ALGORITHM).exists()


def test_filtered_vertex_queries(api, movies):
    url = f"{SERVICE}/vertices/action?action_id=query"
    body = {
        "labels": ["user"],
        "vertexFilters": [{"propertyName": "Gender", "predicate": "=", "values": ["F"]}],
        "sorts": [{"propertyName": "Age", "orderValue": "decr"}],
        "limit": 100,
    }
    job_id = submitted(api.post(url, body, "json"))
    item = listed(api, job_id)
    assert (item["taskType"], item["canStop"], json.loads(item["rawRequest"])) == (
        "VertexQuery",
        True,
        body,
    )
    assert run(job_id).status == JobStatus.SUCCEEDED
    outputs = status(api, job_id)["data"]["outputs"]
    assert outputs["data_total_size"] == 2
    ada, vivian = outputs["vertices"]
    assert ada == {
        "id": "Ada",
        "label": "user",
        "properties": {  # every value an array
            "Name": ["Ada L"],
            "Gender": ["F"],
            "Age": [36],
            "Zip": ["10001"],
            "Tags": ["mathematician", "writer"],
        },
    }
    assert vivian["id"] == "Vivian" and vivian["properties"]["Tags"] == ["artist", "painter"]
    page = status(api, job_id, "?offset=1&limit=1")["data"]["outputs"]
    assert [v["id"] for v in page["vertices"]] == ["Vivian"] and page["data_total_size"] == 2

    def ids(body: dict) -> list[str]:
        job_id = submitted(api.post(url, body, "json"))
        assert run(job_id).status == JobStatus.SUCCEEDED
        return [v["id"] for v in status(api, job_id)["data"]["outputs"]["vertices"]]

    has = {"propertyName": "Tags", "predicate": "has", "values": ["painter"]}
    assert ids({"vertexFilters": [has]}) == ["Vivian"]  # a filter without labels
    ages = {"propertyName": "Age", "predicate": "range", "values": ["20", "40"], "type": "and"}
    by_id = [{"key": "id", "orderValue": "incr"}]
    assert ids({"labels": "user", "vertexFilters": [ages], "sorts": by_id}) == ["Ada", "Vivian"]
    movies_by_year = [{"key": "property", "propertyName": "Year"}]
    assert ids({"labels": ["movie"], "sorts": movies_by_year, "offset": 1}) == ["Heat", "Up"]
    # GES's default limit is 10
    job_id = submitted(api.post(url, {"labels": ["user", "movie"]}, "json"))
    assert run(job_id).params["query"]["limit"] == 10


def test_filtered_edge_queries(api, movies):
    body = {
        "labels": ["rate"],
        "edgeFilters": [{"propertyName": "Score", "predicate": ">=", "values": [4]}],
        "sorts": [{"key": "source", "orderValue": "decr"}],
    }
    job_id = submitted(api.post(f"{SERVICE}/edges/action?action_id=query", body, "json"))
    assert listed(api, job_id)["taskType"] == "EdgeQuery"
    assert run(job_id).status == JobStatus.SUCCEEDED
    edges = status(api, job_id)["data"]["outputs"]["edges"]
    assert [(e["source"], e["target"], e["label"]) for e in edges] == [
        ("Vivian", "Heat", "rate"),
        ("Eric", "Lethal Weapon", "rate"),
    ]
    assert edges[0]["properties"]["Score"] == [5.0]
    assert set(edges[0]["properties"]) == {"Score", "Datetime"}


def test_query_errors_name_the_part_at_fault(api, movies):
    vertices = f"{SERVICE}/vertices/action?action_id=query"
    edges = f"{SERVICE}/edges/action?action_id=query"
    gender = {"propertyName": "Gender", "predicate": "=", "values": ["F"]}
    cases = [
        (vertices, {"labels": ["spaceship"]}, "GES.8201", "[labels]"),
        (vertices, {"labels": [1]}, "GES.8201", "labels"),
        (vertices, {}, "GES.8203", "cannot both be empty"),
        (vertices, {"labels": [], "vertexFilters": []}, "GES.8203", ""),
        (vertices, {"vertexFilters": [{**gender, "predicate": "hasNot"}]}, "GES.8202", "hasNot"),
        (vertices, {"vertexFilters": [{**gender, "propertyName": "Colour"}]}, "GES.8202",
         "[vertexFilters.0.propertyName]"),
        (vertices, {"vertexFilters": [{**gender, "values": ["X"]}]}, "GES.8202",
         "[vertexFilters.0.values.0]"),
        (vertices, {"vertexFilters": [gender, {**gender, "type": "or"}]}, "GES.8202", "or"),
        (vertices, {"vertexFilters": "Gender=F"}, "GES.8202", "list"),
        (vertices, {"labels": ["user"], "limit": 0}, "GES.8202", "[limit]"),
        (vertices, {"labels": ["user"], "sorts": [{"key": "weight"}]}, "GES.8205", "key"),
        (vertices, {"labels": ["user"], "sorts": [{"propertyName": "Year"}]}, "GES.8205",
         "[sorts.0.propertyName]"),
        (vertices, {"labels": ["user"], "sorts": [{"propertyName": "Age", "orderValue": "up"}]},
         "GES.8205", "orderValue"),
        (edges, {"labels": ["spaceship"]}, "GES.8102", "[labels]"),
        (edges, {"labels": []}, "GES.8103", "edgeFilters"),
        (edges, {"edgeFilters": [{"propertyName": "Score", "predicate": "~"}]}, "GES.8101", "~"),
        (edges, {"labels": ["rate"], "sorts": [{"key": "id"}]}, "GES.8104", "key"),
    ]  # fmt: skip
    for url, body, code, fragment in cases:
        assert fragment in refused(api.post(url, body, "json"), code), body
    refused(api.post(f"{SERVICE}/vertices/action?action_id=delete", {}, "json"), "GES.8000")
    refused(api.post(vertices, [1], "json"), "GES.8000")
    assert not Job.objects.filter(type=JobType.QUERY).exists()


def test_add_index_and_its_errors(api, movies):
    body = {
        "indexName": "ageIndex",
        "indexType": "GlobalCompositeVertexIndex",
        "hasLabel": "true",
        "indexProperty": ["Age"],
    }
    job_id = submitted(api.post(f"{SERVICE}/indices", body, "json"))
    job = Job.objects.get(pk=job_id)
    assert (job.type, job.params["label"], job.params["property"]) == ("index", "user", "Age")
    item = listed(api, job_id)
    assert (item["taskType"], item["canStop"]) == ("AddIndex", True)
    assert run(job_id).status == JobStatus.SUCCEEDED
    outputs = status(api, job_id)["data"]["outputs"]
    assert (outputs["label"], outputs["property"], outputs["rows"]) == ("user", "Age", 3)
    assert [(i["label"], i["property"]) for i in graph_index_list(graph=movies)] == [
        ("user", "Age")
    ]
    local = {"indexName": "scores", "indexType": "CompositeEdgeIndex", "labelName": "rate",
             "indexProperty": "Score"}  # fmt: skip
    assert run(submitted(api.post(f"{SERVICE}/indices", local, "json"))).status == "succeeded"
    cases = [
        ({**body, "indexName": "bad name!"}, "indexName"),
        ({**body, "indexType": "FullTextIndex"}, "not supported"),
        ({**body, "indexProperty": ["Age", "Name"]}, "several properties"),
        ({**body, "indexProperty": []}, "indexProperty"),
        ({**body, "indexProperty": ["Colour"]}, "no vertex label has a property 'Colour'"),
        ({**body, "indexType": "CompositeVertexIndex"}, "labelName"),
        ({**body, "labelName": "spaceship"}, "[labelName]"),
        ({**body, "labelName": "movie"}, "[indexProperty]"),
        ({**body, "hasLabel": "maybe"}, "hasLabel"),
    ]
    for case, fragment in cases:
        assert fragment in refused(api.post(f"{SERVICE}/indices", case, "json"), "GES.8603")


def test_export_result(api, movies, operator):
    source = algorithm(api, "degree")
    body = {
        "exportPath": "ges_results/",
        "fileName": "degrees.csv",
        "obsParameters": {"accessKey": "AK", "secretKey": "SK"},
    }
    url = f"{SERVICE}/jobs/{source}/action?action_id=export-result"
    # not finished yet: nothing to export
    assert "has no result" in refused(api.post(url, body, "json"), "GES.8011")
    run(source)
    job_id = submitted(api.post(url, body, "json"))
    job = Job.objects.get(pk=job_id)
    assert job.graph_id == movies.pk and job.request == {  # the secret key is not kept
        "exportPath": "ges_results/",
        "fileName": "degrees.csv",
    }
    item = listed(api, job_id)
    assert (item["taskType"], item["canStop"]) == ("ExportResult", False)
    message = refused(api.delete(f"{SERVICE}/jobs/{job_id}"), "GES.8303")
    assert message.startswith("Unsupported Operation")
    assert run(job_id).status == JobStatus.SUCCEEDED
    target = Path(settings.JOBCENTER_EXPORT_ROOTS[0]) / "ges_results" / "degrees.csv"
    with target.open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["id", "label", "in_degree", "out_degree", "degree"] and len(rows) == 7
    outputs = status(api, job_id)["data"]["outputs"]
    # shown relative to the export root, not as a server path
    assert (outputs["path"], outputs["rows"]) == ("ges_results/degrees.csv", 6)
    # the job center lists neither the algorithm nor its export
    listing = api.get("/v2/alpha/graphs/jobs").json()
    assert [j["job_name"] for j in listing["job_list"]] == ["ImportGraph"]

    assert "already exists" in refused(api.post(url, body, "json"), "GES.8011")
    cases = [
        (url, {"fileName": "x.csv"}, "exportPath"),
        (url, {"exportPath": "/etc", "fileName": "x.csv"}, "outside the export roots"),
        (url, {"exportPath": "a", "fileName": "../x.csv"}, "fileName"),
        (f"{SERVICE}/jobs/nope/action?action_id=export-result", body, "job [nope] is not found"),
        (
            f"/ges/v1.0/alpha/graphs/gone/jobs/{source}/action?action_id=export-result",
            body,
            "graph [gone] is not found",
        ),
    ]
    for case_url, case, fragment in cases:
        assert fragment in refused(api.post(case_url, case, "json"), "GES.8011")
    refused(api.post(f"{SERVICE}/jobs/{source}/action?action_id=export-graph", body, "json"),
            "GES.8000")  # fmt: skip
    default_name = submitted(api.post(url, {"exportPath": "more"}, "json"))
    assert Job.objects.get(pk=default_name).params["path"].endswith(f"/more/{source}.csv")


def test_cancel_waiting_analytics_jobs(api, movies):
    query = {"labels": ["user"]}
    index = {"indexName": "i", "indexType": "CompositeVertexIndex", "labelName": "user",
             "indexProperty": "Age"}  # fmt: skip
    ids = [
        algorithm(api, "louvain"),
        submitted(api.post(f"{SERVICE}/vertices/action?action_id=query", query, "json")),
        submitted(api.post(f"{SERVICE}/indices", index, "json")),
    ]
    for job_id in ids:
        response = api.delete(f"{SERVICE}/jobs/{job_id}")
        assert (response.status_code, response.json()) == (200, {})
        body = status(api, job_id)
        assert (body["status"], body["failReason"]) == ("cancelled", "cancelled by oscar")
        assert listed(api, job_id)["canStop"] is False
        refused(api.delete(f"{SERVICE}/jobs/{job_id}"), "GES.8303")
    assert "can not find job to cancel" in refused(api.delete(f"{SERVICE}/jobs/nope"), "GES.8303")


def test_viewers_read_results_and_submit_nothing(api, movies, viewer):
    source = algorithm(api, "pagerank")
    run(source)
    reader = token_client(viewer)
    assert reader.get(f"{SERVICE}/jobs/{source}/status").json()["status"] == "success"
    requests = [
        (f"{SERVICE}/vertices/action?action_id=query", {"labels": ["user"]}),
        (f"{SERVICE}/edges/action?action_id=query", {"labels": ["rate"]}),
        (f"{SERVICE}/indices", {"indexName": "a", "indexType": "CompositeVertexIndex",
                                "labelName": "user", "indexProperty": "Age"}),
        (f"{SERVICE}/jobs/{source}/action?action_id=export-result", {"exportPath": "v"}),
    ]  # fmt: skip
    for url, body in requests:
        response = reader.post(url, body, "json")
        assert response.status_code == 403 and response.json()["errorCode"] == "GES.8006", url
    waiting = algorithm(api, "louvain")
    response = reader.delete(f"{SERVICE}/jobs/{waiting}")
    assert response.status_code == 403 and Job.objects.get(pk=waiting).status == "waiting"
    assert Job.objects.count() == 3  # the import and the two algorithms
