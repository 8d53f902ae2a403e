"""The webhooks pages in a real Chromium against a live server: a project admin adds a webhook
(the secret shown once), a job ends, the webhook's page shows the delivery pending and then,
polled, delivered to a real receiver with its status code; resend, disable, delete (confirmed in
the dialog). No CSP violation, no unlabelled control."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.transitions import job_claim, job_finish
from jobcenter.notifications.models import Delivery, Webhook
from jobcenter.notifications.sender import send_due
from tests.dashboard import test_browser as base
from tests.dashboard.test_browser import unlabelled_controls
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.notifications.receiver import Receiver, project_admin

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

browser = base.browser
tab = base.tab


def test_add_watch_resend_disable_delete(tab, project, settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.JOBCENTER_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver = Receiver().start()
    try:
        project_admin(project)
        page = tab.page
        tab.login("ada")
        page.get_by_role("link", name="Webhooks").click()
        assert unlabelled_controls(page) == []
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("Job cancelled").uncheck()
        page.get_by_role("button", name="Add webhook").click()
        expect(page.locator("#webhook-secret")).to_contain_text("whsec_")
        tab.shot("webhook-added")
        hook = Webhook.objects.get()
        assert hook.events == ["job.succeeded", "job.partially_failed", "job.failed"]

        job = ges_movie_import(ges_graph(project))
        assert job_claim(job_id=job.pk, worker_id="w1") is not None
        assert job_finish(job_id=job.pk, worker_id="w1", status=JobStatus.SUCCEEDED)
        delivery = Delivery.objects.get()
        page.get_by_role("link", name="Deliveries").click()
        row = page.locator(f"#delivery-{delivery.pk}")
        expect(row).to_contain_text("Pending")
        assert send_due() == 1  # what a worker's sender does
        expect(row).to_contain_text("Delivered", timeout=10_000)  # the table polls
        expect(row.locator('td[data-label="Status code"]')).to_have_text("200")
        tab.shot("webhook-deliveries")

        row.get_by_role("button", name=f"Resend delivery {delivery.pk[-8:]}").click()
        expect(page.locator("#toasts")).to_contain_text("queued again")
        expect(page.locator(f"#delivery-{delivery.pk}")).to_contain_text("Pending")
        send_due()
        expect(page.locator(f"#delivery-{delivery.pk}")).to_contain_text(
            "Delivered", timeout=10_000
        )
        assert len(receiver.received) == 2

        page.get_by_role("link", name="Back").click()
        page.get_by_role("button", name="Disable").click()
        expect(page.locator(f"#webhook-{hook.pk}")).to_contain_text("Disabled")
        page.get_by_role("button", name="Delete").click()
        dialog = page.locator("#confirm-dialog")
        expect(dialog).to_contain_text("Delete the webhook")
        dialog.get_by_role("button", name="Delete webhook").click()
        expect(page.locator("#toasts")).to_contain_text("deleted")
        expect(page.locator(f"#webhook-{hook.pk}")).to_have_count(0)
        assert not Webhook.objects.exists()
    finally:
        receiver.stop()
