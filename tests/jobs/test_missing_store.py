"""A graph store missing where it should exist is an error, never an empty graph: a worker
whose data directory lacks the store of a graph that has data fails that graph's jobs with a
reason naming the graph and the worker's data directory (before, it created an empty store and
"succeeded" over 0 vertices). Only the first import of a graph creates its store."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.db import connection

from jobcenter.graphs.models import Graph
from jobcenter.graphs.stores.factory import store_delete, store_exists
from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus
from jobcenter.jobs.kinds.start_graph import job_submit_start_graph
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import (
    job_submit_algorithm,
    job_submit_export,
    job_submit_index,
    job_submit_query,
)
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.factories.waiting import wait_for
from tests.pgcluster import graph_store_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def ended(job: Job) -> Job:
    wait_for(lambda: Job.objects.get(pk=job.pk).status in TERMINAL_STATUSES, timeout=60)
    return Job.objects.get(pk=job.pk)


@pytest.mark.sqlite_store
def test_a_worker_without_the_graphs_store_fails_its_jobs_and_creates_none(
    project, worker_factory, tmp_path
):
    graph = ges_graph(project)
    imported = ges_movie_import(graph)
    execute_job(job_id=imported.pk)  # here: the store is in this process's data directory
    assert Job.objects.get(pk=imported.pk).status == JobStatus.PARTIALLY_FAILED
    graph = Graph.objects.get(pk=graph.pk)
    assert graph.data_updated_at is not None and graph.store_path.exists()

    jobs = [
        job_submit_algorithm(graph=graph, algorithm="pagerank"),
        job_submit_query(graph=graph, query={"target": "vertices"}),
        job_submit_export(graph=graph, path="elsewhere"),
        job_submit_index(graph=graph, label="user", property="Age"),
        job_submit_start_graph(graph=graph),
        ges_movie_import(graph),  # an append onto data this worker does not have
    ]
    other = tmp_path / "other-machine"
    worker_factory(
        JOBCENTER_DATA_DIR=str(other),
        JOBCENTER_TEST_SQLITE=_database_name(),
        JOBCENTER_GRAPH_STORE="sqlite",
    )
    for job in jobs:
        job = ended(job)
        assert job.status == JobStatus.FAILED, (job.type, job.status, job.result)
        assert f"graph {graph.name!r} has data, but its store is missing" in job.fail_reason
        assert str(other.resolve()) in job.fail_reason, job.fail_reason
    assert not (other / "graphs").exists() or not any((other / "graphs").iterdir())

    # The first import of a graph creates its store, wherever it runs.
    fresh = ges_graph(project, name="fresh")
    job = ended(ges_movie_import(fresh))
    assert job.status == JobStatus.PARTIALLY_FAILED, job.fail_reason
    assert Path(other / "graphs" / f"{fresh.pk}.sqlite3").exists()


def test_a_postgresql_store_gone_from_its_server_fails_the_job_and_is_not_made_again(
    project, settings
):
    settings.JOBCENTER_GRAPH_STORE = "postgresql"
    settings.JOBCENTER_GRAPH_STORE_URL = graph_store_server()
    graph = ges_graph(project)
    execute_job(job_id=ges_movie_import(graph).pk)
    graph = Graph.objects.get(pk=graph.pk)
    assert store_exists(graph) and graph.data_updated_at is not None
    store_delete(graph)  # (an operator dropped the schema)
    job = job_submit_algorithm(graph=graph, algorithm="pagerank")
    execute_job(job_id=job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.FAILED
    assert f"graph {graph.name!r} has data, but its store is missing" in job.fail_reason
    assert f"g_{graph.pk} is not on the graph store server" in job.fail_reason
    assert not store_exists(graph)


def _database_name() -> str:
    """The test database a worker with another data directory shares (SQLite's file)."""
    return str(connection.settings_dict["NAME"]) if connection.vendor == "sqlite" else ""
