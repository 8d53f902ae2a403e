"""End to end with a real ``db_worker`` process and a real receiver on 127.0.0.1: a job's
ending reaches the receiver signed, and a receiver that is down gets it once it is back."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest

from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.notifications import signing
from jobcenter.notifications.choices import DeliveryStatus
from jobcenter.notifications.models import Delivery
from jobcenter.notifications.services import webhook_create
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.factories.waiting import wait_for
from tests.notifications.receiver import Receiver, project_admin

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WORKER_ENV = {
    "JOBCENTER_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
    "JOBCENTER_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
    "JOBCENTER_WEBHOOK_POLL_INTERVAL": "0.05",
    "JOBCENTER_WEBHOOK_RETRY_BASE": "0.3",
    "JOBCENTER_WEBHOOK_TIMEOUT": "2",
}


@pytest.fixture
def local_hooks(settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    settings.JOBCENTER_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def test_a_job_ending_is_delivered_signed_by_the_worker(
    project, worker_factory, receiver, local_hooks
):
    admin = project_admin(project)
    webhook, secret = webhook_create(project=project, user=admin, url=receiver.url)
    job = ges_movie_import(ges_graph(project))
    worker_factory(**WORKER_ENV)
    wait_for(lambda: receiver.received, timeout=60)
    job.refresh_from_db()
    assert job.status == JobStatus.PARTIALLY_FAILED
    [got] = receiver.received
    delivery = Delivery.objects.get()
    assert got.path == "/hooks/jobcenter"
    assert got.headers["Jobcenter-Delivery"] == delivery.pk
    assert got.headers["Jobcenter-Event"] == "job.partially_failed"
    assert got.headers["Content-Type"] == "application/json"
    assert signing.verify(
        secret=secret,
        timestamp=got.headers["Jobcenter-Timestamp"],
        body=got.body,
        signature=got.headers["Jobcenter-Signature"],
        now=time.time(),
    )
    assert not signing.verify(
        secret=secret + "x",
        timestamp=got.headers["Jobcenter-Timestamp"],
        body=got.body,
        signature=got.headers["Jobcenter-Signature"],
        now=time.time(),
    )
    body = got.json
    assert body["id"] == delivery.pk
    assert body["type"] == "job.partially_failed"
    assert body["project"] == "alpha"
    assert body["webhook"] == webhook.pk
    assert body["job"]["id"] == job.pk
    assert body["job"]["status"] == "partially_failed"
    assert body["job"]["graph"] == "movies"
    assert body["job"]["lines_failed"] == 8
    wait_for(lambda: Delivery.objects.get().status == DeliveryStatus.DELIVERED)
    delivery.refresh_from_db()
    assert (delivery.attempts, delivery.status_code) == (1, 200)
    assert delivery.latency_ms is not None and delivery.latency_ms > 0


def three_attempts_failed() -> bool:
    """Three attempts made and the third one's failure recorded: a delivery counts an attempt
    when it is taken (its next attempt then set a lease of at least 30 s ahead), so the count
    alone showed the third attempt still under way, and the receiver coming back was in time
    for it (seen once: delivered at attempt 3). A recorded failure sets the backoff instead
    (1.2 s here)."""
    delivery = Delivery.objects.get()
    return delivery.attempts >= 3 and (
        delivery.next_attempt_at - delivery.last_attempt_at < timedelta(seconds=30)
    )


def test_a_receiver_that_is_down_gets_the_delivery_when_it_comes_back(
    project, worker_factory, local_hooks
):
    receiver = Receiver().start()
    port = receiver.port
    receiver.stop()  # down: nothing listens on the port
    admin = project_admin(project)
    webhook_create(project=project, user=admin, url=f"http://127.0.0.1:{port}/in")
    job = ges_movie_import(ges_graph(project))
    worker_factory(**WORKER_ENV)
    wait_for(lambda: Job.objects.get(pk=job.pk).status in TERMINAL_STATUSES, timeout=60)
    wait_for(three_attempts_failed, timeout=30)
    failing = Delivery.objects.get()
    assert failing.status == DeliveryStatus.PENDING
    assert failing.status_code is None
    assert "ConnectionRefusedError" in failing.error
    back = Receiver(port=port).start()
    try:
        wait_for(lambda: Delivery.objects.get().status == DeliveryStatus.DELIVERED, timeout=30)
        delivered = Delivery.objects.get()
        assert delivered.attempts >= 4
        assert delivered.status_code == 200
        assert delivered.error == ""
        assert [b["id"] for b in back.bodies()] == [delivered.pk]
        assert back.received[0].headers["Jobcenter-Delivery"] == delivered.pk
    finally:
        back.stop()
