"""The job list and the job page in a real Chromium (as tests/dashboard/test_browser.py): ids
that find, link and copy; times in the user's time zone; live counts and failed lines; no
sideways scrolling at 375 px. Every tab fails its test on any Content-Security-Policy violation.
Screenshots go to test-artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, Route, expect

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import FailedLine, Job, JobFile
from jobcenter.jobs.transitions import FileUpdate, job_finish, job_heartbeat
from tests.dashboard import test_browser as base
from tests.dashboard.test_browser import TIMEOUT_MS, Session, status_of, wait_for_stop
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import, make_job, run_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# The browser and a logged-out tab (Tokyo time, clipboard allowed), as in test_browser.py.
browser = base.browser
tab = base.tab

# What a page copied, however it copied it (the Clipboard API or a selected text area).
COPY_LISTENER = """document.addEventListener('copy', () => {
  const el = document.activeElement;
  window.__copied = el && el.tagName === 'TEXTAREA'
    ? el.value.slice(el.selectionStart, el.selectionEnd) : String(document.getSelection());
}, true);"""
NO_CLIPBOARD_API = """Object.defineProperty(Navigator.prototype, 'clipboard',
  {get: () => undefined, configurable: true});"""


def new_tab(browser, live_server, **options) -> Session:
    context = browser.new_context(locale="en-US", **options)
    context.set_default_timeout(TIMEOUT_MS)
    return Session(context.new_page(), live_server.url)


def close(session: Session) -> None:
    session.page.context.close()
    assert not session.errors, session.errors
    session.check_csp()


def documents(session: Session) -> int:
    """Pages loaded in the tab so far (an htmx update loads none)."""
    return len([r for r in session.responses if r.request.resource_type == "document"])


def shortest_unique_prefix(value: str, others: list[str], start: int = 1) -> str:
    for n in range(start, len(value) + 1):
        if not any(o.startswith(value[:n]) for o in others):
            return value[:n]
    return value


# --- ids ---------------------------------------------------------------------------------------


def test_an_id_as_shown_finds_links_and_copies_the_job(
    tab, browser, live_server, project, operator
):
    graph = ges_graph(project)
    jobs = [
        run_job(make_job(project, graph, submitted_by=operator), status=JobStatus.SUCCEEDED)
        for _ in range(4)
    ]
    target, others = jobs[1], [j.pk for j in jobs if j != jobs[1]]
    page = tab.page
    tab.login("oscar")
    rows = page.locator("table.jobs tbody tr")
    expect(rows).to_have_count(4)

    # the short id shown is the row's link
    link = page.locator(f"#job-{target.pk} a.job-link")
    short = link.inner_text().strip()
    assert short == target.pk[-8:]

    # typed into the search box as a user types it, it finds that job
    search = page.get_by_label("Search")
    search.press_sequentially(short, delay=60)
    expect(rows).to_have_count(1)
    expect(page.locator(f"#job-{target.pk}")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"q={short}"))
    tab.shot("job-list-search-short-id")
    # so do the whole id (pasted), the start of it, the start of the short id, and capitals
    short_ids = [o[-8:] for o in others]
    for text in (
        target.pk,
        shortest_unique_prefix(target.pk, others, start=13),
        shortest_unique_prefix(short, short_ids, start=3),
        short.upper(),
    ):
        search.fill("")
        expect(rows).to_have_count(4)
        search.fill(text)
        expect(rows).to_have_count(1)
        expect(page.locator(f"#job-{target.pk}")).to_be_visible()

    # the row's copy button shows its icon (one static file, drawn as the button's mask) ...
    button = page.locator(f"#job-{target.pk} .copy-btn")
    icon = button.evaluate(
        "b => { const s = getComputedStyle(b, '::before');"
        " return [s.webkitMaskImage || s.maskImage, s.width]; }"
    )
    assert "copy" in icon[0] and icon[1] == "14px", icon
    icon_url = re.search(r'url\("?([^")]+)', icon[0]).group(1)
    assert page.request.get(icon_url).ok, icon_url
    # ... and copies the whole id
    button.click()
    expect(page.locator("#announcer")).to_have_text("Job id copied")  # and a "Copied" flash
    assert page.evaluate("navigator.clipboard.readText()") == target.pk

    # the link opens the job, whose page shows the whole id with its own copy button
    link.click()
    page.wait_for_url(re.compile(rf"/jobs/{target.pk}/$"))
    expect(page.locator("#job-id")).to_have_text(target.pk)
    page.evaluate("navigator.clipboard.writeText('something else')")
    page.locator(".job-id-full .copy-btn").click()
    assert page.evaluate("navigator.clipboard.readText()") == target.pk
    tab.shot("job-detail-id")

    # without the Clipboard API (plain HTTP on a LAN address): copied all the same, under the
    # same policy (no style attribute)
    old = new_tab(browser, live_server)
    old.page.add_init_script(NO_CLIPBOARD_API)
    old.page.add_init_script(COPY_LISTENER)
    try:
        old.login("oscar")
        assert old.page.evaluate("navigator.clipboard") is None
        old.page.locator(f"#job-{target.pk} .copy-btn").click()
        expect(old.page.locator("#announcer")).to_have_text("Job id copied")
        assert old.page.evaluate("window.__copied") == target.pk
        old.page.goto(old.url(f"/jobs/{target.pk}/"))
        old.page.evaluate("window.__copied = ''")
        old.page.locator(".job-id-full .copy-btn").click()
        assert old.page.evaluate("window.__copied") == target.pk
        expect(old.page.locator(".copy-buffer")).to_have_count(0)  # cleaned up
    finally:
        close(old)


# --- times -------------------------------------------------------------------------------------


def test_times_show_date_and_time_in_the_users_zone(tab, browser, live_server, project, operator):
    graph = ges_graph(project)
    old = run_job(make_job(project, graph, submitted_by=operator), status=JobStatus.SUCCEEDED)
    Job.objects.filter(pk=old.pk).update(
        created_at=datetime(2024, 11, 22, 9, 24, 2, tzinfo=UTC),
        started_at=datetime(2024, 11, 22, 9, 24, 5, tzinfo=UTC),
        finished_at=datetime(2024, 11, 22, 9, 30, 0, tzinfo=UTC),
    )
    recent = run_job(make_job(project, graph, submitted_by=operator), status=JobStatus.SUCCEEDED)
    Job.objects.filter(pk=recent.pk).update(finished_at=timezone.now() - timedelta(seconds=30))
    running = run_job(make_job(project, graph, submitted_by=operator))

    # Tokyo: the browser's zone is found on the login page and every page is rendered in it
    page = tab.page
    tab.login("oscar")
    assert {"name": "jobcenter_tz", "value": "Asia/Tokyo"}.items() <= next(
        c for c in page.context.cookies() if c["name"] == "jobcenter_tz"
    ).items()
    submitted = page.locator(f"#job-{old.pk} td[data-label=Submitted]")
    expect(submitted.locator("time")).to_have_text("Nov 22, 2024, 18:24:02")
    expect(submitted.locator("time")).to_have_attribute(
        "title", "2024-11-22 18:24:02 JST (UTC+09:00)"
    )
    expect(submitted.locator(".ago")).to_have_text(re.compile(r"^\d+ (years|months) ago$"))
    expect(submitted).to_contain_text("ago · oscar")
    today = timezone.localtime(timezone.now(), timezone.get_fixed_timezone(9 * 60))
    started = page.locator(f"#job-{running.pk} td[data-label=Started]")
    expect(started.locator("time")).to_contain_text(f"{today:%b} {today.day}, ")
    expect(started.locator(".ago")).to_have_text(re.compile(r"^(just now|\d+ s ago|1 min ago)$"))
    # the zone is named once on the page
    expect(page.locator("#tz-note")).to_have_text(
        "Times are in Asia/Tokyo (JST, UTC+09:00), the time zone of this browser."
    )
    assert page.locator("body").inner_text().count("Asia/Tokyo") == 1
    tab.shot("job-list-times")

    # an htmx partial (a status chip) is rendered in the same zone
    page.locator("label.chip", has_text="Succeeded").click()
    expect(page).to_have_url(re.compile(r"status=succeeded"))
    expect(page.locator(f"#job-{running.pk}")).to_have_count(0)
    expect(submitted.locator("time")).to_have_text("Nov 22, 2024, 18:24:02")

    # the job page: the year always, how long ago after it
    page.goto(tab.url(f"/jobs/{old.pk}/"))
    facts = page.locator("#job-live .facts")
    expect(facts).to_contain_text("Nov 22, 2024, 18:24:02 (")
    expect(facts).to_contain_text("Nov 22, 2024, 18:30:00 (")

    # Paris, with a cookie left by Tokyo: the page is rendered once more in the browser's zone,
    # and "30 s ago" stays true as time passes
    paris = new_tab(browser, live_server, timezone_id="Europe/Paris")
    try:
        paris.login("oscar")
        paris.page.context.add_cookies(
            [{"name": "jobcenter_tz", "value": "Asia/Tokyo", "url": live_server.url}]
        )
        paris.page.clock.install()
        loaded = documents(paris)
        paris.page.goto(paris.url("/"))
        expect(paris.page.locator("#tz-note")).to_contain_text("Europe/Paris (CET, UTC+01:00)")
        assert documents(paris) == loaded + 2  # the page, then once more in the right zone
        row = paris.page.locator(f"#job-{old.pk} td[data-label=Submitted] time")
        expect(row).to_have_text("Nov 22, 2024, 10:24:02")
        finished = paris.page.locator(f"#job-{recent.pk} td[data-label=Finished] .ago")
        expect(finished).to_have_text(re.compile(r"^\d+ s ago$"))
        paris.page.clock.fast_forward("02:00")
        expect(finished).to_have_text(re.compile(r"^2 min ago$"))
        assert documents(paris) == loaded + 2
    finally:
        close(paris)


# --- live counts -------------------------------------------------------------------------------


def chips(page: Page) -> dict[str, str]:
    return {
        name: page.locator(f"#count-{name}").inner_text()
        for name in ("all", "waiting", "running", "cancelled", "failed", "partially_failed")
    }


def test_the_status_counts_are_right_after_a_bulk_cancel_and_a_retry(
    tab, project, operator, worker_factory
):
    graph = ges_graph(project)
    waiting = [make_job(project, graph, submitted_by=operator) for _ in range(3)]
    for _ in range(2):
        run_job(ges_movie_import(graph, user=operator), status=JobStatus.FAILED)
    page = tab.page
    tab.login("oscar")
    assert chips(page) == {
        "all": "5",
        "waiting": "3",
        "running": "0",
        "cancelled": "0",
        "failed": "2",
        "partially_failed": "0",
    }

    # a poll answer on its way while the bulk cancel is asked and answered (held here until
    # then) must not put the old counts and rows back (htmx looks for the out-of-band parts of
    # an answer in its poller, which the bulk answer removed from the page)
    held: list = []

    def hold(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append((route, route.fetch()))

    page.route("**/jobs/live/**", hold)
    deadline = time.monotonic() + 10
    while not held:
        assert time.monotonic() < deadline, "no poll"
        page.wait_for_timeout(100)
    page.locator("#select-page").check()
    expect(page.locator("#selection-count")).to_have_text("3 selected")
    page.locator("#cancel-selected").click()
    page.locator("#confirm-yes").click()
    expect(page.locator("#bulk-summary")).to_contain_text("Cancel requested for 3 jobs")
    expect(page.locator("#count-waiting")).to_have_text("0")
    expect(page.locator("#count-cancelled")).to_have_text("3")
    route, answer = held[0]
    route.fulfill(response=answer)
    page.wait_for_timeout(1_000)
    assert chips(page)["waiting"] == "0" and chips(page)["cancelled"] == "3"
    for job in waiting:
        expect(page.locator(f"#b-{job.pk}")).to_have_text("Cancelled")
    tab.shot("job-list-after-bulk-cancel")

    # retry every failed job: the new jobs are not on this list (it shows failed ones), yet
    # the counts follow them as a worker runs them, without a reload
    page.goto(tab.url("/?project=alpha&status=failed"))
    loaded = documents(tab)
    page.locator("#retry-all").click()
    page.locator("#confirm-yes").click()
    expect(page.locator("#bulk-summary")).to_contain_text("Retried 2 jobs")
    expect(page.locator("#count-waiting")).to_have_text("2")
    expect(page.locator("#count-all")).to_have_text("7")
    worker_factory()
    expect(page.locator("#count-partially_failed")).to_have_text("2", timeout=60_000)
    expect(page.locator("#count-waiting")).to_have_text("0")
    expect(page.locator("#count-running")).to_have_text("0")
    assert documents(tab) == loaded
    wait_for_stop(tab)  # nothing counted is active any more: polling stops
    tab.shot("job-list-after-retry")


# --- failed lines ------------------------------------------------------------------------------


def failed_lines(job: Job, index: int, reason: str, lines: range) -> list[FailedLine]:
    file = JobFile.objects.get(job=job, index=index)
    return [
        FailedLine(
            job=job,
            file=file,
            line_number=n,
            reason=reason,
            message=f"line {n} is {reason}",
            raw=f"v{n},user,{reason}-{n}",
        )
        for n in lines
    ]


def beat(job: Job, failed: list[FailedLine], progress: float) -> None:
    """The worker's heartbeat (the import is played by the test: it decides the failures)."""
    job_heartbeat(
        job_id=job.pk,
        worker_id="w1",
        progress=progress,
        lines_done=int(progress * 10),
        lines_total=1000,
        lines_per_second=100.0,
        failed=failed,
    )


