"""``manage.py jobs cancel --filter ...`` and ``manage.py jobs retry ID`` as an operator uses
them (the same services and FilterSet as the REST API)."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jobcenter.graphs.services import graph_create
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.transitions import job_claim, job_finish
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.factories.projects import user_create

pytestmark = pytest.mark.django_db


def run(*args: str) -> dict | list:
    out = io.StringIO()
    call_command("jobs", *args, "--json", stdout=out)
    return json.loads(out.getvalue())


def text(*args: str) -> str:
    out = io.StringIO()
    call_command("jobs", *args, stdout=out)
    return out.getvalue()


def status(job: Job) -> str:
    return Job.objects.get(pk=job.pk).status


def finished(job: Job, state: JobStatus = JobStatus.FAILED) -> Job:
    job_claim(job_id=job.pk, worker_id="w1")
    job_finish(job_id=job.pk, worker_id="w1", status=state, fail_reason="boom")
    return Job.objects.get(pk=job.pk)


@pytest.fixture
def queue(project, operator) -> dict[str, Job]:
    """Two graphs: movies has two waiting jobs and a running one, social one waiting job; and
    one job that has finished."""
    movies = ges_graph(project, "movies")
    social = graph_create(project=project, name="social", dialect="ges")
    out = {
        "m1": ges_movie_import(movies, user=operator),
        "m2": ges_movie_import(movies, user=operator),
        "s1": ges_movie_import(social, user=operator),
        "done": finished(ges_movie_import(movies, user=operator)),
    }
    running = ges_movie_import(movies, user=operator)
    job_claim(job_id=running.pk, worker_id="w1")
    out["run"] = running
    return out


def test_cancel_every_job_matching_a_filter(queue):
    user_create("root", superuser=True)
    result = run("cancel", "--filter", "graph=movies", "--filter", "status=waiting,running")
    assert result["matched"] == 3 and result["cancelled"] == 3
    assert set(result["cancelled_ids"]) == {queue["m1"].pk, queue["m2"].pk, queue["run"].pk}
    assert result["not_cancelled"] == []
    assert (status(queue["m1"]), status(queue["run"]), status(queue["s1"])) == (
        "cancelled",
        "cancelling",
        "waiting",
    )
    assert status(queue["done"]) == "failed"
    assert Job.objects.get(pk=queue["m1"].pk).cancel_requested_by.username == "root"


def test_dry_run_lists_and_changes_nothing(queue):
    rows = run("cancel", "--filter", "graph=social", "--dry-run")
    assert [r["id"] for r in rows] == [queue["s1"].pk]
    assert status(queue["s1"]) == "waiting"
    assert "no active job matches" in text("cancel", "--filter", "status=succeeded", "--dry-run")


def test_cancel_by_filter_as_a_user_reports_what_their_role_forbids(queue, viewer):
    out = text("cancel", "--filter", "graph=social", "--user", "vera")
    assert "cancelled 0 of 1 matching active job(s)" in out
    assert f"not {queue['s1'].pk}: you need the operator role in project alpha" in out
    assert status(queue["s1"]) == "waiting"


def test_text_output_of_a_bulk_cancel(queue):
    out = text("cancel", "--filter", f"id={queue['s1'].pk}", "--user", "oscar")
    assert out.splitlines() == ["cancelled 1 of 1 matching active job(s)", f"  {queue['s1'].pk}"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter", "colour=red"], "is not a filter"),
        (["--filter", "status"], "write NAME=VALUE"),
        (["--filter", "status="], "at least one value"),
        (["--filter", "ordering=id"], "is not a filter"),
        (["--filter", "status=sleeping"], "status: Select a valid choice"),
        (["--filter", "created_after=someday"], "created_after: Enter an ISO 8601 date"),
        (["some-id", "--filter", "status=waiting"], "not both"),
        ([], "give the id of the job to cancel"),
        (["some-id", "--dry-run"], "--dry-run goes with --filter"),
    ],
)
def test_bad_cancel_arguments_are_clear_errors(queue, args, message):
    with pytest.raises(CommandError, match=message):
        run("cancel", *args)
    assert status(queue["m1"]) == "waiting"


def test_retry_a_finished_job(queue, operator):
    original = queue["done"]
    new = run("retry", original.pk, "--user", "oscar")
    assert new["retry_of"] == original.pk and new["id"] != original.pk
    assert (new["status"], new["submitted_by"]) == ("waiting", "oscar")
    assert [f["role"] for f in new["files"]] == ["schema", "vertex", "edge"]
    job = Job.objects.get(pk=new["id"])
    assert job.retry_of_id == original.pk and job.request == original.request
    assert text("retry", original.pk).startswith(f"retry of {original.pk}:")


def test_retry_refuses_active_jobs_unknown_ids_and_missing_roles(queue, viewer):
    with pytest.raises(CommandError, match="still waiting"):
        run("retry", queue["m1"].pk)
    with pytest.raises(CommandError, match="does not exist"):
        run("retry", "f" * 32)
    with pytest.raises(CommandError, match="operator role"):
        run("retry", queue["done"].pk, "--user", "vera")
    with pytest.raises(CommandError, match="user 'ghost' does not exist"):
        run("retry", queue["done"].pk, "--user", "ghost")
    assert not Job.objects.filter(retry_of__isnull=False).exists()


def test_retry_every_failed_job_matching_a_filter(queue, operator):
    movies = queue["done"].graph
    partial = finished(ges_movie_import(movies, user=operator), JobStatus.PARTIALLY_FAILED)
    fine = finished(ges_movie_import(movies, user=operator), JobStatus.SUCCEEDED)
    planned = run("retry", "--filter", "graph=movies", "--dry-run")
    assert sorted(j["id"] for j in planned) == sorted([queue["done"].pk, partial.pk])
    assert not Job.objects.filter(retry_of__isnull=False).exists()  # a dry run changes nothing

    summary = run("retry", "--filter", "graph=movies", "--user", "oscar")
    assert (summary["matched"], summary["retried"], summary["not_retried"]) == (2, 2, [])
    for pair in summary["retries"]:
        new = Job.objects.get(pk=pair["retry"])
        assert (new.retry_of_id, new.status, new.submitted_by.username) == (
            pair["id"],
            "waiting",
            "oscar",
        )
    assert not fine.retries.exists()
    again = text("retry", "--filter", "status=failed,partially_failed")
    assert again.startswith("retried 0 of 2 matching failed job(s)")
    assert f"not {partial.pk}: already retried as job " in again


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter", "status="], "at least one value"),
        (["--filter", "colour=red"], "is not a filter"),
        (["some-id", "--filter", "status=failed"], "not both"),
        ([], "give the id of the job to retry"),
        (["some-id", "--dry-run"], "--dry-run goes with --filter"),
        (["--filter", "status=failed", "--wait"], "--wait follows one job"),
    ],
)
def test_bad_retry_arguments_are_clear_errors(queue, args, message):
    with pytest.raises(CommandError, match=message):
        run("retry", *args)
    assert not Job.objects.filter(retry_of__isnull=False).exists()
