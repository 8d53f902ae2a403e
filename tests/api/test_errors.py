"""Bad input of every kind: one error shape, a 400 naming the culprit, never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobcenter.jobs.models import Job
from tests.api.conftest import assert_error
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph, graphscope_graph

pytestmark = pytest.mark.django_db

JOBS = "/api/v1/jobs/"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "501"}, "limit"),
        ({"limit": "-1"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"limit": "9" * 40}, "limit"),
        ({"limit": "٣"}, "limit"),  # a digit, but not an ASCII one
        ({"offset": "-5"}, "offset"),
        ({"offset": "2147483648"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"status": "sleeping"}, "status"),
        ({"status": "running,sleeping"}, "status"),
        ({"type": "magic"}, "type"),
        ({"ordering": "secret"}, "ordering"),
        ({"ordering": "-worker_id"}, "ordering"),
        ({"created_after": "2026-13-01"}, "created_after"),
        ({"created_after": "2026-02-30"}, "created_after"),
        ({"created_before": "22/11/2026"}, "created_before"),
        ({"started_after": "2026-11-22T25:00:00"}, "started_after"),
        ({"finished_before": "2026-11-22T10:00:00+25:00"}, "finished_before"),
        ({"created_after": "tomorrow"}, "created_after"),
        ({"q": "a\x00b"}, "q"),
        ({"graph": "x\x00"}, "graph"),
        ({"page": "2"}, "page"),
        ({"format": "xml"}, "format"),
    ],
)
def test_bad_list_parameters_are_400_naming_the_parameter(api, jobs, params, field):
    assert_error(api.get(JOBS, params), 400, "invalid", field)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "bm90IGpzb24",  # "not json"
        base64.urlsafe_b64encode(b"[1, 2]").decode(),
        base64.urlsafe_b64encode(b'{"o": "-created_at,-id", "v": [1]}').decode(),
        base64.urlsafe_b64encode(b'{"o": "-created_at,-id", "v": ["x", "y"]}').decode(),
        base64.urlsafe_b64encode(b'{"o": "-created_at,-id", "v": [null, "y"]}').decode(),
        base64.urlsafe_b64encode(b'{"o": "-created_at,-id", "v": ["2026-01-01T00:00:00", 5]}')
        .decode()
        .rstrip("="),
        base64.urlsafe_b64encode(b'{"o": "name,id", "v": ["a", "b"]}').decode(),
        "\x00",
        " ",  # blank is not the first page: only an empty cursor is
        base64.urlsafe_b64encode(b'{"o": "-created_at,-id", "v": [null, "y"]}').decode() + "==",
    ],
)
def test_bad_cursors_are_400(api, jobs, cursor):
    body = assert_error(api.get(JOBS, {"cursor": cursor}), 400, "invalid", "cursor")
    assert "first page" in body["message"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # Valid moments beyond every stored time once in UTC (before year 1, after 9999).
        ({"created_after": "0001-01-01T00:00:00+05:00"}, "all"),
        ({"created_before": "0001-01-01T00:00:00+05:00"}, "none"),
        ({"created_before": "9999-12-31T23:00:00-05:00"}, "all"),
        ({"created_after": "9999-12-31T23:00:00-05:00"}, "none"),
    ],
)
def test_moments_beyond_the_calendar_in_utc_are_bounds_not_errors(api, jobs, params, expected):
    response = api.get(JOBS, params)
    assert response.status_code == 200, response.content
    assert response.json()["count"] == (len(jobs) if expected == "all" else 0)


def test_a_cursor_is_only_good_for_its_own_ordering(api, jobs):
    first = api.get(JOBS, {"cursor": "", "limit": 2, "ordering": "name"}).json()
    cursor = first["next"].split("cursor=")[1].split("&")[0]
    body = assert_error(api.get(JOBS, {"cursor": cursor, "ordering": "-progress"}), 400)
    assert "another ordering" in body["message"]


@pytest.mark.parametrize(
    ("body", "content_type", "code"),
    [
        (b'{"filter": ', "application/json", "parse_error"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "parse_error"),
        (b"\xff\xfe not utf-8", "application/json", "parse_error"),
        (b'{"filter": {"status": NaN}}', "application/json", "parse_error"),
        (b'{"filter": {"status": "a\\u0000"}}', "application/json", "invalid"),
        (b"[]", "application/json", "invalid"),
        (b'"just a string"', "application/json", "invalid"),
        (b"status=waiting", "application/x-www-form-urlencoded", "unsupported_media_type"),
        (b"status=waiting", "text/plain", "unsupported_media_type"),
    ],
)
def test_malformed_bodies(api, jobs, body, content_type, code):
    response = api.generic("POST", "/api/v1/jobs/cancel/", body, content_type=content_type)
    assert_error(response, 415 if code == "unsupported_media_type" else 400, code)
    assert Job.objects.get(pk=jobs["waiting"].pk).status == "waiting"


@pytest.mark.parametrize(
    ("url", "payload", "field"),
    [
        ("/api/v1/projects/", {"name": ["a"]}, "name"),
        ("/api/v1/projects/", {"name": None}, "name"),
        ("/api/v1/projects/", {"name": True}, "name"),
        ("/api/v1/projects/", {"name": {"a": 1}}, "name"),
        ("/api/v1/projects/", {"name": "ok", "description": 5}, "description"),
        ("/api/v1/graphs/", {"project": 1, "name": "g", "dialect": "ges"}, "project"),
        ("/api/v1/graphs/", {"project": "alpha", "name": "g", "dialect": 1}, "dialect"),
        (
            "/api/v1/graphs/",
            {"project": "alpha", "name": "g", "dialect": "ges", "schema": 1},
            "schema",
        ),
        ("/api/v1/auth/token/", {"username": 1, "password": 2}, "username"),
        ("/api/v1/jobs/cancel/", {"filter": ["status", "waiting"]}, "filter"),
        ("/api/v1/jobs/cancel/", {"filter": {"status": {"a": "b"}}}, "filter.status"),
    ],
)
def test_wrong_types_in_bodies_are_400_naming_the_field(admin_api, jobs, url, payload, field):
    assert_error(admin_api.post(url, payload, format="json"), 400, "invalid", field)


def test_unknown_urls_and_methods_keep_the_shape(api, jobs):
    assert_error(api.get("/api/v2/jobs/"), 404, "not_found")
    assert_error(api.get("/api/v1/nothing/here/"), 404, "not_found")
    assert_error(api.put(JOBS, {}, format="json"), 405, "method_not_allowed")
    assert_error(api.delete(f"{JOBS}{jobs['waiting'].pk}/"), 405, "method_not_allowed")
    assert_error(api.get(JOBS, HTTP_ACCEPT="application/xml"), 406, "not_acceptable")
    moved = api.post(f"{JOBS}{jobs['waiting'].pk}/cancel?x=1")
    assert moved.status_code == 308  # a missing slash: same method and body, at the right URL
    assert moved["Location"] == f"{JOBS}{jobs['waiting'].pk}/cancel/?x=1"


def test_huge_and_strange_path_values_are_404(api, admin_api, jobs):
    for url in (
        JOBS + "x" * 5000 + "/",
        JOBS + "%00/",
        JOBS + "%E2%80%AE/",
        f"{JOBS}{jobs['failed'].pk}/files/{'9' * 30}/",
        "/api/v1/projects/" + "p" * 500 + "/members/",
        "/api/v1/projects/alpha/members/" + "u" * 500 + "/",
    ):
        assert_error(api.get(url) if "members/u" not in url else admin_api.delete(url), 404)


# --- no input produces a 500: near-valid import requests, mutated -------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths_of(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            out += paths_of(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += paths_of(child, (*prefix, i))
    return out


@st.composite
def mutated(draw: Any, document: dict) -> dict:
    """``document`` with a few of its values replaced, removed or added to."""
    doc = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths_of(doc)[1:]))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "replace":
            parent[path[-1]] = draw(JSON)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(JSON)
        elif isinstance(parent, list):
            parent.append(draw(JSON))
        break_early = draw(st.booleans())
        if break_early:
            break
    return doc


def ges_request() -> dict:
    folder = shared_data("ges_movie")
    return {
        "format": "ges",
        "request": {
            "schema_path": str(folder / "schema.xml"),
            "vertexset_path": str(folder / "vertex.csv"),
            "edgeset_path": str(folder / "edge.csv"),
            "delimiter": ",",
            "trim_quote": '"',
            "parallel_edge": {"action": "allow"},
            "error_threshold": {"max_count": 10},
        },
    }


def graphscope_request() -> dict:
    mapping = yaml.safe_load(shared_data("modern_graph", "bulk_load.yaml").read_text())
    mapping["loading_config"]["data_source"]["location"] = str(shared_data("modern_graph"))
    return {"format": "graphscope", "mapping": mapping}


def graph_definition() -> dict:
    return {
        "project": "alpha",
        "name": "fuzzed",
        "dialect": "graphscope",
        "schema": yaml.safe_load(shared_data("modern_graph", "graph.yaml").read_text()),
    }


FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def assert_handled(response: Any, allowed: set[int]) -> None:
    assert response.status_code in allowed, (response.status_code, response.content[:800])
    if response.status_code >= 400:
        assert_error(response, response.status_code)


@FUZZ
@given(data=st.data())
def test_mutated_ges_and_graphscope_imports_never_fail_with_a_500(api, project, data):
    kind = data.draw(st.sampled_from(["ges", "graphscope"]))
    graph = (
        (ges_graph if kind == "ges" else graphscope_graph)(project, f"g-{kind}")
        if not (project.graphs.filter(name=f"g-{kind}").exists())
        else project.graphs.get(name=f"g-{kind}")
    )
    body = data.draw(mutated(ges_request() if kind == "ges" else graphscope_request()))
    response = api.post(f"/api/v1/graphs/{graph.pk}/import/", body, format="json")
    assert_handled(response, {201, 400})


@FUZZ
@given(body=mutated(graph_definition()))
def test_mutated_graph_definitions_never_fail_with_a_500(api, project, body):
    response = api.post("/api/v1/graphs/", body, format="json")
    assert_handled(response, {201, 400, 409})
    if response.status_code == 201:
        api.delete(f"/api/v1/graphs/{response.json()['id']}/")
        project.graphs.filter(pk=response.json()["id"]).delete()


@FUZZ
@given(
    xml=st.sampled_from(
        [
            shared_data("ges_movie", "schema.xml").read_text(encoding="iso-8859-1"),
            '<?xml version="1.0"?><PMML><labels><label name="n"/></labels></PMML>',
        ]
    ),
    cut=st.integers(0, 1500),
    junk=st.text(max_size=20),
)
def test_mangled_schema_xml_never_fails_with_a_500(api, project, xml, cut, junk):
    body = {"project": "alpha", "name": "x", "dialect": "ges", "schema": xml[:cut] + junk}
    response = api.post("/api/v1/graphs/", body, format="json")
    assert_handled(response, {201, 400, 409})
    project.graphs.filter(name="x").delete()


@pytest.mark.parametrize("url", ["/api/v1/jobs/", "/api/v1/graphs/", "/api/v1/projects/"])
@pytest.mark.parametrize("param", ["status", "limit", "ordering", "created_after"])
def test_empty_parameters_are_400_not_ignored(client_for, operator, url, param):
    """An empty value would otherwise widen a filter silently (found by schemathesis)."""
    response = client_for(operator).get(url, {param: ""})
    assert response.status_code == 400, response.content
    assert (
        "is empty" in response.json()["message"]
        or "unknown query parameter" in response.json()["message"]
    )


def test_empty_cursor_and_blank_search_keep_their_meaning(client_for, operator):
    client = client_for(operator)
    assert client.get("/api/v1/jobs/", {"cursor": ""}).json()["count"] is None  # cursor mode
    assert client.get("/api/v1/jobs/", {"q": " "}).status_code == 200
