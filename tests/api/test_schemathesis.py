"""Schemathesis against the live OpenAPI schema: every check, every operation, authenticated.

The document is the one ``GET /api/schema/`` serves: it is produced by calling that view at
import time (pytest needs the operations to collect one test per operation, before any database
exists), and ``test_the_fuzzed_schema_is_the_one_served`` checks, over HTTP with a token, that
the served document is exactly that one. Requests go through the whole WSGI stack in-process,
against the test database, signed in as a staff user who is admin of project alpha (so that
every operation, including project creation and membership, can succeed).

Every check of schemathesis runs: no 5xx, only documented status codes, content types and
headers, response bodies matching their schemas, schema-invalid requests refused
(``negative_data_rejection``), schema-valid requests accepted (``positive_data_acceptance``),
405 and ``Allow`` for undocumented methods, no answer without credentials. One thing no schema
can state is whether a value names something that exists on the server (a file under the import
roots, a vertex or a label of this graph, a user, a cursor the server issued) or holds a
document that parses: a schema-valid request may be refused with a 400 naming such a field, and
only such a field (``SERVER_CHECKED``, each with its reason).

The data behind the ids is real (``world``): graphs with data, jobs of every type and state,
finished ones with files, failed lines and results, so that operations on ids reach real objects
as well as 404s. Runs are deterministic (derandomized, no example database); the number of cases
per operation is ``MAX_EXAMPLES`` plus the boundary cases of schemathesis' coverage phase.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
import yaml
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import resolve
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.value import GeneratedValue
from schemathesis.openapi.checks import RejectedPositiveData

from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_create
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import (
    graph_delete_submit,
    job_cancel,
    job_submit_algorithm,
    job_submit_export,
    job_submit_graph_operation,
    job_submit_index,
    job_submit_query,
)
from jobcenter.notifications.models import Delivery, Webhook
from jobcenter.projects.services import membership_set, project_create
from tests.api.conftest import token_for
from tests.factories.files import shared_data
from tests.factories.graphs import graphscope_graph
from tests.factories.jobs import ges_movie_import, jobs_in_every_state, make_job, run_job
from tests.factories.projects import project_with_members, user_create

# Generated cases per operation, on top of the coverage phase's boundary cases (about 30 to 250
# per operation): a few hundred in all for each operation.
MAX_EXAMPLES = 150
ZERO = "0" * 32
MOVIE_FILES = {
    "schema_path": "schema.xml",
    "vertexset_path": "vertex.csv",
    "edgeset_path": "edge.csv",
}

# Fields whose validity depends on the server's data, per operation: a schema-valid request may
# be refused with a 400 whose errors name only these (a prefix covers the fields under it).
_GES_REQUEST = ("request", "schema_path", "vertexset_path", "edgeset_path", "log_dir", "encoding")
SERVER_CHECKED: dict[str, dict[str, str]] = {
    "POST /api/v1/auth/token/": {
        "password": "whether the username and password are right",
    },
    "POST /api/v1/graphs/": {
        "project": "whether the project exists and you are a member",
        "schema": "whether the schema.xml or the graph definition is a valid schema",
    },
    "POST /api/v1/graphs/{graph_id}/import/": {
        **dict.fromkeys(_GES_REQUEST, "whether the files exist under the import roots and parse"),
        "trim_quote": "that it differs from the delimiter",
        "format": "whether the graph was defined in that format",
        **dict.fromkeys(
            ("mapping", "loading_config", "vertex_mappings", "edge_mappings"),
            "whether the mapping fits the graph's schema and names existing files",
        ),
        "options": "whether the options text is a GES request object, checked as `request`",
        "schema": "whether the uploaded schema.xml parses and fits the graph",
    },
    "POST /api/v1/graphs/{graph_id}/algorithms/": {
        f"parameters.{name}": "whether the graph has this vertex, label or numeric property"
        for name in ("source", "target", "source_label", "target_label", "weight")
    },
    "POST /api/v1/graphs/{graph_id}/query/": {
        "labels": "whether the graph has these labels",
        "filters": "whether the labels have the property, and the values its type",
        "sort": "whether the labels have the property",
    },
    "POST /api/v1/graphs/{graph_id}/indexes/": {
        "label": "whether the graph has the label",
        "property": "whether the label has the property",
    },
    "POST /api/v1/graphs/{graph_id}/export/": {
        "path": "whether the path is free under the export roots",
    },
    "POST /api/v1/graphs/{graph_id}/operations/": {
        "path": "whether the path is free (backup) or a backup (restore) under the roots",
    },
    "POST /api/v1/jobs/{job_id}/result/export/": {
        "path": "whether the path is free under the export roots",
    },
    "POST /api/v1/projects/{project}/members/": {
        "username": "whether the user exists",
    },
    "POST /api/v1/projects/{project}/webhooks/": {
        "url": "whether its host is in the server's JOBCENTER_WEBHOOK_ALLOWED_HOSTS",
    },
    "PATCH /api/v1/projects/{project}/webhooks/{webhook_id}/": {
        "url": "whether its host is in the server's JOBCENTER_WEBHOOK_ALLOWED_HOSTS",
    },
}
# Issue 17: any submitted job may name jobs it waits for; a chain's steps are checked by their
# kinds' own rules (the schema shows the keys every step has).
for _label in (
    "POST /api/v1/graphs/{graph_id}/import/",
    "POST /api/v1/graphs/{graph_id}/algorithms/",
    "POST /api/v1/graphs/{graph_id}/query/",
    "POST /api/v1/graphs/{graph_id}/indexes/",
    "POST /api/v1/graphs/{graph_id}/export/",
    "POST /api/v1/graphs/{graph_id}/operations/",
    "POST /api/v1/graphs/{graph_id}/start/",
    "POST /api/v1/graphs/{graph_id}/close/",
    "POST /api/v1/jobs/{job_id}/result/export/",
):
    SERVER_CHECKED.setdefault(_label, {})["depends_on"] = (
        "whether the jobs exist in the project, and whether this kind of job can wait"
    )
SERVER_CHECKED["POST /api/v1/projects/{project}/chains/"] = {
    "steps": "each step's own keys, checked as its kind's endpoint checks them, and whether "
    "the graphs, jobs and steps it names exist",
}
PAGINATED = (
    "GET /api/v1/jobs/",
    "GET /api/v1/graphs/",
    "GET /api/v1/projects/",
    "GET /api/v1/projects/{project}/members/",
    "GET /api/v1/projects/{project}/webhooks/",
    "GET /api/v1/projects/{project}/webhooks/{webhook_id}/deliveries/",
    "GET /api/v1/jobs/{job_id}/timeline/",
    "GET /api/v1/jobs/{job_id}/files/",
    "GET /api/v1/jobs/{job_id}/failed-lines/",
    "GET /api/v1/jobs/{job_id}/files/{index}/failed-lines/",
)
for _label in PAGINATED:
    SERVER_CHECKED.setdefault(_label, {})["cursor"] = "whether the server issued the cursor"


def served_schema() -> dict[str, Any]:
    """What GET /api/schema/?format=json returns to a signed-in user (no database needed)."""
    request = APIRequestFactory().get("/api/schema/", {"format": "json"})
    force_authenticate(request, user=get_user_model()(username="schema-reader"))
    response = resolve("/api/schema/").func(request)
    response.render()
    assert response.status_code == 200, response.content[:500]
    return json.loads(response.content)


DOCUMENT = served_schema()
schema = schemathesis.openapi.from_dict(DOCUMENT)
schema.app = get_wsgi_application()

# Path parameter values and bodies that name real objects (filled from ``world``); generated
# values (mostly unknown ids) are drawn too, for 404s and malformed ids.
KNOWN: dict[str, Any] = {}


def _negative(value: Any) -> bool:
    """Whether a drawn value is a negative one: schemathesis wraps those in a GeneratedValue
    saying what it broke (it wraps some positive ones too, with nothing broken)."""
    return isinstance(value, GeneratedValue) and value.meta is not None


def _positive_or_known(strategy: Any, known: Any) -> Any:
    """``strategy``'s values, or in positive mode also ``known`` ones (a negative value stays
    as it is: replaced by a valid one, the case would no longer be negative)."""
    return strategy.flatmap(
        lambda value: (
            st.just(value) if _negative(value) else st.one_of(st.just(value), known, known)
        )
    )


@schema.hook
def before_generate_path_parameters(context: Any, strategy: Any) -> Any:
    names = [p.name for p in context.operation.path_parameters]
    if not names or not all(KNOWN.get(n) for n in names):
        return strategy
    return _positive_or_known(
        strategy, st.fixed_dictionaries({n: st.sampled_from(KNOWN[n]) for n in names})
    )


def _resolved(node: Any) -> Any:
    if isinstance(node, dict):
        if "$ref" in node:
            return _resolved(DOCUMENT["components"]["schemas"][node["$ref"].split("/")[-1]])
        return {key: _resolved(value) for key, value in node.items()}
    return [_resolved(item) for item in node] if isinstance(node, list) else node


IMPORT = "POST /api/v1/graphs/{graph_id}/import/"
IMPORT_BODIES = [
    jsonschema_rs.Draft4Validator(_resolved(media["schema"]))
    for media in DOCUMENT["paths"][IMPORT.split()[1]]["post"]["requestBody"]["content"].values()
]


def _really_valid(value: Any) -> bool:
    """Whether a positive import body is valid for one of its media types. Schemathesis fills
    the file parts of a multipart body from the top-level properties, without the variant
    (oneOf on `format`) that says which parts a format takes: such a body is not valid, and
    not sent as if it were."""
    if _negative(value):
        return True
    if isinstance(value, GeneratedValue):
        value = value.value
    plain = json.loads(json.dumps(value))  # file parts (a str subclass) as plain text
    return any(validator.is_valid(plain) for validator in IMPORT_BODIES)


@schema.hook
def before_generate_body(context: Any, strategy: Any) -> Any:
    """Bodies that name real things (a project, a user, files under the import roots), so that
    fuzzing also reaches the code behind the first validation."""
    if context.operation.label == IMPORT:
        strategy = strategy.filter(_really_valid)
    valid = KNOWN.get("bodies", {}).get(context.operation.label)
    return _positive_or_known(strategy, st.sampled_from(valid)) if valid else strategy


def _errors_of(response: Any) -> dict[str, Any]:
    try:
        body = json.loads(response.content)
    except ValueError:
        return {}
    return body.get("errors") or {} if isinstance(body, dict) else {}


def server_checked(label: str, response: Any) -> bool:
    """A 400 that names only fields whose validity depends on the server's data."""
    allowed = SERVER_CHECKED.get(label, {})
    fields = set(_errors_of(response))
    return (
        response.status_code == 400
        and bool(fields)
        and all(any(f == a or f.startswith((a + ".", a + "[")) for a in allowed) for f in fields)
    )


