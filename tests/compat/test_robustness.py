"""No input makes a dialect endpoint answer 500: malformed and mistyped bodies, odd unicode,
NUL characters and huge numbers in paths, queries and headers, deep nesting. Every answer is
either a success or an error in the dialect's own shape. Runs on SQLite and PostgreSQL (which
refuses NUL characters in text, so the checks must happen before any query)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.credentials.services import access_key_create
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import ResultWriter
from tests.compat.conftest import modern_definition, modern_mapping
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph, graphscope_graph

pytestmark = pytest.mark.django_db

WEIRD_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    10**40,
    1.5,
    -0.0,
    "",
    " ",
    "ü😀",
    "x" * 3000,
    "../../etc/passwd",
    "/",
    "@/x",
    "a,b",
    "\n",
    "\x00",
    "\ud800",
    [],
    {},
    [None],
    {"a": None},
    [[[[[[["deep"]]]]]]],
]
# Path segments (percent-encoded as a client would send them).
WEIRD_SEGMENTS = [
    "%00",
    "a%00b",
    "%C3%BC%F0%9F%98%80",
    "9" * 400,
    "-1",
    "1e999",
    "..",
    "%2e%2e",
    "%FF%FE",
    "%ED%A0%80",  # an encoded surrogate: not UTF-8
    "%20",
    "%0A",
    "x" * 3000,
]
WEIRD_QUERY_VALUES = [
    "",
    "-1",
    "0",
    "1e3",
    "9" * 5000,
    "2019-02-30",
    "0000-01-01",
    "\x00",
    "ü",
    "%",
]
RAW_BODIES = [
    b"",
    b"null",
    b"1",
    b'"text"',
    b"[]",
    b"{",
    b'{"a":NaN}',
    b'{"a":1e999}',
    b'{"a":' + b"9" * 5000 + b"}",
    b"[" * 5000 + b"]" * 5000,
    b'{"a":' * 70 + b"1" + b"}" * 70,
    b'{"name":"\\u0000"}',
    b'{"\\u0000":1}',
    b'{"name":"\\ud800"}',
    b"\xff\xfe\x00",
]


def mutations(base: Any, *, count: int, seed: int) -> Iterator[Any]:
    """``count`` copies of ``base``, each with one random node replaced, removed or wrapped."""
    rng = random.Random(seed)
    for _ in range(count):
        body = copy.deepcopy(base)
        nodes: list[tuple[Any, Any]] = []  # (container, key)
        stack = [body]
        while stack:
            node = stack.pop()
            items = node.items() if isinstance(node, dict) else enumerate(node)
            for key, value in list(items):
                nodes.append((node, key))
                if isinstance(value, dict | list):
                    stack.append(value)
        container, key = rng.choice(nodes)
        action = rng.random()
        if action < 0.15 and isinstance(container, dict):
            del container[key]
        elif action < 0.25:
            container[key] = [container[key]]
        else:
            container[key] = copy.deepcopy(rng.choice(WEIRD_VALUES))
        yield body


def gs_error(response: Any) -> None:
    body = response.json()
    assert set(body) == {"code", "message"} and isinstance(body["code"], int), body


def ges_service_error(response: Any) -> None:
    assert set(response.json()) == {"errorCode", "errorMessage", "result"}, response.content


def ges_mgmt_error(response: Any) -> None:
    assert set(response.json()) == {"error_code", "error_msg"}, response.content


def check(response: Any, error_shape: Callable[[Any], None], what: Any) -> None:
    assert response.status_code < 500, (what, response.status_code, response.content[:500])
    assert response["Content-Type"] == "application/json", (what, response["Content-Type"])
    if response.status_code != 200:
        error_shape(response)


def send(client: APIClient, method: str, path: str, body: Any = None, **extra: Any) -> Any:
    if method != "post":
        return getattr(client, method)(path, **extra)
    if isinstance(body, bytes):
        return getattr(client, method)(path, data=body, content_type="application/json", **extra)
    if body is None:
        return getattr(client, method)(path, **extra)
    data = json.dumps(body, ensure_ascii=True)  # \ud800 and \x00 travel escaped, as in JSON
    return getattr(client, method)(path, data=data, content_type="application/json", **extra)


@pytest.fixture
def client() -> APIClient:
    return APIClient(raise_request_exception=False)


@pytest.fixture
def gs(client, settings, project) -> Any:
    settings.JOBCENTER_GRAPHSCOPE_ANONYMOUS_PROJECT = project.name
    return graphscope_graph(project)


@pytest.fixture
def ges(client, project, operator) -> Any:
    client.credentials(HTTP_X_AUTH_TOKEN=Token.objects.create(user=operator).key)
    return ges_graph(project, "movies")


def gs_requests(graph_id: str) -> list[tuple[str, str]]:
    return [
        ("get", "/v1/job/{}"),
        ("delete", "/v1/job/{}"),
        ("get", "/v1/graph/{}"),
        ("delete", "/v1/graph/{}"),
        ("post", "/v1/graph/{}/dataloading"),
    ]


GES_PATHS = [
    ("get", "/ges/v1.0/alpha/graphs/movies/jobs/{}/status"),
    ("delete", "/ges/v1.0/alpha/graphs/movies/jobs/{}"),
    ("get", "/ges/v1.0/{}/graphs/movies/jobs/status"),
    ("get", "/ges/v1.0/alpha/graphs/{}/jobs/status"),
    ("post", "/ges/v1.0/alpha/graphs/{}/action?action_id=import-graph"),
    ("get", "/v2/{}/graphs/jobs"),
    ("get", "/v2/alpha/graphs/{}/jobs/x/status"),
    ("get", "/v2/alpha/graphs/movies/jobs/{}/status"),
    ("post", "/v2/alpha/graphs/{}/import-graph"),
    ("post", "/ges/v1.0/alpha/graphs/{}/action?action_id=execute-algorithm"),
    ("post", "/ges/v1.0/alpha/graphs/{}/vertices/action?action_id=query"),
    ("post", "/ges/v1.0/alpha/graphs/{}/edges/action?action_id=query"),
    ("post", "/ges/v1.0/alpha/graphs/{}/indices"),
    ("post", "/ges/v1.0/alpha/graphs/{}/jobs/x/action?action_id=export-result"),
    ("post", "/ges/v1.0/alpha/graphs/movies/jobs/{}/action?action_id=export-result"),
    ("get", "/ges/v1.0/alpha/graphs/movies/vertices/{}"),
]
# The analytics producers (issue 6), on a graph with the movie schema.
GES_ANALYTICS = "/ges/v1.0/alpha/graphs/films"
GES_PRODUCERS = [
    f"{GES_ANALYTICS}/action?action_id=execute-algorithm",
    f"{GES_ANALYTICS}/vertices/action?action_id=query",
    f"{GES_ANALYTICS}/edges/action?action_id=query",
    f"{GES_ANALYTICS}/indices",
]


def ges_shape(path: str) -> Callable[[Any], None]:
    return ges_service_error if path.startswith("/ges/") else ges_mgmt_error


def test_graphscope_odd_paths_headers_and_raw_bodies(client, gs):
    for segment in WEIRD_SEGMENTS:
        for method, template in gs_requests(gs.pk):
            path = template.format(segment)
            check(send(client, method, path, modern_mapping()), gs_error, path)
    for value in ["\x00", "a\x00b", "ü", "x" * 3000]:
        for header in ("HTTP_X_PROJECT_ID", "HTTP_X_AUTH_TOKEN"):
            check(client.get("/v1/job", **{header: value}), gs_error, (header, value))
        check(client.get("/v1/job", HTTP_AUTHORIZATION=f"Token {value}"), gs_error, value)
    for body in RAW_BODIES:
        for path in ("/v1/graph", f"/v1/graph/{gs.pk}/dataloading"):
            check(send(client, "post", path, body), gs_error, (path, body[:50]))
    for content_type in ("application/json; charset=bogus", "text/plain", "multipart/form-data"):
        for path in ("/v1/graph", f"/v1/graph/{gs.pk}/dataloading", "/v1/file/upload"):
            response = client.generic("POST", path, data=b'{"a": 1}', content_type=content_type)
            check(response, gs_error, (path, content_type))
    for accept in ("text/html", "application/xml", "*/*"):  # JSON whatever is asked for
        response = client.get("/v1/job", HTTP_ACCEPT=accept)
        assert response.status_code == 200 and response.json() == [], response.content


def test_graphscope_mutated_graph_definitions(client, gs):
    for body in mutations(modern_definition("fuzzed"), count=300, seed=1):
        check(send(client, "post", "/v1/graph", body), gs_error, body)
    for body in WEIRD_VALUES:
        check(send(client, "post", "/v1/graph", body), gs_error, body)


def test_graphscope_mutated_mappings(client, gs):
    for body in mutations(modern_mapping(), count=300, seed=2):
        check(send(client, "post", f"/v1/graph/{gs.pk}/dataloading", body), gs_error, body)
    # what was accepted became a real job, listable by the strict SDK models' rules
    listed = client.get("/v1/job")
    assert listed.status_code == 200
    assert all(isinstance(job["log"], str) for job in listed.json())


def test_ges_odd_paths_queries_headers_and_raw_bodies(client, ges):
    for segment in WEIRD_SEGMENTS:
        for method, template in GES_PATHS:
            path = template.format(segment)
            check(send(client, method, path, {}), ges_shape(path), path)
    for value in WEIRD_QUERY_VALUES:
        for name in ("offset", "limit", "status", "graph_name", "start_time", "end_time"):
            response = client.get("/v2/alpha/graphs/jobs", {name: value})
            check(response, ges_mgmt_error, (name, value))
        for name in ("offset", "limit"):
            response = client.get("/ges/v1.0/alpha/graphs/movies/jobs/status", {name: value})
            check(response, ges_service_error, (name, value))
        response = client.post(
            "/ges/v1.0/alpha/graphs/movies/action?" + f"action_id={value}", {}, format="json"
        )
        check(response, ges_service_error, value)
    now = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    anonymous = APIClient(raise_request_exception=False)
    for value in ["\x00", "a\x00b", "ü", "x" * 3000, "A" * 20]:
        signed = f"SDK-HMAC-SHA256 Access={value}, SignedHeaders=host;x-sdk-date, Signature=ab"
        for path in ("/v2/alpha/graphs/jobs", "/ges/v1.0/alpha/graphs/movies/jobs/status"):
            for headers in (
                {"HTTP_X_AUTH_TOKEN": value},
                {"HTTP_AUTHORIZATION": f"Token {value}"},
                {"HTTP_AUTHORIZATION": signed, "HTTP_X_SDK_DATE": now},
                {"HTTP_AUTHORIZATION": signed, "HTTP_X_SDK_DATE": value},
            ):
                response = anonymous.get(path, **headers)
                assert response.status_code == 401, (path, headers, response.content)
                ges_shape(path)(response)
    for body in RAW_BODIES:
        for path in (
            "/ges/v1.0/alpha/graphs/movies/action?action_id=import-graph",
            "/v2/alpha/graphs/movies/import-graph",
            "/ges/v1.0/alpha/graphs/movies/action?action_id=execute-algorithm",
            "/ges/v1.0/alpha/graphs/movies/vertices/action?action_id=query",
            "/ges/v1.0/alpha/graphs/movies/edges/action?action_id=query",
            "/ges/v1.0/alpha/graphs/movies/indices",
        ):
            check(send(client, "post", path, body), ges_shape(path), (path, body[:50]))
            for content_type in ("application/json; charset=bogus", "text/plain"):
                response = client.generic("POST", path, data=body, content_type=content_type)
                check(response, ges_shape(path), (path, content_type))
    for accept in ("text/html", "application/xml"):
        assert client.get("/v2/alpha/graphs/jobs", HTTP_ACCEPT=accept).status_code == 200


def movie_request() -> dict[str, Any]:
    return {
        "schema_path": str(shared_data("ges_movie", "schema.xml")),
        "vertexset_path": str(shared_data("ges_movie", "vertex.csv")),
        "edgeset_path": str(shared_data("ges_movie", "edge.csv")),
        "vertexset_format": "csv",
        "edgeset_format": "csv",
        "log_dir": "logs",
        "delimiter": ",",
        "trim_quote": '"',
        "offline": False,
        "parallel_edge": {"action": "allow", "ignore_label": True},
    }


def camel(request: dict[str, Any]) -> dict[str, Any]:
    def name(key: str) -> str:
        head, *rest = key.split("_")
        return head + "".join(part.title() for part in rest)

    return {
        name(k): ({name(a): b for a, b in v.items()} if isinstance(v, dict) else v)
        for k, v in request.items()
    }


def test_ges_mutated_import_requests(client, ges):
    before = Job.objects.count()
    for body in mutations(camel(movie_request()), count=200, seed=3):
        path = "/ges/v1.0/alpha/graphs/movies/action?action_id=import-graph"
        check(send(client, "post", path, body), ges_service_error, body)
    for body in mutations(movie_request(), count=200, seed=4):
        check(
            send(client, "post", "/v2/alpha/graphs/movies/import-graph", body), ges_mgmt_error, body
        )
    assert Job.objects.count() > before  # some mutations are still valid requests
    # and every job those made is readable on both planes
    for job in Job.objects.all():
        check(
            client.get(f"/ges/v1.0/alpha/graphs/movies/jobs/{job.pk}/status"),
            ges_service_error,
            job,
        )
        check(client.get(f"/v2/alpha/graphs/movies/jobs/{job.pk}/status"), ges_mgmt_error, job)
    check(client.get("/ges/v1.0/alpha/graphs/movies/jobs/status"), ges_service_error, "list")
    check(client.get("/v2/alpha/graphs/jobs?limit=1000"), ges_mgmt_error, "list")


def test_graph_definitions_the_parser_once_crashed_on(client, gs):
    """A primitive_type or a relation that is a list or an object is an invalid schema."""
    for bad in ([], {"a": 1}):
        definition = modern_definition("typed")
        prop = definition["schema"]["vertex_types"][0]["properties"][0]
        prop["property_type"] = {"primitive_type": bad}
        response = send(client, "post", "/v1/graph", definition)
        assert response.status_code == 400 and response.json()["code"] == 101, response.content
        definition = modern_definition("related")
        definition["schema"]["edge_types"][0]["vertex_type_pair_relations"][0]["relation"] = bad
        response = send(client, "post", "/v1/graph", definition)
        assert response.status_code == 400 and response.json()["code"] == 101, response.content


def iam_error(response: Any) -> None:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "title"}, body


def test_iam_credentials(client, project, operator):
    client.credentials(HTTP_X_AUTH_TOKEN=Token.objects.create(user=operator).key)
    credentials = "/v3.0/OS-CREDENTIAL/credentials"
    for segment in WEIRD_SEGMENTS:
        for method in ("get", "delete"):
            response = send(client, method, f"{credentials}/{segment}")
            assert response.status_code == 404 or response.status_code == 400, response.content
            iam_error(response)
        response = client.get(credentials, {"user_id": segment})
        assert response.status_code < 500, response.content
    for body in RAW_BODIES:
        response = send(client, "post", credentials, body)
        assert response.status_code == 400, (body[:50], response.content)
        iam_error(response)
    created = 0
    for body in mutations(
        {"credential": {"user_id": "oscar", "description": "d"}}, count=60, seed=5
    ):
        response = send(client, "post", credentials, body)
        assert response.status_code < 500, (body, response.content)
        if response.status_code == 201:
            created += 1
            access = response.json()["credential"]["access"]
            assert send(client, "delete", f"{credentials}/{access}").status_code == 204
        else:
            iam_error(response)
    assert created  # some mutations still name oscar (or nobody) with a fine description


def test_bodies_over_the_size_limit(client, gs, ges, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = {"x": "a" * 2000}
    for path, shape in (
        (f"/v1/graph/{gs.pk}/dataloading", gs_error),
        ("/ges/v1.0/alpha/graphs/movies/action?action_id=import-graph", ges_service_error),
        ("/v2/alpha/graphs/movies/import-graph", ges_mgmt_error),
        ("/v3.0/OS-CREDENTIAL/credentials", iam_error),
    ):
        response = send(client, "post", path, body)
        assert response.status_code == 400, (path, response.content)
        shape(response)
        assert "larger than 1000 bytes" in response.content.decode()
    # a signed request reads the body to check its hash: the same answer, not a crash
    key, _ = access_key_create(user=User.objects.get(username="oscar"))
    now = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    response = APIClient(raise_request_exception=False).post(
        "/v2/alpha/graphs/movies/import-graph",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_HOST="testserver",
        HTTP_X_SDK_DATE=now,
        HTTP_AUTHORIZATION=(
            f"SDK-HMAC-SHA256 Access={key.access_key}, SignedHeaders=host;x-sdk-date, Signature=ab"
        ),
    )
    assert response.status_code == 400 and "larger than" in response.json()["error_msg"]


@pytest.fixture
def films(client, project, operator) -> Any:
    """Graph films with the movie schema (no data, no worker: accepted requests stay jobs
    waiting), and a finished degree job with a result to export."""
    client.credentials(HTTP_X_AUTH_TOKEN=Token.objects.create(user=operator).key)
    graph = ges_graph(
        project, "films", schema_xml=shared_data("ges_movie", "schema.xml").read_bytes()
    )
    job = Job.objects.create(
        type=JobType.ALGORITHM,
        name="Algorithm",
        project=project,
        graph=graph,
        graph_name=graph.name,
        status=JobStatus.SUCCEEDED,
        params={"algorithm": "degree_statistics", "parameters": {}},
    )
    writer = ResultWriter(job.pk, kind="vertices", columns=["id", "label", "in_degree",
                                                             "out_degree", "degree"])  # fmt: skip
    writer.add([("Ada", "user", 1, 1, 2), ("Up", "movie", 1, 0, 1)])
    job.result = writer.finish({"vertices": 2})
    writer.publish()
    job.save()
    return job


ALGORITHM_BODIES: list[dict[str, Any]] = [
    {"algorithmName": "pagerank", "parameters": {"alpha": 0.85, "convergence": 0.00001,
                                                 "max_iterations": 1000, "directed": True}},
    {"algorithmName": "personalrank", "parameters": {"source": "Ada", "alpha": 0.5}},
    {"algorithmName": "shortest_path", "parameters": {"source": "Ada", "target": "Up",
                                                      "weight": "Score", "directed": False}},
    {"algorithmName": "kcore", "parameters": {"k": 2}, "executionMode": "async"},
    {"algorithmName": "louvain", "parameters": {"resolution": 1.0, "seed": 3, "weight": ""}},
]  # fmt: skip
QUERY_BODIES: list[tuple[str, dict[str, Any]]] = [
    (
        "vertices",
        {
            "labels": ["user", "movie"],
            "vertexFilters": [
                {"propertyName": "Age", "predicate": "range", "values": ["18", "40"]},
                {"propertyName": "Tags", "predicate": "has", "values": ["writer"], "type": "and"},
            ],
            "sorts": [{"key": "property", "propertyName": "Age", "orderValue": "decr"}],
            "offset": 0,
            "limit": 100,
        },
    ),
    (
        "edges",
        {
            "labels": ["rate"],
            "edgeFilters": [{"propertyName": "Score", "predicate": ">=", "values": [4]}],
            "sorts": [{"key": "source", "orderValue": "incr"}],
        },
    ),
]
INDEX_BODY = {
    "indexName": "ageIndex",
    "indexType": "GlobalCompositeVertexIndex",
    "hasLabel": "true",
    "indexProperty": ["Age"],
}


def test_ges_mutated_analytics_requests(client, films):
    before = Job.objects.count()
    for seed, body in enumerate(ALGORITHM_BODIES):
        for mutated in mutations(body, count=16, seed=10 + seed):
            check(send(client, "post", GES_PRODUCERS[0], mutated), ges_service_error, mutated)
    for seed, (target, body) in enumerate(QUERY_BODIES):
        url = GES_PRODUCERS[1] if target == "vertices" else GES_PRODUCERS[2]
        for mutated in mutations(body, count=50, seed=20 + seed):
            check(send(client, "post", url, mutated), ges_service_error, mutated)
    for mutated in mutations(INDEX_BODY, count=40, seed=30):
        check(send(client, "post", GES_PRODUCERS[3], mutated), ges_service_error, mutated)
    export = f"{GES_ANALYTICS}/jobs/{films.pk}/action?action_id=export-result"
    export_body = {"exportPath": "robust/", "fileName": "r.csv",
                   "obsParameters": {"accessKey": "a", "secretKey": "s"}}  # fmt: skip
    for mutated in mutations(export_body, count=40, seed=31):
        check(send(client, "post", export, mutated), ges_service_error, mutated)
    for value in WEIRD_VALUES:
        for url in (*GES_PRODUCERS, export):
            check(send(client, "post", url, value), ges_service_error, (url, value))
    assert Job.objects.count() > before  # some mutations are still valid requests
    # every job those made is readable; the finished one's result with any paging
    for job in Job.objects.all():
        check(client.get(f"{GES_ANALYTICS}/jobs/{job.pk}/status"), ges_service_error, job)
    for name in ("offset", "limit"):
        for value in WEIRD_QUERY_VALUES:
            response = client.get(f"{GES_ANALYTICS}/jobs/{films.pk}/status", {name: value})
            check(response, ges_service_error, (name, value))
    check(client.get(f"{GES_ANALYTICS}/jobs/status"), ges_service_error, "list")
    for job in Job.objects.filter(status=JobStatus.WAITING)[:20]:
        check(client.delete(f"{GES_ANALYTICS}/jobs/{job.pk}"), ges_service_error, job)
