"""The failed lines of an import on its page: which file and line, the reason and the raw line,
filtered by file and by reason (the per-reason counts are the links), paged, and refreshed
with the rest of the page while the import runs."""

from __future__ import annotations

import re

import pytest

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import FailedLine, Job
from jobcenter.jobs.transitions import job_heartbeat
from tests.dashboard.conftest import HTMX
from tests.factories.jobs import make_job, run_job

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<code class="raw">([^<]*)</code>')


def html(response) -> str:
    assert response.status_code in (200, 286), response.status_code
    return response.content.decode()


def missing_vertex(job: Job, line: int, name: str = "Ghost") -> FailedLine:
    return FailedLine(
        job=job,
        file=job.files.get(index=2),
        line_number=line,
        reason="missing_vertex",
        message=f"source vertex '{name}' does not exist",
        raw=f"{name},Heat,rate",
    )


@pytest.fixture
def failed_import(project, graph) -> Job:
    """120 bad_type lines in the vertex file, 2 missing_vertex lines in the edge file."""
    job = run_job(make_job(project, graph), status=JobStatus.PARTIALLY_FAILED, failed_lines=120)
    FailedLine.objects.bulk_create([missing_vertex(job, 7), missing_vertex(job, 9, "Nobody")])
    return job


def test_the_reason_counts_are_links_that_filter_the_lines(oscar, failed_import):
    job = failed_import
    page = html(oscar.get(f"/jobs/{job.pk}/"))
    links = re.findall(
        r'<a href="/jobs/[0-9a-f]{32}/(\?[^"#]*)?#failed-lines" '
        r'hx-get="/jobs/[0-9a-f]{32}/failed-lines/(?:\?[^"]*)?"[^>]*data-reason="([a-z_]*)">'
        r'.*?<span class="count">([\d,]+)</span>',
        page,
    )
    assert links == [
        ("", "", "122"),
        ("?reason=bad_type", "bad_type", "120"),
        ("?reason=missing_vertex", "missing_vertex", "2"),
    ]
    assert 'aria-current="true" data-reason=""' in page  # all reasons to begin with

    only = html(oscar.get(f"/jobs/{job.pk}/failed-lines/?reason=missing_vertex", **HTMX))
    assert "<html" not in only
    assert ROW.findall(only) == ["Ghost,Heat,rate", "Nobody,Heat,rate"]
    assert 'aria-current="true" data-reason="missing_vertex"' in only
    assert "Lines 1\u20132 of 2 stored with reason missing_vertex" in only
    # the same without script: the whole page, filtered
    whole = html(oscar.get(f"/jobs/{job.pk}/?reason=missing_vertex"))
    assert ROW.findall(whole) == ["Ghost,Heat,rate", "Nobody,Heat,rate"]

    # a file and a reason: the counts are the file's
    vertex = html(oscar.get(f"/jobs/{job.pk}/failed-lines/?file=1", **HTMX))
    assert 'data-reason="missing_vertex"' not in vertex and 'data-reason="bad_type"' in vertex
    assert '<span class="count-pill" id="fl-count" data-state="file=1">120<' in vertex
    none = html(oscar.get(f"/jobs/{job.pk}/failed-lines/?file=1&reason=missing_vertex", **HTMX))
    assert ROW.findall(none) == []
    assert "No stored failed line of this file has the reason <code>missing_vertex</code>" in none


def test_the_table_says_file_line_reason_and_raw_line(oscar, failed_import):
    body = html(oscar.get(f"/jobs/{failed_import.pk}/failed-lines/?reason=missing_vertex", **HTMX))
    assert re.search(
        r"<th[^>]*>File</th><th[^>]*>Line</th><th[^>]*>Reason</th><th[^>]*>Raw line</th>", body
    )
    first = body[body.index("<tbody>") : body.index("</tr>", body.index("<tbody>"))]
    assert '<span title="/data/edge.csv">edge.csv</span>' in first
    assert '<td data-label="Line" class="num">7</td>' in first
    assert '<code class="reason">missing_vertex</code>' in first
    assert "source vertex &#x27;Ghost&#x27; does not exist" in first
    assert '<code class="raw">Ghost,Heat,rate</code>' in first


