"""Schemathesis against the live OpenAPI schema, for every operation, authenticated.

The document is the one ``GET /api/schema/`` serves: it is produced by calling that view at
import time (pytest needs the operations to collect one test per operation, before any database
exists), and ``test_the_fuzzed_schema_is_the_one_served`` checks, over HTTP with a token, that
the served document is exactly that one. Requests go through the whole WSGI stack in-process,
against the test database, signed in as a staff user who is admin of project alpha (so that
every operation, including project creation and membership, can succeed).

Checks: every default check of schemathesis (no 5xx, documented status codes, content types and
headers, response bodies matching their schemas, schema-invalid requests rejected with a 4xx,
405 for undocumented methods...) except ``positive_data_acceptance``: a request can be valid for
the schema and still be refused with a 400 for reasons no schema can express (an opaque cursor
that was never issued, a file path that does not exist, a schema.xml that does not parse).

Run time is bounded by ``max_examples`` per operation (the coverage phase adds its own, bounded,
boundary cases).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import schemathesis
import yaml
from django.contrib.auth import get_user_model
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import resolve
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.test import APIRequestFactory, force_authenticate
from schemathesis.specs.openapi.checks import positive_data_acceptance

from jobcenter.graphs.models import Graph
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.services import job_cancel
from jobcenter.projects.services import membership_set, project_create
from tests.api.conftest import make_job, run_job, token_for
from tests.factories import ges_movie_import, graphscope_graph, shared_data, user_create

MAX_EXAMPLES = 25
ZERO = "0" * 32
MOVIE_FILES = {
    "schema_path": "schema.xml",
    "vertexset_path": "vertex.csv",
    "edgeset_path": "edge.csv",
}


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

# Path parameter values that name real objects, filled per test by the ``fuzz`` fixture; the
# generated values (mostly unknown ids) are drawn too, for 404s and malformed ids.
KNOWN: dict[str, list[Any]] = {}


@schema.hook
def before_generate_path_parameters(context: Any, strategy: Any) -> Any:
    names = [p.name for p in context.operation.path_parameters]
    if not names or not all(KNOWN.get(n) for n in names):
        return strategy
    known = st.fixed_dictionaries({n: st.sampled_from(KNOWN[n]) for n in names})
    return st.one_of(known, known, known, strategy)


def _overlay(generated: Any, known: dict[str, Any]) -> Any:
    """``known`` fields laid over a generated body (its other, fuzzed, fields stay)."""
    return {**generated, **known} if isinstance(generated, dict) else generated


@schema.hook
def before_generate_body(context: Any, strategy: Any) -> Any:
    """Bodies that name real things (a project, a user, files under the import roots) next to
    the generated ones, so that fuzzing also reaches the code behind the first validation."""
    valid = KNOWN.get("bodies", {}).get(context.operation.label)
    if not valid:
        return strategy
    return st.one_of(
        strategy,
        st.sampled_from(valid),
        st.builds(_overlay, strategy, st.sampled_from(valid)),
    )


@pytest.fixture
def in_process_wsgi():
    """Keep the test's database connection across WSGI requests (as Django's test client
    does): the handler would otherwise close it when each request ends."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz(jobs, project, graph, in_process_wsgi) -> dict[str, str]:
    """Data for every kind of path parameter; returns the headers of every request."""
    boss = user_create("boss")
    boss.is_staff = True
    boss.save()
    membership_set(project=project, user=boss, role="admin")
    modern = graphscope_graph(project)
    # The coverage phase sends pattern-conforming placeholders ("000...0" ids, "0" names):
    # make them name real objects too, so its boundary cases reach past the lookups.
    zero_graph = Graph.objects.create(
        id=ZERO, project=project, name="zero", dialect="graphscope", schema=modern.schema
    )
    run_job(
        make_job(project, zero_graph, id=ZERO), status=JobStatus.PARTIALLY_FAILED, failed_lines=3
    )
    zero_project = project_create(name="0", admin=boss)
    membership_set(project=zero_project, user=user_create("0"), role="viewer")
    retryable = ges_movie_import(graph, user=boss)
    job_cancel(job=retryable, user=boss)
    movie = {k: str(shared_data("ges_movie", f)) for k, f in MOVIE_FILES.items()}
    mapping = yaml.safe_load(shared_data("modern_graph", "bulk_load.yaml").read_text())
    mapping["loading_config"]["data_source"]["location"] = str(shared_data("modern_graph"))
    definition = yaml.safe_load(shared_data("modern_graph", "graph.yaml").read_text())
    KNOWN.clear()
    KNOWN.update(
        job_id=[retryable.pk, *(j.pk for j in jobs.values())],
        graph_id=[graph.pk, modern.pk, zero_graph.pk],
        project=["alpha"],
        username=["vera", "oscar"],
        index=[0, 1],
        bodies={
            "POST /api/v1/graphs/{graph_id}/import/": [
                {"format": "ges", "request": movie},
                {"format": "graphscope", "mapping": mapping},
            ],
            "POST /api/v1/graphs/": [
                {"project": "alpha", "name": "g", "dialect": "ges"},
                {"project": "alpha", "name": "m", "dialect": "graphscope", "schema": definition},
            ],
            "POST /api/v1/jobs/cancel/": [{"filter": {"status": ["waiting", "running"]}}],
            "POST /api/v1/projects/{project}/members/": [
                {"username": "vera", "role": "operator"},
                {"username": "outsider", "role": "viewer"},
            ],
            "POST /api/v1/auth/token/": [{"username": "boss", "password": "pw-boss"}],
        },
    )
    return {"Authorization": f"Token {token_for(boss)}"}


def test_every_operation_is_fuzzed():
    operations = {
        (method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item
    }
    assert len(operations) >= 25
    assert ("GET", "/api/v1/jobs/") in operations
    assert ("POST", "/api/v1/graphs/{graph_id}/import/") in operations


@pytest.mark.django_db
def test_the_fuzzed_schema_is_the_one_served(client_for, operator):
    response = client_for(operator).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert json.loads(response.content) == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api(case, fuzz):
    case.call_and_validate(headers=fuzz, excluded_checks=[positive_data_acceptance])
