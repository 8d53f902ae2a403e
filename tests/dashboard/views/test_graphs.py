"""The graphs page: each graph's vertex and edge counts and its last import (a link to the
job, with its status and time), in a bounded number of queries."""

from __future__ import annotations

import re

import pytest

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_cancel
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db(transaction=True)


def row(body: str, graph) -> str:
    start = body.index(f'<tr id="graph-{graph.pk}">')
    return body[start : body.index("</tr>", start)]


def cell(row_html: str, label: str) -> str:
    match = re.search(rf'<td data-label="{label}"[^>]*>(.*?)</td>', row_html, re.S)
    assert match, label
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def test_each_graph_with_its_counts_and_last_import(oscar, project, operator):
    movies = ges_graph(project)
    execute_job(job_id=ges_movie_import(movies, user=operator).pk)
    waiting = ges_movie_import(movies, user=operator)  # the newest import: not run yet
    empty = ges_graph(project, name="empty")
    cancelled = ges_graph(project, name="stopped")
    job_cancel(job=ges_movie_import(cancelled), user=operator)

    body = oscar.get("/graphs/").content.decode()
    first = row(body, movies)
    assert (cell(first, "Vertices"), cell(first, "Edges")) == ("6", "5")
    assert (
        f'<a href="/jobs/{waiting.pk}/" aria-label="Last import: job {waiting.pk[-8:]}, waiting">'
        in first
    )
    assert "Waiting" in cell(first, "Last import")
    assert (cell(row(body, empty), "Vertices"), cell(row(body, empty), "Last import")) == (
        "0",
        "None yet",
    )
    stopped = row(body, cancelled)
    assert "Cancelled" in cell(stopped, "Last import") and "<time" in stopped
    # a finished import shows when it finished
    Job.objects.filter(pk=waiting.pk).delete()
    again = row(oscar.get("/graphs/").content.decode(), movies)
    assert "Partially failed" in cell(again, "Last import")
    finished = Job.objects.get(graph=movies).finished_at
    assert f'<time datetime="{finished:%Y-%m-%dT%H:%M:%SZ}"' in again
    assert Job.objects.get(graph=movies).status == JobStatus.PARTIALLY_FAILED


@pytest.mark.sqlite_store
def test_a_graph_whose_store_cannot_be_read_still_lists(oscar, project):
    broken = ges_graph(project, name="broken")
    broken.store_path.parent.mkdir(parents=True, exist_ok=True)
    broken.store_path.write_bytes(b"not a database" * 100)
    response = oscar.get("/graphs/")
    assert response.status_code == 200
    assert cell(row(response.content.decode(), broken), "Vertices") == "—"
    broken.store_path.unlink()


def test_the_graphs_page_reads_a_bounded_number_of_rows(
    oscar, project, django_assert_max_num_queries
):
    for i in range(5):
        ges_graph(project, name=f"g{i}")
    oscar.get("/graphs/")
    # session, user, projects, graphs, then one last-import lookup per graph
    with django_assert_max_num_queries(6 + 5):
        assert oscar.get("/graphs/").status_code == 200
