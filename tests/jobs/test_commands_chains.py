"""``manage.py jobs submit-import --depends-on`` and how ``jobs show`` says what a job waits
for (issue 17, job chains)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from tests.factories.jobs import job_end
from tests.factories.projects import project_with_members
from tests.jobs.test_commands import run


@pytest.mark.django_db
def test_submit_import_waits_for_the_jobs_named(submit_import):
    first = submit_import()
    second = submit_import()
    after = submit_import("--depends-on", first["id"], "--depends-on", second["id"])
    assert after["status"] == "waiting"
    assert after["depends_on"] == sorted([first["id"], second["id"]])
    assert [w["id"] for w in after["waiting_for"]] == sorted([first["id"], second["id"]])
    assert not Job.objects.get(pk=after["id"]).task_id  # not queued yet
    assert run("show", first["id"])["dependents"] == [after["id"]]
    out = io.StringIO()
    call_command("jobs", "show", after["id"], stdout=out)
    assert f"  waiting for: {sorted([first['id'], second['id']])[0]} (import, waiting)" in (
        out.getvalue()
    )
    job_end(Job.objects.get(pk=first["id"]), JobStatus.SUCCEEDED)
    job_end(Job.objects.get(pk=second["id"]), JobStatus.PARTIALLY_FAILED)
    shown = run("show", after["id"])
    assert (shown["status"], shown["waiting_for"]) == ("cancelled", [])
    assert shown["fail_reason"] == (
        f"dependency job {second['id']} (import, partially failed) did not succeed"
    )


@pytest.mark.django_db
def test_accept_partial_lets_it_run_after_a_partial_failure(submit_import):
    first = submit_import()
    after = submit_import("--depends-on", first["id"], "--accept-partial")
    job_end(Job.objects.get(pk=first["id"]), JobStatus.PARTIALLY_FAILED)
    job = Job.objects.get(pk=after["id"])
    assert job.status == JobStatus.WAITING and job.task_id


@pytest.mark.django_db
def test_bad_dependencies_are_command_errors_and_nothing_is_created(submit_import):
    project_with_members("beta")
    theirs = submit_import(project="beta")
    before = Job.objects.count()
    with pytest.raises(CommandError, match=f"job '{theirs['id']}' does not exist"):
        submit_import("--depends-on", theirs["id"])
    with pytest.raises(CommandError, match="job 'nope' does not exist"):
        submit_import("--depends-on", "nope")
    with pytest.raises(CommandError, match="--accept-partial needs --depends-on"):
        submit_import("--accept-partial")
    failed = job_end(Job.objects.get(pk=theirs["id"]), JobStatus.FAILED)
    with pytest.raises(CommandError, match="has already ended: a job cannot wait for it"):
        submit_import("--depends-on", failed.pk, project="beta")
    assert Job.objects.count() == before
