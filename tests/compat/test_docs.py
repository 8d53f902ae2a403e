"""docs/compat.md stays true: its ``sh`` blocks (every GES, GraphScope and IAM request, by
example) run in order against a live server with a real worker, and print what the page shows
(see tests/doc_examples.py). While they run, the test records every request the server gets:
each endpoint of the three dialects, with each method it implements and each ``action_id`` the
page documents, must be among them, so no documented request is left without an example."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs

import pytest
from django.contrib.auth import get_user_model
from django.core.signals import request_started
from django.urls import Resolver404, resolve

from jobcenter.compat.ges import urls as ges_urls
from jobcenter.compat.graphscope import urls as graphscope_urls
from jobcenter.compat.iam import urls as iam_urls
from jobcenter.projects.services import project_create
from tests.conftest import REPO
from tests.doc_examples import examples, run_page

DOC = REPO / "docs" / "compat.md"
METHODS = ("get", "post", "put", "patch", "delete")
# Endpoints that take several requests, told apart by their action_id (all documented).
ACTIONS = {
    "ges-graph-action": ("import-graph", "execute-algorithm"),
    "ges-job-action": ("export-result",),
    "ges-vertex-query": ("query",),
    "ges-edge-query": ("query",),
}


def documented_requests() -> set[tuple[str, str, str]]:
    """``(url name, method, action_id or "")`` of every request the three dialects serve."""
    wanted = set()
    for module in (ges_urls, graphscope_urls, iam_urls):
        for pattern in module.urlpatterns:
            if pattern.name is None:  # the catch-all answering "no such endpoint"
                continue
            view = pattern.callback.view_class
            for method in METHODS:
                if hasattr(view, method):
                    for action in ACTIONS.get(pattern.name, ("",)):
                        wanted.add((pattern.name, method.upper(), action))
    return wanted


@pytest.fixture
def served() -> Iterator[set[tuple[str, str, str]]]:
    """Every request the (in-process) live server answers, as in documented_requests()."""
    seen: set[tuple[str, str, str]] = set()

    def record(sender: object, environ: dict, **kwargs: object) -> None:
        try:
            name = resolve(environ["PATH_INFO"]).url_name or ""
        except Resolver404:
            return
        action = parse_qs(environ.get("QUERY_STRING", "")).get("action_id", [""])[0]
        seen.add((name, environ["REQUEST_METHOD"], action if name in ACTIONS else ""))

    request_started.connect(record)
    yield seen
    request_started.disconnect(record)


def test_every_example_has_its_output_shown():
    found = examples(DOC.read_text())
    assert len(found) >= 9
    silent = [script.splitlines()[0] for script, lang, _ in found if lang is None]
    assert silent == [], "an sh block without its output block"


def test_every_dialect_request_is_listed():
    """The list the walk-through is checked against cannot be empty or miss a dialect."""
    names = {name for name, _, _ in documented_requests()}
    assert {"ges-jobs", "ges2-import-graph", "gs-dataloading", "iam-credential"} <= names
    assert len(documented_requests()) == 28


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_every_request_in_docs_compat_md_runs_as_shown(live_server, worker_factory, served):
    users = get_user_model().objects
    admin = users.create_superuser(username="admin", password="docs-admin-pw")
    project_create(name="default", description="Created on first start.", admin=admin)
    worker_factory()
    run_page(DOC, server_url=live_server.url, password="docs-admin-pw")
    missing = sorted(documented_requests() - served)
    assert missing == [], f"requests without a runnable example in docs/compat.md: {missing}"