def test_the_failed_lines_of_a_running_import_follow_the_page(tab, project, operator):
    graph = ges_graph(project)
    job = run_job(make_job(project, graph, submitted_by=operator), progress=10.0)
    page = tab.page
    tab.login("oscar")
    page.goto(tab.url(f"/jobs/{job.pk}/"))
    loaded = documents(tab)
    panel = page.locator("#failed-lines")
    rows = panel.locator("tbody tr")
    expect(panel).to_contain_text("Failed lines appear here as the import finds them.")

    # the import finds failed lines: the card follows with the rest of the page
    beat(
        job,
        failed_lines(job, 1, "bad_type", range(1, 56))
        + failed_lines(job, 2, "missing_vertex", range(1, 6)),
        30.0,
    )
    expect(page.locator("#fl-count")).to_have_text("60")
    expect(rows).to_have_count(50)
    reasons = page.locator("#fl-reasons a")
    expect(reasons).to_have_text(
        [
            re.compile(r"All reasons\s+60"),
            re.compile(r"bad_type\s+55"),
            re.compile(r"missing_vertex\s+5"),
        ]
    )
    first = rows.first.locator("td")
    expect(first).to_have_text(["vertex.csv", "1", re.compile("^bad_type"), "v1,user,bad_type-1"])

    # a reason's count filters the lines to that reason, and the view stays as lines come
    page.locator("#fl-reasons a[data-reason=missing_vertex]").click()
    expect(rows).to_have_count(5)
    expect(page.locator("#fl-reasons a[aria-current=true]")).to_contain_text("missing_vertex")
    beat(job, failed_lines(job, 2, "missing_vertex", range(6, 9)), 50.0)
    expect(rows).to_have_count(8)
    expect(page.locator("#fl-reasons a[data-reason=missing_vertex] .count")).to_have_text("8")
    expect(page.locator("#fl-count")).to_have_text("63")
    for i in range(8):
        expect(rows.nth(i).locator("td").nth(2)).to_contain_text("missing_vertex")

    # paged: page 2 of every reason stays page 2 as the import goes on and when it ends
    page.locator("#fl-reasons a[data-reason='']").click()
    expect(rows).to_have_count(50)
    page.locator("#fl-next").click()
    expect(panel).to_contain_text("Page 2 of 2")
    expect(rows).to_have_count(13)
    beat(job, failed_lines(job, 1, "bad_date", range(56, 66)), 80.0)
    expect(rows).to_have_count(23)
    expect(panel).to_contain_text("Lines 51\u201373 of 73 stored")
    tab.shot("job-detail-failed-lines-live")
    job_finish(
        job_id=job.pk,
        worker_id="w1",
        status=JobStatus.PARTIALLY_FAILED,
        fail_reason="73 lines failed",
        files=[FileUpdate(index=1, fields={"status": "partFailed"})],
        failed=failed_lines(job, 2, "missing_vertex", range(9, 11)),
    )
    expect(page.locator("#job-status")).to_have_text("Partially failed")
    expect(panel).to_contain_text("Lines 51\u201375 of 75 stored")
    expect(rows).to_have_count(25)
    assert documents(tab) == loaded  # all of it without a reload
    assert status_of(job) == JobStatus.PARTIALLY_FAILED


