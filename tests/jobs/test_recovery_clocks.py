"""The recovery sweep on many machines judges heartbeats by the job database's clock: a
machine whose own clock runs ahead never fails a live job as "worker lost", and one whose
clock runs behind still ends a dead worker's job in time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.transitions import job_claim, job_heartbeat, job_recover_stale
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db


def beating(project, name: str) -> Job:
    """A job that a worker on another machine runs and has just sent a heartbeat for."""
    job = ges_movie_import(ges_graph(project, name))
    assert job_claim(job_id=job.pk, worker_id=f"machine-a:{name}") is not None
    beat = dict(progress=1.0, lines_done=1, lines_total=10, lines_per_second=1.0)
    assert job_heartbeat(job_id=job.pk, worker_id=f"machine-a:{name}", **beat) == "ok"
    return job


def sweep_on_a_machine_whose_clock_is_off(monkeypatch, seconds: float) -> list[str]:
    """The sweep as a worker whose machine's clock is ``seconds`` off runs it."""
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + timedelta(seconds=seconds))
    try:
        return job_recover_stale(stale_after=30)
    finally:
        monkeypatch.setattr(timezone, "now", real_now)


def test_a_clock_ahead_does_not_take_a_live_worker_for_lost(project, monkeypatch):
    live = beating(project, "live")
    assert sweep_on_a_machine_whose_clock_is_off(monkeypatch, +300) == []
    assert Job.objects.get(pk=live.pk).status == JobStatus.RUNNING


def test_a_clock_behind_still_ends_a_dead_workers_job(project, monkeypatch):
    dead = beating(project, "dead")
    # its worker died a minute ago: its last heartbeat is a minute old by the database's clock
    Job.objects.filter(pk=dead.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=60))
    assert sweep_on_a_machine_whose_clock_is_off(monkeypatch, -300) == [dead.pk]
    job = Job.objects.get(pk=dead.pk)
    assert (job.status, job.fail_reason) == (JobStatus.FAILED, "worker lost")
