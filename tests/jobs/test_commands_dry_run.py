"""``manage.py jobs submit-import --dry-run`` and how ``jobs show`` and ``jobs list`` say it
(issue 17)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from jobcenter.jobs.models import Job
from tests.jobs.test_commands import run


@pytest.mark.django_db
def test_submit_import_dry_run(submit_import):
    dry = submit_import("--dry-run")
    real = submit_import()
    assert (dry["dry_run"], real["dry_run"]) == (True, False)
    assert Job.objects.get(pk=dry["id"]).dry_run and not Job.objects.get(pk=real["id"]).dry_run
    assert run("show", dry["id"])["dry_run"] is True
    assert {j["id"]: j["dry_run"] for j in run("list", "--project", "alpha")} == {
        dry["id"]: True,
        real["id"]: False,
    }
    out = io.StringIO()
    call_command("jobs", "show", dry["id"], stdout=out)
    assert "[dry run: nothing written]" in out.getvalue().splitlines()[0]
    out = io.StringIO()
    call_command("jobs", "show", real["id"], stdout=out)
    assert "dry run" not in out.getvalue()
