"""The GraphScope, GES and IAM endpoints read their JSON bodies (graph definitions, mappings,
import requests...) with the one document reader (jobcenter.core.documents): every hostile
body answers a 400 in the dialect's own error shape, quickly, naming what is wrong, and
writes nothing. A YAML document is no JSON body: refused, never expanded."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job
from tests.compat.test_robustness import ges_mgmt_error, ges_service_error, gs_error, iam_error
from tests.documents import ALIAS_BOMB, HOSTILE_JSON, quickly
from tests.factories.graphs import ges_graph, graphscope_graph

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(settings, project, operator) -> APIClient:
    settings.JOBCENTER_GRAPHSCOPE_ANONYMOUS_PROJECT = project.name
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_AUTH_TOKEN=Token.objects.create(user=operator).key)
    return client


@pytest.fixture
def endpoints(project) -> list[tuple[str, Any]]:
    gs = graphscope_graph(project)
    ges_graph(project, "movies")
    return [
        ("/v1/graph", gs_error),
        (f"/v1/graph/{gs.pk}/dataloading", gs_error),
        ("/ges/v1.0/alpha/graphs/movies/action?action_id=import-graph", ges_service_error),
        ("/ges/v1.0/alpha/graphs/movies/action?action_id=execute-algorithm", ges_service_error),
        ("/v2/alpha/graphs/movies/import-graph", ges_mgmt_error),
        ("/v3.0/OS-CREDENTIAL/credentials", iam_error),
    ]


@pytest.mark.parametrize("name", list(HOSTILE_JSON))
def test_a_hostile_body_is_refused_by_every_dialect(client, endpoints, name):
    body, message = HOSTILE_JSON[name]
    graphs = Graph.objects.count()
    for path, shape in endpoints:
        with quickly():
            response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 400, (path, response.status_code, response.content[:300])
        shape(response)
        assert message in response.content.decode(), (path, response.content[:300])
    assert Graph.objects.count() == graphs and Job.objects.count() == 0


def test_a_body_over_the_size_limit(client, endpoints, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = b'{"name": "' + b"x" * 2000 + b'"}'
    for path, shape in endpoints:
        with quickly():
            response = client.post(path, data=body, content_type="application/json")
        assert response.status_code == 400, (path, response.content[:300])
        shape(response)
        assert "larger than 1000 bytes" in response.content.decode()
    assert Job.objects.count() == 0


def test_a_yaml_body_is_no_json_body(client, endpoints):
    graphs = Graph.objects.count()
    for path, shape in endpoints:
        with quickly():
            response = client.post(path, data=ALIAS_BOMB, content_type="application/yaml")
        assert 400 <= response.status_code < 500, (path, response.status_code)
        shape(response)
    assert Graph.objects.count() == graphs and Job.objects.count() == 0
