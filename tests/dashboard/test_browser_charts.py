"""The dashboard's pictures and results end to end in a real Chromium (as test_browser.py: a live
server, a real ``db_worker`` where jobs must run, every Content-Security-Policy violation fails
the test): an import's lines per second drawn while it runs and after, its failed lines by
reason per file, the job list's last 24 hours by status, results sorted across pages, and the
graphs page's counts and last imports. Screenshots go to test-artifacts/screenshots/
(git-ignored; docs/images/ holds copies of a few)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from playwright.sync_api import expect

from jobcenter.dashboard.views import job_detail
from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus
from jobcenter.jobs.models import Job, JobFile, JobThroughput
from jobcenter.jobs.results import result_delete
from jobcenter.jobs.services import job_submit_import, job_submit_query
from tests.dashboard import test_browser as base
from tests.dashboard.test_browser import SCREENSHOTS, TIMEOUT_MS, Session, status_of
from tests.factories.files import failing_ges_files
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import, make_job, run_job
from tests.factories.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

browser = base.browser
tab = base.tab


def shot_of(session: Session, selector: str, name: str, *, height: int | None = None) -> None:
    """A screenshot of one element (the chart itself, for the docs), at most ``height`` pixels
    of its top."""
    element = session.page.locator(selector)
    path = str(SCREENSHOTS / f"{name}.png")
    if height is None:
        element.screenshot(path=path)
        return
    element.evaluate("(el) => el.scrollIntoView({block: 'start'})")
    box = element.bounding_box()
    assert box is not None, selector
    session.page.screenshot(path=path, clip={**box, "height": min(box["height"], height)})


@pytest.fixture(scope="session")
def failing_files() -> dict[str, str]:
    """Ten to twenty seconds of loading here, with failures in both files."""
    return failing_ges_files(
        Path(settings.IMPORTS_DIR) / "e2e-charts", vertices=30_000, edges=3_000_000
    )


def test_an_imports_lines_per_second_and_failures_by_reason(
    tab, project, operator, worker_factory, failing_files, monkeypatch
):
    monkeypatch.setattr(job_detail, "POLL_SECONDS", 1)
    graph = ges_graph(project, name="big")
    job = job_submit_import(
        graph=graph, params={"format": "ges", "request": failing_files}, user=operator
    )
    worker_factory(JOBCENTER_HEARTBEAT_INTERVAL="0.2")
    page = tab.page
    tab.login("oscar")
    page.goto(tab.url(f"/jobs/{job.pk}/"))

    # while it runs: the line appears, and moves on with the page's live refresh
    chart = page.locator("#throughput-chart")
    expect(chart.locator("path.chart-line")).to_be_attached(timeout=60_000)
    expect(page.locator("#job-status")).to_have_text("Running")
    expect(
        page.get_by_role("img", name=re.compile(r"^Lines per second .* lines in"))
    ).to_be_visible()
    summary = page.locator("#throughput-summary")
    seen = summary.inner_text()
    page.wait_for_function(
        """(seen) => {
          const text = document.querySelector('#throughput-summary').textContent;
          return text !== seen && text.includes('lately');
        }""",
        arg=seen,
        timeout=TIMEOUT_MS,
    )
    expect(chart.locator(".chart-axis text").first).to_have_text("0/s")
    shot_of(tab, "#import-charts", "chart-throughput-running")
    tab.shot("job-detail-charts-running")

    # finished: the whole run, and the failed lines by reason per file, counted in full
    wait_for(lambda: status_of(job) in TERMINAL_STATUSES, timeout=180)
    expect(page.locator("#job-status")).to_have_text("Partially failed", timeout=TIMEOUT_MS)
    expect(summary).not_to_contain_text("lately")
    finished = Job.objects.get(pk=job.pk)
    points = JobThroughput.objects.get(job=finished).points
    assert points[-1][1] == finished.lines_done == 3_030_000
    assert len(points) <= 240
    assert summary.inner_text().startswith("3,030,000 lines in ")

    bars = page.locator("#failures-chart svg.failure-bar")
    expect(bars).to_have_count(2)
    files = {f.index: f for f in JobFile.objects.filter(job=finished)}
    for index in (1, 2):  # every failed line counted, past the 10,000 records kept per file
        assert sum(files[index].reason_counts.values()) == files[index].failed_lines
    assert files[2].failed_lines > settings.JOBCENTER_MAX_FAILED_RECORDS
    assert set(files[1].reason_counts) == {"bad_type", "unknown_label"}
    assert set(files[2].reason_counts) == {"bad_type", "missing_vertex"}
    for index, name in ((1, "vertices.csv"), (2, "edges.csv")):
        counts = sorted(files[index].reason_counts.items(), key=lambda kv: (-kv[1], kv[0]))
        words = ", ".join(f"{reason} {n:,}" for reason, n in counts)
        label = f"{name}: {files[index].failed_lines:,} failed lines: {words}"
        expect(page.get_by_role("img", name=label, exact=True)).to_be_visible()
    totals: dict[str, int] = {}
    for f in files.values():
        for reason, n in f.reason_counts.items():
            totals[reason] = totals.get(reason, 0) + n
    expected = [f"{r} {n:,}" for r, n in sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))]
    expect(page.locator("#failures-chart .chart-legend li")).to_have_text(expected)
    shot_of(tab, "#import-charts", "chart-import-finished")
    tab.shot("job-detail-charts-finished")

    # a file's name leads to its failed lines
    page.locator("#failures-chart .failure-file a", has_text="vertices.csv").click()
    expect(page).to_have_url(re.compile(r"\?file=1#failed-lines$"))
    expect(page.locator("#fl-file")).to_have_value("1")

    # on a phone nothing scrolls sideways and the charts are still there
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(tab.url(f"/jobs/{job.pk}/"))
    expect(page.locator("#throughput-chart svg")).to_be_visible()
    # (the timeline and log cards are another part of issue 13's: only the charts here)
    right = page.evaluate(
        """() => Math.max(...Array.from(document.querySelectorAll('#import-charts, #import-charts *'))
          .map((el) => el.getBoundingClientRect().right))"""
    )
    assert right <= 375, f"the charts are {right}px wide on a 375px phone"
    shot_of(tab, "#import-charts", "chart-import-phone")


def test_the_job_lists_last_24_hours_by_status(tab, project, operator):
    graph = ges_graph(project)
    now = timezone.now()
    plan = [(0.2, JobStatus.SUCCEEDED)] * 5 + [(0.3, JobStatus.FAILED), (0.1, None)]
    plan += [(h + 0.5, JobStatus.SUCCEEDED) for h in range(1, 23, 2)]
    plan += [(3.5, JobStatus.FAILED), (7.2, JobStatus.PARTIALLY_FAILED), (12.4, JobStatus.FAILED)]
    plan += [(30, JobStatus.SUCCEEDED)]  # yesterday: not drawn
    for hours_ago, status in plan:
        job = make_job(project, graph, submitted_by=operator)
        if status is not None:
            job = run_job(job, status=status)
        Job.objects.filter(pk=job.pk).update(created_at=now - timedelta(hours=hours_ago))
    page = tab.page
    tab.login("oscar")
    strip = page.locator("#hours-chart")
    expect(strip).to_be_visible()
    expect(strip.locator("g.hour")).to_have_count(24)
    expect(
        page.get_by_role("img", name=re.compile(r"^21 jobs submitted in the last 24 hours"))
    ).to_be_visible()
    expect(strip.locator(".chart-legend li")).to_have_text(
        ["Succeeded 16", "Partially failed 1", "Failed 3", "Waiting 1"]
    )
    last = strip.locator("g.hour").last
    expect(last.locator("title")).to_have_text(
        "in the last hour: 7 jobs (5 succeeded, 1 failed, 1 waiting)"
    )
    shot_of(tab, "#hours-chart", "chart-jobs-24h")
    tab.shot("job-list-24h")

    # a filter change redraws the list, not the strip (it is not counted again)
    page.evaluate("document.querySelector('#hours-chart').dataset.marker = 'kept'")
    page.locator("label.chip", has_text=re.compile(r"^\s*Failed")).click()
    expect(page.locator("table.jobs tbody tr")).to_have_count(3)
    assert page.evaluate("document.querySelector('#hours-chart').dataset.marker") == "kept"

    # its legend leads to the jobs of a status
    strip.get_by_role("link", name="Partially failed 1").click()
    expect(page).to_have_url(re.compile(r"status=partially_failed"))
    expect(page.locator("table.jobs tbody tr")).to_have_count(1)

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(tab.url("/"))
    expect(strip).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shot_of(tab, "#hours-chart", "chart-jobs-24h-phone")


# --- results and graphs ----------------------------------------------------------------------


def test_sort_results_and_read_the_graphs_page(tab, project, operator, worker_factory):
    graph = ges_graph(project)
    imported = ges_movie_import(graph, user=operator)
    worker_factory()
    wait_for(lambda: status_of(imported) in TERMINAL_STATUSES, timeout=60)
    graph.refresh_from_db()
    query = job_submit_query(
        graph=graph,
        query={"labels": ["user"], "sort": [{"property": "Age"}], "limit": 2},
        user=operator,
    )
    wait_for(lambda: status_of(query) in TERMINAL_STATUSES, timeout=60)
    ranked = pagerank_result(project, graph, vertices=120)

    page = tab.page
    tab.login("oscar")

    # a pagerank of 120 vertices: top-ranked first, and on across pages
    page.goto(tab.url(f"/jobs/{ranked.pk}/"))
    ids = page.locator("#result td[data-label=id]")
    expect(ids.first).to_have_text("v119")
    header = page.locator("#result th", has_text="pagerank")
    expect(header).to_have_attribute("aria-sort", "descending")
    expect(page.locator("#result td[data-label=pagerank]").first).to_have_text("0.1191")
    expect(page.locator("#result dd").first).to_have_text("1,234,567")
    shot_of(tab, "#result", "result-sorted", height=420)
    page.locator("#result-next").click()
    expect(page.locator("#result td[data-label='#']").first).to_have_text("51")
    expect(ids.first).to_have_text("v69")
    # sorted by another column: the whole result, from its first page
    page.locator("#result th a", has_text="id").click()
    expect(page.locator("#result th", has_text="id")).to_have_attribute("aria-sort", "ascending")
    expect(ids.first).to_have_text("v0")
    expect(ids.nth(1)).to_have_text("v1")
    expect(ids.nth(2)).to_have_text("v10")
    page.locator("#result th a", has_text="id").click()  # again: the other way
    expect(ids.first).to_have_text("v99")
    page.locator("#result th a", has_text="pagerank").click()  # a score: highest first
    expect(ids.first).to_have_text("v119")

    # a query: its matches beyond its limit, its rows sorted by a property
    page.goto(tab.url(f"/jobs/{query.pk}/"))
    expect(page.locator("#result-matches")).to_have_text("3 matches")
    expect(page.locator("#result .pager")).to_contain_text("kept 2 of its 3 matches")
    ages = page.locator("#result td[data-label=Age]")
    expect(ages).to_have_text(["19", "31"])  # the query's own order
    age = page.locator("#result th", has_text="Age")
    age.locator("a").click()  # lowest first (a property: values as the graph holds them)
    expect(age).to_have_attribute("aria-sort", "ascending")
    expect(ages).to_have_text(["19", "31"])
    age.locator("a").click()
    expect(age).to_have_attribute("aria-sort", "descending")
    expect(ages).to_have_text(["31", "19"])
    shot_of(tab, "#result", "result-query-sorted", height=420)

    # the graphs page: counts and the last import, which leads to its job
    page.goto(tab.url("/graphs/"))
    row = page.locator(f"#graph-{graph.pk}")
    expect(row.locator("td[data-label=Vertices]")).to_have_text("6")
    expect(row.locator("td[data-label=Edges]")).to_have_text("5")
    expect(row.locator("td[data-label='Last import'] .badge")).to_have_text("Partially failed")
    tab.shot("graph-list-counts")
    shot_of(tab, "table.graphs", "graph-list-table")
    row.get_by_role("link", name=re.compile(r"^Last import: job")).click()
    expect(page).to_have_url(re.compile(rf"/jobs/{imported.pk}/$"))
    for job in (ranked, query):  # the result folder is shared by the tests
        result_delete(job.pk)


def pagerank_result(project, graph, *, vertices: int) -> Job:
    """A finished pagerank job of ``vertices`` vertices (compact form, in vertex order): vertex
    i scores 0.001 * i + 0.0001, so v119 ranks first."""
    from jobcenter.jobs.choices import JobType
    from jobcenter.jobs.results import ResultWriter, names_snapshot

    job = Job.objects.create(
        type=JobType.ALGORITHM,
        name="Algorithm",
        project=project,
        graph=graph,
        graph_name=graph.name,
        params={"algorithm": "pagerank", "parameters": {}},
        status=JobStatus.SUCCEEDED,
        result={"kind": "vertices", "total": vertices},
    )
    names_snapshot(f"e2e-{vertices}", [(f"v{i}", "n") for i in range(vertices)])
    writer = ResultWriter(job.pk, kind="vertices", columns=["id", "label", "pagerank"])
    values = [round(0.001 * i + 0.0001, 7) for i in range(vertices)]
    writer.add_vertex_values(names_key=f"e2e-{vertices}", values=values, indices=None)
    writer.finish({"vertices": 1_234_567, "modularity": 0.412345678})
    writer.publish()
    return job
