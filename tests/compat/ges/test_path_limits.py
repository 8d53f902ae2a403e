"""GES's faces that take server paths (export-result's exportPath/fileName, import-graph on the
service plane and on the management plane) with names of 200 to 5000 bytes: what the file
system takes works to the end of the job, the rest is GES's own 400 naming the path. Never a
500, never a server path in the answer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.names import FITS, SIZES, name_of

pytestmark = pytest.mark.django_db(transaction=True)

SERVICE = "/ges/v1.0/alpha/graphs/movies"
MGMT = "/v2/alpha/graphs/movies/import-graph"
MOVIE = shared_data("ges_movie")


@pytest.fixture
def api(operator) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_AUTH_TOKEN=Token.objects.create(user=operator).key)
    return client


@pytest.fixture
def movies(project):
    graph = ges_graph(project, "movies")
    execute_job(job_id=ges_movie_import(graph).pk)
    return graph


def run(job_id: str) -> Job:
    execute_job(job_id=job_id)
    return Job.objects.get(pk=job_id)


def no_server_path(message: str) -> None:
    for root in (*settings.JOBCENTER_EXPORT_ROOTS, *settings.JOBCENTER_IMPORT_ROOTS):
        assert str(root) not in message, message
    assert len(message) < 600


@pytest.mark.parametrize("size", SIZES)
def test_export_result(api, movies, size):
    body = {"algorithmName": "pagerank", "parameters": {}}
    response = api.post(f"{SERVICE}/action?action_id=execute-algorithm", body, "json")
    source = response.json()["jobId"]
    assert run(source).status == JobStatus.SUCCEEDED
    url = f"{SERVICE}/jobs/{source}/action?action_id=export-result"
    name = name_of(size, suffix=".csv")
    for request in ({"exportPath": "ges", "fileName": name}, {"exportPath": f"{name}/x"}):
        response = api.post(url, request, "json")
        if size not in FITS:
            assert response.status_code == 400, response.content
            answer = response.json()
            assert answer["errorCode"] == "GES.8011" and f"{size} bytes" in answer["errorMessage"]
            no_server_path(answer["errorMessage"])
            continue
        assert response.status_code == 200, response.content
        job = run(response.json()["jobId"])
        assert job.status == JobStatus.SUCCEEDED, job.fail_reason
        target = Path(settings.JOBCENTER_EXPORT_ROOTS[0]) / job.result["path"]
        assert target.is_file() and name in job.result["path"]


def import_bodies(raw: str) -> list[tuple[str, dict[str, Any]]]:
    schema = str(MOVIE / "schema.xml")
    return [
        (
            f"{SERVICE}/action?action_id=import-graph",
            {"schemaPath": schema, "vertexsetPath": raw, "delimiter": ","},
        ),
        (MGMT, {"schema_path": schema, "vertexset_path": raw, "delimiter": ","}),
    ]


@pytest.mark.parametrize("size", SIZES)
def test_import_graph_on_both_planes(api, project, imports_dir, size):
    ges_graph(project, "movies")
    name = name_of(size, suffix=".csv")
    if size in FITS:
        (imports_dir / name).write_bytes((MOVIE / "vertex.csv").read_bytes())
    for url, body in import_bodies(name):
        response = api.post(url, body, "json")
        if size not in FITS:
            assert response.status_code == 400, response.content
            answer = response.json()
            message = answer.get("errorMessage") or answer.get("error_msg")
            code = answer.get("errorCode") or answer.get("error_code")
            assert code in ("GES.8013", "GES.7011") and f"{size} bytes" in message, answer
            no_server_path(message)
            continue
        assert response.status_code == 200, response.content
        job_id = response.json().get("jobId") or response.json()["job_id"]
        job = run(job_id)
        file = job.files.get(index=1)
        # every line read and judged (the second import finds the ids there already)
        assert (file.path, file.successful_lines + file.failed_lines) == (name, 10)
        assert job.status in (JobStatus.PARTIALLY_FAILED, JobStatus.FAILED), job.fail_reason
