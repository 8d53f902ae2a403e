"""Graphs: create (GES or GraphScope schema), list with filters, get, delete (a job)."""

from __future__ import annotations

import pytest
import yaml

from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job
from tests.api.conftest import assert_error
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph

URL = "/api/v1/graphs/"
GRAPH_KEYS = {
    "id",
    "project",
    "name",
    "description",
    "dialect",
    "status",
    "created_by",
    "created_at",
    "data_updated_at",
}

pytestmark = pytest.mark.django_db


def definition() -> dict:
    return yaml.safe_load(shared_data("modern_graph", "graph.yaml").read_text())


def test_create_a_ges_graph_with_its_schema_xml(api):
    xml = shared_data("ges_movie", "schema.xml").read_text(encoding="iso-8859-1")
    response = api.post(
        URL,
        {"project": "alpha", "name": "movies", "dialect": "ges", "schema": xml},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == GRAPH_KEYS | {"schema"}
    assert response["Location"] == f"/api/v1/graphs/{body['id']}/"
    assert (body["project"], body["created_by"], body["status"]) == ("alpha", "oscar", "ready")
    assert {label["name"] for label in body["schema"]["labels"]} == {
        "user",
        "movie",
        "rate",
        "friends",
    }
    assert body["data_updated_at"] is None and body["created_at"].endswith("Z")


def test_create_a_ges_graph_without_schema(api):
    response = api.post(
        URL, {"project": "alpha", "name": "later", "dialect": "ges", "description": "d"}, "json"
    )
    assert response.status_code == 201
    assert (response.json()["schema"], response.json()["description"]) == ({}, "d")


@pytest.mark.parametrize("wrapped", [True, False])
def test_create_a_graphscope_graph_from_its_definition(api, wrapped):
    graph_def = definition() if wrapped else definition()["schema"]
    response = api.post(
        URL,
        {"project": "alpha", "name": "modern", "dialect": "graphscope", "schema": graph_def},
        format="json",
    )
    assert response.status_code == 201, response.content
    labels = {(lb["kind"], lb["name"]) for lb in response.json()["schema"]["labels"]}
    assert ("vertex", "person") in labels and ("edge", "knows") in labels


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"project": "alpha", "name": "g", "dialect": "graphscope"}, 400, "schema"),
        ({"project": "alpha", "name": "g", "dialect": "ges", "schema": {"a": 1}}, 400, "schema"),
        ({"project": "alpha", "name": "g", "dialect": "ges", "schema": "<not xml"}, 400, None),
        ({"project": "alpha", "name": "g", "dialect": "graphscope", "schema": {"x": 1}}, 400, None),
        ({"project": "alpha", "name": "  ", "dialect": "ges"}, 400, "name"),
        ({"project": "alpha", "name": "g" * 129, "dialect": "ges"}, 400, "name"),
        ({"project": "alpha", "name": "g", "dialect": "neo4j"}, 400, "dialect"),
        ({"project": "alpha", "name": ["g"], "dialect": "ges"}, 400, "name"),
        ({"project": "nope", "name": "g", "dialect": "ges"}, 400, "project"),
        ({"project": "beta", "name": "g", "dialect": "ges"}, 400, "project"),  # not a member
        ({"project": "alpha", "name": "movies", "dialect": "ges"}, 409, "name"),
    ],
)
def test_bad_graph_creations(api, graph, other, payload, status, field):
    before = Graph.objects.count()
    code = {400: "invalid", 409: "conflict"}[status]
    assert_error(api.post(URL, payload, format="json"), status, code, field)
    assert Graph.objects.count() == before


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("schema", "edge_types", 0, "vertex_type_pair_relations", 0, "relation"), ["x"]),
        (("schema", "vertex_types", 0, "properties", 0, "property_type"), {"primitive": []}),
        (("schema", "vertex_types", 0, "properties", 0, "property_type"), [1]),
        (("schema", "vertex_types", 0, "properties", 0, "property_type"), {"primitive_type": []}),
        (("schema", "vertex_types", 0, "type_name"), {"a": 1}),
    ],
)
def test_odd_values_in_a_graph_definition_are_400_not_500(api, path, value):
    graph_def = definition()
    target = graph_def
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    response = api.post(
        URL,
        {"project": "alpha", "name": "odd", "dialect": "graphscope", "schema": graph_def},
        format="json",
    )
    assert_error(response, 400, "invalid")


