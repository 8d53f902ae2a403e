"""An import's throughput samples (jobcenter.jobs.throughput): bounded and evenly spread
however long the run, written with the heartbeat only when they change (one statement in the
heartbeat's transaction), finished with the job's last count, gone with a requeue or the job."""

from __future__ import annotations

from itertools import pairwise

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job, JobFile, JobThroughput
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_purge
from jobcenter.jobs.throughput import MAX_POINTS, ThroughputSampler, rates
from jobcenter.jobs.transitions import job_claim, job_finish, job_heartbeat, job_requeue
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import


def test_three_hours_of_heartbeats_keep_a_few_hundred_evenly_spread_points():
    sampler = ThroughputSampler()
    writes = 0
    for second in range(1, 3 * 3600 + 1):  # one beat a second, 1,000 lines a second
        writes += sampler.add(second + 0.003 * (second % 7), second * 1000)
    points = sampler.finish(3 * 3600 + 0.4, 3 * 3600 * 1000 + 400)
    assert MAX_POINTS // 2 <= len(points) <= MAX_POINTS
    assert points[0] == [0.0, 0] and points[-1] == [10800.4, 10800400]
    gaps = {round(b[0] - a[0]) for a, b in pairwise(points[:-1])}
    assert gaps == {64}  # evenly spread: every 64 s at the end of three hours
    # written once per sampling step, not once a beat: 240 times in the first 4 minutes, then
    # 120 times per doubling of the step (under 900 times in 3 hours, of 10,800 beats)
    assert writes < 900
    assert all(abs(r - 1000) < 1 for _, _, r in rates(points))


def test_a_short_run_keeps_a_point_a_beat_and_the_last_reading():
    sampler = ThroughputSampler()
    assert sampler.add(0.5, 10) is False  # not a step yet
    assert sampler.add(0.97, 100) is True  # a beat a little early still counts
    assert sampler.add(1.2, 150) is False
    assert sampler.finish(1.2, 150) == [[0.0, 0], [1.0, 100], [1.2, 150]]
    assert rates(sampler.points) == [(0.0, 1.0, 100.0), (1.0, 1.2, pytest.approx(250.0))]


def test_rates_leave_out_intervals_going_back():
    assert rates([[0, 0], [2, 100], [1, 50], [3, 40], [4, 140]]) == [
        (0.0, 2.0, 50.0),
        (3.0, 4.0, 100.0),
    ]


@pytest.mark.django_db
def test_the_heartbeat_writes_changed_points_in_one_statement_and_nothing_otherwise(project):
    graph = ges_graph(project)
    job = ges_movie_import(graph)
    assert job_claim(job_id=job.pk, worker_id="w") is not None
    beat = {
        "job_id": job.pk,
        "worker_id": "w",
        "progress": 10.0,
        "lines_done": 10,
        "lines_total": 100,
        "lines_per_second": 10.0,
    }
    with CaptureQueriesContext(connection) as plain:
        job_heartbeat(**beat)
    with CaptureQueriesContext(connection) as sampled:
        job_heartbeat(**beat, samples=[[0.0, 0], [1.0, 10]])
    writes = [q["sql"] for q in sampled if "jobs_jobthroughput" in q["sql"]]
    assert len(writes) == 1 and writes[0].startswith("INSERT")  # an upsert
    assert len(sampled) == len(plain) + 1
    assert JobThroughput.objects.get(job=job).points == [[0.0, 0], [1.0, 10]]
    job_heartbeat(**beat, samples=[[0.0, 0], [1.0, 10], [2.0, 30]])
    assert JobThroughput.objects.get(job=job).points[-1] == [2.0, 30]
    # a beat of a job no longer this worker's writes nothing
    job_heartbeat(**{**beat, "worker_id": "other"}, samples=[[0.0, 0]])
    assert len(JobThroughput.objects.get(job=job).points) == 3
    assert not JobThroughput.objects.filter(job_id="nope").exists()


@pytest.mark.django_db
def test_a_requeue_starts_the_samples_again_and_a_purge_removes_them(project):
    from datetime import timedelta

    from django.utils import timezone

    graph = ges_graph(project)
    job = ges_movie_import(graph)
    job_claim(job_id=job.pk, worker_id="w")
    job_heartbeat(
        job_id=job.pk,
        worker_id="w",
        progress=1.0,
        lines_done=5,
        lines_total=10,
        lines_per_second=5.0,
        samples=[[0.0, 0], [1.0, 5]],
    )
    JobFile.objects.filter(job=job, index=1).update(reason_counts={"bad_type": 2})
    assert job_requeue(job_id=job.pk, worker_id="w", reason="worker shut down")
    assert not JobThroughput.objects.filter(job=job).exists()
    assert not JobFile.objects.filter(job=job).exclude(reason_counts={}).exists()

    job_claim(job_id=job.pk, worker_id="w2")
    job_finish(
        job_id=job.pk, worker_id="w2", status=JobStatus.SUCCEEDED, samples=[[0.0, 0], [0.5, 10]]
    )
    assert JobThroughput.objects.get(job=job).points == [[0.0, 0], [0.5, 10]]
    assert job_purge(before=timezone.now() + timedelta(seconds=1)) == 1
    assert not JobThroughput.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_import_run_by_the_runner_keeps_its_samples_and_its_reasons(project, settings):
    settings.JOBCENTER_MAX_FAILED_RECORDS = 1  # records capped, counts not
    graph = ges_graph(project)
    job = ges_movie_import(graph)
    execute_job(job_id=job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.PARTIALLY_FAILED
    points = JobThroughput.objects.get(job=job).points
    assert points[0] == [0.0, 0] and points[-1][1] == job.lines_done == 19
    reasons = dict(JobFile.objects.filter(job=job).values_list("index", "reason_counts"))
    assert reasons == {
        0: {},
        1: {"not_in_enum": 1, "bad_type": 1, "unknown_label": 1, "too_long": 1},
        2: {"missing_vertex": 1, "bad_type": 1, "bad_date": 1, "column_count": 1},
    }
    assert job.failed_lines.count() == 2  # one record kept per file
