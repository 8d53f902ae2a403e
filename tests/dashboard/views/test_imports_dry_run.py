"""The import form's dry-run checkbox, and the "dry run" badge on the job list and detail
(issue 17)."""

from __future__ import annotations

import pytest

from jobcenter.jobs.models import Job
from tests.dashboard.conftest import post
from tests.dashboard.test_views import ges_paths, html, import_data

pytestmark = pytest.mark.django_db

BADGE = '<span class="badge tone-info dry-run"'


def test_the_import_form_offers_a_dry_run(oscar, graph):
    body = html(oscar.get(f"/imports/new/?graph={graph.pk}"))
    assert 'name="dry_run"' in body and 'type="checkbox"' in body


def test_a_dry_run_from_the_form_is_shown_as_one(oscar, graph):
    response = post(oscar, "/imports/new/", import_data(graph, dry_run="on", **ges_paths()))
    assert response.status_code == 302
    dry = Job.objects.get()
    assert dry.dry_run is True
    assert "Dry run submitted." in html(oscar.get(response["Location"]))
    real = post(oscar, "/imports/new/", import_data(graph, **ges_paths()))
    assert real.status_code == 302
    assert Job.objects.get(dry_run=False).pk != dry.pk
    detail = html(oscar.get(f"/jobs/{dry.pk}/"))
    assert BADGE in detail and ">dry run</span>" in detail
    real_job = Job.objects.get(dry_run=False)
    assert BADGE not in html(oscar.get(f"/jobs/{real_job.pk}/"))
    listed = html(oscar.get("/"))
    assert listed.count(BADGE) == 1
    row = listed[listed.index(f'id="job-{dry.pk}"') :]
    assert row.index(BADGE) < row.index("</tr>")
    graph_page = html(oscar.get(f"/graphs/{graph.pk}/"))
    assert graph_page.count(BADGE) == 1
