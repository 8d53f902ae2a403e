"""Job chains in the native API (issue 17): ``depends_on`` on the single-job submit endpoints,
``POST /api/v1/projects/{project}/chains/``, its errors, and what a job's detail says."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.kinds.algorithm import job_submit_algorithm
from jobcenter.jobs.models import Job, JobDependency
from tests.api.conftest import assert_error
from tests.api.test_imports import MOVIE, movie_request
from tests.factories.graphs import ges_graph
from tests.factories.jobs import job_end

pytestmark = pytest.mark.django_db

CHAINS = "/api/v1/projects/alpha/chains/"


def pagerank(graph, user=None) -> Job:
    return job_submit_algorithm(graph=graph, algorithm="pagerank", user=user)


def queued(job_id: str) -> bool:
    return bool(Job.objects.get(pk=job_id).task_id)


def deps(job_id: str) -> list[str]:
    return list(
        JobDependency.objects.filter(job_id=job_id)
        .order_by("depends_on_id")
        .values_list("depends_on_id", flat=True)
    )


# --- one job ----------------------------------------------------------------------------------


def test_an_algorithm_waits_for_the_jobs_it_names(api, graph, operator):
    first, second = pagerank(graph, operator), pagerank(graph, operator)
    response = api.post(
        f"/api/v1/graphs/{graph.pk}/algorithms/",
        {"algorithm": "pagerank", "depends_on": [first.pk, second.pk]},
        format="json",
    )
    assert response.status_code == 201, response.content
    job = response.json()
    assert job["status"] == "waiting" and not queued(job["id"])
    assert deps(job["id"]) == sorted([first.pk, second.pk])
    assert Job.objects.get(pk=job["id"]).request == {"algorithm": "pagerank", "parameters": {}}
    detail = api.get(f"/api/v1/jobs/{job['id']}/").json()
    assert detail["depends_on"] == sorted([first.pk, second.pk])
    assert detail["waiting_for"] == sorted([first.pk, second.pk])
    assert (detail["accept_partial"], detail["dependents"]) == (False, [])
    assert api.get(f"/api/v1/jobs/{first.pk}/").json()["dependents"] == [job["id"]]
    job_end(first, JobStatus.SUCCEEDED)
    assert api.get(f"/api/v1/jobs/{job['id']}/").json()["waiting_for"] == [second.pk]
    job_end(second, JobStatus.SUCCEEDED)
    detail = api.get(f"/api/v1/jobs/{job['id']}/").json()
    assert (detail["status"], detail["waiting_for"]) == ("waiting", [])
    assert queued(job["id"])


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("import/", {"format": "ges", "request": movie_request()}),
        ("query/", {"target": "vertices"}),
        ("indexes/", {"label": "movie", "property": "Title"}),
        ("export/", {"path": "chain-export"}),
        ("operations/", {"operation": "backup", "path": "chain-backup.sqlite3"}),
        ("start/", {}),
        ("close/", {}),
    ],
)
def test_every_graph_submit_endpoint_takes_depends_on(api, project, operator, path, body):
    graph = ges_graph(project, schema_xml=(MOVIE / "schema.xml").read_bytes())
    first = pagerank(graph, operator)
    response = api.post(
        f"/api/v1/graphs/{graph.pk}/{path}",
        {**body, "depends_on": [first.pk], "accept_partial": True},
        format="json",
    )
    if response.status_code == 409:  # start: the graph has no data yet
        assert path == "start/"
        return
    assert response.status_code in (201, 202), response.content
    job_id = response.json()["id"]
    assert deps(job_id) == [first.pk] and not queued(job_id)
    assert JobDependency.objects.get(job_id=job_id).accept_partial
    job_end(first, JobStatus.PARTIALLY_FAILED)
    assert queued(job_id)


def test_an_upload_import_takes_depends_on_as_form_fields(api, graph, operator):
    first, second = pagerank(graph, operator), pagerank(graph, operator)
    with (MOVIE / "schema.xml").open("rb") as schema, (MOVIE / "vertex.csv").open("rb") as v:
        response = api.post(
            f"/api/v1/graphs/{graph.pk}/import/",
            {
                "format": "ges",
                "schema": schema,
                "vertices": [v],
                "depends_on": [first.pk, second.pk],
            },
            format="multipart",
        )
    assert response.status_code == 201, response.content
    assert deps(response.json()["id"]) == sorted([first.pk, second.pk])


def test_a_result_export_can_wait_for_the_job_whose_result_it_writes(api, graph, operator):
    source = pagerank(graph, operator)
    response = api.post(
        f"/api/v1/jobs/{source.pk}/result/export/",
        {"path": "ranks.csv", "depends_on": [source.pk]},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert deps(response.json()["id"]) == [source.pk]
    refused = api.post(
        f"/api/v1/jobs/{source.pk}/result/export/", {"path": "ranks2.csv"}, format="json"
    )
    assert_error(refused, 409, "invalid_state", "job")  # as before: no result yet


def test_bad_dependencies_are_named_and_nothing_is_created(api, graph, operator, other):
    url = f"/api/v1/graphs/{graph.pk}/algorithms/"
    before = Job.objects.count()
    for ids, status, message in [
        (["0" * 32], 404, f"depends_on: job '{'0' * 32}' does not exist"),
        ([other["job"].pk], 404, f"depends_on: job '{other['job'].pk}' does not exist"),
        ([7], 400, None),
        ("abc", 400, None),
        ([""], 400, None),
    ]:
        response = api.post(url, {"algorithm": "pagerank", "depends_on": ids}, format="json")
        body = assert_error(response, status)
        assert all(name.startswith("depends_on") for name in body["errors"]), body
        if message:
            assert body["message"] == message
    failed = job_end(pagerank(graph, operator), JobStatus.FAILED)
    response = api.post(url, {"algorithm": "pagerank", "depends_on": [failed.pk]}, format="json")
    body = assert_error(response, 409, "invalid_state", "depends_on")
    assert body["message"] == (
        f"depends_on: job {failed.pk} (algorithm, failed) has already ended: a job cannot wait "
        "for it"
    )
    assert Job.objects.count() == before + 1  # the failed job only
    deletion = api.post(
        f"/api/v1/graphs/{graph.pk}/operations/",
        {"operation": "delete", "depends_on": [pagerank(graph, operator).pk]},
        format="json",
    )
    assert_error(deletion, 400, "invalid", "depends_on")
    graph.refresh_from_db()
    assert graph.status == "ready"


def test_a_viewer_cannot_submit_even_with_dependencies(viewer_api, graph, operator):
    first = pagerank(graph, operator)
    response = viewer_api.post(
        f"/api/v1/graphs/{graph.pk}/algorithms/",
        {"algorithm": "pagerank", "depends_on": [first.pk]},
        format="json",
    )
    assert_error(response, 403, "permission_denied")


# --- chains -----------------------------------------------------------------------------------


def test_import_then_pagerank_then_export_in_one_request(api, graph, operator):
    existing = pagerank(graph, operator)
    response = api.post(
        CHAINS,
        {
            "steps": [
                {"type": "import", "graph": graph.pk, "format": "ges", "request": movie_request()},
                {
                    "type": "algorithm",
                    "graph": graph.pk,
                    "algorithm": "pagerank",
                    "depends_on": [0, existing.pk],
                    "accept_partial": True,
                },
                {"type": "export", "job": 1, "path": "ranks.csv"},
                {"type": "close_graph", "graph": graph.pk, "depends_on": [2]},
            ]
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    jobs = response.json()["jobs"]
    assert [(j["type"], j["status"]) for j in jobs] == [
        ("import", "waiting"),
        ("algorithm", "waiting"),
        ("export", "waiting"),
        ("close_graph", "waiting"),
    ]
    ids = [j["id"] for j in jobs]
    assert [queued(i) for i in ids] == [True, False, False, False]
    assert deps(ids[1]) == sorted([ids[0], existing.pk])
    assert JobDependency.objects.get(job_id=ids[1], depends_on_id=ids[0]).accept_partial
    assert deps(ids[2]) == [ids[1]] and deps(ids[3]) == [ids[2]]
    assert Job.objects.get(pk=ids[2]).params["job"] == ids[1]


def test_a_chain_exports_the_result_of_an_existing_job_of_its_project(api, graph, operator, other):
    source = pagerank(graph, operator)
    step = {"type": "export", "job": source.pk, "path": "ranks.csv"}
    response = api.post(CHAINS, {"steps": [step]}, format="json")
    assert response.status_code == 201, response.content
    (export,) = response.json()["jobs"]
    assert (export["type"], export["status"]) == ("export", "waiting")
    assert deps(export["id"]) == [source.pk]
    assert Job.objects.get(pk=export["id"]).params["job"] == source.pk
    before = Job.objects.count()
    response = api.post(CHAINS, {"steps": [{**step, "job": other["job"].pk}]}, format="json")
    body = assert_error(response, 404)
    assert body["message"] == f"steps.0.depends_on: job '{other['job'].pk}' does not exist"
    assert Job.objects.count() == before


@pytest.mark.parametrize(
    ("steps", "status", "field", "message"),
    [
        ([], 400, "steps", None),
        ("x", 400, "steps", None),
        ([{"type": "nope", "graph": "g"}], 400, "steps.0.type", None),
        ([{"type": "algorithm"}], 400, "steps.0.graph", None),
        (
            [
                {"type": "algorithm", "graph": "G", "algorithm": "pagerank"},
                {"type": "algorithm", "graph": "G", "algorithm": "nope"},
            ],
            400,
            "steps.1.algorithm",
            None,
        ),
        (
            [{"type": "algorithm", "graph": "missing", "algorithm": "pagerank"}],
            404,
            "steps.0.graph",
            "steps.0.graph: graph 'missing' does not exist",
        ),
        (
            [{"type": "algorithm", "graph": "OTHER", "algorithm": "pagerank"}],
            404,
            "steps.0.graph",
            None,
        ),
        (
            [
                {"type": "algorithm", "graph": "G", "algorithm": "pagerank", "depends_on": [1]},
                {"type": "algorithm", "graph": "G", "algorithm": "pagerank", "depends_on": [0]},
            ],
            400,
            "steps.0.depends_on",
            "steps.0.depends_on: steps 0, 1 depend on each other in a cycle",
        ),
        (
            [{"type": "algorithm", "graph": "G", "algorithm": "pagerank", "depends_on": [5]}],
            400,
            "steps.0.depends_on",
            None,
        ),
        (
            [{"type": "algorithm", "graph": "G", "algorithm": "pagerank", "depends_on": [True]}],
            400,
            "steps.0.depends_on",
            None,
        ),
        (
            [
                {
                    "type": "algorithm",
                    "graph": "G",
                    "algorithm": "pagerank",
                    "depends_on": ["OTHERJOB"],
                }
            ],
            404,
            "steps.0.depends_on",
            None,
        ),
        ([{"type": "export", "job": 3, "path": "x.csv"}], 400, "steps.0.depends_on", None),
        (
            [{"type": "export", "job": 0, "graph": "G", "path": "x.csv"}],
            400,
            "steps.0.graph",
            None,
        ),
        ([{"type": "start_graph", "graph": "G", "path": "x"}], 400, "steps.0.path", None),
        (
            [
                {"type": "algorithm", "graph": "G", "algorithm": "pagerank"},
                {"type": "graph_operation", "graph": "G", "operation": "delete", "depends_on": [0]},
            ],
            400,
            "steps.1.depends_on",
            None,
        ),
        (
            [
                {"type": "algorithm", "graph": "G", "algorithm": "pagerank"},
                {
                    "type": "import",
                    "graph": "G",
                    "format": "ges",
                    "request": {**movie_request(), "vertexset_path": "nowhere.csv"},
                },
            ],
            400,
            "steps.1.vertexset_path",
            None,
        ),
    ],
)
def test_a_bad_chain_is_refused_whole(api, graph, other, steps, status, field, message):
    def fill(value):
        if isinstance(value, dict):
            return {k: fill(v) for k, v in value.items()}
        if isinstance(value, list):
            return [fill(v) for v in value]
        return (
            {"G": graph.pk, "OTHER": other["graph"].pk, "OTHERJOB": other["job"].pk}.get(
                value, value
            )
            if isinstance(value, str)
            else value
        )

    before = (Job.objects.count(), DBTaskResult.objects.count())
    response = api.post(CHAINS, {"steps": fill(steps)}, format="json")
    body = assert_error(response, status)
    assert any(name.startswith(field) for name in body["errors"]), body
    if message:
        assert body["message"] == message
    assert (Job.objects.count(), DBTaskResult.objects.count()) == before


def test_a_delete_step_without_dependencies_is_fine(api, graph):
    """(A deletion cannot wait for anything, but may be waited for.)"""
    response = api.post(
        CHAINS,
        {"steps": [{"type": "graph_operation", "graph": graph.pk, "operation": "delete"}]},
        format="json",
    )
    assert response.status_code == 201, response.content


def test_chains_of_other_projects_and_of_viewers(api, viewer_api, other, graph):
    step = {"type": "algorithm", "graph": graph.pk, "algorithm": "pagerank"}
    assert_error(api.post("/api/v1/projects/beta/chains/", {"steps": [step]}, format="json"), 404)
    response = viewer_api.post(CHAINS, {"steps": [step]}, format="json")
    assert_error(response, 403, "permission_denied")
    assert not Job.objects.filter(project__name="alpha").exists()
