"""Start graph and close graph in this process (jobs.kinds.start_graph, close_graph): what they
check at submission, what their jobs hold and release, and how they fail. The same kinds in
real worker processes: test_start_close_graph_worker.py."""

from __future__ import annotations

import pytest

from jobcenter.core.errors import InvalidState, PermissionDenied
from jobcenter.graphs.models import Graph
from jobcenter.graphs.resident import RESIDENT
from jobcenter.graphs.stores.factory import store_key
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.kinds.close_graph import job_submit_close_graph
from jobcenter.jobs.kinds.start_graph import job_submit_start_graph
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import (
    graph_delete_submit,
    job_retry,
    job_submit_algorithm,
    job_submit_graph_operation,
)
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db(transaction=True)


def run(job: Job) -> Job:
    execute_job(job_id=job.pk)
    return Job.objects.get(pk=job.pk)


@pytest.fixture
def movies(project) -> Graph:
    graph = ges_graph(project)
    assert run(ges_movie_import(graph)).status == JobStatus.PARTIALLY_FAILED  # some bad lines
    RESIDENT.clear()  # as a worker that did not run the import
    return Graph.objects.get(pk=graph.pk)


def loaded_from(graph: Graph) -> str:
    job = run(job_submit_algorithm(graph=graph, algorithm="pagerank"))
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    return job.result["graph_loaded_from"]


def test_start_holds_the_graph_for_algorithm_jobs_and_close_releases_it(movies, operator):
    start = run(job_submit_start_graph(graph=movies, user=operator))
    assert (start.type, start.name, start.status) == ("start_graph", "StartGraph", "succeeded")
    assert start.result["graph_loaded_from"] == "store"
    assert start.result["graph"] == "movies" and start.result["vertices"] > 0
    assert (start.progress, start.phase) == (100.0, "")
    assert Graph.objects.get(pk=movies.pk).kept_in_memory
    assert store_key(movies) in RESIDENT.pinned()
    assert loaded_from(movies) == "memory"

    close = run(job_submit_close_graph(graph=movies, user=operator))
    assert (close.type, close.name, close.status) == ("close_graph", "CloseGraph", "succeeded")
    assert close.result["was_started"] and close.result["released_here"]
    assert "released" in close.result["message"]
    graph = Graph.objects.get(pk=movies.pk)
    assert (graph.kept_in_memory, graph.memory_epoch) == (False, 1)
    assert RESIDENT.pinned() == set()
    assert loaded_from(movies) == "store"  # then held again, as for any algorithm job
    assert loaded_from(movies) == "memory"


def test_closing_a_graph_nobody_holds_says_there_was_nothing_to_release(movies, operator):
    close = run(job_submit_close_graph(graph=movies, user=operator))
    assert close.status == JobStatus.SUCCEEDED, close.fail_reason
    assert not close.result["was_started"] and not close.result["released_here"]
    assert close.result["message"] == (
        "graph 'movies' was not started and no copy was held here: nothing to release"
    )
    # and it can be retried, as every job of these kinds
    again = run(job_retry(job=close, user=operator))
    assert (again.status, again.retry_of_id) == (JobStatus.SUCCEEDED, close.pk)


def test_a_copy_loaded_before_a_close_on_another_worker_is_dropped_before_the_next_job(movies):
    """This process plays the other worker: the close's epoch is written as a close job on
    another worker writes it, and the next job here must not use the old copy."""
    assert loaded_from(movies) == "store"
    assert loaded_from(movies) == "memory"
    Graph.objects.filter(pk=movies.pk).update(memory_epoch=1)  # a close, elsewhere
    assert loaded_from(movies) == "store"


def test_start_refuses_graphs_without_data_or_being_deleted(project, movies, operator, viewer):
    empty = ges_graph(project, "empty")
    with pytest.raises(InvalidState, match="graph 'empty' has no data yet: import into it"):
        job_submit_start_graph(graph=empty, user=operator)
    with pytest.raises(PermissionDenied, match="operator role"):
        job_submit_start_graph(graph=movies, user=viewer)
    with pytest.raises(PermissionDenied, match="operator role"):
        job_submit_close_graph(graph=movies, user=viewer)

    # a graph cleared since it was imported has no vertex to hold: the job fails and says so
    cleared = run(job_submit_graph_operation(graph=movies, operation="clear"))
    assert cleared.status == JobStatus.SUCCEEDED
    start = run(job_submit_start_graph(graph=movies, user=operator))
    assert start.status == JobStatus.FAILED
    assert start.fail_reason == "graph 'movies' has no vertex: there is nothing to load"
    assert not Graph.objects.get(pk=movies.pk).kept_in_memory

    graph_delete_submit(graph=movies, user=operator)
    for submit in (job_submit_start_graph, job_submit_close_graph):
        with pytest.raises(InvalidState, match="graph 'movies' is being deleted"):
            submit(graph=Graph.objects.get(pk=movies.pk), user=operator)


def test_a_graph_larger_than_the_budget_is_not_started(movies, operator, settings):
    settings.JOBCENTER_GRAPH_MEMORY_MB = 0
    start = run(job_submit_start_graph(graph=movies, user=operator))
    assert start.status == JobStatus.FAILED
    assert start.fail_reason.startswith("graph 'movies' needs about ")
    assert "more than JOBCENTER_GRAPH_MEMORY_MB allows (0.0 MB): it was not started" in (
        start.fail_reason
    )
    assert not Graph.objects.get(pk=movies.pk).kept_in_memory
    assert RESIDENT.held() == [] and RESIDENT.pinned() == set()


def test_a_started_graph_is_not_pushed_out_by_another(project, movies, operator):
    other = ges_graph(project, "other")
    assert run(ges_movie_import(other)).status == JobStatus.PARTIALLY_FAILED
    RESIDENT.clear()
    assert run(job_submit_start_graph(graph=movies, user=operator)).status == "succeeded"
    # room for one graph only: the other is built for its job, and not kept in its place
    (key,) = RESIDENT.held()
    size = RESIDENT.pinned_bytes()
    RESIDENT.budget_source = lambda: size + 1
    try:
        assert loaded_from(other) == "store"
        assert loaded_from(other) == "store"
        assert RESIDENT.held() == [key]
        assert loaded_from(movies) == "memory"
        # and starting the other too would exceed the budget: it fails and says why
        start = run(job_submit_start_graph(graph=other, user=operator))
    finally:
        del RESIDENT.budget_source
    assert start.status == JobStatus.FAILED
    assert "does not fit beside the graphs started already" in start.fail_reason
    assert "within JOBCENTER_GRAPH_MEMORY_MB" in start.fail_reason
    assert not Graph.objects.get(pk=other.pk).kept_in_memory
