"""Graph operations on either graph store: a deletion removes the graph's store with it."""

from __future__ import annotations

import pytest

from jobcenter.graphs.models import Graph
from jobcenter.graphs.stores.factory import store_exists
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import graph_delete_submit
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.pgcluster import graph_store_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_deleting_a_graph_removes_its_store(project, settings, backend):
    settings.JOBCENTER_GRAPH_STORE = backend
    if backend == "postgresql":
        settings.JOBCENTER_GRAPH_STORE_URL = graph_store_server()
    graph = ges_graph(project)
    execute_job(job_id=ges_movie_import(graph).pk)
    assert store_exists(graph)
    job = graph_delete_submit(graph=Graph.objects.get(pk=graph.pk))
    execute_job(job_id=job.pk)
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED
    assert not Graph.objects.filter(pk=graph.pk).exists()
    assert not store_exists(Graph(pk=graph.pk))
