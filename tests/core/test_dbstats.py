"""The worker keeps SQLite's planner statistics of the job tables fresh."""

from __future__ import annotations

import pytest
from django.db import connection

from jobcenter.core import dbstats
from jobcenter.core.dbstats import database_statistics_refresh
from jobcenter.jobs.models import Job, JobEvent
from tests.factories.jobs import make_job


def add_events(job: Job, n: int) -> None:
    JobEvent.objects.bulk_create((JobEvent(job=job, kind="requeued") for _ in range(n)), 500)


@pytest.mark.django_db
def test_tables_are_analysed_once_big_enough_and_again_when_grown(project, monkeypatch):
    monkeypatch.setattr(dbstats, "MIN_ROWS", 50)
    job = make_job(project)
    add_events(job, 10)
    assert database_statistics_refresh(models=[JobEvent]) == []  # small: plans do not matter
    add_events(job, 60)
    analysed = database_statistics_refresh(models=[JobEvent, Job])
    if connection.vendor != "sqlite":
        assert analysed == []  # PostgreSQL's autovacuum analyses by itself
        return
    assert analysed == ["jobs_jobevent"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'jobs_jobevent'")
        assert int(cursor.fetchone()[0].split()[0]) == 71
    assert database_statistics_refresh(models=[JobEvent]) == []  # fresh enough
    add_events(job, 300)  # more than 4x
    assert database_statistics_refresh(models=[JobEvent]) == ["jobs_jobevent"]
    with connection.cursor() as cursor:  # an index added by a migration has no statistics
        cursor.execute("CREATE INDEX test_event_kind ON jobs_jobevent (kind)")
    assert database_statistics_refresh(models=[JobEvent]) == ["jobs_jobevent"]
    assert database_statistics_refresh(models=[JobEvent]) == []
