"""A job's result on the dashboard: sorted by any column on the server (every row, not a page),
top-ranked first by default for scores, numbers formatted, and a query's total matches."""

from __future__ import annotations

import re

import pytest

from jobcenter.dashboard.views.results import figure
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import ResultWriter, names_snapshot, result_delete
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_submit_query
from tests.dashboard.conftest import HTMX
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def column(body: str, name: str) -> list[str]:
    return re.findall(rf'<td data-label="{re.escape(name)}"[^>]*>([^<]*)<', body)


PUBLISHED: list[str] = []


@pytest.fixture(autouse=True)
def _remove_results():
    """The results these tests write go with them (the result folder is shared)."""
    yield
    while PUBLISHED:
        result_delete(PUBLISHED.pop())


def finished(project, graph, job_type: str, params: dict, result: dict) -> Job:
    job = Job.objects.create(
        type=job_type,
        name="Algorithm",
        project=project,
        graph=graph,
        graph_name=graph.name,
        params=params,
        status=JobStatus.SUCCEEDED,
        result=result,
    )
    PUBLISHED.append(job.pk)
    return job


@pytest.fixture
def pagerank(project):
    """A pagerank of 120 vertices (compact form), in vertex order: v7 ranks first."""
    graph = ges_graph(project)
    names = [(f"v{i}", "n") for i in range(120)]
    values = [round(0.001 * ((i * 37) % 120) + 0.0001, 7) for i in range(120)]
    job = finished(
        project,
        graph,
        JobType.ALGORITHM,
        {"algorithm": "pagerank", "parameters": {}},
        {"kind": "vertices", "total": 120},
    )
    names_snapshot("names-120", names)
    writer = ResultWriter(job.pk, kind="vertices", columns=["id", "label", "pagerank"])
    writer.add_vertex_values(names_key="names-120", values=values, indices=None)
    writer.finish({"vertices": 1_234_567, "modularity": 0.412345678})
    writer.publish()
    ranked = sorted(range(120), key=lambda i: -values[i])
    return job, [f"v{i}" for i in ranked]


def test_scores_are_shown_top_ranked_first_across_pages(oscar, pagerank):
    job, ranked = pagerank
    first = html(oscar.get(f"/jobs/{job.pk}/"))
    assert column(first, "id") == ranked[:50]
    assert re.findall(r'<td class="num dim" data-label="#">([^<]*)<', first)[:3] == ["1", "2", "3"]
    assert "sorted by pagerank (highest first)" in first
    assert re.search(r'aria-sort="descending"><a class="sort" href="[^"]*rsort=pagerank', first)
    # the next page goes on in the same order
    assert f'hx-get="/jobs/{job.pk}/result/?rpage=2&amp;rsort=-pagerank"' in first
    second = html(oscar.get(f"/jobs/{job.pk}/result/?rpage=2&rsort=-pagerank", **HTMX))
    assert column(second, "id") == ranked[50:100]
    assert re.findall(r'data-label="#">([^<]*)<', second)[0] == "51"


def test_every_column_sorts_both_ways(oscar, pagerank):
    job, ranked = pagerank
    lowest = html(oscar.get(f"/jobs/{job.pk}/result/?rsort=pagerank&rpage=3", **HTMX))
    assert column(lowest, "id") == ranked[::-1][100:]
    by_id = html(oscar.get(f"/jobs/{job.pk}/result/?rsort=id", **HTMX))
    assert column(by_id, "id")[:4] == ["v0", "v1", "v10", "v100"]  # text order
    assert re.search(r'aria-sort="ascending"><a class="sort" href="[^"]*rsort=-id', by_id)
    desc = html(oscar.get(f"/jobs/{job.pk}/result/?rsort=-id", **HTMX))
    assert column(desc, "id")[:2] == ["v99", "v98"]
    # a header not sorted by offers its first direction: scores highest first, text a-z
    assert re.search(r'<a class="sort" href="[^"]*\?rsort=label#result"', desc)


@pytest.mark.parametrize("odd", ["nope", "-", "--pagerank", "properties.x", "%00", "a" * 300])
def test_an_unknown_sort_falls_back_to_the_default(oscar, pagerank, odd):
    job, ranked = pagerank
    response = oscar.get(f"/jobs/{job.pk}/result/?rsort={odd}", **HTMX)
    assert response.status_code == 200
    assert column(html(response), "id")[:3] == ranked[:3]