def test_paging_keeps_the_file_and_the_reason(oscar, failed_import):
    job = failed_import
    page1 = html(oscar.get(f"/jobs/{job.pk}/failed-lines/?file=1&reason=bad_type", **HTMX))
    assert len(ROW.findall(page1)) == 50 and "Page 1 of 3" in page1
    assert f'hx-get="/jobs/{job.pk}/failed-lines/?file=1&amp;reason=bad_type&amp;page=2"' in page1
    assert f'href="/jobs/{job.pk}/?file=1&amp;reason=bad_type&amp;page=2#failed-lines"' in page1
    page3 = html(oscar.get(f"/jobs/{job.pk}/failed-lines/?file=1&reason=bad_type&page=3", **HTMX))
    assert ROW.findall(page3) == [f"v{n},user,x{n}" for n in range(100, 120)]
    assert "Lines 101\u2013120 of 120 stored with reason bad_type" in page3
    assert f'hx-get="/jobs/{job.pk}/failed-lines/?file=1&amp;reason=bad_type&amp;page=2"' in page3
    assert 'id="fl-next"' not in page3
    # the view shown is what the card reloads at the job's end and what the poll sends
    assert 'data-state="file=1&amp;reason=bad_type&amp;page=3"' in page3


@pytest.mark.parametrize(
    "query",
    [
        "reason=DROP%20TABLE",
        "reason=%00",
        "reason=" + "a" * 40,
        "reason=BAD_TYPE",
        "reason=bad_type&page=abc",
        "reason=bad_type&page=-4",
        "reason=bad_type&page=999999999999999999999",
        "reason=&file=",
        "reason=bad_type&reason=missing_vertex",
    ],
)
def test_odd_reasons_and_pages_are_ignored_or_clamped(oscar, failed_import, query):
    body = html(oscar.get(f"/jobs/{failed_import.pk}/failed-lines/?{query}", **HTMX))
    assert ROW.findall(body), query
    whole = oscar.get(f"/jobs/{failed_import.pk}/?{query}")
    assert whole.status_code == 200


def test_a_reason_without_lines_shows_none_and_says_so(oscar, failed_import):
    body = html(oscar.get(f"/jobs/{failed_import.pk}/failed-lines/?reason=bad_date", **HTMX))
    assert ROW.findall(body) == []
    assert 'aria-current="true" data-reason="bad_date"><code>bad_date</code>' in body
    assert "No stored failed line has the reason <code>bad_date</code>" in body


def test_the_poll_of_a_running_import_refreshes_its_failed_lines(oscar, project, graph):
    """While an import runs, its page's poll answer carries the failed lines out of band, for
    the view on screen (file, reason, page), each part saying which view it shows."""
    job = run_job(make_job(project, graph))
    before = html(oscar.get(f"/jobs/{job.pk}/live/", **HTMX))
    assert 'id="fl-body" data-state="" data-hold-focus hx-swap-oob="true"' in before
    assert "Failed lines appear here as the import finds them." in before

    # the worker's next heartbeat brings failed lines
    job_heartbeat(
        job_id=job.pk,
        worker_id="w1",
        progress=60.0,
        lines_done=600,
        lines_total=1000,
        lines_per_second=250.0,
        failed=[missing_vertex(job, n) for n in range(1, 61)],
    )
    answer = oscar.get(f"/jobs/{job.pk}/live/", **HTMX)
    assert answer.status_code == 200  # still running: polling goes on
    body = html(answer)
    assert body.index('id="job-live"') < body.index('id="fl-body"')
    assert len(ROW.findall(body)) == 50
    assert '<span class="count-pill" id="fl-count" data-state="" hx-swap-oob="true">60<' in body
    assert 'id="failed-csv"' in body and 'data-reason="missing_vertex"' in body

    # the user is on page 2 of that reason: the poll sends it, the answer is that view
    shown = html(oscar.get(f"/jobs/{job.pk}/live/?reason=missing_vertex&page=2", **HTMX))
    assert len(ROW.findall(shown)) == 10
    assert 'id="fl-body" data-state="reason=missing_vertex&amp;page=2"' in shown

    # analytics jobs have no failed lines: their poll carries none
    other = run_job(make_job(project, graph, type="query"))
    assert 'id="fl-body"' not in html(oscar.get(f"/jobs/{other.pk}/live/", **HTMX))


def test_a_running_imports_card_reloads_its_own_view_when_the_job_ends(oscar, project, graph):
    job = run_job(make_job(project, graph))
    page = html(oscar.get(f"/jobs/{job.pk}/?file=2&reason=missing_vertex"))
    assert (
        f'hx-get="/jobs/{job.pk}/failed-lines/?file=2&amp;reason=missing_vertex" '
        'hx-trigger="job-finished from:body"' in page
    )
