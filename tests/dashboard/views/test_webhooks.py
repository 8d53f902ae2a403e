"""A project's webhooks page (project admins): add one (its secret shown once), change,
disable, delete it; its deliveries with status code and latency; resend one."""

from __future__ import annotations

import pytest

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.transitions import job_claim, job_finish
from jobcenter.notifications.models import Delivery, Webhook
from jobcenter.notifications.services import webhook_create
from tests.dashboard.conftest import HTMX, post
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.notifications.receiver import project_admin

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com/in"


@pytest.fixture
def allowed(settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = ["hooks.example.com"]


@pytest.fixture
def ada(project):
    return project_admin(project)


@pytest.fixture
def ada_client(client_for, ada):
    return client_for(ada)


def test_admins_see_the_page_in_the_nav_others_do_not(ada_client, oscar, project):
    page = ada_client.get("/webhooks/")
    assert page.status_code == 200
    assert b'href="/webhooks/"' in page.content
    assert b"No webhooks yet" in page.content
    refused = oscar.get("/webhooks/")
    assert refused.status_code == 403
    assert b"admin role in project alpha" in refused.content
    assert b'href="/webhooks/"' not in oscar.get("/").content


def test_adding_a_webhook_shows_its_secret_once(ada_client, allowed):
    response = post(
        ada_client,
        "/webhooks/",
        {
            "url": HOOK,
            "events": ["job.failed", "job.cancelled"],
            "kinds": ["import"],
            "enabled": "on",
        },
    )
    assert response.status_code == 200
    hook = Webhook.objects.get()
    assert (hook.url, hook.events, hook.kinds, hook.enabled) == (
        HOOK,
        ["job.failed", "job.cancelled"],
        ["import"],
        True,
    )
    body = response.content.decode()
    assert 'id="webhook-secret"' in body
    secret = body.split('<code class="secret">')[1].split("</code>")[0]
    assert secret.startswith("whsec_")
    assert secret not in ada_client.get("/webhooks/").content.decode()
    assert secret not in ada_client.get(f"/webhooks/{hook.pk}/").content.decode()


def test_a_refused_host_is_shown_on_the_url_field(ada_client, settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = []
    response = post(ada_client, "/webhooks/", {"url": HOOK, "events": ["job.failed"]})
    assert response.status_code == 422
    assert b"JOBCENTER_WEBHOOK_ALLOWED_HOSTS is empty" in response.content
    assert not Webhook.objects.exists()


def test_edit_disable_and_delete(ada_client, ada, project, allowed):
    hook, _ = webhook_create(project=project, user=ada, url=HOOK)
    saved = post(
        ada_client,
        f"/webhooks/{hook.pk}/",
        {"url": HOOK, "events": ["job.succeeded"], "graph_name": "movies", "enabled": "on"},
        htmx=True,
    )
    assert saved.status_code == 200
    hook.refresh_from_db()
    assert (hook.events, hook.graph_name) == (["job.succeeded"], "movies")
    bad = post(
        ada_client, f"/webhooks/{hook.pk}/", {"url": "ftp://x", "events": ["job.failed"]}, htmx=True
    )
    assert bad.status_code == 422
    assert b"must start with http:// or https://" in bad.content
    assert post(ada_client, f"/webhooks/{hook.pk}/toggle/").status_code == 302
    assert Webhook.objects.get().enabled is False
    assert post(ada_client, f"/webhooks/{hook.pk}/delete/").status_code == 302
    assert not Webhook.objects.exists()
    assert ada_client.get(f"/webhooks/{hook.pk}/").status_code == 404


def test_deliveries_with_status_code_and_latency_and_resend(ada_client, ada, project, allowed):
    hook, _ = webhook_create(project=project, user=ada, url=HOOK)
    job = ges_movie_import(ges_graph(project))
    assert job_claim(job_id=job.pk, worker_id="w1") is not None
    assert job_finish(job_id=job.pk, worker_id="w1", status=JobStatus.FAILED, fail_reason="x")
    Delivery.objects.update(
        status="delivered", attempts=2, status_code=204, latency_ms=37.4, next_attempt_at=None
    )
    delivery = Delivery.objects.get()
    page = ada_client.get(f"/webhooks/{hook.pk}/").content.decode()
    row = page[page.index(f'<tr id="delivery-{delivery.pk}">') :]
    row = row[: row.index("</tr>")]
    assert "job.failed" in row and "204" in row and "37 ms" in row and "Delivered" in row
    assert f"/jobs/{job.pk}/" in row
    assert 'hx-trigger="every 3s"' not in page  # nothing pending: no polling
    assert ada_client.get(f"/webhooks/{hook.pk}/deliveries/", **HTMX).status_code == 286
    resent = post(ada_client, f"/webhooks/{hook.pk}/deliveries/{delivery.pk}/resend/", htmx=True)
    assert resent.status_code == 200 and resent["HX-Redirect"] == f"/webhooks/{hook.pk}/"
    assert Delivery.objects.get().status == "pending"
    polling = ada_client.get(f"/webhooks/{hook.pk}/deliveries/", **HTMX)
    assert polling.status_code == 200
    assert b'hx-trigger="every 3s"' in polling.content


def test_other_projects_webhooks_are_not_found(client_for, ada_client, allowed, db):
    from tests.factories.projects import project_with_members

    beta = project_with_members("beta", bob="admin")
    hook, _ = webhook_create(project=beta, user=beta.members.get(username="bob"), url=HOOK)
    assert ada_client.get(f"/webhooks/{hook.pk}/").status_code == 404
    assert post(ada_client, f"/webhooks/{hook.pk}/delete/").status_code == 404
    assert Webhook.objects.filter(pk=hook.pk).exists()
