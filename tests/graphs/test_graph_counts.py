"""A graph's vertex and edge counts for the graph list (graph_data_counts): its committed data,
read once per data version in a process, nothing for a graph without data, None (not an error)
for a store that cannot be read."""

from __future__ import annotations

import sqlite3

import pytest

from jobcenter.graphs.selectors import graph_data_counts
from jobcenter.graphs.services import graph_create
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_submit_graph_operation
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import

# About the SQLite store (its files read, damaged and changed by hand).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite_store]


@pytest.mark.unchecked_stores("removes an edge by hand to show the counts are not read again")
def test_counts_follow_the_graphs_data_versions(project):
    graph = ges_graph(project)
    assert graph_data_counts(graph=graph) == (0, 0)  # no store yet
    execute_job(job_id=ges_movie_import(graph).pk)
    assert graph_data_counts(graph=graph) == (6, 5)

    # the same data version: the counts read before (a row removed behind the graph's back,
    # without a new version, is not seen)
    conn = sqlite3.connect(graph.store_path)
    conn.execute("DELETE FROM edge WHERE eid = (SELECT max(eid) FROM edge)")
    conn.commit()
    conn.close()
    assert graph_data_counts(graph=graph) == (6, 5)

    # a new version (a second import, a clear): counted again
    execute_job(job_id=ges_movie_import(graph).pk)
    assert graph_data_counts(graph=graph) == (6, 4 + 5)
    graph.refresh_from_db()
    execute_job(job_id=job_submit_graph_operation(graph=graph, operation="clear").pk)
    assert graph_data_counts(graph=graph) == (0, 0)


@pytest.mark.unchecked_stores("a store file that is no database")
def test_a_store_that_cannot_be_read_has_no_counts(project):
    graph = graph_create(project=project, name="broken", dialect="ges")
    graph.store_path.parent.mkdir(parents=True, exist_ok=True)
    graph.store_path.write_bytes(b"this is not a database" * 100)
    assert graph_data_counts(graph=graph) is None
