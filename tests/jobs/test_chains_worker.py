"""A chain run by a real ``db_worker`` process (issue 17): import, then pagerank, then the
export of its result, each starting only after the one before it ended; and a failing import
that cancels the rest of its chain."""

from __future__ import annotations

import itertools

import pytest

from jobcenter.graphs.formats import GesImportRequest
from jobcenter.jobs.chains import ChainStep, chain_submit
from jobcenter.jobs.choices import TERMINAL_STATUSES, EventKind, JobStatus
from jobcenter.jobs.models import Job, JobEvent
from jobcenter.jobs.services import (
    job_submit_algorithm,
    job_submit_export,
    job_submit_import_request,
)
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph
from tests.factories.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MOVIE = shared_data("ges_movie")


def movie_import(graph, max_errors=None):
    request = {
        "schema_path": str(MOVIE / "schema.xml"),
        "vertexset_path": str(MOVIE / "vertex.csv"),
        "edgeset_path": str(MOVIE / "edge.csv"),
    }
    return lambda created: job_submit_import_request(
        graph=graph, request=GesImportRequest(request=request, max_errors=max_errors)
    )


def three_steps(graph, path, max_errors=None):
    return [
        ChainStep(submit=movie_import(graph, max_errors)),
        ChainStep(  # the movie files have a few bad lines: the import partially fails
            submit=lambda created: job_submit_algorithm(graph=graph, algorithm="pagerank"),
            depends_on=[0],
            accept_partial=True,
        ),
        ChainStep(
            submit=lambda created: job_submit_export(source_job=created[1], path=path),
            depends_on=[1],
        ),
    ]


def ended(jobs: list[Job]) -> bool:
    return all(Job.objects.get(pk=j.pk).status in TERMINAL_STATUSES for j in jobs)


def test_a_worker_runs_a_three_job_chain_in_order(project, worker_factory):
    graph = ges_graph(project)
    jobs = chain_submit(project=project, steps=three_steps(graph, "chain-ranks.csv"))
    worker_factory()
    wait_for(lambda: ended(jobs), timeout=90)
    done = [Job.objects.get(pk=j.pk) for j in jobs]
    statuses = [JobStatus.PARTIALLY_FAILED, JobStatus.SUCCEEDED, JobStatus.SUCCEEDED]
    assert [j.status for j in done] == statuses, [(j.type, j.status, j.fail_reason) for j in done]
    for before, after in itertools.pairwise(done):
        assert after.started_at >= before.finished_at, (before.type, after.type)
        assert JobEvent.objects.filter(job=after, kind=EventKind.RELEASED).count() == 1
    assert done[2].result["rows"] > 0  # the ranks of the imported vertices, written


def test_a_failing_import_cancels_the_rest_of_its_chain(project, worker_factory):
    graph = ges_graph(project)
    # more failed lines than it allows (the movie files have 8 bad ones): the import fails
    jobs = chain_submit(project=project, steps=three_steps(graph, "chain-never.csv", max_errors=2))
    worker_factory()
    wait_for(lambda: ended(jobs), timeout=90)
    done = [Job.objects.get(pk=j.pk) for j in jobs]
    assert done[0].status == JobStatus.FAILED, (done[0].status, done[0].fail_reason)
    assert [j.status for j in done[1:]] == [JobStatus.CANCELLED] * 2
    assert done[1].fail_reason == (f"dependency job {done[0].pk} (import, failed) did not succeed")
    assert done[2].fail_reason == (
        f"dependency job {done[1].pk} (algorithm, cancelled) did not succeed"
    )
    assert all(j.started_at is None for j in done[1:])