# --- phones ------------------------------------------------------------------------------------

# What makes a page wider than the screen, said when it is: elements reaching past its right
# edge, and elements whose content overflows them (long words, fixed widths).
WIDER = """() => Array.from(document.querySelectorAll('body *'))
  .filter((el) => getComputedStyle(el).position !== 'fixed')
  .filter((el) => el.getBoundingClientRect().right > 375.5
    || (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible'))
  .map((el) => `${el.tagName.toLowerCase()}#${el.id}.${el.className}`.slice(0, 60)
    + ` (${el.clientWidth}/${el.scrollWidth}px)`).slice(0, 20)"""

LONG_DIR = "/data/imports/warehouse_exports/nightly/2026/11/22/" + "x" * 60
LONG_NAME = "movies_and_their_actors_imported_every_night_from_the_data_warehouse_v2"


def test_no_sideways_scrolling_at_375_px(browser, live_server, project, operator):
    graph = ges_graph(project, name=LONG_NAME)
    job = make_job(project, graph, submitted_by=operator, name="ImportGraph" + "_nightly" * 8)
    for index, name in ((0, "schema"), (1, "vertex"), (2, "edge")):
        JobFile.objects.filter(job=job, index=index).update(
            path=f"{LONG_DIR}/{name}_file_with_a_very_long_name_2026-11-22T18-24-02.csv"
        )
    job = run_job(job, status=JobStatus.PARTIALLY_FAILED, failed_lines=3)
    long_raw = ",".join(f"id-{n:04d}-" + "y" * 40 for n in range(12))
    FailedLine.objects.create(
        job=job,
        file=job.files.get(index=2),
        line_number=123_456_789,
        reason="missing_vertex",
        message="source vertex '" + "z" * 120 + "' does not exist",
        raw=long_raw,
    )
    JobFile.objects.filter(job=job, index=1).update(log="line 1: " + "w" * 400)
    running = run_job(make_job(project, graph, submitted_by=operator))

    session = new_tab(
        browser,
        live_server,
        viewport={"width": 375, "height": 812},
        is_mobile=True,
        has_touch=True,
        timezone_id="America/St_Johns",
    )
    page = session.page
    try:
        session.login("oscar")
        for path, name in (
            ("/", "job-list-375"),
            (f"/jobs/{job.pk}/", "job-detail-375"),
            (f"/jobs/{job.pk}/?file=2&reason=missing_vertex", "job-detail-failed-lines-375"),
            (f"/jobs/{running.pk}/", "job-detail-running-375"),
        ):
            page.goto(session.url(path))
            expect(page.locator("#tz-note")).to_contain_text("America/St_Johns")
            width = page.evaluate("document.scrollingElement.scrollWidth")
            assert width <= 375, (path, width, page.evaluate(WIDER))
            session.shot(name)
        expect(page.locator("#job-id")).to_be_visible()
    finally:
        close(session)
