"""Native API of the analytics jobs: submission, result paging and CSV, errors, roles."""

from __future__ import annotations

import csv
import io

import pytest

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def movies(graph):
    execute_job(job_id=ges_movie_import(graph).pk)
    return graph


def finish(response) -> Job:
    assert response.status_code in (201, 202), response.json()
    execute_job(job_id=response.json()["id"])
    return Job.objects.get(pk=response.json()["id"])


def url(graph, what: str) -> str:
    return f"/api/v1/graphs/{graph.pk}/{what}/"


def test_algorithm_submit_and_result_pages(api, client_for, viewer, movies):
    response = api.post(
        url(movies, "algorithms"),
        {"algorithm": "connected_components"},
        format="json",
    )
    assert response.status_code == 201
    assert response["Location"] == f"/api/v1/jobs/{response.json()['id']}/"
    job = finish(response)
    assert job.status == JobStatus.SUCCEEDED
    page = client_for(viewer).get(f"/api/v1/jobs/{job.pk}/result/?offset=1&limit=2").json()
    assert page["kind"] == "vertices" and page["total"] == 6
    assert page["columns"] == ["id", "label", "component"]
    assert [r["id"] for r in page["rows"]] == ["Eric", "Ada"]
    assert page["outputs"] == {"components": 1, "largest": 6}
    assert (page["offset"], page["limit"]) == (1, 2)


def test_result_csv(api, movies):
    job = finish(api.post(url(movies, "algorithms"), {"algorithm": "pagerank"}, format="json"))
    response = api.get(f"/api/v1/jobs/{job.pk}/result.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["id", "label", "pagerank"] and len(rows) == 7


def test_bad_parameter_is_a_400_naming_it(api, movies):
    response = api.post(
        url(movies, "algorithms"),
        {"algorithm": "shortest_path", "parameters": {"source": "Vivian", "target": "Nobody"}},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "parameter [target] is invalid!" in body["message"]
    assert "parameters.target" in body["errors"]
    response = api.post(url(movies, "algorithms"), {"algorithm": "nope"}, format="json")
    assert response.status_code == 400 and "algorithm" in response.json()["errors"]


def test_query_and_index(api, movies):
    assert api.get(url(movies, "indexes")).json() == []
    job = finish(api.post(url(movies, "indexes"), {"label": "user", "property": "Age"}, "json"))
    assert job.status == JobStatus.SUCCEEDED
    (index,) = api.get(url(movies, "indexes")).json()
    assert (index["target"], index["label"], index["property"]) == ("vertices", "user", "Age")
    response = api.post(
        url(movies, "query"),
        {
            "labels": ["user"],
            "filters": [{"property": "Age", "predicate": "range", "values": [20, 40]}],
            "sort": [{"property": "Age", "order": "asc"}],
        },
        format="json",
    )
    job = finish(response)
    page = api.get(f"/api/v1/jobs/{job.pk}/result/").json()
    assert page["kind"] == "vertices"
    assert [(r["id"], r["properties"]["Age"]) for r in page["rows"]] == [
        ("Vivian", 31),
        ("Ada", 36),
    ]
    bad = api.post(
        url(movies, "query"),
        {"filters": [{"property": "Age", "predicate": "~", "values": [1]}]},
        format="json",
    )
    assert bad.status_code == 400 and "filters.0.predicate" in bad.json()["errors"]


def test_exports_and_operations(api, movies):
    job = finish(api.post(url(movies, "export"), {"path": "api-export"}, format="json"))
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    response = api.post(url(movies, "export"), {"path": "../../etc"}, format="json")
    assert response.status_code == 400 and "path" in response.json()["errors"]
    algo = finish(api.post(url(movies, "algorithms"), {"algorithm": "k_core"}, format="json"))
    exported = finish(
        api.post(f"/api/v1/jobs/{algo.pk}/result/export/", {"path": "core.csv"}, format="json")
    )
    assert exported.status == JobStatus.SUCCEEDED
    backup = finish(
        api.post(url(movies, "operations"), {"operation": "backup", "path": "m.db"}, "json")
    )
    assert backup.status == JobStatus.SUCCEEDED and backup.name == "BackupGraph"
    cleared = finish(api.post(url(movies, "operations"), {"operation": "clear"}, "json"))
    assert cleared.status == JobStatus.SUCCEEDED
    response = api.post(url(movies, "operations"), {"operation": "melt"}, format="json")
    assert response.status_code == 400


def test_viewer_reads_but_cannot_submit(client_for, viewer, movies):
    client = client_for(viewer)
    response = client.post(url(movies, "algorithms"), {"algorithm": "pagerank"}, format="json")
    assert response.status_code == 403


def test_outsider_sees_nothing(client_for, api, movies):
    job = finish(api.post(url(movies, "algorithms"), {"algorithm": "pagerank"}, format="json"))
    from django.contrib.auth import get_user_model

    outsider = client_for(get_user_model().objects.get(username="outsider"))
    assert outsider.get(f"/api/v1/jobs/{job.pk}/result/").status_code == 404
    response = outsider.post(url(movies, "algorithms"), {"algorithm": "pagerank"}, format="json")
    assert response.status_code == 404


def test_result_errors(api, movies):
    job = Job.objects.filter(graph=movies).first()  # the import: no result file
    response = api.get(f"/api/v1/jobs/{job.pk}/result/")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert api.get("/api/v1/jobs/nope/result/").status_code == 404
    algo = finish(api.post(url(movies, "algorithms"), {"algorithm": "pagerank"}, format="json"))
    for query in ("limit=0", "limit=100001", "offset=-1", "offset=x", "colour=1"):
        response = api.get(f"/api/v1/jobs/{algo.pk}/result/?{query}")
        assert response.status_code == 400, query
        assert query.split("=")[0] in response.content.decode()  # names what was wrong
    assert api.get(f"/api/v1/jobs/{algo.pk}/result.csv?x=1").status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        [],
        "x",
        {"algorithm": None},
        {"algorithm": "pagerank", "parameters": []},
        {"algorithm": "pagerank", "parameters": {"alpha": "\x00"}},
    ],
)
def test_malformed_bodies_are_400(api, movies, body):
    assert api.post(url(movies, "algorithms"), body, format="json").status_code == 400


def test_an_algorithm_job_keeps_what_was_read_of_its_request(api, movies):
    """The body's other keys are ignored, so not kept: a NUL character in one made the job's
    JSON column refuse the row on PostgreSQL (a 500)."""
    body = {"algorithm": "k_core", "parameters": {"k": 1}, "note\x00": "x\x00"}
    response = api.post(url(movies, "algorithms"), body, format="json")
    assert response.status_code == 201, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert job.request == {"algorithm": "k_core", "parameters": {"k": 1}}


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"operation": "delete", "path": "x.db"}, "not used by delete"),
        ({"operation": "clear", "path": "x.db"}, "not used by clear"),
        ({"operation": "backup"}, "required for backup"),
        ({"operation": "restore"}, "required for restore"),
    ],
)
def test_a_path_is_given_to_backup_and_restore_only(api, movies, payload, message):
    response = api.post(url(movies, "operations"), payload, format="json")
    assert response.status_code == 400 and message in response.json()["errors"]["path"][0]
    assert not Job.objects.filter(type="graph_operation").exists()


def test_openapi_schema_lists_the_endpoints(api):
    response = api.get("/api/schema/?format=json")
    paths = response.json()["paths"]
    assert "/api/v1/graphs/{graph_id}/algorithms/" in paths
    assert "/api/v1/jobs/{job_id}/result/" in paths
