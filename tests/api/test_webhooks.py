"""Webhooks over the native API: project admins create them (the secret in that answer only),
change, disable and delete them, list their deliveries and resend one."""

from __future__ import annotations

import pytest

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.transitions import job_claim, job_finish
from jobcenter.notifications.models import Delivery, Webhook
from tests.api.conftest import assert_error
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db

URL = "/api/v1/projects/alpha/webhooks/"
HOOK = "https://hooks.example.com/in"


@pytest.fixture
def allowed(settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = ["hooks.example.com"]


@pytest.fixture
def ada_api(client_for, project_admin):
    return client_for(project_admin)


def test_create_shows_the_secret_once(ada_api, allowed):
    response = ada_api.post(
        URL, {"url": HOOK, "events": ["job.failed"], "kinds": ["import"]}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert response["Location"] == f"{URL}{body['id']}/"
    assert (body["url"], body["events"], body["kinds"], body["enabled"]) == (
        HOOK,
        ["job.failed"],
        ["import"],
        True,
    )
    again = ada_api.get(response["Location"]).json()
    assert "secret" not in again
    assert body["secret"] not in str(ada_api.get(URL).content)
    assert ada_api.get(URL).json()["count"] == 1


def test_a_host_outside_the_allowed_hosts_is_a_400_naming_url(ada_api, settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = []
    body = assert_error(ada_api.post(URL, {"url": HOOK}, format="json"), 400, "invalid", "url")
    assert "JOBCENTER_WEBHOOK_ALLOWED_HOSTS" in body["message"]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": HOOK, "events": []}, "events"),
        ({"url": HOOK, "events": ["job.started"]}, "events.0"),
        ({"url": HOOK, "kinds": ["Import"]}, "kinds.0"),
        ({"url": HOOK, "kinds": ["import", "imprt"]}, "kinds.1"),
        ({"url": 5}, "url"),
        ({}, "url"),
    ],
)
def test_bad_bodies_are_400s_naming_the_field(ada_api, allowed, payload, field):
    assert_error(ada_api.post(URL, payload, format="json"), 400, "invalid", field)


def test_only_project_admins(api, viewer_api, ada_api, allowed, other):
    assert_error(api.post(URL, {"url": HOOK}, format="json"), 403, "permission_denied")
    assert_error(api.get(URL), 403, "permission_denied")
    assert_error(viewer_api.get(URL), 403, "permission_denied")
    assert_error(ada_api.get("/api/v1/projects/beta/webhooks/"), 404, "not_found", "project")


def test_change_disable_delete(ada_api, allowed):
    hook = ada_api.post(URL, {"url": HOOK}, format="json").json()
    detail = f"{URL}{hook['id']}/"
    changed = ada_api.patch(detail, {"enabled": False, "graph_name": "movies"}, format="json")
    assert changed.status_code == 200
    assert (changed.json()["enabled"], changed.json()["graph_name"]) == (False, "movies")
    assert_error(
        ada_api.patch(detail, {"url": "https://elsewhere.example.net/"}, format="json"),
        400,
        "invalid",
        "url",
    )
    assert ada_api.delete(detail).status_code == 204
    assert_error(ada_api.get(detail), 404, "not_found", "webhook_id")
    assert_error(ada_api.get(f"{URL}not-an-id/"), 404, "not_found", "webhook_id")


def test_deliveries_and_resend(ada_api, project, allowed):
    hook = ada_api.post(URL, {"url": HOOK}, format="json").json()
    job = ges_movie_import(ges_graph(project))
    assert job_claim(job_id=job.pk, worker_id="w1") is not None
    assert job_finish(job_id=job.pk, worker_id="w1", status=JobStatus.FAILED, fail_reason="x")
    Delivery.objects.update(status="failed", attempts=9, status_code=500, latency_ms=12.5)
    page = ada_api.get(f"{URL}{hook['id']}/deliveries/").json()
    [delivery] = page["results"]
    assert delivery["event"] == "job.failed" and delivery["job_id"] == job.pk
    assert (delivery["status"], delivery["status_code"], delivery["latency_ms"]) == (
        "failed",
        500,
        12.5,
    )
    resent = ada_api.post(f"{URL}{hook['id']}/deliveries/{delivery['id']}/resend/")
    assert resent.status_code == 202
    assert resent.json()["status"] == "pending"
    assert Delivery.objects.get().next_attempt_at is not None
    assert_error(
        ada_api.post(f"{URL}{hook['id']}/deliveries/{'0' * 32}/resend/"),
        404,
        "not_found",
        "delivery_id",
    )