def test_numbers_are_formatted(oscar, pagerank):
    job, _ = pagerank
    body = html(oscar.get(f"/jobs/{job.pk}/"))
    # summary figures: thousands separated, four significant digits, the whole value in title
    assert '<dt>vertices</dt><dd title="1234567">1,234,567</dd>' in body
    assert '<dt>modularity</dt><dd title="0.412345678">0.4123</dd>' in body
    cells = re.findall(r'<td data-label="pagerank" class="num"( title="[^"]*")?>([^<]*)<', body)
    assert cells[0] == ("", "0.1191")  # shown whole: no title


def test_figures():
    assert figure(1234567) == "1,234,567"
    assert figure(3.0) == "3"
    assert figure(1234567.0) == "1,234,567"
    assert figure(12345.678) == "12,345.7"
    assert figure(3.14159) == "3.142"
    assert figure(0.000123456) == "0.0001235"
    assert figure(0.0000123456) == "1.235e-05"
    assert figure(-0.5) == "-0.5"
    assert figure(2.5e20) == "2.5e+20"
    assert figure(True) == "true" and figure("x") == "x" and figure(None) == "—"


def test_degrees_and_property_values(oscar, project):
    graph = ges_graph(project)
    job = finished(
        project,
        graph,
        JobType.ALGORITHM,
        {"algorithm": "degree_statistics", "parameters": {}},
        {"kind": "vertices", "total": 3},
    )
    writer = ResultWriter(job.pk, kind="vertices", columns=["id", "label", "degree"])
    writer.add([("a", "n", 5), ("b", "n", 12_000), ("c", "n", 70)])
    writer.finish({})
    writer.publish()
    body = html(oscar.get(f"/jobs/{job.pk}/"))
    assert column(body, "id") == ["b", "c", "a"]  # the highest degree first
    assert re.findall(r'data-label="degree" class="num"[^>]*>([^<]*)<', body) == [
        "12,000",
        "70",
        "5",
    ]


@pytest.mark.django_db(transaction=True)
def test_a_querys_rows_sort_by_property_and_it_shows_its_matches(oscar, project, operator):
    graph = ges_graph(project)
    execute_job(job_id=ges_movie_import(graph).pk)
    graph.refresh_from_db()
    job = job_submit_query(graph=graph, query={"labels": ["user"], "limit": 2}, user=operator)
    execute_job(job_id=job.pk)
    PUBLISHED.append(job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.result["matched"] == 3 and job.result["total"] == 2
    body = html(oscar.get(f"/jobs/{job.pk}/"))
    assert '<span class="count-pill" id="result-matches">3 matches</span>' in body
    assert "the query's offset and limit kept 2 of its 3 matches" in body
    own = column(body, "id")
    assert "sorted by" not in body  # a query's rows come in its own order
    by_age = html(oscar.get(f"/jobs/{job.pk}/result/?rsort=-properties.Age", **HTMX))
    ages = [int(a) for a in column(by_age, "Age")]
    assert ages == sorted(ages, reverse=True) and set(column(by_age, "id")) == set(own)
    assert re.search(r'class="prop-col" aria-sort="descending"><a class="sort"[^>]*>Age<', by_age)
    assert "sorted by Age (highest first)" in by_age
    # a property no row on the page has is still a column to sort back by
    gone = html(oscar.get(f"/jobs/{job.pk}/result/?rsort=properties.Nothing", **HTMX))
    assert re.search(r'aria-sort="ascending"><a class="sort"[^>]*>Nothing<', gone)

    # every match returned: no second number
    every = job_submit_query(graph=graph, query={"labels": ["user"]}, user=operator)
    execute_job(job_id=every.pk)
    PUBLISHED.append(every.pk)
    page = html(oscar.get(f"/jobs/{every.pk}/"))
    assert "3 matches" in page and "kept" not in page
    # a query run before matches were counted shows what it has
    Job.objects.filter(pk=every.pk).update(result={"kind": "vertices", "total": 3})
    assert 'id="result-matches"' not in html(oscar.get(f"/jobs/{every.pk}/"))
