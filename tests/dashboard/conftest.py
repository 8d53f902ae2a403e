"""Fixtures for the dashboard's view tests: logged-in clients and jobs in every state, made with
the real services (the worker is played by calling the worker-side services)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_create
from jobcenter.jobs.models import Job
from tests.factories.jobs import jobs_in_every_state

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def graph(project) -> Graph:
    return graph_create(project=project, name="movies", dialect="ges")


@pytest.fixture
def jobs(project, graph, operator) -> dict[str, Job]:
    """One job in each state of project alpha, oldest first."""
    return jobs_in_every_state(project, graph, operator)


@pytest.fixture
def client_for(db) -> Callable[[Any], Client]:
    """``client_for(user)``: a client logged in as the user (CSRF checks on, as in a browser)."""

    def make(user: Any) -> Client:
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def oscar(client_for, operator) -> Client:
    return client_for(operator)


@pytest.fixture
def vera(client_for, viewer) -> Client:
    return client_for(viewer)


def csrf_token(client: Client, url: str = "/") -> str:
    """The CSRF token a page served to this client carries (as a browser would read it)."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return (
        response.cookies["csrftoken"].value
        if "csrftoken" in response.cookies
        else (client.cookies["csrftoken"].value)
    )


def post(client: Client, url: str, data: dict | None = None, *, htmx: bool = False, **extra: Any):
    """A POST carrying the CSRF token the way the dashboard sends it (header, from the page)."""
    token = csrf_token(client)
    headers = {"HTTP_X_CSRFTOKEN": token, **(HTMX if htmx else {}), **extra}
    return client.post(url, data or {}, **headers)
