"""Nothing leaves the machine: in a real Chromium, the login page, the dashboard's pages, ReDoc
and Swagger UI are loaded and used while every request the pages make is recorded; each goes to
the live server on this machine (pytest-django's serves ``localhost``; ``make run`` 127.0.0.1), or
is a ``data:``/``blob:`` URL of the page itself. Each page's
icon is ours and loads, and ``/favicon.ico`` answers with it. (The tab fixture also fails the
test on any Content-Security-Policy violation, i.e. a request the browser refused to make.)
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Request, expect

from tests.dashboard import test_browser as base
from tests.factories.jobs import make_job

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

browser = base.browser
tab = base.tab


def off_the_server(url: str, server: str) -> bool:
    """Whether ``url`` goes anywhere but ``server`` (``http://host:port``)."""
    parts = urlsplit(url)
    if parts.scheme == "data":
        return False
    if parts.scheme == "blob":  # blob:http://127.0.0.1:8000/<uuid>, made by the page
        parts = urlsplit(parts.path)
    return f"{parts.scheme}://{parts.netloc}" != server


def test_the_check_can_fail():
    server = "http://127.0.0.1:8000"
    assert not off_the_server("http://127.0.0.1:8000/static/x.css", server)
    assert not off_the_server("blob:http://127.0.0.1:8000/0f1e", server)
    assert not off_the_server("data:image/gif;base64,R0lGOD", server)
    assert off_the_server("https://cdn.redoc.ly/redoc/logo-mini.svg", server)
    assert off_the_server("http://127.0.0.1:9000/", server)
    assert off_the_server("blob:https://example.com/0f1e", server)


def test_no_page_makes_a_request_off_the_machine(tab, project, graph, operator):
    job = make_job(project, graph, submitted_by=operator)
    page = tab.page
    requests: list[Request] = []
    page.on("request", lambda request: requests.append(request))

    def icon_loaded(since: int) -> None:
        """The page's icon (ours, from the static files) was fetched and answered 200."""
        icons = [r for r in requests[since:] if "/static/dashboard/favicon." in r.url]
        assert icons, [r.url for r in requests[since:]]
        for request in icons:
            response = request.response()
            assert response is not None and response.status == 200, request.url

    start = len(requests)
    page.goto(tab.url("/accounts/login/"))
    expect(page.get_by_label("Username")).to_be_visible()
    tab.login("oscar")
    page.wait_for_load_state("networkidle")
    icon_loaded(start)
    for path in (f"/jobs/{job.pk}/", "/graphs/", "/imports/new/"):
        start = len(requests)
        page.goto(tab.url(path))
        page.wait_for_load_state("networkidle")
        icon_loaded(start)

    start = len(requests)
    page.goto(tab.url("/api/schema/redoc/"))
    expect(page.locator("h1").first).to_contain_text("jobcenter API")
    expect(page.locator("[data-section-id^='operation/']").first).to_be_attached()
    page.mouse.wheel(0, 20_000)  # the whole document, whatever it loads lazily
    page.wait_for_load_state("networkidle")
    icon_loaded(start)
    # ReDoc's own logo is a data: image, not cdn.redoc.ly's
    logo = page.locator("img[alt='redocly logo']")
    assert (logo.get_attribute("src") or "").startswith("data:")

    start = len(requests)
    page.goto(tab.url("/api/schema/swagger-ui/"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("jobcenter API")
    page.locator(".swagger-ui .opblock-summary").first.click()
    page.wait_for_load_state("networkidle")
    icon_loaded(start)

    # what a browser asks for when a page names no icon (as the admin's pages)
    answer = page.evaluate(
        """async () => { const r = await fetch('/favicon.ico');
          return [r.status, r.headers.get('content-type'), (await r.arrayBuffer()).byteLength]; }"""
    )
    assert answer[:2] == [200, "image/x-icon"] and answer[2] > 1000, answer

    off = sorted({r.url for r in requests if off_the_server(r.url, tab.base)})
    assert off == [], off
    assert urlsplit(tab.base).hostname in ("localhost", "127.0.0.1")
    assert len(requests) > 20  # the pages did load their assets
