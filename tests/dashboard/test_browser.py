"""End to end in a real Chromium (Debian's, driven by Playwright; no browser download) against
a live server and, where jobs must really run, a real ``db_worker`` process.

Screenshots of the main pages go to test-artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Response,
    expect,
    sync_playwright,
)

from jobcenter.dashboard import common
from jobcenter.dashboard.views import jobs as job_list_views
from jobcenter.graphs.models import Graph
from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import job_submit_import
from jobcenter.jobs.transitions import FileUpdate, job_finish
from tests.factories.files import shared_data, write_ges_files
from tests.factories.graphs import ges_graph, graph_store_counts
from tests.factories.jobs import ges_movie_import, make_job, run_job
from tests.factories.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 30_000
expect.set_options(timeout=15_000)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium package is needed (make test installs it)"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    # Playwright's sync API keeps an event loop in this thread; Django's ORM, used by the test
    # itself, would take that for an async context.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()


# Every Content-Security-Policy violation a page causes, reported as a console error (Chromium
# also logs its own "Refused to ..." line; both are collected). Init scripts run outside the
# page's policy.
CSP_LISTENER = """document.addEventListener('securitypolicyviolation', (e) => console.error(
  `CSP violation: ${e.effectiveDirective} blocked ${e.blockedURI || 'inline'}`
  + ` at ${e.sourceFile}:${e.lineNumber} (${e.sample})`));"""


def is_csp_violation(text: str) -> bool:
    return text.startswith("CSP violation") or "Content Security Policy" in text


class Session:
    """A browser tab with what it saw: responses, script errors and CSP violations."""

    def __init__(self, page: Page, base: str) -> None:
        self.page = page
        self.base = base
        self.responses: list[Response] = []
        self.errors: list[str] = []
        self.csp_violations: list[str] = []
        page.add_init_script(CSP_LISTENER)
        page.on("response", lambda response: self.responses.append(response))
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        if is_csp_violation(message.text):
            self.csp_violations.append(f"{self.page.url}: {message.text}")

    def check_csp(self) -> None:
        """No page broke its policy, and every page had one (or there was nothing to break)."""
        assert not self.csp_violations, "\n".join(self.csp_violations)
        pages = [r for r in self.responses if r.request.resource_type == "document"]
        assert pages
        for response in pages:
            policy = response.headers.get("content-security-policy", "")
            assert "script-src 'self';" in policy, (response.url, policy)

    def url(self, path: str) -> str:
        return self.base + path

    def login(self, username: str) -> None:
        page = self.page
        page.goto(self.url("/accounts/login/"))
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(f"pw-{username}")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(self.url("/"))

    def shot(self, name: str, *, full_page: bool = True) -> None:
        # caret="initial": Playwright would otherwise hide the caret by setting inline styles on
        # every input, which the page then carries (and htmx would settle) as if it were ours.
        path = str(SCREENSHOTS / f"{name}.png")
        self.page.screenshot(path=path, full_page=full_page, caret="initial")

    def live_responses(self, since: int = 0) -> list[Response]:
        return [r for r in self.responses[since:] if "/jobs/live/" in r.url]


@pytest.fixture
def tab(browser, live_server) -> Iterator[Session]:
    context = browser.new_context(
        viewport={"width": 1400, "height": 900},
        timezone_id="Asia/Tokyo",
        locale="en-US",
        accept_downloads=True,
    )
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    session = Session(context.new_page(), live_server.url)
    yield session
    context.close()
    assert not session.errors, session.errors
    session.check_csp()


@pytest.fixture(scope="session")
def big_ges_files() -> dict[str, str]:
    """An import long enough to watch: 2 million edges, which a worker started with
    ``JOBCENTER_IMPORT_MAX_LINES_PER_SECOND=100000`` (``PACE``) loads in no less than 20 s
    whatever the machine's speed (unpaced, a second or two: over before the test has watched
    it and cancelled)."""
    return write_ges_files(Path(settings.IMPORTS_DIR) / "e2e-big", vertices=20_000, edges=2_000_000)


PACE = {"JOBCENTER_IMPORT_MAX_LINES_PER_SECOND": "100000"}


def progress_of(page: Page, job: Job) -> int:
    return int(page.get_attribute(f"#p-{job.pk} [role=progressbar]", "aria-valuenow") or 0)


def wait_for_stop(tab: Session, timeout: float = 15.0) -> None:
    """Until the last poll answer is the 286 that stops polling (waiting in the browser, so
    that its events keep arriving)."""
    deadline = time.monotonic() + timeout
    while not (tab.live_responses() and tab.live_responses()[-1].status == 286):
        assert time.monotonic() < deadline, [r.status for r in tab.live_responses()[-3:]]
        tab.page.wait_for_timeout(200)


def status_of(job: Job) -> str:
    return Job.objects.get(pk=job.pk).status


def unlabelled_controls(page: Page) -> list[str]:
    """Visible form controls without a label (label element, aria-label or aria-labelledby)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
          .filter((el) => el.type !== 'hidden' && el.offsetParent !== null)
          .filter((el) => {
            const named = el.textContent.trim() || el.getAttribute('aria-label');
            if (el.tagName === 'BUTTON') return !named;
            return !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
              && !el.getAttribute('aria-labelledby');
          })
          .map((el) => el.outerHTML.slice(0, 120))"""
    )


# --- the operator's day ----------------------------------------------------------------------


def test_watch_a_running_import_and_cancel_it(
    tab, project, operator, worker_factory, big_ges_files
):
    """Log in, filter, watch the progress bar advance, cancel from the row: cancelling, then
    cancelled without a reload, and the graph is exactly as before."""
    graph = ges_graph(project)
    first = ges_movie_import(graph, user=operator)
    worker_factory(**PACE)  # (see big_ges_files)
    wait_for(lambda: status_of(first) in TERMINAL_STATUSES, timeout=60)
    before = graph_store_counts(graph)
    assert sum(before["vertices"].values()) == 6
    job = job_submit_import(
        graph=graph, params={"format": "ges", "request": big_ges_files}, user=operator
    )

    page = tab.page
    page.goto(tab.url("/"))
    tab.shot("login")
    tab.login("oscar")
    expect(page.locator(f"#job-{job.pk}")).to_be_visible()
    expect(page.locator(f"#job-{first.pk}")).to_be_visible()

    # filter with a status chip: the list and the address follow
    page.locator("label.chip", has_text="Running").click()
    expect(page.locator(f"#job-{first.pk}")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"status=running"))
    expect(page.locator(f"#job-{job.pk}")).to_be_visible()

    # the progress bar advances by itself
    wait_for(lambda: Job.objects.get(pk=job.pk).lines_done > 0, timeout=60)
    page.wait_for_function(
        f"() => +document.querySelector('#p-{job.pk} [role=progressbar]')"
        ".getAttribute('aria-valuenow') > 0",
        timeout=TIMEOUT_MS,
    )
    seen = progress_of(page, job)
    page.wait_for_function(
        f"() => +document.querySelector('#p-{job.pk} [role=progressbar]')"
        f".getAttribute('aria-valuenow') > {seen}",
        timeout=TIMEOUT_MS,
    )
    assert progress_of(page, job) > seen
    expect(page.locator(f"#p-{job.pk} .rate")).to_contain_text("left")
    tab.shot("job-list-running")

    # its page follows it live too; back returns to the filtered list
    page.locator(f"#job-{job.pk} a.job-link").click()
    bar = page.locator("#job-live [role=progressbar]")
    seen = int(bar.get_attribute("aria-valuenow") or 0)
    page.wait_for_function(
        "() => +document.querySelector('#job-live [role=progressbar]')"
        f".getAttribute('aria-valuenow') > {seen}",
        timeout=TIMEOUT_MS,
    )
    expect(page.locator("#job-status")).to_have_text("Running")
    expect(page.locator("#cancel-job")).to_be_visible()
    expect(page.locator("table.files tbody tr")).to_have_count(3)
    tab.shot("job-detail-running")
    page.go_back()
    expect(page).to_have_url(re.compile(r"status=running"))
    expect(page.locator(f"#job-{first.pk}")).to_have_count(0)
    expect(page.locator(f"#c-{job.pk}")).to_be_visible()

    # cancel from the row, confirming in the dialog
    page.locator(f"#c-{job.pk}").click()
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text(f"Cancel job {job.pk[-8:]}")
    tab.shot("confirm-cancel", full_page=False)
    dialog.get_by_role("button", name="Cancel job").click()
    expect(page.locator(f"#b-{job.pk}")).to_have_text(re.compile("Cancelling|Cancelled"))
    expect(page.locator(f"#b-{job.pk}")).to_have_text("Cancelled", timeout=TIMEOUT_MS)
    expect(page.locator(f"#c-{job.pk}")).to_have_count(0)
    expect(page.locator("#count-running")).to_have_text("0")
    expect(page.locator("#announcer")).to_contain_text(f"Job {job.pk[-8:]} cancelled")
    assert status_of(job) == JobStatus.CANCELLED
    assert graph_store_counts(graph) == before

    # nothing on screen is active any more: the polling stopped (286)
    wait_for_stop(tab)
    count = len(tab.responses)
    page.wait_for_timeout(2 * common.POLL_SECONDS * 1000 + 500)
    assert not tab.live_responses(count)

    # the job page tells who cancelled it
    page.locator(f"#job-{job.pk} a.job-link").click()
    expect(page.locator("#job-status")).to_have_text("Cancelled")
    expect(page.locator(".timeline")).to_contain_text("Cancel requested by oscar")
    expect(page.locator("#job-live")).to_contain_text("Nothing this import loaded was kept")
    tab.shot("job-detail-cancelled")


def test_partially_failed_import_shows_files_and_failed_lines(
    tab, project, operator, worker_factory
):
    graph = ges_graph(project)
    job = ges_movie_import(graph, user=operator)
    worker_factory()
    wait_for(lambda: status_of(job) in TERMINAL_STATUSES, timeout=60)
    assert status_of(job) == JobStatus.PARTIALLY_FAILED

    page = tab.page
    tab.login("oscar")
    row = page.locator(f"#job-{job.pk}")
    expect(row.locator(".badge")).to_have_text("Partially failed")
    # the copy button copies the full id; times are in the browser's zone (Tokyo here)
    row.locator(".copy-btn").click()
    assert page.evaluate("navigator.clipboard.readText()") == job.pk
    started = row.locator("td[data-label=Started] time")
    assert "JST (UTC+09:00)" in (started.get_attribute("title") or "")

    row.locator("a.job-link").click()
    expect(page.locator("#job-status")).to_have_text("Partially failed")
    files = page.locator("table.files tbody tr")
    expect(files).to_have_count(3)
    cells = [[c.strip() for c in files.nth(i).locator("td").all_inner_texts()] for i in range(3)]
    numbers = {c[0]: c[3:6] for c in cells}
    assert numbers["Vertex set"] == ["10", "6", "4"]
    assert numbers["Edge set"] == ["9", "5", "4"]
    assert numbers["Schema"] == ["4", "4", "0"]

    failed = page.locator("#failed-lines table tbody tr")
    expect(failed).to_have_count(8)
    text = page.locator("#failed-lines").inner_text()
    for expected in ("not-a-number", "spaceship", "Ghost", "2020-13-45", "extra-column"):
        assert expected in text
    expect(page.locator(".timeline")).to_contain_text("Submitted by oscar")
    expect(page.locator("pre.code").first).to_contain_text('"vertexset_path"')
    tab.shot("job-detail-partially-failed")

    # only the edge file's failed lines, then the CSV of them
    page.locator("#fl-file").select_option(label="edge.csv")
    expect(page.locator("#failed-lines table tbody tr")).to_have_count(4)
    with page.expect_download() as download:
        page.locator("#failed-csv").click()
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text())))
    assert rows[0][:4] == ["file", "role", "path", "line_number"]
    assert [r[3] for r in rows[1:]] == ["6", "7", "8", "9"]
    assert unlabelled_controls(page) == []


def test_submit_an_import_through_the_form(tab, project, operator, worker_factory):
    graph = ges_graph(project, name="films")
    worker_factory()
    page = tab.page
    tab.login("oscar")
    page.get_by_role("link", name="New import").first.click()
    expect(page.get_by_role("heading", name="New import")).to_be_visible()
    assert unlabelled_controls(page) == []

    # submitted without a graph or files: errors next to the fields, nothing started
    page.get_by_role("button", name="Start import").click()
    expect(page.locator("#form-errors")).to_be_visible()
    expect(page.locator("#id_graph_error")).to_contain_text("required")
    expect(page.locator("#id_vertexset_path_error")).to_contain_text("Name at least one file")
    expect(page.locator("#id_graph")).to_have_attribute("aria-invalid", "true")
    tab.shot("import-form-errors")
    assert Job.objects.count() == 0

    page.locator("#id_graph").select_option(label="films (GES)")
    # pick the vertex file with the server-side file browser
    page.locator("[data-browse=id_vertexset_path]").click()
    browser_dialog = page.locator("#file-browser")
    expect(browser_dialog).to_be_visible()
    # the import roots read as one tree, paths relative to them
    browser_dialog.get_by_role("button", name="Open folder ges_movie").click()
    browser_dialog.get_by_role("button", name="Choose vertex.csv").click()
    expect(browser_dialog).to_be_hidden()
    expect(page.locator("#id_vertexset_path")).to_have_value("ges_movie/vertex.csv")
    page.get_by_label("Schema file (schema.xml)").first.fill(
        str(shared_data("ges_movie", "schema.xml"))
    )
    page.get_by_label("Edge file or folder").fill(str(shared_data("ges_movie", "edge.csv")))
    tab.shot("import-form-filled")
    page.get_by_role("button", name="Start import").click()

    page.wait_for_url(re.compile(r"/jobs/[0-9a-f]{32}/$"))
    job = Job.objects.get()
    assert page.url.endswith(f"/jobs/{job.pk}/")
    expect(page.locator("#toasts")).to_contain_text("Import submitted.")
    # the page follows the job to its end, then shows the failed lines, all without a reload
    expect(page.locator("#job-status")).to_have_text("Partially failed", timeout=60_000)
    expect(page.locator("#failed-lines table tbody tr")).to_have_count(8)
    expect(page.locator("#retry-job")).to_be_visible()
    assert status_of(job) == JobStatus.PARTIALLY_FAILED
    assert sum(graph_store_counts(graph)["edges"].values()) == 5


def test_create_a_graph_through_the_form(tab, project, operator):
    ges_graph(project, name="taken")
    page = tab.page
    tab.login("oscar")
    page.get_by_role("link", name="Graphs").click()
    page.get_by_role("link", name="New graph").click()
    assert unlabelled_controls(page) == []
    page.get_by_label("Name").fill("taken")
    page.get_by_role("button", name="Create graph").click()
    expect(page.locator("#id_name_error")).to_contain_text("already exists")
    tab.shot("graph-form-errors")
    page.get_by_label("Name").fill("movies")
    page.get_by_label("…or paste the schema").fill(
        shared_data("ges_movie", "schema.xml").read_text()
    )
    page.get_by_role("button", name="Create graph").click()
    page.wait_for_url(re.compile(r"/imports/new/\?graph="))
    graph = Graph.objects.get(name="movies")
    expect(page.locator("#id_graph")).to_have_value(graph.pk)
    expect(page.locator("#toasts")).to_contain_text("Graph movies created")
    page.get_by_role("link", name="Graphs").click()
    expect(page.locator(f"#graph-{graph.pk}")).to_contain_text("4")  # labels
    tab.shot("graph-list")


def test_bulk_cancel_selected_and_everything_matching(tab, project, operator):
    graph = ges_graph(project)
    waiting = [make_job(project, graph, submitted_by=operator) for _ in range(3)]
    other = make_job(project, ges_graph(project, name="other"), submitted_by=operator)
    done = run_job(make_job(project, graph), status=JobStatus.SUCCEEDED)
    page = tab.page
    tab.login("oscar")
    expect(page.locator("#cancel-selected")).to_be_disabled()
    expect(page.locator(f"#s-{done.pk} input")).to_have_count(0)  # finished: nothing to select
    for job in waiting[:2]:
        page.get_by_label(f"Select job {job.pk[-8:]}").check()
    expect(page.locator("#selection-count")).to_have_text("2 selected")
    page.locator("#cancel-selected").click()
    expect(page.locator("#confirm-message")).to_contain_text("Cancel the 2 selected job(s)?")
    page.locator("#confirm-yes").click()
    expect(page.locator("#bulk-summary")).to_contain_text("Cancel requested for 2 jobs")
    for job in waiting[:2]:
        expect(page.locator(f"#b-{job.pk}")).to_have_text("Cancelled")
    expect(page.locator(f"#b-{waiting[2].pk}")).to_have_text("Waiting")
    tab.shot("job-list-bulk-summary")

    # every active job matching the filter (graph movies): the third one, not the other graph's
    page.locator("#f-graph").select_option("movies")
    expect(page.locator("#cancel-all")).to_have_text("Cancel all 1 active matching")
    page.locator("#cancel-all").click()
    page.locator("#confirm-yes").click()
    expect(page.locator("#bulk-summary")).to_contain_text("every active job matching the filters")
    assert status_of(waiting[2]) == JobStatus.CANCELLED
    assert status_of(other) == JobStatus.WAITING


def test_retry_every_failed_job_matching(tab, project, operator):
    graph = ges_graph(project)
    failed = []
    for _ in range(2):
        job = ges_movie_import(graph, user=operator)
        failed.append(run_job(job, status=JobStatus.FAILED))
    page = tab.page
    tab.login("oscar")
    expect(page.locator("#retry-all")).to_have_count(0)  # not offered on the whole list
    page.goto(tab.url("/?project=alpha&status=failed"))
    expect(page.locator("#retry-all")).to_have_text("Retry all 2 matching")
    page.locator("#retry-all").click()
    expect(page.locator("#confirm-message")).to_contain_text("Retry all 2 jobs matching")
    page.locator("#confirm-yes").click()
    expect(page.locator("#bulk-summary")).to_contain_text("Retried 2 jobs")
    expect(page.locator("#retry-all")).to_have_count(0)  # nothing left to retry
    tab.shot("job-list-retry-summary")
    for job in failed:
        assert Job.objects.get(retry_of=job).status == JobStatus.WAITING
    page.locator("#bulk-summary summary").click()
    expect(page.locator("#bulk-summary li")).to_have_count(2)


# --- a viewer --------------------------------------------------------------------------------


def test_a_viewer_cannot_cancel(tab, project, graph_for_viewer_test):
    running = graph_for_viewer_test
    page = tab.page
    tab.login("vera")
    row = page.locator(f"#job-{running.pk}")
    expect(row.locator(".badge")).to_have_text("Running")
    expect(page.locator("button:visible", has_text="Cancel")).to_have_count(0)
    expect(page.locator("input.row-select")).to_have_count(0)
    expect(page.get_by_role("link", name="New import")).to_have_count(0)
    tab.shot("job-list-viewer")
    page.goto(tab.url(f"/jobs/{running.pk}/"))
    expect(page.locator("#cancel-job")).to_have_count(0)

    # a forged request, with the page's own CSRF token, is refused by the server anyway
    status = page.evaluate(
        """async (url) => {
          const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
          const r = await fetch(url, {method: 'POST', headers: {'X-CSRFToken': token,
            'HX-Request': 'true', 'Content-Type': 'application/x-www-form-urlencoded'},
            body: 'view=row'});
          return r.status;
        }""",
        f"/jobs/{running.pk}/cancel/",
    )
    assert status == 403
    bulk = page.evaluate(
        """async () => {
          const token = JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken'];
          const r = await fetch('/jobs/cancel/', {method: 'POST', headers: {'X-CSRFToken': token,
            'Content-Type': 'application/x-www-form-urlencoded'},
            body: 'scope=all&query=project%3Dalpha'});
          return r.status;
        }"""
    )
    assert bulk == 403
    assert status_of(running) == JobStatus.RUNNING


@pytest.fixture
def graph_for_viewer_test(project) -> Job:
    graph = ges_graph(project)
    return run_job(make_job(project, graph, submitted_by=project.members.get(username="oscar")))


# --- live updates without waste --------------------------------------------------------------


def test_fifty_running_jobs_make_one_small_request_per_interval(tab, project, monkeypatch):
    monkeypatch.setattr(job_list_views, "POLL_SECONDS", 1)
    graph = ges_graph(project)
    jobs = [run_job(make_job(project, graph), progress=10.0 + i) for i in range(50)]
    page = tab.page
    tab.login("oscar")
    expect(page.locator("[data-live]")).to_have_count(50)

    start = len(tab.responses)
    began = time.monotonic()
    page.wait_for_timeout(4_500)
    elapsed = time.monotonic() - began
    seen = tab.responses[start:]
    live = tab.live_responses(start)
    others = [r.url for r in seen if r not in live and "/static/" not in r.url]
    assert others == []  # nothing but the one poll (a late favicon does not count)
    assert 2 <= len(live) <= elapsed + 1.5, (len(live), elapsed)  # one per second, not 50
    for response in live:
        assert response.status == 200
        assert len(re.findall(r"live=", response.url)) == 50
        assert len(response.body()) <= 2048 * 50

    # hidden tab: no requests at all; shown again: one at once
    page.evaluate(
        """() => { Object.defineProperty(document, 'visibilityState', {value: 'hidden',
          configurable: true}); document.dispatchEvent(new Event('visibilitychange')); }"""
    )
    hidden_from = len(tab.responses)
    page.wait_for_timeout(3_500)
    assert tab.live_responses(hidden_from) == []
    with page.expect_response(lambda r: "/jobs/live/" in r.url, timeout=2_000):
        page.evaluate(
            """() => { Object.defineProperty(document, 'visibilityState', {value: 'visible',
              configurable: true}); document.dispatchEvent(new Event('visibilitychange')); }"""
        )

    # every job finishes: the rows follow, the last answer is 286 and polling stops
    for job in jobs:
        job_finish(
            job_id=job.pk,
            worker_id="w1",
            status=JobStatus.SUCCEEDED,
            files=[FileUpdate(index=1, fields={"status": "success"})],
        )
    expect(page.locator(f"#b-{jobs[0].pk}")).to_have_text("Succeeded", timeout=10_000)
    expect(page.locator("[data-live]")).to_have_count(0)
    expect(page.locator("#count-succeeded")).to_have_text("50")
    wait_for_stop(tab)
    after = len(tab.responses)
    page.wait_for_timeout(3_000)
    assert tab.live_responses(after) == []
    expect(page.locator("#announcer")).to_contain_text("succeeded")


# --- the address is the state ----------------------------------------------------------------


def test_filters_live_in_the_url_with_back_forward_and_reload(tab, project, operator):
    graph = ges_graph(project)
    other = ges_graph(project, name="other")
    a = run_job(make_job(project, graph, submitted_by=operator), status=JobStatus.SUCCEEDED)
    b = run_job(make_job(project, other), status=JobStatus.FAILED)
    c = run_job(make_job(project, graph, name="NightlyImport"), status=JobStatus.SUCCEEDED)
    page = tab.page
    tab.login("oscar")
    rows = page.locator("table.jobs tbody tr")
    expect(rows).to_have_count(3)

    page.get_by_label("Graph").select_option("movies")
    expect(rows).to_have_count(2)
    expect(page).to_have_url(re.compile(r"graph=movies"))
    page.get_by_label("Search").fill("Nightly")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"q=Nightly"))
    expect(page.locator(f"#job-{c.pk}")).to_be_visible()
    page.get_by_role("link", name=re.compile("^Status")).click()  # sort by status
    expect(page).to_have_url(re.compile(r"ordering=status"))
    tab.shot("job-list-filtered")

    page.reload()
    expect(rows).to_have_count(1)
    expect(page.get_by_label("Search")).to_have_value("Nightly")
    expect(page.get_by_label("Graph")).to_have_value("movies")

    page.go_back()
    expect(page).not_to_have_url(re.compile(r"ordering="))
    expect(page.locator("th[aria-sort]")).to_contain_text("Submitted")
    page.go_back()
    expect(page).not_to_have_url(re.compile(r"q=Nightly"))
    expect(rows).to_have_count(2)
    expect(page.get_by_label("Search")).to_have_value("")
    expect(page.get_by_label("Graph")).to_have_value("movies")
    page.go_forward()
    expect(rows).to_have_count(1)
    expect(page.get_by_label("Search")).to_have_value("Nightly")

    # the failed job is one chip away; dates are the browser's days
    page.goto(tab.url("/"))
    page.locator("label.chip", has_text=re.compile(r"^\s*Failed")).click()
    expect(rows).to_have_count(1)
    expect(page.locator(f"#job-{b.pk}")).to_be_visible()
    page.locator("[data-clear-status]").click()
    expect(rows).to_have_count(3)
    page.get_by_label("Created on or after").fill("2001-01-01")
    expect(page).to_have_url(re.compile(r"created_after=2001-01-01T00%3A00%3A00%2B09%3A00"))
    expect(rows).to_have_count(3)
    assert a.pk in page.content()


# --- phones and keyboards --------------------------------------------------------------------


def test_phone_width_and_keyboard(browser, live_server, project, operator):
    graph = ges_graph(project)
    run_job(make_job(project, graph, submitted_by=operator))
    run_job(make_job(project, graph), status=JobStatus.PARTIALLY_FAILED, failed_lines=2)
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        timezone_id="Europe/Paris",
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    session = Session(page, live_server.url)
    try:
        session.login("oscar")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
        assert unlabelled_controls(page) == []
        session.shot("job-list-phone")

        # keyboard only: skip link; the filters fold away on a phone until asked for, and the
        # list follows what one types
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to content"
        page.keyboard.press("Enter")
        expect(page.locator("#f-q")).to_be_hidden()
        page.get_by_role("button", name="More filters").focus()
        page.keyboard.press("Enter")
        expect(page.locator("#f-q")).to_be_focused()
        page.keyboard.type("zzz-no-such-job")
        expect(page.locator(".empty h2")).to_have_text("No jobs match these filters")
        session.shot("job-list-empty-filter-phone")
    finally:
        context.close()
    assert not session.errors, session.errors
    session.check_csp()


# --- the API's documentation pages -------------------------------------------------------------


def test_swagger_ui_and_redoc_render_under_their_policy(tab, operator):
    """Both are served from the sidecar's static files (Swagger UI under the dashboard's policy,
    ReDoc under its own) and render the whole schema without a CSP violation (checked by the
    tab fixture)."""
    page = tab.page
    tab.login("oscar")
    response = page.goto(tab.url("/api/schema/swagger-ui/"))
    assert response is not None and response.status == 200
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("jobcenter API")
    operations = page.locator(".swagger-ui .opblock")
    expect(operations.first).to_be_visible()
    assert operations.count() >= 25
    # an operation opens and runs (Swagger UI's own scripts and styles at work)
    operation = page.locator(".swagger-ui .opblock#operations-projects-projects_list")
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(operation.locator(".responses-wrapper .live-responses-table")).to_contain_text("200")
    expect(
        operation.locator(".live-responses-table .response-col_description pre").first
    ).to_contain_text('"alpha"')
    tab.shot("api-swagger-ui", full_page=False)

    response = page.goto(tab.url("/api/schema/redoc/"))
    assert response is not None and response.status == 200
    expect(page.locator("h1").first).to_contain_text("jobcenter API")
    expect(page.locator("[role=menuitem]").first).to_be_visible()
    assert page.locator("[data-section-id^='operation/']").count() >= 25
    tab.shot("api-redoc", full_page=False)


# --- the admin site ------------------------------------------------------------------------------


def test_the_admin_site_works_under_the_policy(tab, admin_user, operator):
    """Django's admin has no inline scripts: it runs under the same strict policy."""
    page = tab.page
    page.goto(tab.url("/admin/"))
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill("pw-root")
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#site-name")).to_be_visible()
    page.goto(tab.url("/admin/credentials/accesskey/add/"))
    page.locator("#id_user").select_option(label="oscar")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text("Its secret key is")
    page.goto(tab.url("/admin/auth/user/"))
    page.get_by_role("link", name="oscar", exact=True).click()
    expect(page.locator("#id_username")).to_have_value("oscar")
