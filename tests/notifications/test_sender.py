"""The sender in this process against a real receiver on 127.0.0.1: addresses checked at
sending (no SSRF), no redirect followed, back-off, giving up, resending, one sender per attempt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.transitions import job_claim, job_finish
from jobcenter.notifications.addresses import address_allowed
from jobcenter.notifications.choices import DeliveryStatus
from jobcenter.notifications.models import Delivery
from jobcenter.notifications.sender import send_due
from jobcenter.notifications.services import (
    backoff,
    delivery_claim,
    delivery_resend,
    webhook_create,
)
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.notifications.receiver import Receiver, project_admin

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def local(settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
    settings.JOBCENTER_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    settings.JOBCENTER_WEBHOOK_RETRY_BASE = 10.0
    settings.JOBCENTER_WEBHOOK_TIMEOUT = 2.0


def _ended_job_with_webhook(project, url: str) -> Delivery:
    admin = project_admin(project)
    webhook_create(project=project, user=admin, url=url)
    job = ges_movie_import(ges_graph(project))
    assert job_claim(job_id=job.pk, worker_id="w1") is not None
    assert job_finish(job_id=job.pk, worker_id="w1", status=JobStatus.SUCCEEDED)
    return Delivery.objects.get(job_id=job.pk)


def test_delivered_once_with_its_status_code_and_latency(project, receiver, local):
    delivery = _ended_job_with_webhook(project, receiver.url)
    assert send_due() == 1
    assert send_due() == 0  # nothing due any more
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DELIVERED
    assert (delivery.attempts, delivery.status_code, delivery.error) == (1, 200, "")
    assert delivery.latency_ms > 0 and delivery.delivered_at is not None
    assert [r.headers["Jobcenter-Delivery"] for r in receiver.received] == [delivery.pk]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_loopback_address_is_refused_at_sending_unless_its_network_is_allowed(
    project, receiver, local, settings, host
):
    delivery = _ended_job_with_webhook(project, receiver.url.replace("127.0.0.1", host))
    settings.JOBCENTER_WEBHOOK_ALLOWED_NETWORKS = []
    send_due()
    delivery.refresh_from_db()
    assert receiver.received == []
    assert delivery.status == DeliveryStatus.PENDING  # retried: the setting may be fixed
    assert delivery.status_code is None
    assert "a private, loopback or reserved address" in delivery.error
    assert "JOBCENTER_WEBHOOK_ALLOWED_NETWORKS" in delivery.error


def test_a_host_no_longer_allowed_is_refused_at_sending(project, receiver, local, settings):
    delivery = _ended_job_with_webhook(project, receiver.url)
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = ["hooks.example.com"]
    send_due()
    delivery.refresh_from_db()
    assert receiver.received == []
    assert "is not in JOBCENTER_WEBHOOK_ALLOWED_HOSTS" in delivery.error


def test_a_redirect_is_not_followed(project, receiver, local):
    receiver.status = 302
    delivery = _ended_job_with_webhook(project, receiver.url)
    send_due()
    delivery.refresh_from_db()
    assert len(receiver.received) == 1  # the Location (port 9) was never asked
    assert (delivery.status, delivery.status_code) == (DeliveryStatus.PENDING, 302)
    assert delivery.error == "HTTP 302 (redirects are not followed)"


def test_failed_attempts_back_off_exponentially_then_give_up(project, receiver, local, settings):
    receiver.status = 503
    delivery = _ended_job_with_webhook(project, receiver.url)
    before = timezone.now()
    send_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.status_code, delivery.error) == ("pending", 503, "HTTP 503")
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 9 <= wait <= 12  # RETRY_BASE 10 s, +-10%
    assert send_due() == 0  # not due yet
    for attempts, base in ((1, 10), (2, 20), (3, 40), (4, 80)):
        assert 0.9 * base <= backoff(attempts) <= 1.1 * base
    settings.JOBCENTER_WEBHOOK_RETRY_MAX = 60
    assert backoff(30) <= 66
    # The day is over: the next failure gives up.
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now(), retry_until=timezone.now() + timedelta(seconds=5)
    )
    send_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("failed", 2, None)
    assert len(receiver.received) == 2


def test_resend_sends_the_same_delivery_again(project, receiver, local):
    delivery = _ended_job_with_webhook(project, receiver.url)
    send_due()
    delivery.refresh_from_db()
    delivery_resend(delivery=delivery, user=delivery.webhook.created_by)
    assert delivery.status == DeliveryStatus.PENDING
    send_due()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.DELIVERED, 2)
    first, second = receiver.received
    assert first.body == second.body
    assert first.headers["Jobcenter-Delivery"] == second.headers["Jobcenter-Delivery"]


def test_two_senders_never_take_the_same_attempt(project, local):
    delivery = _ended_job_with_webhook(project, "http://127.0.0.1:9/x")
    now = timezone.now()
    assert delivery_claim(delivery_id=delivery.pk, attempts=0, now=now)
    assert not delivery_claim(delivery_id=delivery.pk, attempts=0, now=now)
    # Its lease over (the sender died), it is taken again.
    later = now + timedelta(seconds=120)
    assert delivery_claim(delivery_id=delivery.pk, attempts=1, now=later)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.215.14", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104
        ("::1", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("::ffff:127.0.0.1", False),
        ("224.0.0.1", False),
    ],
)
def test_only_public_addresses_without_allowed_networks(settings, address, allowed):
    settings.JOBCENTER_WEBHOOK_ALLOWED_NETWORKS = []
    assert address_allowed(address) is allowed


def test_allowed_networks_open_private_addresses(settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_NETWORKS = ["10.1.0.0/16", "::1/128"]
    assert address_allowed("10.1.2.3")
    assert address_allowed("::1")
    assert not address_allowed("10.2.0.1")
