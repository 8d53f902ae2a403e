"""``/metrics``: scraped with prometheus_client's own parser after real jobs ran."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.transitions import job_claim
from jobcenter.notifications.services import webhook_create
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.notifications.receiver import project_admin

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "metrics-token-for-tests"


@pytest.fixture
def token(settings):
    settings.JOBCENTER_METRICS_TOKEN = TOKEN


def scrape(client) -> dict:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_metrics_after_real_jobs(client, project, token, settings):
    settings.JOBCENTER_WEBHOOK_ALLOWED_HOSTS = ["hooks.example.com"]
    webhook_create(project=project, user=project_admin(project), url="https://hooks.example.com/x")
    graph = ges_graph(project)
    done = ges_movie_import(graph)
    execute_job(job_id=done.pk)  # partially failed: 11 lines loaded, 8 failed
    assert Job.objects.get(pk=done.pk).status == "partially_failed"
    running = ges_movie_import(graph)
    assert job_claim(job_id=running.pk, worker_id="host:42") is not None
    Job.objects.filter(pk=running.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=7))
    waiting = ges_movie_import(graph)
    Job.objects.filter(pk=waiting.pk).update(created_at=timezone.now() - timedelta(seconds=90))

    samples = scrape(client)
    assert samples[("jobcenter_jobs", (("kind", "import"), ("status", "partially_failed")))] == 1
    assert samples[("jobcenter_jobs", (("kind", "import"), ("status", "running")))] == 1
    assert samples[("jobcenter_jobs", (("kind", "import"), ("status", "waiting")))] == 1
    assert samples[("jobcenter_queue_depth", ())] == 1
    assert 90 <= samples[("jobcenter_queue_oldest_waiting_age_seconds", ())] < 150
    assert samples[("jobcenter_import_lines_total", (("outcome", "loaded"),))] == 11
    assert samples[("jobcenter_import_lines_total", (("outcome", "failed"),))] == 8
    took = Job.objects.get(pk=done.pk)
    seconds = (took.finished_at - took.started_at).total_seconds()
    assert samples[("jobcenter_job_duration_seconds_count", (("kind", "import"),))] == 1
    assert samples[("jobcenter_job_duration_seconds_sum", (("kind", "import"),))] == pytest.approx(
        seconds, abs=1e-3
    )
    assert (
        samples[("jobcenter_job_duration_seconds_bucket", (("kind", "import"), ("le", "+Inf")))]
        == 1
    )
    assert (
        samples[("jobcenter_job_duration_seconds_bucket", (("kind", "import"), ("le", "86400.0")))]
        == 1
    )
    assert samples[
        ("jobcenter_job_duration_seconds_bucket", (("kind", "import"), ("le", "0.1")))
    ] == (1 if seconds <= 0.1 else 0)
    assert 7 <= samples[("jobcenter_worker_heartbeat_age_seconds", (("worker", "host:42"),))] < 60
    assert samples[("jobcenter_webhook_deliveries", (("outcome", "pending"),))] == 1
    assert samples[("jobcenter_webhook_deliveries", (("outcome", "delivered"),))] == 0


def test_a_slow_job_lands_in_its_bucket(client, project, token):
    job = ges_movie_import(ges_graph(project))
    execute_job(job_id=job.pk)
    start = timezone.now() - timedelta(seconds=45)
    Job.objects.filter(pk=job.pk).update(
        started_at=start, finished_at=start + timedelta(seconds=42)
    )
    samples = scrape(client)
    bucket = "jobcenter_job_duration_seconds_bucket"
    assert samples[(bucket, (("kind", "import"), ("le", "30.0")))] == 0
    assert samples[(bucket, (("kind", "import"), ("le", "60.0")))] == 1
    assert samples[("jobcenter_job_duration_seconds_sum", (("kind", "import"),))] == 42


def test_metrics_are_off_without_a_token(client, db, settings):
    settings.JOBCENTER_METRICS_TOKEN = ""
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer "}).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Basic {TOKEN}", TOKEN, "Bearer"])
def test_metrics_need_the_token(client, db, token, header):
    headers = {"Authorization": header} if header is not None else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert b"jobcenter_jobs" not in response.content


def test_metrics_refuse_other_methods(client, db, token):
    response = client.post("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 405


def test_jobs_held_by_their_dependencies_are_not_in_the_queue(client, project, token):
    """A chain's later jobs wait for their dependencies, not for a worker: they are counted
    apart, and a released job's wait for a worker counts from its release."""
    from jobcenter.jobs.choices import JobStatus
    from jobcenter.jobs.models import JobEvent
    from tests.factories.jobs import job_after, job_end

    graph = ges_graph(project)
    first = ges_movie_import(graph)
    second = job_after(graph, first)
    third = job_after(graph, second)
    Job.objects.filter(pk__in=[second.pk, third.pk]).update(
        created_at=timezone.now() - timedelta(hours=2)
    )
    samples = scrape(client)
    assert samples[("jobcenter_queue_depth", ())] == 1  # the import alone
    assert samples[("jobcenter_jobs_held", ())] == 2
    assert samples[("jobcenter_queue_oldest_waiting_age_seconds", ())] < 60

    job_end(first, JobStatus.SUCCEEDED)  # releases the second job, two hours after its submission
    assert JobEvent.objects.filter(job=second, kind="released").exists()
    samples = scrape(client)
    assert samples[("jobcenter_queue_depth", ())] == 1
    assert samples[("jobcenter_jobs_held", ())] == 1
    assert samples[("jobcenter_queue_oldest_waiting_age_seconds", ())] < 60