def check(case: Any, headers: dict[str, str]) -> Any:
    """``case.call_and_validate`` with every check, bar a 400 explained by SERVER_CHECKED."""
    response = case.call(headers=headers)
    try:
        case.validate_response(response, headers=headers, transport_kwargs={"headers": headers})
    except FailureGroup as group:
        left = [
            failure
            for failure in group.exceptions
            if not (
                isinstance(failure, RejectedPositiveData)
                and server_checked(case.operation.label, response)
            )
        ]
        if left:
            raise FailureGroup(left, str(group)) from None
    return response


@pytest.fixture
def in_process_wsgi() -> Iterator[None]:
    """Keep the test's database connection across WSGI requests (as Django's test client
    does): the handler would otherwise close it when each request ends."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def _finished(job: Job) -> Job:
    execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.status in (JobStatus.SUCCEEDED, JobStatus.PARTIALLY_FAILED), job.fail_reason
    return job


def build_world(tag: str) -> dict[str, Any]:
    """Projects, users, graphs with data and jobs of every type and state, most finished by
    running them (results, failed lines, files), committed for the whole module."""
    project = project_with_members("alpha", oscar="operator", vera="viewer")
    operator = project.members.get(username="oscar")
    user_create("outsider")
    boss = user_create("boss")
    boss.is_staff = True
    boss.save()
    membership_set(project=project, user=boss, role="admin")
    # The coverage phase sends pattern-conforming placeholders ("000...0" ids, "0" names):
    # they name real objects too, so its boundary cases reach past the lookups.
    zero_project = project_create(name="0", admin=boss)
    membership_set(project=zero_project, user=user_create("0"), role="viewer")

    movies = graph_create(project=project, name="movies", dialect="ges")
    imported = _finished(ges_movie_import(movies, user=boss))
    movies.refresh_from_db()  # the import brought its schema
    modern = graphscope_graph(project)
    zero_graph = Graph.objects.create(
        id=ZERO, project=project, name="zero", dialect="graphscope", schema=modern.schema
    )
    run_job(
        make_job(project, zero_graph, id=ZERO), status=JobStatus.PARTIALLY_FAILED, failed_lines=3
    )
    states = jobs_in_every_state(project, movies, operator, make=make_job, run=run_job)
    retryable = ges_movie_import(movies, user=boss)
    job_cancel(job=retryable, user=boss)
    algorithm = _finished(
        job_submit_algorithm(graph=movies, algorithm="connected_components", user=boss)
    )
    query = _finished(
        job_submit_query(
            graph=movies,
            query={"labels": ["user"], "filters": [], "sort": [{"property": "Age"}]},
            user=boss,
        )
    )
    index = _finished(job_submit_index(graph=movies, label="user", property="Age", user=boss))
    export = _finished(job_submit_export(graph=movies, path=f"{tag}/graph", user=boss))
    result_export = _finished(
        job_submit_export(source_job=algorithm, path=f"{tag}/result.csv", user=boss)
    )
    backup = _finished(
        job_submit_graph_operation(
            graph=movies, operation="backup", path=f"{tag}/movies.db", user=boss
        )
    )
    gone = graph_create(project=project, name="gone", dialect="ges")
    deletion = _finished(graph_delete_submit(graph=gone, user=boss))
    jobs = [
        imported,
        *states.values(),
        retryable,
        algorithm,
        query,
        index,
        export,
        result_export,
        backup,
        deletion,
    ]
    # A webhook with a delivery (written directly: no host is allowed in the tests' settings).
    webhook = Webhook.objects.create(
        project=project, url="https://hooks.example.com/in", events=["job.failed"]
    )
    delivery = Delivery.objects.create(
        webhook=webhook,
        event="job.failed",
        job_id=imported.pk,
        body="{}",
        created_at=imported.created_at,
        retry_until=imported.created_at,
        status="failed",
    )
    return {
        "boss": boss,
        "webhook_id": [webhook.pk],
        "delivery_id": [delivery.pk],
        "movies": movies.pk,
        "modern": modern.pk,
        "job_id": [j.pk for j in jobs],
        "graph_id": [movies.pk, modern.pk, zero_graph.pk],
    }


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[dict[str, Any]]:
    """Built once for the module (each test's own writes are rolled back after it), and
    removed after the last one."""
    tag = f"fuzz-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        try:
            yield build_world(tag)
        finally:
            call_command("flush", interactive=False, verbosity=0)
            for root in django_settings.JOBCENTER_EXPORT_ROOTS:
                shutil.rmtree(Path(root) / tag, ignore_errors=True)


@pytest.fixture
def fuzz(world, db, in_process_wsgi) -> dict[str, str]:
    """The known values of the hooks above; returns the headers of every request."""
    movie = {k: str(shared_data("ges_movie", f)) for k, f in MOVIE_FILES.items()}
    mapping = yaml.safe_load(shared_data("modern_graph", "bulk_load.yaml").read_text())
    mapping["loading_config"]["data_source"]["location"] = str(shared_data("modern_graph"))
    definition = yaml.safe_load(shared_data("modern_graph", "graph.yaml").read_text())
    KNOWN.clear()
    KNOWN.update(
        job_id=world["job_id"],
        graph_id=world["graph_id"],
        webhook_id=world["webhook_id"],
        delivery_id=world["delivery_id"],
        project=["alpha"],
        username=["vera", "oscar"],
        index=[0, 1, 2],
        bodies={
            "POST /api/v1/graphs/{graph_id}/import/": [
                {"format": "ges", "request": movie},
                {"format": "graphscope", "mapping": mapping},
            ],
            "POST /api/v1/graphs/": [
                {"project": "alpha", "name": "g", "dialect": "ges"},
                {"project": "alpha", "name": "m", "dialect": "graphscope", "schema": definition},
            ],
            "POST /api/v1/graphs/{graph_id}/algorithms/": [
                {"algorithm": "shortest_path", "parameters": {"source": "Ada", "target": "Eric"}},
                {"algorithm": "pagerank", "parameters": {"alpha": 0.5}},
            ],
            "POST /api/v1/graphs/{graph_id}/query/": [
                {
                    "labels": ["user"],
                    "filters": [{"property": "Age", "predicate": "range", "values": [20, 40]}],
                    "sort": [{"property": "Age", "order": "desc"}],
                },
            ],
            "POST /api/v1/graphs/{graph_id}/indexes/": [{"label": "user", "property": "Age"}],
            "POST /api/v1/jobs/cancel/": [{"filter": {"status": ["waiting", "running"]}}],
            "POST /api/v1/jobs/retry/": [{"filter": {"status": "cancelled"}}],
            "POST /api/v1/projects/{project}/members/": [
                {"username": "vera", "role": "operator"},
                {"username": "outsider", "role": "viewer"},
            ],
            "POST /api/v1/auth/token/": [{"username": "boss", "password": "pw-boss"}],
            "POST /api/v1/projects/{project}/chains/": [
                {
                    "steps": [
                        {"type": "algorithm", "graph": world["movies"], "algorithm": "pagerank"},
                        {"type": "close_graph", "graph": world["movies"], "depends_on": [0]},
                    ]
                }
            ],
        },
    )
    return {"Authorization": f"Token {token_for(world['boss'])}"}


def test_every_operation_is_fuzzed():
    operations = {
        (method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item
    }
    assert len(operations) >= 25
    assert ("GET", "/api/v1/jobs/") in operations
    assert ("POST", "/api/v1/graphs/{graph_id}/import/") in operations
    labels = {f"{method} {path}" for method, path in operations}
    assert set(SERVER_CHECKED) <= labels  # no exemption for an operation that is gone


def test_the_fuzzed_schema_is_the_one_served(world, db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(world['boss'])}")
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert json.loads(response.content) == DOCUMENT


def test_the_known_bodies_are_accepted(world, fuzz):
    """The bodies the fuzzing mixes in are accepted as they are: what SERVER_CHECKED excuses
    cannot hide a happy path that no longer works."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=fuzz["Authorization"])
    for label, bodies in KNOWN["bodies"].items():
        method, template = label.split()
        for body in bodies:
            graph = world["modern"] if body.get("format") == "graphscope" else world["movies"]
            path = template.format(graph_id=graph, project="alpha")
            response = client.generic(method, path, json.dumps(body), "application/json")
            assert response.status_code in (200, 201, 202), (label, body, response.content)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api(case, fuzz):
    check(case, fuzz)
