"""Dry-run imports through the REST API, run by a real worker (issue 17): the same per-file
counts and failed lines as the real import of the same files, nothing written to the graph,
``dry_run`` shown in the job detail and list, and a retry of a dry run is one."""

from __future__ import annotations

from typing import Any

import pytest

from jobcenter.graphs.models import Graph
from jobcenter.graphs.query import data_version
from jobcenter.graphs.stores.factory import open_store, store_exists
from jobcenter.jobs.choices import TERMINAL_STATUSES
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import kind_of
from tests.api.test_imports import MODERN, movie_request, upload, url
from tests.factories.graphs import ges_graph, graphscope_graph
from tests.factories.waiting import wait_for

MODERN_FILES = [
    "person.csv",
    "software.csv",
    "person_knows_person.csv",
    "person_created_software.csv",
]


def _submit_ges(api, graph: Graph, **extra: Any) -> str:
    body = {"format": "ges", "request": movie_request(), **extra}
    response = api.post(url(graph), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _submit_graphscope(api, graph: Graph, **extra: Any) -> str:
    body = {
        "format": "graphscope",
        "mapping": upload(MODERN / "bulk_load.yaml"),
        "files": [upload(MODERN / name) for name in MODERN_FILES],
        **extra,
    }
    response = api.post(url(graph), body, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def _ended(*ids: str) -> None:
    wait_for(
        lambda: all(Job.objects.get(pk=i).status in TERMINAL_STATUSES for i in ids), timeout=90
    )


def _outcome(api, job_id: str) -> tuple:
    """What the import found: status, per-file counts, every failed line, the summary."""
    job = api.get(f"/api/v1/jobs/{job_id}/").json()
    files = [
        (f["role"], f["status"], f["total_lines"], f["successful_lines"], f["failed_lines"])
        for f in job["files"]
    ]
    failed = api.get(f"/api/v1/jobs/{job_id}/failed-lines/").json()
    lines = [(r["file"], r["line_number"], r["reason"], r["message"]) for r in failed["results"]]
    result = {k: v for k, v in (job["result"] or {}).items() if k != "files"}
    return job["status"], files, lines, result


def _counts(graph: Graph) -> dict:
    if not store_exists(graph):
        return {"vertices": {}, "edges": {}}
    store = open_store(graph)
    try:
        return store.counts()
    finally:
        store.close()


def _graph_state(graph: Graph) -> tuple:
    """The graph's data as every reader sees it (a store not made yet reads as an empty one)."""
    graph.refresh_from_db()
    data: tuple = ({"vertices": {}, "edges": {}}, (0, None), 0)
    if store_exists(graph):
        store = open_store(graph)
        try:
            data = (store.counts(), data_version(store), store.width())
        finally:
            store.close()
    return data, graph.data_updated_at, graph.schema


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_dry_run_counts_like_the_import_and_writes_nothing(
    client_for, project, operator, worker_factory
):
    api = client_for(operator)
    movies, modern = ges_graph(project), graphscope_graph(project)
    empty = (_graph_state(movies), _graph_state(modern))
    dry = [
        _submit_ges(api, movies, dry_run=True),
        _submit_graphscope(api, modern, dry_run="true"),
    ]
    worker_factory()
    _ended(*dry)
    assert (_graph_state(movies), _graph_state(modern)) == empty
    assert _counts(movies) == {"vertices": {}, "edges": {}}
    shown = [api.get(f"/api/v1/jobs/{i}/").json() for i in dry]
    assert [(j["dry_run"], j["status"]) for j in shown] == [
        (True, "partially_failed"),
        (True, "succeeded"),
    ]
    assert all(f["committed_lines"] == 0 for j in shown for f in j["files"])
    listed = api.get("/api/v1/jobs/", {"project": project.name}).json()["results"]
    assert {j["id"]: j["dry_run"] for j in listed} == {dry[0]: True, dry[1]: True}
    assert not kind_of("import").writes_graph(Job.objects.get(pk=dry[0]))

    # the real imports of the same files find exactly what the dry runs found
    real = [_submit_ges(api, movies), _submit_graphscope(api, modern)]
    _ended(*real)
    for d, r in zip(dry, real, strict=True):
        assert _outcome(api, d) == _outcome(api, r)
    assert api.get(f"/api/v1/jobs/{real[0]}/").json()["dry_run"] is False
    assert _counts(modern)["vertices"] == {"person": 4, "software": 2}
    loaded = (_graph_state(movies), _graph_state(modern))
    assert loaded != empty

    # a dry run on a loaded graph leaves it as it was; its retry is a dry run too
    again = _submit_ges(api, movies, dry_run=True)
    _ended(again)
    retried = api.post(f"/api/v1/jobs/{again}/retry/")
    assert retried.status_code == 201, retried.content
    assert retried.json()["dry_run"] is True
    _ended(retried.json()["id"])
    assert Job.objects.get(pk=retried.json()["id"]).dry_run is True
    assert (_graph_state(movies), _graph_state(modern)) == loaded
