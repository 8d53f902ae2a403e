"""Recovery of the jobs of workers known to be dead (``manage.py serve`` saw them exit), and
of waiting jobs whose task a worker took off the queue without ever claiming the job."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_lock_acquire
from jobcenter.jobs.choices import EventKind, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import job_cancel
from jobcenter.jobs.transitions import (
    LOST_WORKER_REQUEUE,
    UNCLAIMED_REQUEUE,
    job_claim,
    job_commit_gate,
    job_recover_stale,
)
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.factories.waiting import wait_for

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


def taken_by_a_worker_that_dies(job: Job, *, seconds_ago: float) -> None:
    """What a worker killed between taking the task and claiming the job leaves: the engine's
    own claim of the task (django-tasks-db marks it running), then nothing."""
    task = DBTaskResult.objects.get(pk=job.task_id)
    task.claim("host:dead")
    then = timezone.now() - timedelta(seconds=seconds_ago)
    DBTaskResult.objects.filter(pk=task.pk).update(started_at=then)
    Job.objects.filter(pk=job.pk).update(created_at=then)


def test_a_job_whose_task_a_dead_worker_took_is_queued_again(graph):
    job = ges_movie_import(graph)
    taken_by_a_worker_that_dies(job, seconds_ago=5)
    assert job_recover_stale(stale_after=30) == []  # just taken: its worker may claim it yet
    taken_by_a_worker_that_dies(Job.objects.get(pk=job.pk), seconds_ago=60)
    assert job_recover_stale(stale_after=30) == [job.pk]
    fresh = Job.objects.get(pk=job.pk)
    assert fresh.status == JobStatus.WAITING
    assert fresh.task_id != job.task_id
    assert DBTaskResult.objects.get(pk=fresh.task_id).status == "READY"
    assert fresh.events.filter(kind=EventKind.REQUEUED, message=UNCLAIMED_REQUEUE).count() == 1
    assert job_recover_stale(stale_after=30) == []  # its new task waits in the queue


def test_jobs_still_in_the_queue_or_claimed_are_left_alone(graph):
    queued = ges_movie_import(graph)
    Job.objects.filter(pk=queued.pk).update(created_at=timezone.now() - timedelta(hours=1))
    claimed = ges_movie_import(ges_graph(graph.project, "other"))
    taken_by_a_worker_that_dies(claimed, seconds_ago=60)
    assert job_claim(job_id=claimed.pk, worker_id="host:7") is not None  # it did claim it
    assert job_recover_stale(stale_after=30) == []
    assert Job.objects.get(pk=queued.pk).task_id == queued.task_id
    assert Job.objects.get(pk=claimed.pk).status == JobStatus.RUNNING


def test_a_task_the_engine_no_longer_knows_is_queued_again(graph):
    job = ges_movie_import(graph)
    DBTaskResult.objects.filter(pk=job.task_id).delete()
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert job_recover_stale(stale_after=30) == [job.pk]
    assert DBTaskResult.objects.get(pk=Job.objects.get(pk=job.pk).task_id).status == "READY"


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_a_starting_worker_runs_the_job_a_dead_worker_took_but_never_claimed(
    project, worker_factory
):
    graph = ges_graph(project)
    job = ges_movie_import(graph)
    taken_by_a_worker_that_dies(job, seconds_ago=120)
    worker_factory()
    wait_for(lambda: Job.objects.get(pk=job.pk).status == JobStatus.PARTIALLY_FAILED, timeout=60)
    job.refresh_from_db()
    assert (job.result["vertices_added"], job.result["edges_added"]) == (6, 5)


def test_a_job_finished_from_its_commit_record_gets_its_files_counts_from_it(graph):
    """Issue 13: the worker died between its store commit and its status write (its last
    heartbeat may lag behind): the files' counters and statuses are taken from the summary the
    store committed with, so the committed lines every face shows are exact."""
    from jobcenter.graphs.loader import run_import
    from jobcenter.graphs.plan import ImportProgress
    from jobcenter.graphs.services import graph_import_plan
    from jobcenter.graphs.stores.factory import open_store
    from jobcenter.jobs.selectors import job_files

    job = running(graph, "host:1")
    plan = graph_import_plan(graph=graph, params=job.params)
    store = open_store(graph)
    try:
        run_import(plan, store, job_id=job.pk, progress=ImportProgress.for_plan(plan))
    finally:
        store.close()
    assert job_recover_stale(stale_after=30, dead_workers=["host:1"]) == [job.pk]
    job.refresh_from_db()
    assert job.status == JobStatus.PARTIALLY_FAILED
    files = list(job_files(job=job))
    assert [
        (f.status, f.total_lines, f.successful_lines, f.failed_lines, f.committed_lines)
        for f in files
    ] == [
        ("success", 4, 4, 0, 4),
        ("partFailed", 10, 6, 4, 6),
        ("partFailed", 9, 5, 4, 5),
    ]
    assert "4 of 10 lines failed" in files[1].cause
