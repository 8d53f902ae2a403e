"""Where the dashboard opens, in a real Chromium: with an empty project "0" that sorts first and
a project with jobs, a new session opens the one with jobs; the project chosen last is where the
next session opens; an empty project shows one empty state that says how to start. The
screenshot of that state goes to test-artifacts/screenshots/ (git-ignored)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.dashboard import test_browser as base
from tests.factories.jobs import make_job
from tests.factories.projects import project_with_members

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

browser = base.browser
tab = base.tab


def test_the_dashboard_opens_where_the_work_is(tab, project, graph, operator):
    project_with_members("0", oscar="operator")  # empty, first by name
    job = make_job(project, graph, submitted_by=operator)
    page = tab.page

    tab.login("oscar")
    expect(page.locator(".subtitle strong")).to_have_text("alpha")
    expect(page.locator(f"#job-{job.pk}")).to_be_visible()

    # choose the empty project: one empty state, saying how to start
    page.locator("#project-select").select_option("0")
    page.get_by_role("button", name="Switch").click()
    expect(page.locator(".subtitle strong")).to_have_text("0")
    empty = page.locator("#empty-state")
    expect(empty.get_by_role("heading")).to_have_text("No jobs yet")
    expect(page.get_by_text("No jobs", exact=False)).to_have_count(1)
    expect(empty.get_by_role("link", name="Create a graph")).to_be_visible()
    expect(empty).to_contain_text("manage.py jobs submit-import")
    tab.shot("job-list-empty-project")

    # the project chosen last is where the next session opens
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(tab.url("/accounts/login/"))
    tab.login("oscar")
    expect(page.locator(".subtitle strong")).to_have_text("0")
