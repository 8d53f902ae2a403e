"""POST /api/v1/jobs/{id}/retry/: a new job with the same request, linked to the original."""

from __future__ import annotations

import shutil

import pytest

from jobcenter.graphs.services import graph_create
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import graph_delete_submit, job_cancel, job_submit_import
from jobcenter.jobs.transitions import job_claim, job_finish
from tests.api.conftest import assert_error
from tests.factories.files import shared_data
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db


def retry(client, job):
    return client.post(f"/api/v1/jobs/{job.pk}/retry/")


def failed_import(graph, user, **extra) -> Job:
    job = ges_movie_import(graph, user=user, **extra)
    job_claim(job_id=job.pk, worker_id="w1")
    job_finish(job_id=job.pk, worker_id="w1", status=JobStatus.FAILED, fail_reason="disk full")
    return Job.objects.get(pk=job.pk)


def test_retry_submits_the_same_request_again(client_for, graph, operator, project_admin):
    original = failed_import(graph, operator, delimiter=",")
    response = retry(client_for(project_admin), original)
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/jobs/{body['id']}/"
    assert body["id"] != original.pk
    assert (body["status"], body["retry_of"], body["submitted_by"]) == (
        "waiting",
        original.pk,
        "ada",
    )
    new = Job.objects.get(pk=body["id"])
    assert (new.request, new.params, new.dialect, new.graph_id) == (
        original.request,
        original.params,
        original.dialect,
        original.graph_id,
    )
    assert [f.role for f in new.files.order_by("index")] == ["schema", "vertex", "edge"]
    assert list(new.events.values_list("kind", "actor__username")) == [("submitted", "ada")]
    assert new.task_id  # queued for a worker
    # the original is untouched, and retrying it twice makes two jobs
    assert Job.objects.get(pk=original.pk).status == "failed"
    assert retry(client_for(project_admin), original).status_code == 201
    assert Job.objects.filter(retry_of=original).count() == 2


def test_a_cancelled_job_can_be_retried(api, graph, operator):
    job = ges_movie_import(graph, user=operator)
    job_cancel(job=job, user=operator)
    assert retry(api, job).status_code == 201


@pytest.mark.parametrize("state", ["waiting", "running", "cancelling"])
def test_an_active_job_cannot_be_retried(api, jobs, state):
    body = assert_error(retry(api, jobs[state]), 409, "invalid_state")
    assert "still" in body["message"]
    assert not Job.objects.filter(retry_of=jobs[state]).exists()


def test_a_graph_deletion_cannot_be_retried(api, project, operator):
    graph = graph_create(project=project, name="doomed", dialect="ges")
    deletion = graph_delete_submit(graph=graph, user=operator)
    job_claim(job_id=deletion.pk, worker_id="w1")
    job_finish(job_id=deletion.pk, worker_id="w1", status=JobStatus.SUCCEEDED)
    assert_error(retry(api, deletion), 409, "invalid_state")


def test_an_import_whose_graph_is_gone_cannot_be_retried(api, project, operator):
    graph = graph_create(project=project, name="gone", dialect="ges")
    job = failed_import(graph, operator)
    graph.delete()
    body = assert_error(retry(api, job), 409, "invalid_state")
    assert "no longer exists" in body["message"]


def test_retry_is_checked_like_a_new_submission_and_a_stale_one_is_409(
    api, graph, operator, imports_dir
):
    """The request retried is the job's, not this call's (which has none): when it no longer
    holds, the job's state is at fault, a 409 like any other state that forbids a retry."""
    folder = imports_dir / "gone"
    shutil.copytree(shared_data("ges_movie"), folder)
    request = {
        "schema_path": str(folder / "schema.xml"),
        "vertexset_path": str(folder / "vertex.csv"),
    }
    job = job_submit_import(
        graph=graph, params={"format": "ges", "request": request}, user=operator
    )
    job_cancel(job=job, user=operator)
    shutil.rmtree(folder)
    body = assert_error(retry(api, job), 409, "invalid_state")
    assert "cannot be retried" in body["message"] and "does not exist" in body["message"]
    assert not Job.objects.filter(retry_of=job).exists()


def test_roles_and_visibility(viewer_api, client_for, graph, operator, other):
    original = failed_import(graph, operator)
    assert_error(retry(viewer_api, original), 403, "permission_denied")
    finished = other["job"]
    assert_error(retry(client_for(operator), finished), 404, "not_found")
    assert_error(retry(client_for(None), original), 401)
    assert not Job.objects.filter(retry_of__isnull=False).exists()
