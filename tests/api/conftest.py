"""Fixtures for the REST API tests: authenticated clients and jobs in every state, built with
the real services (no engine needed: workers are played by calling the worker-side services)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_create
from jobcenter.jobs.models import Job
from jobcenter.projects.services import membership_set
from tests.factories.jobs import DATA_ONLY, jobs_in_every_state, make_job, run_job
from tests.factories.projects import project_with_members, user_create


def token_for(user: Any) -> str:
    return Token.objects.get_or_create(user=user)[0].key


@pytest.fixture
def client_for(db) -> Callable[..., APIClient]:
    """``client_for(user)``: an APIClient sending the user's token (``how``: "token",
    "bearer" or "x-auth-token"); ``client_for(None)`` is anonymous."""

    def make(user: Any = None, *, how: str = "token") -> APIClient:
        client = APIClient()
        if user is not None:
            key = token_for(user)
            if how == "token":
                client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            elif how == "bearer":
                client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
            else:
                client.credentials(HTTP_X_AUTH_TOKEN=key)
        return client

    return make


@pytest.fixture
def api(client_for, operator) -> APIClient:
    """The operator of project alpha."""
    return client_for(operator)


@pytest.fixture
def graph(project) -> Graph:
    return graph_create(project=project, name="movies", dialect="ges")


@pytest.fixture
def jobs(project, graph, operator) -> dict[str, Job]:
    """One job in each state of project alpha, oldest first: two data files each, the running
    ones 40 of 100 lines in at 20 lines/s."""
    return jobs_in_every_state(
        project,
        graph,
        operator,
        make=partial(make_job, files=DATA_ONLY, request={"vertexset_path": "vertex.csv"}),
        run=partial(
            run_job,
            lines_total=100,
            lines_per_second=20.0,
            reason="some lines failed",
            vertex_file={"status": "partFailed", "failed_lines": 2},
        ),
    )


# --- more fixtures and helpers for the API tests ------------------------------------------------

ERROR_KEYS = {"code", "message", "errors"}


def assert_error(
    response: Any, status: int, code: str | None = None, field: str | None = None
) -> dict:
    """The one error shape: ``{"code", "message", "errors"}``, with the field named."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert isinstance(body["code"], str) and body["code"]
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["errors"], dict)
    for messages in body["errors"].values():
        assert isinstance(messages, list) and all(isinstance(m, str) for m in messages)
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert field in body["errors"], body
        assert field in body["message"], body
    return body


@pytest.fixture
def admin_api(client_for, admin_user) -> APIClient:
    """A superuser (site administrator)."""
    return client_for(admin_user)


@pytest.fixture
def viewer_api(client_for, viewer) -> APIClient:
    return client_for(viewer)


@pytest.fixture
def project_admin(project) -> Any:
    """Ada, admin of project alpha (not a site administrator)."""
    ada = user_create("ada")
    membership_set(project=project, user=ada, role="admin")
    return ada


@pytest.fixture
def other(db) -> dict[str, Any]:
    """Project beta, where nobody of alpha is a member: its graph and a waiting job."""
    beta = project_with_members("beta", bob="operator")
    graph = graph_create(project=beta, name="secret", dialect="ges")
    job = make_job(beta, graph, submitted_by=beta.members.get(username="bob"))
    return {"project": beta, "graph": graph, "job": job}
