"""GraphScope's admin API over HTTP (no worker: jobs stay waiting unless cancelled)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job
from tests.compat.conftest import modern_definition, modern_mapping
from tests.factories.graphs import ges_graph
from tests.factories.projects import project_with_members

pytestmark = pytest.mark.django_db


@pytest.fixture
def api() -> APIClient:
    return APIClient()


def error(response) -> dict:
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"code", "message"} and isinstance(body["code"], int), body
    return body


def create_graph(api: APIClient, name: str = "modern", **headers: str) -> str:
    response = api.post("/v1/graph", modern_definition(name), format="json", **headers)
    assert response.status_code == 200, response.content
    graph_id = response.json()["graph_id"]
    assert isinstance(graph_id, str)
    return graph_id


def test_anonymous_access_is_off_by_default(api, project):
    for method, path in [
        ("get", "/v1/service/status"),
        ("get", "/v1/job"),
        ("get", "/v1/graph"),
        ("post", "/v1/graph"),
        ("delete", "/v1/job/1"),
    ]:
        response = getattr(api, method)(path)
        assert response.status_code == 403, path
        assert error(response)["code"] == 8
    assert Graph.objects.count() == 0


def test_anonymous_project_must_exist(api, project, settings):
    settings.JOBCENTER_GRAPHSCOPE_ANONYMOUS_PROJECT = "nope"
    response = api.get("/v1/job")
    assert response.status_code == 403 and "'nope'" in error(response)["message"]


def test_empty_lists_and_service_status(api, anonymous_graphscope):
    assert api.get("/v1/job").content == b"[]"
    assert api.get("/v1/graph").content == b"[]"
    response = api.get("/v1/service/status")
    assert response.status_code == 200
    assert response.json() == {"status": "Running", "hqps_port": 80, "statistics_enabled": False}


def test_create_list_get_and_delete_graph(api, anonymous_graphscope):
    project = anonymous_graphscope
    ges_graph(project, "not-graphscope")  # GES graphs stay out of this dialect
    graph_id = create_graph(api)
    graph = Graph.objects.get(pk=graph_id)
    assert (graph.project, graph.dialect, graph.name) == (project, "graphscope", "modern")
    listed = api.get("/v1/graph").json()
    assert [g["id"] for g in listed] == [graph_id]
    got = api.get(f"/v1/graph/{graph_id}").json()
    assert got == listed[0]
    assert got["name"] == "modern" and got["store_type"] == "mutable_csr"
    assert type(got["creation_time"]) is int and type(got["data_update_time"]) is int
    assert got["stored_procedures"] == []
    schema = got["schema"]
    assert [v["type_name"] for v in schema["vertex_types"]] == ["person", "software"]
    assert [e["type_name"] for e in schema["edge_types"]] == ["knows", "created"]

    response = api.post("/v1/graph", modern_definition("modern"), format="json")
    assert response.status_code == 400 and error(response)["code"] == 5  # already exists
    response = api.get("/v1/graph/nope")
    assert response.status_code == 404 and error(response)["code"] == 4

    response = api.delete(f"/v1/graph/{graph_id}")
    assert response.status_code == 200 and graph_id in response.json()
    assert api.get(f"/v1/graph/{graph_id}").status_code == 404  # being deleted: gone here
    delete_job = api.get("/v1/job").json()[0]
    assert (delete_job["type"], delete_job["status"]) == ("DELETE_GRAPH", "WAITING")
    # a deletion cannot be cancelled, even while it waits (the graph would stay half-deleted)
    response = api.delete(f"/v1/job/{delete_job['id']}")
    assert response.status_code == 400 and error(response)["code"] == 102
    assert Job.objects.get(pk=delete_job["id"]).status == "waiting"


def test_invalid_graph_requests(api, anonymous_graphscope):
    response = api.post("/v1/graph", b"{not json", content_type="application/json")
    assert response.status_code == 400 and error(response)["code"] == 2
    response = api.post("/v1/graph", [1, 2], format="json")
    assert response.status_code == 400 and error(response)["code"] == 2
    bad = modern_definition()
    bad["schema"]["edge_types"][0]["vertex_type_pair_relations"][0]["source_vertex"] = "ghost"
    response = api.post("/v1/graph", bad, format="json")
    assert response.status_code == 400 and error(response)["code"] == 101
    nameless = modern_definition()
    del nameless["name"]
    response = api.post("/v1/graph", nameless, format="json")
    assert response.status_code == 400 and error(response)["code"] in (2, 101)
    assert Graph.objects.count() == 0


def test_bulk_loading_get_list_and_cancel(api, anonymous_graphscope):
    graph_id = create_graph(api)
    mapping = modern_mapping()
    response = api.post(f"/v1/graph/{graph_id}/dataloading", mapping, format="json")
    assert response.status_code == 200, response.content
    job_id = response.json()["job_id"]
    job = Job.objects.get(pk=job_id)
    assert (job.dialect, job.type, job.request) == ("graphscope", "import", mapping)
    assert job.files.count() == 4

    got = api.get(f"/v1/job/{job_id}").json()
    assert got["id"] == job_id and got["status"] == "WAITING" and got["type"] == "BULK_LOADING"
    assert got["end_time"] == 0 and got["detail"]["graph_id"] == graph_id
    assert "person.csv" in got["log"]
    assert [j["id"] for j in api.get("/v1/job").json()] == [job_id]

    response = api.delete(f"/v1/job/{job_id}")
    assert response.status_code == 200
    assert response.json() == f"Successfully cancel job: {job_id}"
    got = api.get(f"/v1/job/{job_id}").json()
    assert got["status"] == "CANCELLED" and got["end_time"] > 0
    # issue 13: files the job never reached are skipped, and nothing was committed
    files = [line for line in got["log"].splitlines() if " file " in line]
    assert len(files) == 4 and all(": skipped, " in line for line in files), files
    assert all(line.endswith(", 0 committed") for line in files)
    assert (got["detail"]["successful_lines"], got["detail"]["committed_lines"]) == (0, 0)

    response = api.delete(f"/v1/job/{job_id}")
    assert response.status_code == 400
    assert error(response) == {"code": 102, "message": f"Job already CANCELLED: {job_id}"}
    assert Job.objects.get(pk=job_id).status == "cancelled"
    for method in ("get", "delete"):
        response = getattr(api, method)("/v1/job/0000")
        assert response.status_code == 404 and error(response)["code"] == 4


def test_invalid_bulk_loading(api, anonymous_graphscope):
    graph_id = create_graph(api)
    response = api.post("/v1/graph/nope/dataloading", modern_mapping(), format="json")
    assert response.status_code == 404 and error(response)["code"] == 4
    bad = modern_mapping()
    bad["vertex_mappings"][0]["type_name"] = "ghost"
    response = api.post(f"/v1/graph/{graph_id}/dataloading", bad, format="json")
    assert response.status_code == 400 and error(response)["code"] == 2
    missing = modern_mapping()
    missing["vertex_mappings"][0]["inputs"] = ["no-such-file.csv"]
    response = api.post(f"/v1/graph/{graph_id}/dataloading", missing, format="json")
    assert response.status_code == 400 and "no-such-file.csv" in error(response)["message"]
    outside = modern_mapping()
    outside["vertex_mappings"][0]["inputs"] = ["/etc/passwd"]
    response = api.post(f"/v1/graph/{graph_id}/dataloading", outside, format="json")
    assert (
        response.status_code == 400
        and "does not exist in the import roots" in error(response)["message"]
    )
    response = api.post(f"/v1/graph/{graph_id}/dataloading", b"[", content_type="application/json")
    assert response.status_code == 400 and error(response)["code"] == 104
    assert Job.objects.count() == 0


def test_token_access_is_scoped_to_the_users_projects(api, project, operator, viewer):
    beta = project_with_members("beta", oscar="operator")
    token = Token.objects.create(user=operator).key
    as_oscar = {"HTTP_X_AUTH_TOKEN": token}
    # two projects: the project must be named to create a graph
    response = api.post("/v1/graph", modern_definition(), format="json", **as_oscar)
    assert response.status_code == 400 and "X-Project-Id" in error(response)["message"]
    alpha_graph = create_graph(api, HTTP_X_PROJECT_ID="alpha", **as_oscar)
    beta_graph = create_graph(api, HTTP_X_PROJECT_ID="beta", **as_oscar)
    assert Graph.objects.get(pk=beta_graph).project == beta
    assert {g["id"] for g in api.get("/v1/graph", **as_oscar).json()} == {alpha_graph, beta_graph}
    only_beta = api.get("/v1/graph", HTTP_X_PROJECT_ID="beta", **as_oscar).json()
    assert [g["id"] for g in only_beta] == [beta_graph]
    response = api.get("/v1/graph", HTTP_X_PROJECT_ID="gamma", **as_oscar)
    assert response.status_code == 404 and error(response)["code"] == 4
    # "Authorization: Token" works too
    response = api.get(f"/v1/graph/{alpha_graph}", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200

    as_vera = {"HTTP_X_AUTH_TOKEN": Token.objects.create(user=viewer).key}
    assert [g["id"] for g in api.get("/v1/graph", **as_vera).json()] == [alpha_graph]
    assert api.get(f"/v1/graph/{beta_graph}", **as_vera).status_code == 404
    response = api.post("/v1/graph", modern_definition("x"), format="json", **as_vera)
    assert response.status_code == 403 and error(response)["code"] == 8
    response = api.post(
        f"/v1/graph/{alpha_graph}/dataloading", modern_mapping(), format="json", **as_vera
    )
    assert response.status_code == 403 and error(response)["code"] == 8

    response = api.get("/v1/job", HTTP_X_AUTH_TOKEN="wrong")
    assert response.status_code == 403 and error(response)["code"] == 8


def test_unknown_endpoints_and_methods_answer_in_the_dialect(api, anonymous_graphscope):
    response = api.get("/v1/graph/1/schema")
    assert response.status_code == 404 and error(response)["code"] == 7
    response = api.post("/v1/job", {}, format="json")
    assert response.status_code == 405 and error(response)["code"] == 7


def test_file_upload(api, anonymous_graphscope, settings):
    upload = SimpleUploadedFile("person.csv", b"id|name|age\n1|marko|29\n")
    response = api.post("/v1/file/upload", {"filestorage": upload}, format="multipart")
    assert response.status_code == 200, response.content
    path = response.json()["file_path"]
    assert path.startswith(str(settings.JOBCENTER_UPLOAD_DIR)) and path.endswith("person.csv")
    response = api.post("/v1/file/upload", {}, format="multipart")
    assert response.status_code == 400 and error(response)["code"] == 2
