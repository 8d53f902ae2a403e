"""Times in the user's time zone: the cookie dashboard.js sets names it, the server renders every
page and htmx partial of the dashboard in it, and the APIs stay in UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from jobcenter.dashboard.timezones import COOKIE, zone_from_name
from jobcenter.jobs.models import Job
from tests.dashboard.conftest import HTMX
from tests.factories.jobs import make_job, run_job

pytestmark = pytest.mark.django_db

SUBMITTED = datetime(2024, 11, 22, 9, 24, 2, tzinfo=UTC)  # 18:24:02 in Tokyo
STARTED = datetime(2024, 11, 22, 9, 25, 0, tzinfo=UTC)
TOKYO_TITLE = 'title="2024-11-22 18:24:02 JST (UTC+09:00)"'
TOKYO_TEXT = ">Nov 22, 2024, 18:24:02</time>"


@pytest.fixture
def running(project, graph, operator) -> Job:
    job = run_job(make_job(project, graph, submitted_by=operator))
    Job.objects.filter(pk=job.pk).update(created_at=SUBMITTED, started_at=STARTED)
    job.refresh_from_db()
    return job


def test_every_page_and_partial_shows_times_in_the_browsers_zone(oscar, running):
    oscar.cookies[COOKIE] = "Asia/Tokyo"
    answers = {
        "list": oscar.get("/"),
        "list partial": oscar.get("/?status=running", **HTMX),
        "list poll": oscar.get(f"/jobs/live/?project=alpha&live={running.pk}", **HTMX),
        "job page": oscar.get(f"/jobs/{running.pk}/"),
        "job poll": oscar.get(f"/jobs/{running.pk}/live/", **HTMX),
    }
    for name, response in answers.items():
        assert response.status_code == 200, name
        body = response.content.decode()
        started = 'title="2024-11-22 18:25:00 JST (UTC+09:00)">Nov 22, 2024, 18:25:00</time>'
        assert started in body, name
        assert "ago</span>" in body, name  # with how long ago
        assert "UTC</time>" not in body and "data-local" not in body, name
    for name in ("list", "list partial", "job page"):
        body = answers[name].content.decode()
        assert TOKYO_TITLE in body and TOKYO_TEXT in body, name
    page = answers["list"].content.decode()
    # the zone is named once on the page; the page says which zone it was rendered in
    assert page.count("Times are in Asia/Tokyo (JST, UTC+09:00)") == 1
    assert "the time zone of this browser" in page
    assert '<html lang="en" data-tz="Asia/Tokyo">' in page


def test_without_the_cookie_times_are_in_utc_and_say_so(oscar, running):
    page = oscar.get("/").content.decode()
    assert 'title="2024-11-22 09:24:02 UTC">Nov 22, 2024, 09:24:02</time>' in page
    assert "Times are in UTC." in page and 'data-tz="UTC"' in page


@pytest.mark.parametrize(
    "value",
    [
        "Mars/Olympus_Mons",
        "../../../../etc/passwd",
        "/usr/share/zoneinfo/Asia/Tokyo",
        "Asia/Tokyo/",
        "asia/tokyo",
        "x" * 300,
        "",
        "%00",
    ],
)
def test_a_zone_cookie_that_names_no_zone_is_ignored(oscar, running, value):
    oscar.cookies[COOKIE] = value
    response = oscar.get("/")
    assert response.status_code == 200
    assert "Times are in UTC." in response.content.decode()
    assert zone_from_name(value) is None
    assert timezone.get_current_timezone_name() == "UTC"  # nothing left active


def test_the_api_keeps_iso_8601_in_utc_whatever_the_cookie(oscar, running):
    oscar.cookies[COOKIE] = "Asia/Tokyo"
    assert "JST" in oscar.get("/").content.decode()
    response = oscar.get(f"/api/v1/jobs/{running.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert data["created_at"] == "2024-11-22T09:24:02Z"
    assert data["started_at"] == "2024-11-22T09:25:00Z"
    assert datetime.fromisoformat(data["created_at"]) == SUBMITTED
    assert timezone.get_current_timezone_name() == "UTC"
