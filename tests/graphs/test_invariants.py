"""The store invariant checker itself (tests/graphs/invariants.py): it catches each kind of
damage, and the check after every test (tests/conftest.py) really runs: the ``xfail(strict)``
tests below damage a store and pass their own body, so they fail unless the after-test check
raises."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from jobcenter.graphs.models import Graph
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job, JobFile
from jobcenter.jobs.runner import execute_job
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.graphs.invariants import StoreInvariantError, check_jobs, check_store

# The invariants are checked on SQLite store files.
pytestmark = pytest.mark.sqlite_store

# Tests that leave a damaged store (or job rows) behind on purpose, once the checker has caught it.
DAMAGED = pytest.mark.unchecked_stores
VERTICES = "ann,user,Ann,31\nbob,user,Bob,40\ncid,user,Cid,x\n"
EDGES = "ann,bob,friends\nbob,ann,rate,4\n"


def damage(path, sql: str, *params) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(sql, params)
    conn.close()


@pytest.fixture
def imported(workspace, small_graph):
    """A store after two imports (the second one overwrites), closed."""
    workspace.run(small_graph(vertices=VERTICES, edges=EDGES))
    workspace.run(small_graph(vertices=VERTICES, edges=EDGES, parallel_edge="override"))
    workspace.store.close()
    return workspace.store.path


def test_a_store_after_imports_holds(imported):
    facts = check_store(imported)
    assert (facts.vertices, facts.edges, len(facts.records)) == (2, 2, 2)


@DAMAGED
def test_an_edge_to_a_vertex_that_is_not_stored_is_caught(imported):
    damage(imported, "DELETE FROM vertex WHERE key = 'bob'")
    with pytest.raises(StoreInvariantError, match="edges with an endpoint that is not stored"):
        check_store(imported)


@DAMAGED
def test_rows_that_no_import_counted_are_caught(imported):
    damage(imported, "INSERT INTO vertex(vid, scope, key, label) VALUES (99, '', 'zed', 'user')")
    with pytest.raises(StoreInvariantError, match="holds 3 vertices and 2 edges, its committed"):
        check_store(imported)


@DAMAGED
def test_rows_lost_by_a_clear_the_history_does_not_know_are_caught(imported):
    damage(imported, "DELETE FROM edge")
    with pytest.raises(StoreInvariantError, match="history says 2 and 2"):
        check_store(imported)


@DAMAGED
def test_a_summary_that_does_not_add_up_is_caught(imported):
    damage(
        imported,
        "UPDATE imports SET summary = json_set(summary, '$.lines_failed', 7) WHERE job_id = ?",
        "job1",
    )
    with pytest.raises(StoreInvariantError, match="summary of job1 does not add up"):
        check_store(imported)


@DAMAGED
def test_a_record_that_is_no_summary_is_caught(imported):
    damage(imported, "UPDATE imports SET summary = '{}' WHERE job_id = 'job1'")
    with pytest.raises(StoreInvariantError, match="neither an import's summary"):
        check_store(imported)


@pytest.mark.xfail(raises=StoreInvariantError, strict=True)
def test_the_check_after_each_test_catches_a_damaged_store(imported):
    """Passes its body; the check after the test must fail it (xfail, strict)."""
    damage(imported, "DELETE FROM vertex WHERE key = 'ann'")


# -- against the job database ------------------------------------------------------------------


@pytest.fixture
def movie_job(project) -> Job:
    graph = ges_graph(project)
    job = ges_movie_import(graph)
    execute_job(job_id=job.pk)
    return Job.objects.get(pk=job.pk)


def graph_facts(job: Job) -> tuple:
    graph = Graph.objects.get(pk=job.graph_id)
    return check_store(graph.store_path), str(graph.pk)


@pytest.mark.django_db(transaction=True)
def test_jobs_that_agree_with_their_store_pass(movie_job):
    assert movie_job.status == JobStatus.PARTIALLY_FAILED
    facts, graph_id = graph_facts(movie_job)
    check_jobs(facts, graph_id=graph_id)


@DAMAGED
@pytest.mark.django_db(transaction=True)
def test_a_job_reporting_other_counts_than_its_store_is_caught(movie_job):
    facts, graph_id = graph_facts(movie_job)
    Job.objects.filter(pk=movie_job.pk).update(result={**movie_job.result, "edges_added": 6})
    with pytest.raises(StoreInvariantError, match=r"'edges_added': \(6, 5\)"):
        check_jobs(facts, graph_id=graph_id)
    Job.objects.filter(pk=movie_job.pk).update(result=movie_job.result)
    JobFile.objects.filter(job=movie_job, index=1).update(successful_lines=7)
    with pytest.raises(StoreInvariantError, match="files count"):
        check_jobs(facts, graph_id=graph_id)


@pytest.mark.django_db(transaction=True)
def test_a_finished_import_the_store_never_committed_is_caught(movie_job):
    facts, graph_id = graph_facts(movie_job)
    with pytest.raises(StoreInvariantError, match="has no commit record of it"):
        check_jobs(dataclasses.replace(facts, records=()), graph_id=graph_id)


@pytest.mark.xfail(raises=StoreInvariantError, strict=True)
@pytest.mark.django_db(transaction=True)
def test_the_check_after_each_test_compares_the_jobs(movie_job):
    """Passes its body; the check after the test must fail it (xfail, strict)."""
    Job.objects.filter(pk=movie_job.pk).update(result={**movie_job.result, "vertices_added": 7})