def test_a_viewer_may_not_create_graphs(viewer_api):
    response = viewer_api.post(URL, {"project": "alpha", "name": "g", "dialect": "ges"}, "json")
    assert_error(response, 403, "permission_denied")


def test_list_get_and_filters(api, project, other):
    ges_graph(project, "movies")
    ges_graph(project, "social")
    api.post(
        URL,
        {"project": "alpha", "name": "modern", "dialect": "graphscope", "schema": definition()},
        format="json",
    )
    listed = api.get(URL).json()
    assert [g["name"] for g in listed["results"]] == ["modern", "movies", "social"]
    assert all(set(g) == GRAPH_KEYS for g in listed["results"])  # no schema in lists
    assert [g["name"] for g in api.get(URL, {"dialect": "graphscope"}).json()["results"]] == [
        "modern"
    ]
    assert [g["name"] for g in api.get(URL, {"q": "SOC"}).json()["results"]] == ["social"]
    assert [g["name"] for g in api.get(URL, {"name": "movies"}).json()["results"]] == ["movies"]
    assert api.get(URL, {"project": "beta"}).json()["count"] == 0  # not mine
    one = listed["results"][1]
    detail = api.get(f"{URL}{one['id']}/").json()
    assert detail["name"] == "movies" and "schema" in detail
    assert_error(api.get(f"{URL}{other['graph'].pk}/"), 404, "not_found", "graph_id")
    assert_error(api.get(URL, {"dialect": "neo4j"}), 400, "invalid", "dialect")


def test_deleting_a_graph_is_a_job(api, graph, operator):
    response = api.delete(f"{URL}{graph.pk}/")
    assert response.status_code == 202, response.content
    job = response.json()
    assert response["Location"] == f"/api/v1/jobs/{job['id']}/"
    assert (job["type"], job["name"], job["status"], job["graph"], job["cancellable"]) == (
        "graph_operation",
        "DeleteGraph",
        "waiting",
        graph.pk,
        False,
    )
    assert api.get(f"{URL}{graph.pk}/").json()["status"] == "deleting"
    assert_error(api.delete(f"{URL}{graph.pk}/"), 409, "invalid_state")
    assert Job.objects.filter(type="graph_operation").count() == 1


def test_who_may_delete(viewer_api, client_for, graph, other):
    assert_error(viewer_api.delete(f"{URL}{graph.pk}/"), 403, "permission_denied")
    assert_error(viewer_api.delete(f"{URL}{other['graph'].pk}/"), 404, "not_found")
    assert_error(client_for(None).delete(f"{URL}{graph.pk}/"), 401)
    assert Graph.objects.get(pk=graph.pk).status == "ready"


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_worker_deletes_the_graph(client_for, project, operator, worker_factory):
    from jobcenter.jobs.choices import TERMINAL_STATUSES
    from tests.factories.waiting import wait_for

    api = client_for(operator)
    graph = ges_graph(project)
    job_id = api.delete(f"{URL}{graph.pk}/").json()["id"]
    worker_factory()
    wait_for(lambda: Job.objects.get(pk=job_id).status in TERMINAL_STATUSES, timeout=60)
    job = api.get(f"/api/v1/jobs/{job_id}/").json()
    assert (job["status"], job["graph"], job["graph_name"]) == ("succeeded", None, "movies")
    assert_error(api.get(f"{URL}{graph.pk}/"), 404, "not_found")
