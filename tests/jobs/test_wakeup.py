"""An idle worker is woken when a task is queued (jobcenter/jobs/wakeup.py), on both databases."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import transaction

from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.wakeup import doorbell_for
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.factories.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


def wait_in_thread(doorbell, mark, timeout: float) -> tuple[threading.Thread, dict]:
    outcome: dict = {}

    def run() -> None:
        started = time.monotonic()
        outcome["woken"] = doorbell.wait(mark, timeout)
        outcome["after"] = time.monotonic() - started

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_committed_submission_rings_the_doorbell(project):
    graph = ges_graph(project)
    doorbell = doorbell_for()
    try:
        mark = doorbell.mark()
        thread, outcome = wait_in_thread(doorbell, mark, timeout=20)
        time.sleep(0.2)
        with transaction.atomic():
            ges_movie_import(graph)
        thread.join()
        assert outcome["woken"] is True
        assert outcome["after"] < 5, outcome
    finally:
        doorbell.close()


def test_a_rolled_back_submission_does_not(project):
    graph = ges_graph(project)
    doorbell = doorbell_for()
    try:
        mark = doorbell.mark()
        thread, outcome = wait_in_thread(doorbell, mark, timeout=1.5)
        time.sleep(0.2)
        with pytest.raises(Rollback), transaction.atomic():
            ges_movie_import(graph)
            raise Rollback
        thread.join()
        assert outcome["woken"] is False
        assert outcome["after"] >= 1.4
        assert not Job.objects.exists()
    finally:
        doorbell.close()


def started_after_submit(job: Job) -> float:
    job.refresh_from_db()
    return (job.started_at - job.created_at).total_seconds()


@pytest.mark.slow
def test_an_idle_worker_starts_a_new_job_at_once(project, worker_factory):
    """With a 30 s poll interval, jobs submitted to an idle worker still start at once: before
    the doorbell each waited out the rest of the worker's sleep (about 30 s here)."""
    graph = ges_graph(project)
    worker_factory(interval=30)
    first = ges_movie_import(graph)
    wait_for(lambda: Job.objects.get(pk=first.pk).status in TERMINAL_STATUSES, timeout=60)
    delays = []
    for _ in range(3):
        time.sleep(0.3)  # the worker has looked at the queue, found nothing, and waits
        job = ges_movie_import(graph)
        wait_for(lambda job=job: Job.objects.get(pk=job.pk).status in TERMINAL_STATUSES, timeout=60)
        assert Job.objects.get(pk=job.pk).status == JobStatus.PARTIALLY_FAILED
        delays.append(started_after_submit(job))
    assert max(delays) < 5, delays


def test_an_idle_worker_waiting_on_its_doorbell_stops_at_once(project, worker_factory):
    """A stop signal ends an idle worker's wait for new tasks: on PostgreSQL the driver's wait
    for a notification resumed after the signal, and a worker with a 30 s interval took the
    whole interval (then was killed) to stop."""
    graph = ges_graph(project)
    worker = worker_factory(interval=30)
    job = ges_movie_import(graph)
    wait_for(lambda: Job.objects.get(pk=job.pk).status in TERMINAL_STATUSES, timeout=60)
    time.sleep(0.5)  # the worker has looked at the queue, found nothing, and waits
    sent = time.monotonic()
    assert worker.stop(timeout=5) == 0, worker.output()
    took = time.monotonic() - sent
    assert took < 2, f"the idle worker stopped {took:.2f}s after the signal"
