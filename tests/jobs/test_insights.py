"""The reads behind the dashboard's pictures (jobcenter.jobs.insights), on the job database in
use: a project's jobs per hour by status (its hours' edges, its index), an import's points and
failures by reason, the last import of each graph."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.insights import graph_last_imports, jobs_per_hour
from jobcenter.jobs.models import Job
from jobcenter.projects.services import project_create
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 22, 15, 30, 0, tzinfo=UTC)


def job_at(project, when: datetime, status: str = "succeeded", **fields) -> Job:
    job = Job.objects.create(type=JobType.IMPORT, name="ImportGraph", project=project, **fields)
    Job.objects.filter(pk=job.pk).update(created_at=when, status=status)
    return job


def test_jobs_per_hour_by_status_with_the_edges_of_each_hour(project):
    beta = project_create(name="beta")
    start = NOW - timedelta(hours=24)
    job_at(project, start - timedelta(microseconds=1))  # just before: not counted
    job_at(project, start)  # the first instant of the first hour
    job_at(project, start + timedelta(minutes=59, seconds=59, microseconds=999_999), "failed")
    job_at(project, start + timedelta(hours=1), "failed")  # the second hour
    job_at(project, NOW - timedelta(microseconds=1), "running")  # the last instant
    job_at(project, NOW, "waiting")  # now itself: not yet
    job_at(project, NOW - timedelta(minutes=30), "running")
    job_at(beta, NOW - timedelta(minutes=5))  # another project
    counts = jobs_per_hour(jobs=Job.objects.filter(project=project), now=NOW)
    assert counts.start == start and counts.end == NOW
    assert counts.hours[0] == {"succeeded": 1, "failed": 1}
    assert counts.hours[1] == {"failed": 1}
    assert counts.hours[23] == {"running": 2}
    assert all(hour == {} for hour in counts.hours[2:23])
    assert counts.totals == {"succeeded": 1, "failed": 2, "running": 2}
    assert counts.total == 5


def test_jobs_per_hour_reads_at_most_its_limit(project):
    for minutes in (1, 2, 3):
        job_at(project, NOW - timedelta(minutes=minutes))
    scope = Job.objects.filter(project=project)
    counted = jobs_per_hour(jobs=scope, now=NOW, limit=3)
    assert counted.total == 3 and not counted.too_many
    job_at(project, NOW - timedelta(minutes=4))
    over = jobs_per_hour(jobs=scope, now=NOW, limit=3)
    assert over.too_many and over.total == 0 and over.hours == [{}] * 24
    with CaptureQueriesContext(connection) as queries:
        jobs_per_hour(jobs=scope, now=NOW)
    assert re.search(r"LIMIT 50001\b", queries[0]["sql"]), queries[0]["sql"]


def test_jobs_per_hour_is_one_grouped_query_over_an_index_range(project):
    # 2,000 jobs over 40 days (about 50 a day), with the database's statistics
    jobs = Job.objects.bulk_create(
        Job(type=JobType.IMPORT, name="ImportGraph", project=project) for _ in range(2000)
    )
    for day in range(40):
        Job.objects.filter(pk__in=[j.pk for j in jobs[day * 50 : (day + 1) * 50]]).update(
            created_at=NOW - timedelta(days=day, minutes=7), status="succeeded"
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    scope = Job.objects.filter(project=project)
    with CaptureQueriesContext(connection) as queries:
        counts = jobs_per_hour(jobs=scope, now=NOW)
    assert counts.total == 50 and counts.hours[23] == {"succeeded": 50}
    assert len(queries) == 1
    sql = queries[0]["sql"]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(row) for row in cursor.fetchall())
            # read from the (project, status, created_at, id) index alone, one range per status
            assert "COVERING INDEX job_project_status" in plan, plan
        else:
            cursor.execute(f"EXPLAIN {sql}")
            plan = " ".join(row[0] for row in cursor.fetchall())
            # a range of creation time in an index (the day's jobs), not the project's jobs
            assert re.search(r"Index (Only )?Scan using \w+ on jobs_job", plan), plan
            # (with or without the project in the same condition: either index has the range)
            assert re.search(r"Index Cond: \(.*created_at >= ", plan), plan
            assert "Seq Scan" not in plan, plan


def test_the_last_import_of_each_graph(project):
    movies, films, empty = (ges_graph(project, name=n) for n in ("movies", "films", "empty"))
    old = ges_movie_import(movies)
    new = ges_movie_import(movies)
    Job.objects.filter(pk=old.pk).update(created_at=NOW - timedelta(hours=2))
    Job.objects.filter(pk=new.pk).update(
        created_at=NOW - timedelta(hours=1), status=JobStatus.FAILED
    )
    later = Job.objects.create(
        type=JobType.ALGORITHM, name="pagerank", project=project, graph=movies, graph_name="movies"
    )
    assert later.created_at > NOW  # newer than both imports, and not an import
    film = ges_movie_import(films)
    # a graph of the same name, deleted: its jobs are not the new graph's
    deleted = ges_graph(project, name="gone")
    ges_movie_import(deleted)
    deleted.delete()
    gone = ges_graph(project, name="gone")
    with CaptureQueriesContext(connection) as queries:
        last = graph_last_imports(graphs=[movies, films, empty, gone])
    assert {g: job.pk for g, job in last.items()} == {movies.pk: new.pk, films.pk: film.pk}
    assert last[movies.pk].status == JobStatus.FAILED
    assert len(queries) == 4  # one per graph
