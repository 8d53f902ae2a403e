"""Uploads on several machines (jobcenter.core.uploads with jobcenter.core.shared): a file
uploaded to one web server is imported by a worker on another machine, a retry taken by a
third web server finds it, a refused import leaves nothing in the shared storage, and the
retention removes it from there once no active job needs it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from jobcenter.core.errors import InvalidState
from jobcenter.core.uploads import upload_root
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_results_expire, job_retry
from tests.api.conftest import token_for
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph
from tests.machines import STORAGE_KINDS, Machines

pytestmark = pytest.mark.django_db(transaction=True)

MOVIE = shared_data("ges_movie")
DAY = 86400


@pytest.fixture(params=STORAGE_KINDS)
def machines(request, settings, tmp_path) -> Machines:
    return Machines(settings, tmp_path, request.param)


@pytest.fixture
def api(operator) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(operator)}")
    return client


def upload_movie(api: APIClient, graph, *, vertices: str = "vertex.csv") -> dict:
    def file(name: str) -> SimpleUploadedFile:
        return SimpleUploadedFile(name, (MOVIE / name).read_bytes())

    response = api.post(
        f"/api/v1/graphs/{graph.pk}/import/",
        {
            "format": "ges",
            "schema": file("schema.xml"),
            "vertices": [file(vertices)],
            "edges": [file("edge.csv")],
            "options": '{"delimiter": ","}',
        },
        format="multipart",
    )
    return response


def shared_files(machines: Machines) -> list[Path]:
    root = machines.shared / "uploads"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def age(paths: list[Path], days: float) -> None:
    then = time.time() - days * DAY
    for path in paths:
        os.utime(path, (then, then))


def test_an_upload_to_one_web_server_is_imported_on_another_machine(machines, project, api):
    reference = ges_graph(project, "reference")  # the same files imported on one machine
    machines.on("alone")
    response = upload_movie(api, reference)
    assert response.status_code == 201, response.content
    execute_job(job_id=response.json()["id"])
    alone = Job.objects.get(pk=response.json()["id"])

    graph = ges_graph(project)
    machines.on("web-a")
    before = len(shared_files(machines))
    response = upload_movie(api, graph)
    assert response.status_code == 201, response.content
    job_id = response.json()["id"]
    worker = machines.on("worker-b")
    assert not upload_root(project.pk).exists()
    execute_job(job_id=job_id)
    job = Job.objects.get(pk=job_id)
    assert job.status == alone.status == JobStatus.PARTIALLY_FAILED, job.fail_reason
    assert (job.lines_total, job.lines_done) == (alone.lines_total, alone.lines_done)
    for count in ("vertices_added", "edges_added", "lines_failed"):
        assert job.result[count] == alone.result[count] > 0, count
    assert len(shared_files(machines)) == before + 3
    assert upload_root(project.pk).is_relative_to(worker)
    assert len(list(upload_root(project.pk).rglob("*.csv"))) == 2  # fetched here


def test_a_retry_on_a_third_machine_finds_the_uploads(machines, project, api, operator):
    graph = ges_graph(project)
    machines.on("web-a")
    job_id = upload_movie(api, graph).json()["id"]
    machines.on("worker-b")
    execute_job(job_id=job_id)
    machines.on("web-c")
    original = Job.objects.select_related("graph", "project").get(pk=job_id)
    again = job_retry(job=original, user=operator)
    assert again.params["uploads"] == original.params["uploads"]
    machines.on("worker-d")
    execute_job(job_id=again.pk)
    assert Job.objects.get(pk=again.pk).status == JobStatus.PARTIALLY_FAILED


def test_a_refused_import_leaves_nothing_in_the_shared_storage(machines, project, api):
    graph = ges_graph(project)
    machines.on("web-a")
    response = api.post(
        f"/api/v1/graphs/{graph.pk}/import/",
        {
            "format": "ges",
            "schema": SimpleUploadedFile("schema.xml", b"<not xml"),
            "vertices": [SimpleUploadedFile("vertex.csv", b"1,movie\n")],
        },
        format="multipart",
    )
    assert response.status_code == 400, response.content
    assert shared_files(machines) == []
    assert not any(machines.shared.rglob("*used*/*/*"))


def test_the_retention_removes_shared_uploads_no_active_job_needs(machines, project, api):
    graph = ges_graph(project)
    machines.on("web-a")
    done = upload_movie(api, graph).json()["id"]
    waiting = upload_movie(api, ges_graph(project, "other")).json()["id"]
    machines.on("worker-b")
    execute_job(job_id=done)
    age(list((machines.shared).rglob("*")), 31)
    job_results_expire()
    left = {p.parent.name for p in shared_files(machines)}
    assert left == set(Job.objects.get(pk=waiting).params["uploads"])
    # the finished job's retry now says its files are gone, whichever machine takes it
    machines.on("web-c")
    with pytest.raises(InvalidState, match="upload them again"):
        job_retry(job=Job.objects.select_related("graph", "project").get(pk=done))
    # used again (a retry) counts from now: kept past the next run
    execute_job(job_id=waiting)
    age(list((machines.shared).rglob("*")), 31)
    machines.on("web-e")
    job_retry(job=Job.objects.select_related("graph", "project").get(pk=waiting))
    Job.objects.filter(retry_of_id=waiting).delete()
    job_results_expire()
    assert {p.parent.name for p in shared_files(machines)} == left
