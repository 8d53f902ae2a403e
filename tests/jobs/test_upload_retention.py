"""Uploads are removed under their project's retention once no waiting or running job needs
them (``job_results_expire``, which workers run every JOBCENTER_PURGE_INTERVAL); a retry of an
import whose upload was removed says so (409), and a retry while it is there keeps it longer."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.core.errors import InvalidState
from jobcenter.graphs.formats import GesImportRequest
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import (
    job_results_expire,
    job_retry,
    job_retry_many,
    job_submit_import_request,
)
from jobcenter.projects.models import Project
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph

pytestmark = pytest.mark.django_db(transaction=True)

MOVIE = shared_data("ges_movie")
DAY = 86400


def upload_folders() -> set[Path]:
    base = Path(settings.JOBCENTER_UPLOAD_DIR)
    return (
        {p for p in base.rglob("*") if p.is_dir() and len(p.name) == 32} if base.exists() else set()
    )


def uploaded_import(graph) -> tuple[Job, list[Path]]:
    """An import of uploaded files, and the upload folders it made."""
    before = upload_folders()
    request = GesImportRequest(
        request={"delimiter": ","},
        schema=[SimpleUploadedFile("schema.xml", (MOVIE / "schema.xml").read_bytes())],
        vertices=[SimpleUploadedFile("vertex.csv", (MOVIE / "vertex.csv").read_bytes())],
    )
    job = job_submit_import_request(graph=graph, request=request)
    made = sorted(upload_folders() - before)
    assert len(made) == 2  # schema and vertices: one upload each
    return job, made


def age(paths: list[Path], days: float) -> None:
    then = time.time() - days * DAY
    for path in paths:
        os.utime(path, (then, then))


def test_uploads_go_after_the_retention_once_no_active_job_needs_them(project):
    waiting, waiting_uploads = uploaded_import(ges_graph(project))
    done, done_uploads = uploaded_import(ges_graph(project, "other"))
    execute_job(job_id=done.pk)
    assert Job.objects.get(pk=done.pk).status == JobStatus.PARTIALLY_FAILED
    age(waiting_uploads + done_uploads, 31)

    report = job_results_expire()  # default retention: 30 days
    assert all(p.is_dir() for p in waiting_uploads)  # its job still needs them
    assert not any(p.exists() for p in done_uploads)
    assert report.uploads == 2

    execute_job(job_id=waiting.pk)  # finished: nothing needs them any more
    report = job_results_expire()
    assert not any(p.exists() for p in waiting_uploads) and report.uploads == 2


def test_recent_uploads_and_projects_keeping_everything(project):
    job, uploads = uploaded_import(ges_graph(project))
    execute_job(job_id=job.pk)
    age(uploads, 29)
    assert job_results_expire().uploads == 0
    Project.objects.filter(pk=project.pk).update(result_retention_days=0)  # for ever
    age(uploads, 3650)
    assert job_results_expire().uploads == 0 and all(p.is_dir() for p in uploads)
    # the operator's explicit override applies to uploads too
    out = io.StringIO()
    call_command("purge_results", "--days", "1", stdout=out)
    assert "2 upload(s)" in out.getvalue() and not any(p.exists() for p in uploads)


def test_a_retry_after_its_upload_was_removed_says_so(project, operator):
    original, uploads = uploaded_import(ges_graph(project))
    execute_job(job_id=original.pk)
    original = Job.objects.select_related("graph", "project").get(pk=original.pk)
    # a retry while the upload is there works, and counts the retention from now
    age(uploads, 20)
    again = job_retry(job=original)
    assert all(time.time() - p.stat().st_mtime < 60 for p in uploads)
    assert again.params["uploads"] == original.params["uploads"]
    Job.objects.filter(pk=again.pk).delete()

    age(uploads, 31)
    job_results_expire()
    assert not any(p.exists() for p in uploads)
    with pytest.raises(InvalidState, match="removed under project alpha's retention of 30 days"):
        job_retry(job=original)
    # through the API: a 409 with the reason; in bulk: the reason per job
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=operator).key}")
    response = api.post(f"/api/v1/jobs/{original.pk}/retry/")
    assert response.status_code == 409, response.content
    assert "upload them again" in response.json()["message"]
    result = job_retry_many(jobs=Job.objects.filter(pk=original.pk))
    assert "upload them again" in result.not_retried[0]["reason"]
    assert Job.objects.count() == 1


def test_what_no_project_owns_goes_after_the_default_retention(project):
    base = Path(settings.JOBCENTER_UPLOAD_DIR)
    legacy = base / ("a" * 32)  # stored before uploads had owners: nobody may read it
    gone = base / "project-987654" / ("b" * 32)  # a deleted project's
    recent = base / ("c" * 32)
    for folder in (legacy, gone, recent):
        folder.mkdir(parents=True)
        (folder / "vertices-v.csv").write_text("a,user\n")
    age([legacy, gone], 31)
    report = job_results_expire()
    assert not legacy.exists() and not gone.parent.exists() and recent.is_dir()
    assert report.uploads == 2
    # a run for one project leaves them to the general run
    age([recent], 31)
    assert job_results_expire(project=project).uploads == 0 and recent.is_dir()
