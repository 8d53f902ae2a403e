"""Recovery of the jobs of workers known to be dead (``manage.py serve`` saw them exit)."""

from __future__ import annotations

import pytest

from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_lock_acquire
from jobcenter.jobs.choices import EventKind, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import (
    LOST_WORKER_REQUEUE,
    job_cancel,
    job_claim,
    job_commit_gate,
    job_recover_stale,
)
from tests.factories import ges_graph, ges_movie_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def graph(project):
    return ges_graph(project)


def running(graph: Graph, worker_id: str) -> Job:
    job = ges_movie_import(graph)
    assert job_claim(job_id=job.pk, worker_id=worker_id) is not None
    assert graph_lock_acquire(graph_id=graph.pk, job_id=job.pk)
    return Job.objects.get(pk=job.pk)


def test_a_dead_workers_job_goes_back_to_the_queue_at_once(graph):
    job = running(graph, "host:1")
    alive = running(ges_graph(graph.project, "other"), "host:2")
    assert job_recover_stale(stale_after=30) == []  # heartbeats are fresh
    assert job_recover_stale(stale_after=30, dead_workers=["host:1"]) == [job.pk]
    fresh = Job.objects.get(pk=job.pk)
    assert (fresh.status, fresh.worker_id, fresh.fail_reason) == (JobStatus.WAITING, "", "")
    assert fresh.task_id != job.task_id  # a new task runs it again
    assert fresh.events.filter(kind=EventKind.REQUEUED, message=LOST_WORKER_REQUEUE).exists()
    assert Graph.objects.get(pk=graph.pk).write_lock == ""
    assert Job.objects.get(pk=alive.pk).status == JobStatus.RUNNING


def test_it_goes_back_once_and_fails_if_its_next_worker_dies_too(graph):
    job = running(graph, "host:1")
    assert job_recover_stale(stale_after=30, dead_workers=["host:1"]) == [job.pk]
    assert job_claim(job_id=job.pk, worker_id="host:2") is not None
    assert job_recover_stale(stale_after=30, dead_workers=["host:1", "host:2"]) == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.fail_reason, job.attempt) == (JobStatus.FAILED, "worker lost", 2)


def test_past_its_commit_gate_it_fails_as_before(graph):
    job = running(graph, "host:1")
    assert job_commit_gate(job_id=job.pk, worker_id="host:1")
    assert job_recover_stale(stale_after=30, dead_workers=["host:1"]) == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.fail_reason) == (JobStatus.FAILED, "worker lost")
    assert Graph.objects.get(pk=graph.pk).write_lock == ""


def test_a_cancel_pending_on_a_dead_workers_job_ends_it_cancelled(graph, operator):
    job = running(graph, "host:1")
    assert job_cancel(job=job, user=operator).status == JobStatus.CANCELLING
    assert job_recover_stale(stale_after=30, dead_workers=["host:1"]) == [job.pk]
    job.refresh_from_db()
    assert (job.status, job.fail_reason) == (JobStatus.CANCELLED, "worker lost while cancelling")
