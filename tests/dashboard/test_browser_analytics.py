"""Analytics jobs end to end in a real Chromium against a live server and a real ``db_worker``:
an algorithm and a filtered query submitted through the forms and read on the job page, a
parameter error shown inline, a running algorithm cancelled from its page, and a viewer who
can neither submit nor cancel. Screenshots go to test-artifacts/screenshots/ (git-ignored).

Lean on purpose (the machine is small): two tests, one imported graph each.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import result_path
from jobcenter.jobs.services import job_submit_algorithm, job_submit_import
from tests.dashboard import test_browser as base
from tests.dashboard.test_browser import TIMEOUT_MS, Session, status_of, unlabelled_controls
from tests.factories.files import random_ges_files
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.factories.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# The browser and a logged-out tab, as in test_browser.py (one Chromium for this module).
browser = base.browser
tab = base.tab

FORGE = """async ([url, body]) => {
  const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
  const r = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': token,
    'HX-Request': 'true', 'Content-Type': 'application/x-www-form-urlencoded'}, body});
  return r.status;
}"""


def test_run_an_algorithm_and_a_query_through_the_forms(tab, project, operator, worker_factory):
    graph = ges_graph(project)
    imported = ges_movie_import(graph, user=operator)
    worker_factory()
    wait_for(lambda: status_of(imported) in TERMINAL_STATUSES, timeout=60)

    page = tab.page
    tab.login("oscar")
    page.get_by_role("link", name="Graphs").click()
    page.locator(f"#graph-{graph.pk} a.graph-link").click()
    expect(page.get_by_role("heading", name="movies", exact=True)).to_be_visible()
    expect(page.locator(".schema")).to_contain_text("Age")
    assert unlabelled_controls(page) == []
    tab.shot("graph-page")

    # an algorithm with a parameter the service refuses: the error is next to the field
    page.locator("#new-algorithm").click()
    expect(page.get_by_role("heading", name=re.compile("Run an algorithm"))).to_be_visible()
    assert unlabelled_controls(page) == []
    page.locator("label.algo-option", has_text="Personalized PageRank").click()
    source = page.locator("#id_personalized_pagerank-source")
    expect(source).to_be_visible()
    expect(page.locator("#id_pagerank-alpha")).to_be_hidden()  # only the chosen one's fields
    source.fill("Nobody")
    page.get_by_role("button", name="Run algorithm").click()
    error = page.locator("#id_personalized_pagerank-source_error")
    expect(error).to_contain_text("parameter [source] is invalid! vertex 'Nobody' does not exist")
    expect(source).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#form-errors")).to_be_focused()
    tab.shot("algorithm-form-error")
    assert not Job.objects.filter(type=JobType.ALGORITHM).exists()

    # corrected (keyboard only): submitted, and the job page follows it to its result
    source.fill("Eric")
    source.press("Enter")
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f]{32}/$"))
    job = Job.objects.get(type=JobType.ALGORITHM)
    expect(page.locator("#toasts")).to_contain_text("Personalized PageRank submitted.")
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=60_000)
    expect(page.locator("#parameters")).to_contain_text("Source vertex")
    rows = page.locator("#result table.result tbody tr")
    expect(rows).to_have_count(6)
    expect(page.locator("#result thead")).to_contain_text("pagerank")
    ids = page.locator("#result td[data-label=id]").all_inner_texts()
    assert sorted(ids) == ["Ada", "Eric", "Heat", "Lethal Weapon", "Up", "Vivian"]
    tab.shot("job-algorithm-result")
    with page.expect_download() as download:
        page.locator("#result-csv").click()
    table = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert table[0] == ["id", "label", "pagerank"] and len(table) == 7
    assert Job.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED

    # a filtered query: users aged 30 or more, oldest first
    page.locator("dd a", has_text="movies").click()
    page.locator("#new-query").click()
    assert unlabelled_controls(page) == []
    page.locator("#id_vertex_labels-group").get_by_label("user", exact=True).check()
    page.get_by_label("Condition 1: property").select_option("Age")
    page.get_by_label("Condition 1: comparison").select_option(">=")
    page.get_by_label("Condition 1: value").fill("30")
    page.locator("#add-condition").click()
    expect(page.get_by_label("Condition 2: property")).to_be_visible()
    expect(page.get_by_label("Condition 1: value")).to_have_value("30")  # kept
    page.get_by_role("button", name="Remove condition 2").click()
    expect(page.get_by_label("Condition 2: property")).to_have_count(0)
    page.get_by_label("Sort by").select_option("Age")
    page.get_by_label("Order", exact=True).select_option("desc")
    tab.shot("query-form")
    page.locator("#run-query").click()
    page.wait_for_url(re.compile(r"/jobs/[0-9a-f]{32}/$"))
    expect(page.locator("#job-status")).to_have_text("Succeeded", timeout=60_000)
    expect(page.locator("#parameters")).to_contain_text("Age ≥ 30")
    expect(page.locator("#result table.result tbody tr")).to_have_count(2)
    assert page.locator("#result td[data-label=id]").all_inner_texts() == ["Ada", "Vivian"]
    expect(page.locator("#result thead")).to_contain_text("Zip")  # properties as columns
    tab.shot("job-query-result")

    # the job list tells the types apart and filters by them
    page.goto(tab.url("/?project=alpha&type=query"))
    expect(page.locator("table.jobs tbody tr")).to_have_count(1)
    expect(page.locator(".type-pill")).to_have_text("Query")
    page.goto(tab.url("/"))
    expect(page.locator("table.jobs tbody tr")).to_have_count(3)
    tab.shot("job-list-analytics")

    # on a phone the result table becomes cards; nothing scrolls sideways
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(tab.url(f"/jobs/{job.pk}/"))
    expect(page.locator("#result table.result tbody tr")).to_have_count(6)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tab.shot("job-algorithm-result-phone")
    for path, name in (
        (f"/graphs/{graph.pk}/", "graph-page"),
        (f"/graphs/{graph.pk}/query/", "query-form"),
    ):
        page.goto(tab.url(path))
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            """() => Array.from(document.querySelectorAll('main *'))
              .filter((el) => el.getBoundingClientRect().right > 391)
              .map((el) => el.tagName + '.' + el.className).slice(0, 8)"""
        )
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px): {wide}"
        tab.shot(f"{name}-phone")


def test_cancel_a_running_algorithm_and_a_viewer_cannot(
    browser,
    tab,
    live_server,
    project,
    operator,
    worker_factory,
):
    graph = ges_graph(project, name="random")
    files = random_ges_files(
        Path(settings.IMPORTS_DIR) / "e2e-louvain", vertices=40_000, edges=160_000, seed=7
    )
    imported = job_submit_import(graph=graph, params={"format": "ges", "request": files})
    worker_factory(JOBCENTER_HEARTBEAT_INTERVAL="0.2")
    wait_for(lambda: status_of(imported) in TERMINAL_STATUSES, timeout=120)
    assert status_of(imported) == JobStatus.SUCCEEDED
    job = job_submit_algorithm(graph=graph, algorithm="louvain", user=operator)
    wait_for(lambda: Job.objects.get(pk=job.pk).progress >= 50.0, timeout=60, interval=0.05)

    # a viewer: sees it run, but no cancel button and no way to submit; forged posts refused
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    viewer = Session(context.new_page(), live_server.url)
    try:
        viewer.login("vera")
        vpage = viewer.page
        vpage.goto(viewer.url(f"/jobs/{job.pk}/"))
        expect(vpage.locator("#job-status")).to_have_text("Running")
        expect(vpage.locator("#cancel-job")).to_have_count(0)
        vpage.goto(viewer.url(f"/graphs/{graph.pk}/"))
        expect(vpage.locator("#new-algorithm")).to_have_count(0)
        expect(vpage.locator("#operations")).to_have_count(0)
        viewer.shot("graph-page-viewer")
        forged = {
            f"/jobs/{job.pk}/cancel/": "",
            f"/graphs/{graph.pk}/algorithm/": "algorithm=pagerank",
            f"/graphs/{graph.pk}/query/": "rows=1&target=vertices",
            f"/graphs/{graph.pk}/operation/": "operation=clear",
        }
        for url, body in forged.items():
            assert vpage.evaluate(FORGE, [url, body]) == 403, url
        vpage.goto(viewer.url(f"/graphs/{graph.pk}/algorithm/"))
        expect(vpage.locator("h1")).to_contain_text("not allowed")
    finally:
        context.close()
    assert not viewer.errors, viewer.errors
    assert status_of(job) == JobStatus.RUNNING
    assert Job.objects.count() == 2

    # the operator watches it compute and cancels it from its page
    page = tab.page
    tab.login("oscar")
    page.goto(tab.url(f"/jobs/{job.pk}/"))
    expect(page.locator("#job-status")).to_have_text("Running")
    expect(page.locator("#progress-text")).to_have_text("Computing louvain")
    expect(page.locator("#result")).to_contain_text("as soon as the job has finished")
    tab.shot("job-algorithm-running")
    page.locator("#cancel-job").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_contain_text("keeps no partial result")
    dialog.get_by_role("button", name="Cancel job").click()
    expect(page.locator("#job-status")).to_have_text("Cancelled", timeout=TIMEOUT_MS)
    expect(page.locator("#result")).to_contain_text("no partial result was kept")
    expect(page.locator(".timeline")).to_contain_text("Cancel requested by oscar")
    tab.shot("job-algorithm-cancelled")
    assert status_of(job) == JobStatus.CANCELLED
    assert not result_path(job.pk).exists()
