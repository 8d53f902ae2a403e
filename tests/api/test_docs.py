"""docs/api.md stays true: its ``sh`` blocks run, in order, in one bash session, against a live
server (pytest-django's live_server) with a real worker, and what each block prints must match
the ``json`` or ``text`` block that follows it on the page.

How the page's examples are adapted, as the page itself says: ``JC``, ``IMPORTS``, ``DATA`` and
``PASSWORD`` are set in the environment (the page's set-up block keeps them: ``${JC:-...}``); the
server's address in the output is compared as ``http://127.0.0.1:8000``; in an expected block
``…`` matches anything. The database starts as ``make run`` leaves it (user ``admin``, project
``default``), plus the user ``alice`` the page adds to a project.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from jobcenter.graphs.formats.ges import REQUEST_KEYS
from jobcenter.graphs.formats.graphscope import MAPPING_KEYS
from jobcenter.projects.services import project_create
from tests.conftest import REPO
from tests.doc_examples import examples, matches, run_page

DOC = REPO / "docs" / "api.md"


def test_the_matcher_can_fail():
    assert matches({"a": "x…z", "b": [1]}, {"a": "xyz", "b": [1]})
    assert not matches({"a": 1}, {"a": 1, "b": 2})
    assert not matches({"a": [1, 2]}, {"a": [1]})
    assert not matches({"a": 1}, {"a": True})
    assert not matches({"a": "1"}, {"a": 1})
    assert not matches("x…z", "xy")


def test_every_example_has_its_output_shown():
    found = examples(DOC.read_text())
    assert len(found) >= 20
    silent = [script.splitlines()[0] for script, lang, _ in found if lang is None]
    assert silent == [], "an sh block without its output block"


def test_every_key_of_an_import_request_is_documented():
    text = DOC.read_text()
    missing = sorted(key for key in REQUEST_KEYS | MAPPING_KEYS if f"`{key}`" not in text)
    assert missing == [], f"import request keys docs/api.md does not name: {missing}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_the_curl_walk_through_in_docs_api_md_is_true(live_server, worker_factory, tmp_path):
    users = get_user_model().objects
    admin = users.create_superuser(username="admin", password="docs-admin-pw")
    project_create(name="default", description="Created on first start.", admin=admin)
    users.create_user(username="alice", password="docs-alice-pw")
    worker_factory()
    run_page(DOC, server_url=live_server.url, password="docs-admin-pw")
