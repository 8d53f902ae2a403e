"""A job that fails leaves no result any face serves (issue 12, section 3): the worker removes
a result it published when the job's success cannot be recorded, and a result file left
behind anyway (a worker killed between publishing it and recording the status, or written by
an older version with NaN in it) gives every face a clear answer, never a 500: the native API's
result page, CSV and result export, GES's job status with result paging and its
export-result, and the dashboard's job page, result fragment and CSV download."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import result_path
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_submit_algorithm
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db(transaction=True)

HTMX = {"HTTP_HX_REQUEST": "true"}


def run(job: Job) -> Job:
    execute_job(job_id=job.pk)
    return Job.objects.get(pk=job.pk)


@pytest.fixture
def movies(project, operator) -> Any:
    graph = ges_graph(project)
    assert run(ges_movie_import(graph)).status == JobStatus.PARTIALLY_FAILED
    return graph


@pytest.fixture
def success_refused() -> Iterator[None]:
    """The job database refuses to record an algorithm job as succeeded (a trigger), as a
    database that fails at that moment would."""
    table = Job._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE TRIGGER refuse_success BEFORE UPDATE OF status ON {table} "
                "WHEN NEW.status = 'succeeded' AND NEW.type = 'algorithm' "
                "BEGIN SELECT RAISE(ABORT, 'success refused by the test'); END"
            )
        else:
            cursor.execute(
                "CREATE FUNCTION refuse_success() RETURNS trigger AS $$ BEGIN "
                "IF NEW.status = 'succeeded' AND NEW.type = 'algorithm' THEN "
                "RAISE EXCEPTION 'success refused by the test'; END IF; RETURN NEW; END "
                "$$ LANGUAGE plpgsql"
            )
            cursor.execute(
                f"CREATE TRIGGER refuse_success BEFORE UPDATE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION refuse_success()"
            )
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER refuse_success")
        else:
            cursor.execute(f"DROP TRIGGER refuse_success ON {table}")
            cursor.execute("DROP FUNCTION refuse_success()")


def test_a_job_whose_success_cannot_be_recorded_keeps_no_result(movies, operator, success_refused):
    job = run(job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator))
    assert job.status == JobStatus.FAILED
    assert "success refused by the test" in job.fail_reason
    assert not result_path(job.pk).exists()
    assert not result_path(job.pk).with_name(f"{result_path(job.pk).name}.part").exists()


def leftover(job: Job, *, status: str, reason: str = "") -> Job:
    """Turn a finished algorithm job into one that left its result file behind: a status
    other than succeeded (or not), and NaN in the file's summary, as louvain's used to be."""
    Job.objects.filter(pk=job.pk).update(status=status, fail_reason=reason)
    conn = sqlite3.connect(result_path(job.pk))
    with conn:
        conn.execute(
            'UPDATE meta SET value = \'{"communities": 6, "modularity": NaN}\' '
            "WHERE key = 'outputs'"
        )
    conn.close()
    return Job.objects.get(pk=job.pk)


def api_client(user: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def test_a_failed_job_with_a_leftover_result_file_answers_cleanly_on_every_face(movies, operator):
    job = run(job_submit_algorithm(graph=movies, algorithm="louvain", user=operator))
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    job = leftover(job, status=JobStatus.FAILED, reason="worker lost")
    assert result_path(job.pk).exists()
    api = api_client(operator)

    # native API: 404 in its JSON error shape, saying why
    for url in (f"/api/v1/jobs/{job.pk}/result/", f"/api/v1/jobs/{job.pk}/result.csv"):
        response = api.get(url)
        assert response.status_code == 404, (url, response.status_code)
        assert response["Content-Type"].startswith("application/json")
        assert f"job {job.pk} ended failed and has no result" in response.content.decode()
    response = api.post(
        f"/api/v1/jobs/{job.pk}/result/export/", {"path": "out/x.csv"}, format="json"
    )
    assert response.status_code == 409, response.content
    assert Job.objects.filter(type="export").count() == 0

    # GES service plane: the status of a failed job, no result data; export-result refused
    ges = APIClient()
    ges.credentials(HTTP_X_AUTH_TOKEN=Token.objects.get(user=operator).key)
    service = f"/ges/v1.0/alpha/graphs/{movies.name}"
    response = ges.get(f"{service}/jobs/{job.pk}/status?offset=0&limit=10")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "failed" and "data" not in body
    response = ges.post(
        f"{service}/jobs/{job.pk}/action?action_id=export-result",
        {"exportPath": "out", "fileName": "x.csv"},
        format="json",
    )
    assert 400 <= response.status_code < 500, response.content
    assert Job.objects.filter(type="export").count() == 0

    # dashboard: the job's page and its result fragment say there is none; the CSV is a 404
    browser = Client()
    browser.force_login(operator)
    page = browser.get(f"/jobs/{job.pk}/")
    assert page.status_code == 200 and 'class="table result"' not in page.content.decode()
    fragment = browser.get(f"/jobs/{job.pk}/result/", **HTMX)
    assert fragment.status_code == 200 and 'class="table result"' not in fragment.content.decode()
    assert browser.get(f"/jobs/{job.pk}/result.csv").status_code == 404


def test_nan_in_an_older_result_file_is_served_as_null(movies, operator):
    job = run(job_submit_algorithm(graph=movies, algorithm="louvain", user=operator))
    job = leftover(job, status=JobStatus.SUCCEEDED)
    response = api_client(operator).get(f"/api/v1/jobs/{job.pk}/result/")
    assert response.status_code == 200, response.status_code
    assert response.json()["outputs"] == {"communities": 6, "modularity": None}
    browser = Client()
    browser.force_login(operator)
    assert browser.get(f"/jobs/{job.pk}/").status_code == 200
