"""Webhooks' writes: who may create them and with what URL, and the outbox (every ending of a
job queues its deliveries in the ending's own transaction)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from jobcenter.core.errors import InvalidInput, PermissionDenied
from jobcenter.credentials.crypto import decrypt_secret
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import job_cancel
from jobcenter.jobs.transitions import job_claim, job_finish, job_recover_stale
from jobcenter.notifications.models import Delivery, Webhook
from jobcenter.notifications.services import (
    deliveries_expire,
    webhook_create,
    webhook_delete,
    webhook_update,
)
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.notifications.receiver import project_admin

pytestmark = pytest.mark.django_db

URL = "https://hooks.example.com/jobcenter"


@pytest.fixture
def allowed(settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = ["hooks.example.com", ".example.org"]


@pytest.fixture
def admin(project):
    return project_admin(project)


def test_webhooks_are_refused_until_hosts_are_allowed(project, admin, settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = []
    with pytest.raises(InvalidInput) as refused:
        webhook_create(project=project, user=admin, url=URL)
    assert refused.value.field == "url"
    assert "JOBCENTER_WEBHOOK_ALLOWED_HOSTS is empty" in refused.value.message
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://evil.example.net/x", "'evil.example.net' is refused"),
        ("https://hooks.example.com.evil.net/x", "is refused"),
        ("http://127.0.0.1:8000/x", "'127.0.0.1' is refused"),
        ("ftp://hooks.example.com/x", "must start with http:// or https://"),
        ("https://user:pw@hooks.example.com/x", "user name or password"),
        ("https://hooks.example.com/x#frag", "#fragment"),
        ("https://hooks.example.com:99999/x", "not a valid URL"),
        ("https:///x", "has no host"),
        ("https://hooks.example.com/a b", "spaces"),
    ],
)
def test_a_url_outside_the_allowed_hosts_is_refused_at_creation(
    project, admin, allowed, url, message
):
    with pytest.raises(InvalidInput) as refused:
        webhook_create(project=project, user=admin, url=url)
    assert message in refused.value.message
    assert refused.value.field == "url"


def test_allowed_hosts_match_names_and_subdomains(project, admin, allowed):
    for url in (URL, "https://example.org/h", "https://a.b.example.org/h"):
        webhook_create(project=project, user=admin, url=url)
    assert Webhook.objects.count() == 3


def test_only_project_admins_manage_webhooks(project, operator, admin, allowed):
    with pytest.raises(PermissionDenied):
        webhook_create(project=project, user=operator, url=URL)
    webhook, _ = webhook_create(project=project, user=admin, url=URL)
    with pytest.raises(PermissionDenied):
        webhook_update(webhook=webhook, user=operator, enabled=False)
    with pytest.raises(PermissionDenied):
        webhook_delete(webhook=webhook, user=operator)


def test_the_secret_is_returned_once_and_stored_encrypted(project, admin, allowed):
    webhook, secret = webhook_create(project=project, user=admin, url=URL)
    assert secret.startswith("whsec_") and len(secret) > 40
    stored = Webhook.objects.get(pk=webhook.pk)
    assert secret not in stored.secret_encrypted
    assert decrypt_secret(stored.secret_encrypted) == secret


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"events": []}, "at least one event"),
        ({"events": ["job.started"]}, "unknown event 'job.started'"),
        ({"events": "job.failed"}, "must be a list"),
        ({"kinds": ["Import!"]}, "is not a job type"),
        ({"graph_name": "g" * 129}, "at most 128"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(project, admin, allowed, fields, message):
    with pytest.raises(InvalidInput) as refused:
        webhook_create(project=project, user=admin, url=URL, **fields)
    assert message in refused.value.message
    assert refused.value.field == next(iter(fields))


def test_a_kind_filter_names_one_of_the_job_types(project, admin, allowed):
    """The one rule of every face (the API's and the dashboard's choices are the service's): a
    well-formed name that is no job type would never match, and is refused."""
    webhook, _ = webhook_create(project=project, user=admin, url=URL, kinds=list(JobType.values))
    assert webhook.kinds == sorted(JobType.values)
    with pytest.raises(InvalidInput) as refused:
        webhook_update(webhook=webhook, user=admin, kinds=["import", "imprt"])
    assert refused.value.message == "kinds: 'imprt' is not a job type"
    assert refused.value.field == "kinds"


# --- the outbox ------------------------------------------------------------------------------


def _finish(job: Job, status: JobStatus) -> None:
    assert job_claim(job_id=job.pk, worker_id="w1") is not None
    assert job_finish(job_id=job.pk, worker_id="w1", status=status, fail_reason="boom")


def test_a_job_ending_queues_one_delivery_per_webhook_that_wants_it(project, admin, allowed):
    graph = ges_graph(project)
    every, _ = webhook_create(project=project, user=admin, url=URL)
    failures, _ = webhook_create(
        project=project, user=admin, url=URL, events=["job.failed", "job.cancelled"]
    )
    webhook_create(project=project, user=admin, url=URL, kinds=["algorithm"])
    webhook_create(project=project, user=admin, url=URL, graph_name="other")
    off, _ = webhook_create(project=project, user=admin, url=URL, enabled=False)
    webhook_create(project=project, user=admin, url=URL, kinds=["import"], graph_name="movies")

    job = ges_movie_import(graph)
    _finish(job, JobStatus.FAILED)
    deliveries = Delivery.objects.filter(job_id=job.pk)
    assert deliveries.count() == 3
    assert {d.webhook_id for d in deliveries} >= {every.pk, failures.pk}
    assert off.pk not in {d.webhook_id for d in deliveries}
    delivery = deliveries.get(webhook=every)
    assert delivery.event == "job.failed"
    assert delivery.status == "pending" and delivery.next_attempt_at is not None
    assert delivery.retry_until - delivery.created_at == timedelta(days=1)

    succeeded = ges_movie_import(graph)
    _finish(succeeded, JobStatus.SUCCEEDED)
    assert set(
        Delivery.objects.filter(job_id=succeeded.pk).values_list("webhook_id", flat=True)
    ) == {every.pk, Webhook.objects.get(kinds=["import"]).pk}


def test_the_delivery_is_written_with_the_ending_or_not_at_all(project, admin, allowed):
    webhook_create(project=project, user=admin, url=URL)
    job = ges_movie_import(ges_graph(project))
    assert job_claim(job_id=job.pk, worker_id="w1") is not None
    with pytest.raises(RuntimeError), transaction.atomic():
        assert job_finish(job_id=job.pk, worker_id="w1", status=JobStatus.SUCCEEDED)
        assert Delivery.objects.filter(job_id=job.pk).count() == 1
        raise RuntimeError("the worker dies before the commit")
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING
    assert not Delivery.objects.exists()


def test_cancelling_a_waiting_job_is_an_ending_too(project, admin, operator, allowed):
    webhook_create(project=project, user=admin, url=URL)
    job = ges_movie_import(ges_graph(project))
    job_cancel(job=job, user=operator)
    delivery = Delivery.objects.get(job_id=job.pk)
    assert delivery.event == "job.cancelled"
    assert '"status":"cancelled"' in delivery.body


def test_a_job_of_a_lost_worker_ends_with_a_delivery(project, admin, allowed):
    webhook_create(project=project, user=admin, url=URL)
    job = ges_movie_import(ges_graph(project))
    assert job_claim(job_id=job.pk, worker_id="w1") is not None
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=5))
    assert job.pk in job_recover_stale(stale_after=30)
    delivery = Delivery.objects.get(job_id=job.pk)
    assert delivery.event == "job.failed"
    assert '"fail_reason":"worker lost"' in delivery.body


def test_no_webhook_no_delivery(project, allowed):
    job = ges_movie_import(ges_graph(project))
    _finish(job, JobStatus.SUCCEEDED)
    assert not Delivery.objects.exists()


def test_old_finished_deliveries_leave_the_log_pending_ones_stay(project, admin, allowed, settings):
    webhook_create(project=project, user=admin, url=URL)
    graph = ges_graph(project)
    for status in (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.SUCCEEDED, JobStatus.FAILED):
        _finish(ges_movie_import(graph), status)
    old = timezone.now() - timedelta(days=31)
    first, second, third, fourth = Delivery.objects.order_by("created_at", "id")
    Delivery.objects.filter(pk=first.pk).update(status="delivered", created_at=old)
    Delivery.objects.filter(pk=second.pk).update(status="failed", created_at=old)
    Delivery.objects.filter(pk=third.pk).update(created_at=old)  # pending: still retried
    Delivery.objects.filter(pk=fourth.pk).update(status="delivered")  # recent
    settings.JOBCENTER_WEBHOOK_LOG_DAYS = 0
    assert deliveries_expire() == 0
    settings.JOBCENTER_WEBHOOK_LOG_DAYS = 30
    assert deliveries_expire() == 2
    assert set(Delivery.objects.values_list("pk", flat=True)) == {third.pk, fourth.pk}
