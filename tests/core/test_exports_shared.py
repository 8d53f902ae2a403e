"""Exports and backups on several machines (jobcenter.core.exports with jobcenter.core.shared):
the export roots have the same paths everywhere but each machine its own disk; what a worker
wrote there is published to the shared storage, so that a restore submitted to another web
server and run by another worker finds the backup, and a target another machine wrote counts
as existing."""

from __future__ import annotations

import shutil

import pytest

from jobcenter.core.errors import InvalidInput
from jobcenter.graphs.models import Graph
from jobcenter.graphs.stores.factory import open_store
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import (
    job_submit_algorithm,
    job_submit_export,
    job_submit_graph_operation,
)
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.machines import STORAGE_KINDS, Machines

pytestmark = pytest.mark.django_db(transaction=True)


def run(job: Job) -> Job:
    execute_job(job_id=job.pk)
    return Job.objects.get(pk=job.pk)


@pytest.fixture(params=STORAGE_KINDS)
def machines(request, settings, tmp_path) -> Machines:
    settings.JOBCENTER_EXPORT_ROOTS = [tmp_path / "exports"]
    return Machines(settings, tmp_path, request.param)


@pytest.fixture
def movies(project, operator) -> Graph:
    graph = ges_graph(project)
    assert run(ges_movie_import(graph)).status == JobStatus.PARTIALLY_FAILED
    return Graph.objects.get(pk=graph.pk)


def rows(graph: Graph) -> tuple[list, list]:
    store = open_store(graph)
    try:
        return store.vertices(), store.edges()
    finally:
        store.close()


def another_disk(machines: Machines) -> None:
    """The export root as the next machine sees it: same path, none of this one's files."""
    shutil.rmtree(machines.base / "exports", ignore_errors=True)


def test_a_backup_written_by_one_worker_is_restored_through_others(machines, movies, operator):
    before = rows(movies)
    machines.on("worker-a")
    backup = run(job_submit_graph_operation(graph=movies, operation="backup", path="b/m.db"))
    assert backup.status == JobStatus.SUCCEEDED, backup.fail_reason
    assert run(job_submit_graph_operation(graph=movies, operation="clear")).status == "succeeded"
    assert rows(movies) == ([], [])
    another_disk(machines)
    machines.on("web-b")
    restore = job_submit_graph_operation(graph=movies, operation="restore", path="b/m.db")
    another_disk(machines)
    machines.on("worker-c")
    restored = run(restore)
    assert restored.status == JobStatus.SUCCEEDED, restored.fail_reason
    assert rows(movies) == before


def test_a_target_written_on_another_machine_already_exists(machines, movies, operator):
    machines.on("worker-a")
    graph_export = run(job_submit_export(graph=movies, path="out/movies", user=operator))
    ranked = run(job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator))
    result_export = run(job_submit_export(source_job=ranked, path="ranks.csv", user=operator))
    assert graph_export.status == result_export.status == JobStatus.SUCCEEDED
    another_disk(machines)
    machines.on("web-b")
    for path in ("out/movies", "ranks.csv"):
        with pytest.raises(InvalidInput, match="already exists"):
            job_submit_export(graph=movies, path=path, user=operator)
    job_submit_export(graph=movies, path="out/other", user=operator)  # a free name is fine
