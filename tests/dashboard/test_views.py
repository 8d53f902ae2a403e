"""The dashboard's views through Django's test client: pages, htmx partials, live refresh,
permissions (the same as the API's), CSRF, and no 500 on any input."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from jobcenter.graphs.models import Graph
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import FailedLine, Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_cancel
from jobcenter.projects.services import membership_set, project_create
from tests.dashboard.conftest import HTMX, post
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph, graphscope_graph
from tests.factories.jobs import ges_movie_import, make_job, run_job

pytestmark = pytest.mark.django_db

CANCEL_BUTTON = re.compile(r'id="c-([0-9a-f]{32})"')
ROW_BOX = re.compile(r'class="row-select" name="ids" value="([0-9a-f]{32})"')


def html(response) -> str:
    return response.content.decode()


# --- logging in ------------------------------------------------------------------------------


def test_pages_need_a_login(client):
    for url in ("/", "/graphs/", "/imports/new/", "/jobs/live/", "/graphs/new/", "/files/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


def test_login_page_and_logging_in_and_out(client, operator, project):
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    body = html(page)
    assert 'name="username"' in body and 'name="password"' in body
    assert 'for="id_username"' in body and 'for="id_password"' in body
    bad = client.post("/accounts/login/", {"username": "oscar", "password": "nope"})
    assert bad.status_code == 200 and 'role="alert"' in html(bad)
    good = client.post("/accounts/login/", {"username": "oscar", "password": "pw-oscar"})
    assert good.status_code == 302 and good["Location"] == "/"
    assert client.get("/").status_code == 200
    out = client.post("/accounts/logout/")
    assert out.status_code == 302 and out["Location"] == "/accounts/login/"
    assert client.get("/").status_code == 302


def test_user_without_project_sees_an_explanation(client_for, project):
    from django.contrib.auth import get_user_model

    outsider = get_user_model().objects.get(username="outsider")
    response = client_for(outsider).get("/")
    assert response.status_code == 200
    assert "not in a project yet" in html(response)


# --- the job list ----------------------------------------------------------------------------


def test_job_list_shows_every_job_with_counts_and_cancel_only_where_allowed(oscar, jobs):
    response = oscar.get("/")
    assert response.status_code == 200
    body = html(response)
    for job in jobs.values():
        assert f'id="job-{job.pk}"' in body
        # the short id is the row's link; its button copies the whole id
        assert (
            f'<a class="job-link" href="/jobs/{job.pk}/" title="Job {job.pk}">'
            f"<code>{job.pk[-8:]}</code></a>" in body
        )
        assert f'data-copy="{job.pk}" aria-label="Copy the job id of {job.pk[-8:]}"' in body
    assert set(CANCEL_BUTTON.findall(body)) == {jobs["waiting"].pk, jobs["running"].pk}
    assert set(ROW_BOX.findall(body)) == {jobs["waiting"].pk, jobs["running"].pk}
    for status in JobStatus.values:
        assert re.search(rf'id="count-{status}">1<', body), status
    assert 'id="count-all">7<' in body
    assert 'Showing <strong>1\u20137</strong> of <strong id="total-count">7</strong> jobs' in body
    assert 'hx-confirm="Cancel job' in body  # cancelling asks first
    assert "Stopping…" in body  # the cancelling row
    assert 'id="bulk"' in body and "Cancel all 3 active matching" in body


def test_viewer_sees_no_cancel_button_checkbox_or_bulk_form(vera, jobs):
    body = html(vera.get("/"))
    assert f'id="job-{jobs["running"].pk}"' in body
    assert "/cancel/" not in body
    assert 'class="row-select"' not in body and 'id="bulk"' not in body
    assert "New import" not in body


def test_only_active_rows_are_marked_live_and_the_poller_exists_only_then(oscar, jobs):
    body = html(oscar.get("/"))
    live = set(re.findall(r'data-live="([0-9a-f]{32})"', body))
    assert live == {jobs[s].pk for s in ("waiting", "running", "cancelling")}
    assert 'id="live-poller"' in body and 'hx-trigger="every 2s, jc:refresh"' in body
    assert 'hx-get="/jobs/live/?project=alpha"' in body
    # no active row, but the chips count active jobs: the list polls for the chips' sake
    finished = html(oscar.get("/?status=succeeded&status=failed"))
    assert "data-live" not in finished and 'id="live-poller"' in finished
    # nothing counted is active: no poller
    done = html(oscar.get(f"/?q={jobs['succeeded'].pk}"))
    assert "data-live" not in done and 'id="live-poller"' not in done


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=running", ["running"]),
        ("status=running&status=waiting", ["running", "waiting"]),
        ("status=running,cancelling", ["running", "cancelling"]),
        ("type=import", "all"),
        ("type=export", []),
        ("graph=movies", "all"),
        ("graph=nope", []),
        (
            "submitted_by=oscar",
            ["succeeded", "partially_failed", "cancelled", "running", "waiting"],
        ),
        ("q=3 lines failed", ["partially_failed"]),
    ],
)
def test_filters(oscar, jobs, query, expected):
    body = html(oscar.get(f"/?{query}"))
    shown = set(re.findall(r'<tr id="job-([0-9a-f]{32})"', body))
    wanted = {j.pk for j in jobs.values()} if expected == "all" else {jobs[s].pk for s in expected}
    assert shown == wanted, query
    if not wanted:
        assert "No jobs match these filters" in body and "Clear all filters" in body


def test_filter_by_id_prefix_and_search_by_id(oscar, jobs):
    job = jobs["failed"]
    for query in (f"id={job.pk[:20]}", f"q={job.pk[:20]}"):
        shown = re.findall(r'<tr id="job-([0-9a-f]{32})"', html(oscar.get(f"/?{query}")))
        assert shown == [job.pk], query


def test_date_ranges_in_any_offset(oscar, project, graph, jobs):
    old = make_job(project, graph)
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    today = timezone.now().date().isoformat()
    shown = re.findall(r'<tr id="job-([0-9a-f]{32})"', html(oscar.get(f"/?created_after={today}")))
    assert old.pk not in shown and len(shown) == 7
    before = (timezone.now() - timedelta(days=5)).strftime("%Y-%m-%dT23:59:59.999999%%2B09:00")
    shown = re.findall(
        r'<tr id="job-([0-9a-f]{32})"', html(oscar.get(f"/?created_before={before}"))
    )
    assert shown == [old.pk]
    # the date input shows the day the browser sent
    page = html(oscar.get(f"/?created_before={before}"))
    assert f'name="created_before" value="{before[:10]}"' in page
    started = html(oscar.get(f"/?started_after={today}"))
    shown = set(re.findall(r'<tr id="job-([0-9a-f]{32})"', started))
    assert jobs["waiting"].pk not in shown and jobs["running"].pk in shown


def test_invalid_filters_are_ignored_and_reported(oscar, jobs):
    response = oscar.get("/?created_after=yesterday&status=bogus&per_page=abc&page=-4&ordering=x")
    assert response.status_code == 200
    body = html(response)
    assert "Some filters were not understood" in body and "<code>created_after</code>" in body
    assert len(re.findall(r'<tr id="job-', body)) == 7


def test_htmx_filter_request_gets_the_results_with_counts_and_a_canonical_url(oscar, jobs):
    response = oscar.get(
        "/?project=alpha&status=running&q=&type=&graph=movies&created_after=&page=1", **HTMX
    )
    assert response.status_code == 200
    body = html(response)
    assert "<html" not in body and 'id="filters"' not in body
    assert re.findall(r'<tr id="job-([0-9a-f]{32})"', body) == [jobs["running"].pk]
    assert 'id="count-waiting" hx-swap-oob="true">1<' in body  # chips follow the other filters
    assert response["HX-Push-Url"] == "/?status=running&graph=movies&project=alpha"
    assert "HX-Request" in response["Vary"]


def test_history_restore_gets_the_whole_page(oscar, jobs):
    response = oscar.get("/?status=running", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in html(response) and 'id="filters"' in html(response)


def test_sorting_marks_the_column_and_links_to_the_other_direction(oscar, jobs):
    body = html(oscar.get("/?ordering=status"))
    assert re.search(
        r'<th scope="col" aria-sort="ascending"><a class="sort" href="[^"]*ordering=-status', body
    )
    statuses = re.findall(r'id="b-[0-9a-f]{32}" class="badge [^"]*"[^>]*>([^<]+)<', body)
    assert statuses == sorted(statuses, key=lambda s: s.lower().replace(" ", "_"))
    default = html(oscar.get("/"))
    assert (
        'aria-sort="descending"><a class="sort" href="/?project=alpha&amp;ordering=created_at'
        in default
    )
    progress = html(oscar.get("/?ordering=-progress"))
    assert 'aria-sort="descending"' in progress


def test_pagination_with_total(oscar, project, graph):
    for _ in range(60):
        make_job(project, graph)
    first = html(oscar.get("/?per_page=25"))
    assert 'Showing <strong>1\u201325</strong> of <strong id="total-count">60</strong>' in first
    assert 'aria-label="Page 3"' in first and 'rel="next"' in first
    last = html(oscar.get("/?per_page=25&page=3"))
    assert "Showing <strong>51\u201360</strong>" in last
    assert len(re.findall(r'<tr id="job-', last)) == 10
    clamped = html(oscar.get("/?per_page=25&page=99"))
    assert "Showing <strong>51\u201360</strong>" in clamped
    odd = html(oscar.get("/?per_page=7"))  # not offered: the default
    assert len(re.findall(r'<tr id="job-', odd)) == 50
    # the page links keep the filters and the page size
    assert 'href="/?per_page=25&amp;project=alpha&amp;page=2"' in first


def test_page_links_are_djangos_elided_page_range(oscar, project, graph):
    """First and last page, two pages each side of the current one, a gap for the rest (never
    a gap for one page: that page is shown); six pages or fewer are all shown
    (Paginator.get_elided_page_range)."""

    def links(body: str) -> list[str]:
        return re.findall(r'aria-label="Page (\d+)"|class="(gap)"', body)

    for _ in range(150):
        make_job(project, graph)
    six = html(oscar.get("/?per_page=25"))
    assert [n for n, _ in links(six)] == ["1", "2", "3", "4", "5", "6"]
    for _ in range(100):
        make_job(project, graph)
    ten = [n or gap for n, gap in links(html(oscar.get("/?per_page=25&page=5")))]
    assert ten == ["1", "2", "3", "4", "5", "6", "7", "gap", "10"]


def test_list_names_its_project_and_refuses_foreign_ones(client_for, operator, project, graph):
    beta = project_create(name="beta")
    membership_set(project=beta, user=operator, role="viewer")
    beta_graph = Graph.objects.create(project=beta, name="b", dialect="ges")
    mine = make_job(beta, beta_graph)
    client = client_for(operator)
    body = html(client.get("/?project=beta"))
    assert f'id="job-{mine.pk}"' in body and "/cancel/" not in body  # a viewer there
    # the project chosen is remembered for pages without a project in the URL
    assert "Project <strong>beta</strong>" in html(client.get("/graphs/"))
    gamma = project_create(name="gamma")
    assert client.get(f"/?project={gamma.name}").status_code == 404
    assert client.get("/?project=nope").status_code == 404


def test_job_list_query_count_does_not_grow_with_rows(
    oscar, project, graph, operator, django_assert_max_num_queries
):
    for _ in range(50):
        make_job(project, graph, submitted_by=operator)
    with django_assert_max_num_queries(14):
        assert oscar.get("/").status_code == 200
    with django_assert_max_num_queries(10):
        assert oscar.get("/?status=waiting", **HTMX).status_code == 200


# --- live refresh ----------------------------------------------------------------------------


def live_url(*ids: str, query: str = "project=alpha") -> str:
    return "/jobs/live/?" + query + "".join(f"&live={i}" for i in ids)


def test_live_sends_the_changing_parts_of_active_rows_only(oscar, jobs):
    running, waiting = jobs["running"], jobs["waiting"]
    response = oscar.get(live_url(running.pk, waiting.pk), **HTMX)
    assert response.status_code == 200
    body = html(response)
    for job in (running, waiting):
        for part in ("b", "p", "t0", "t1", "d"):
            assert f'id="{part}-{job.pk}"' in body
        # still cancellable: the checkbox and the button on the page are still right
        assert f'id="s-{job.pk}"' not in body and f'id="a-{job.pk}"' not in body
    assert jobs["succeeded"].pk not in body
    assert "<tr" not in body and 'hx-swap-oob="true"' in body
    assert 'id="count-running" hx-swap-oob="true">1<' in body
    assert 'id="total-count" hx-swap-oob="true">7<' in body
    assert f'data-live="{running.pk}"' in body
    assert 'aria-valuenow="40"' in body and "250/s" in body and "left" in body


def test_live_stops_polling_with_286_once_nothing_watched_is_active(oscar, operator, jobs):
    waiting = jobs["waiting"]
    job_cancel(job=waiting, user=operator)
    # the chips still count active jobs (running, cancelling): it goes on for their sake
    assert oscar.get(live_url(waiting.pk), **HTMX).status_code == 200
    # the list shows only that job: nothing it counts is active any more
    response = oscar.get(live_url(waiting.pk, query=f"project=alpha&q={waiting.pk}"), **HTMX)
    assert response.status_code == 286
    body = html(response)
    assert f'id="b-{waiting.pk}"' in body and "Cancelled" in body  # the last state is shown
    assert f'<span id="a-{waiting.pk}" hx-swap-oob="true"></span>' in body  # no button now
    assert (
        f'<span id="s-{waiting.pk}" data-select="{waiting.pk}" hx-swap-oob="true"></span>' in body
    )
    assert f'data-live="{waiting.pk}"' not in body
    assert f"Job {waiting.pk[-8:]} cancelled." in body  # announced politely
    assert oscar.get(live_url(query="project=alpha&type=export"), **HTMX).status_code == 286


def test_live_ignores_ids_of_other_projects_and_nonsense(oscar, client_for, operator, jobs):
    beta = project_create(name="beta")
    other = make_job(beta, None)
    response = oscar.get(live_url(other.pk, "zz", "%00", "x" * 40, jobs["running"].pk), **HTMX)
    assert response.status_code == 200
    assert other.pk not in html(response) and jobs["running"].pk in html(response)


def test_live_for_a_viewer_has_no_cancel_button(vera, jobs):
    body = html(vera.get(live_url(jobs["running"].pk), **HTMX))
    assert "/cancel/" not in body and 'class="row-select"' not in body


def test_live_refresh_is_one_small_request_for_fifty_running_jobs(oscar, project, graph):
    ids = [run_job(make_job(project, graph), progress=12.5).pk for _ in range(50)]
    page = html(oscar.get("/"))
    assert len(re.findall(r"data-live=", page)) == 50
    assert page.count('id="live-poller"') == 1 and page.count("every 2s") == 1
    response = oscar.get(live_url(*ids), **HTMX)
    assert response.status_code == 200
    size = len(response.content)
    assert size <= 2048 * 50, size
    assert size / 50 < 1200, f"{size / 50:.0f} bytes per job"


# --- bulk cancel -----------------------------------------------------------------------------


def test_bulk_cancel_selected_jobs_with_a_summary(oscar, jobs):
    ids = [jobs["waiting"].pk, jobs["running"].pk, jobs["succeeded"].pk]
    response = post(
        oscar,
        "/jobs/cancel/",
        {"ids": ids, "scope": "ids", "query": "project=alpha"},
        htmx=True,
    )
    assert response.status_code == 200
    body = html(response)
    assert (
        "Cancel requested for 2 jobs" in body and "1 of the selected had already finished" in body
    )
    assert Job.objects.get(pk=jobs["waiting"].pk).status == JobStatus.CANCELLED
    assert Job.objects.get(pk=jobs["running"].pk).status == JobStatus.CANCELLING
    assert Job.objects.get(pk=jobs["succeeded"].pk).status == JobStatus.SUCCEEDED
    assert 'id="count-cancelled" hx-swap-oob="true">2<' in body


def test_bulk_cancel_every_job_matching_the_filter(oscar, project, graph, jobs):
    more = [make_job(project, graph) for _ in range(4)]
    response = post(
        oscar,
        "/jobs/cancel/",
        {"scope": "all", "query": "project=alpha&status=waiting"},
        htmx=True,
    )
    assert response.status_code == 200
    assert "Cancel requested for 5 jobs" in html(response)
    assert "every active job matching the filters" in html(response)
    for job in [*more, jobs["waiting"]]:
        assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    assert Job.objects.get(pk=jobs["running"].pk).status == JobStatus.RUNNING


def test_bulk_cancel_without_htmx_redirects_back_to_the_list(oscar, jobs):
    response = post(
        oscar, "/jobs/cancel/", {"ids": [jobs["waiting"].pk], "query": "project=alpha&q=x"}
    )
    assert response.status_code == 302 and response["Location"] == "/?project=alpha&q=x"
    assert "Cancelled 1 job(s)." in html(oscar.get(response["Location"]))


def test_bulk_cancel_is_refused_to_a_viewer_and_without_csrf(vera, oscar, client_for, jobs):
    for htmx in (True, False):
        response = post(
            vera, "/jobs/cancel/", {"scope": "all", "query": "project=alpha"}, htmx=htmx
        )
        assert response.status_code == 403
    toast = post(vera, "/jobs/cancel/", {"scope": "all", "query": "project=alpha"}, htmx=True)
    assert toast["HX-Retarget"] == "#toasts" and "operator role" in html(toast)
    forged = oscar.post("/jobs/cancel/", {"scope": "all", "query": "project=alpha"}, **HTMX)
    assert forged.status_code == 403 and forged["HX-Retarget"] == "#toasts"
    assert Job.objects.filter(status=JobStatus.CANCELLED).count() == 1  # only the fixture's
    assert oscar.get("/jobs/cancel/").status_code == 405


def test_bulk_cancel_needs_a_selection_and_stays_in_the_project(oscar, operator, jobs):
    assert post(oscar, "/jobs/cancel/", {"query": "project=alpha"}, htmx=True).status_code == 400
    beta = project_create(name="beta")
    membership_set(project=beta, user=operator, role="operator")
    foreign = make_job(beta, None)
    post(oscar, "/jobs/cancel/", {"ids": [foreign.pk], "query": "project=alpha"}, htmx=True)
    assert Job.objects.get(pk=foreign.pk).status == JobStatus.WAITING


# --- CSV of the list --------------------------------------------------------------------------


def test_the_list_links_a_csv_of_every_matching_job(oscar, project, graph, jobs):
    for _ in range(60):  # more than a page
        make_job(project, graph)
    body = html(oscar.get("/?project=alpha&status=waiting&per_page=25"))
    link = re.search(r'id="jobs-csv" href="([^"]+)"', body).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query) == {
        "project": ["alpha"],
        "status": ["waiting"],
        "per_page": ["25"],  # ignored: the download is every page
    }
    response = oscar.get(link)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="jobs-')
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:6] == ["id", "type", "name", "project", "graph", "status"]
    assert len(rows) == 62 and {r[5] for r in rows[1:]} == {"waiting"}
    assert [r[0] for r in rows[1:3]] == [
        j.pk for j in Job.objects.filter(status="waiting").order_by("-created_at", "-id")[:2]
    ]


def test_the_csv_stays_in_the_project_and_refuses_bad_filters(oscar, client_for, jobs):
    bad = oscar.get("/jobs.csv?project=alpha&created_after=soon")
    assert bad.status_code == 400
    outsider = client_for(get_user_model().objects.get(username="outsider"))
    assert outsider.get("/jobs.csv?project=alpha").status_code == 404


# --- bulk retry ------------------------------------------------------------------------------


def failed_imports(project, operator, count: int) -> list[Job]:
    graph = ges_graph(project, "films")
    out = []
    for _ in range(count):
        job = ges_movie_import(graph, user=operator)
        run_job(job, status=JobStatus.FAILED)
        out.append(Job.objects.get(pk=job.pk))
    return out


def test_retry_all_is_offered_when_the_list_shows_failures_only(oscar, project, operator, jobs):
    failed_imports(project, operator, 2)
    assert 'id="retry-all"' not in html(oscar.get("/?project=alpha"))
    assert 'id="retry-all"' not in html(oscar.get("/?project=alpha&status=failed,running"))
    body = html(oscar.get("/?project=alpha&status=failed"))
    assert 'id="retry-all"' in body and "Retry all 3 matching" in body  # 2 + the fixture's


def test_retry_all_matching_retries_each_once_with_a_summary(oscar, project, operator, jobs):
    failed = failed_imports(project, operator, 2)
    query = "project=alpha&status=failed&graph=films"
    response = post(oscar, "/jobs/retry/", {"scope": "all", "query": query}, htmx=True)
    assert response.status_code == 200
    body = html(response)
    assert "Retried 2 jobs" in body and "every failed job matching the filters" in body
    for job in failed:
        new = Job.objects.get(retry_of=job)
        assert new.status == JobStatus.WAITING and new.submitted_by.username == "oscar"
        assert f"/jobs/{new.pk}/" in body
    again = html(post(oscar, "/jobs/retry/", {"scope": "all", "query": query}, htmx=True))
    assert "No job was retried" in again and "2 were not retried" in again
    assert "already retried as job" in again
    assert Job.objects.filter(retry_of__isnull=False).count() == 2
    assert Job.objects.get(pk=jobs["failed"].pk).retries.count() == 0  # another graph
    # what is left to retry: the fixture's failed job on the other graph, not these two
    assert 'id="retry-all"' not in html(oscar.get(f"/?{query}"))
    assert "Retry all 1 matching" in html(oscar.get("/?project=alpha&status=failed"))


def test_retry_all_without_htmx_redirects_and_is_refused_to_a_viewer(
    oscar, vera, project, operator, jobs
):
    failed_imports(project, operator, 1)
    data = {"scope": "all", "query": "project=alpha&status=failed&graph=films"}
    response = post(oscar, "/jobs/retry/", data)
    assert response.status_code == 302
    assert response["Location"] == "/?project=alpha&status=failed&graph=films"
    assert "Retried 1 job(s)." in html(oscar.get(response["Location"]))
    refused = post(vera, "/jobs/retry/", data, htmx=True)
    assert refused.status_code == 403 and "operator role" in html(refused)
    forged = oscar.post("/jobs/retry/", data, **HTMX)  # no CSRF token
    assert forged.status_code == 403
    bad = post(oscar, "/jobs/retry/", {"query": "project=alpha&created_after=soon"}, htmx=True)
    assert bad.status_code == 400
    assert Job.objects.filter(retry_of__isnull=False).count() == 1


# --- one job ---------------------------------------------------------------------------------


def test_job_detail_of_a_partially_failed_import(oscar, jobs):
    job = jobs["partially_failed"]
    response = oscar.get(f"/jobs/{job.pk}/")
    assert response.status_code == 200
    body = html(response)
    assert "Partially failed" in body and job.pk in body
    assert 'id="file-1"' in body and "vertex.csv" in body
    assert re.search(r'data-label="Total" class="num">13<', body)
    assert re.search(r'data-label="Failed" class="num"><a href="\?file=1#failed-lines">3<', body)
    assert body.count('<code class="raw">') == 3 and "v0,user,x0" in body
    assert "Age &#x27;x0&#x27; is not an int" in body
    assert "Submitted</strong> by oscar" in body  # the timeline says who
    assert "&quot;vertexset_path&quot;: &quot;/data/vertex.csv&quot;" in body  # formatted request
    assert 'id="retry-job"' in body and 'id="cancel-job"' not in body
    assert "data-poll" not in body  # a finished job does not poll
    assert f'href="/jobs/{job.pk}/failed-lines.csv"' in body


def test_job_detail_of_a_running_job_polls_and_offers_cancel(oscar, vera, jobs):
    job = jobs["running"]
    body = html(oscar.get(f"/jobs/{job.pk}/"))
    assert f'hx-get="/jobs/{job.pk}/live/"' in body and "data-poll" in body
    assert 'id="cancel-job"' in body and 'id="retry-job"' not in body
    assert "400 of 1,000 lines" in body and "250/s" in body and "about 2s left" in body
    assert 'hx-trigger="job-finished from:body"' in body  # failed lines reload at the end
    viewer_page = html(vera.get(f"/jobs/{job.pk}/"))
    assert 'id="cancel-job"' not in viewer_page and "/cancel/" not in viewer_page


def test_job_detail_live_ends_with_286_and_an_event(oscar, jobs):
    running = oscar.get(f"/jobs/{jobs['running'].pk}/live/", **HTMX)
    assert running.status_code == 200 and "data-poll" in html(running)
    done = oscar.get(f"/jobs/{jobs['succeeded'].pk}/live/", **HTMX)
    assert done.status_code == 286 and "data-poll" not in html(done)
    assert "job-finished" in done["HX-Trigger"]


def test_job_detail_is_scoped_to_the_users_projects(client_for, oscar, jobs, project):
    from django.contrib.auth import get_user_model

    outsider = client_for(get_user_model().objects.get(username="outsider"))
    job = jobs["running"]
    for url in (
        f"/jobs/{job.pk}/",
        f"/jobs/{job.pk}/live/",
        f"/jobs/{job.pk}/failed-lines/",
        f"/jobs/{job.pk}/failed-lines.csv",
    ):
        assert outsider.get(url).status_code == 404, url
    for bad in ("nope", "0" * 33, "%00", "ABC"):
        assert oscar.get(f"/jobs/{bad}/").status_code == 404


def test_failed_lines_are_paged_and_filtered_by_file(oscar, project, graph):
    job = run_job(make_job(project, graph), status=JobStatus.PARTIALLY_FAILED, failed_lines=120)
    edge = job.files.get(index=2)
    FailedLine.objects.create(
        job=job,
        file=edge,
        line_number=7,
        reason="missing_vertex",
        message="source vertex 'Ghost' does not exist",
        raw="Ghost,Heat,rate",
    )
    page1 = html(oscar.get(f"/jobs/{job.pk}/"))
    assert page1.count('<code class="raw">') == 50 and "Lines 1\u201350 of 121 stored" in page1
    page3 = oscar.get(f"/jobs/{job.pk}/failed-lines/?page=3", **HTMX)
    assert page3.status_code == 200 and "<html" not in html(page3)
    assert html(page3).count('<code class="raw">') == 21 and "Ghost,Heat,rate" in html(page3)
    only_edges = html(oscar.get(f"/jobs/{job.pk}/failed-lines/?file=2", **HTMX))
    assert only_edges.count('<code class="raw">') == 1 and "failed-lines.csv?file=2" in only_edges
    for odd in ("?page=abc", "?page=-1", "?file=abc", "?file=-3", "?file=999", "?page=99999"):
        assert oscar.get(f"/jobs/{job.pk}/failed-lines/{odd}", **HTMX).status_code == 200, odd
    # without htmx: the same lines in the whole page
    redirect = oscar.get(f"/jobs/{job.pk}/failed-lines/?page=2")
    assert redirect.status_code == 302
    assert redirect["Location"] == f"/jobs/{job.pk}/?page=2#failed-lines"


def file_cells(body: str, index: int | str) -> dict[str, str]:
    """The cells of one row of the files table (or of its totals row), by data-label."""
    row = re.search(rf'<tr id="file-{index}">(.*?)</tr>', body, re.S).group(1)
    cells = re.findall(r'<td data-label="(\w+)"[^>]*>(.*?)</td>', row, re.S)
    return {label: re.sub(r"<[^>]+>", "", text).strip() for label, text in cells}


@pytest.mark.django_db(transaction=True)  # the worker's code runs here
def test_an_aborted_import_shows_what_was_valid_and_that_nothing_was_committed(
    oscar, graph, operator
):
    """Issue 13: ges_movie aborted by its error threshold at vertex.csv line 10."""
    from tests.factories.jobs import ges_movie_aborted

    job = ges_movie_aborted(graph, operator)
    body = html(oscar.get(f"/jobs/{job.pk}/"))
    assert "10 of 19 lines read, none committed" in body  # not "10 of 19 lines"
    assert file_cells(body, 1) == {
        "Kind": "Vertex set",
        "File": "vertex.csv",
        "Status": "Failed",
        "Total": "10",
        "Valid": "6",
        "Failed": "4",
        "Committed": "0",
    }
    assert (file_cells(body, 2)["Status"], file_cells(body, 2)["Committed"]) == ("Skipped", "0")
    totals = file_cells(body, "totals")
    assert (totals["Valid"], totals["Failed"], totals["Committed"]) == ("6", "4", "0")
    assert "6 lines passed validation, but none were committed" in body


def test_a_cancelled_import_committed_nothing_and_skipped_the_file_it_never_reached(
    oscar, graph, operator
):
    from tests.factories.jobs import ges_movie_cancelled

    job = ges_movie_cancelled(graph, operator)
    body = html(oscar.get(f"/jobs/{job.pk}/"))
    vertex = file_cells(body, 1)
    assert (vertex["Status"], vertex["Valid"], vertex["Committed"]) == ("Partly failed", "6", "0")
    assert file_cells(body, 2)["Status"] == "Skipped"
    assert file_cells(body, "totals")["Committed"] == "0"
    assert "Nothing this import loaded was kept" in body


def test_a_running_import_commits_at_its_end(oscar, jobs):
    body = html(oscar.get(f"/jobs/{jobs['running'].pk}/"))
    assert file_cells(body, 0)["Committed"] == "\u2014"  # not 0: nothing is decided yet
    assert file_cells(body, 0)["Status"] == "Waiting"


@pytest.mark.django_db(transaction=True)
def test_above_the_cap_the_page_says_how_many_failed_lines_were_kept(oscar, graph, operator):
    job = ges_movie_import(graph, user=operator, max_failed_records=2)
    execute_job(job_id=job.pk)
    body = html(oscar.get(f"/jobs/{job.pk}/"))
    kept = re.search(r'<p class="notice tone-info" id="failed-kept">(.*?)</p>', body, re.S)
    assert kept and kept.group(1).startswith("4 of 8 failed lines kept."), body
    assert "JOBCENTER_MAX_FAILED_RECORDS" in kept.group(1)
    assert "max_failed_records" in kept.group(1)
    assert file_cells(body, 1)["Failed"] == "4 (2 kept)"
    assert file_cells(body, 1)["Committed"] == "6"
    one = html(oscar.get(f"/jobs/{job.pk}/failed-lines/?file=2", **HTMX))
    assert "2 of 4 failed lines kept." in one
    response = oscar.get(f"/jobs/{job.pk}/failed-lines.csv?file=1")
    assert response["Content-Disposition"].endswith(
        f'"job-{job.pk}-file-1-failed-lines-first-2-of-4.csv"'
    )
    everything = html(oscar.get(f"/jobs/{ges_movie_import(graph, user=operator).pk}/"))
    assert 'id="failed-kept"' not in everything


def test_failed_lines_csv(oscar, jobs):
    job = jobs["partially_failed"]
    response = oscar.get(f"/jobs/{job.pk}/failed-lines.csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f"job-{job.pk}-failed-lines.csv" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "file",
        "role",
        "path",
        "line_number",
        "reason",
        "message",
        "raw",
    ]  # the API's format
    assert rows[1][1:] == [
        "vertex",
        "/data/vertex.csv",
        "1",
        "bad_type",
        "Age 'x0' is not an int",
        "v0,user,x0",
    ]
    assert len(rows) == 4
    only_edges = oscar.get(f"/jobs/{job.pk}/failed-lines.csv?file=2")
    assert len(list(csv.reader(io.StringIO(b"".join(only_edges.streaming_content).decode())))) == 1


# --- cancel and retry ------------------------------------------------------------------------


def test_cancel_from_a_row_returns_the_row(oscar, jobs):
    running, waiting = jobs["running"], jobs["waiting"]
    response = post(oscar, f"/jobs/{running.pk}/cancel/", {"view": "row"}, htmx=True)
    assert response.status_code == 200
    body = html(response)
    assert body.startswith(f'<tr id="job-{running.pk}"') and "Cancelling" in body
    assert f'data-live="{running.pk}"' in body and "Stopping…" in body
    body = html(post(oscar, f"/jobs/{waiting.pk}/cancel/", {"view": "row"}, htmx=True))
    assert "Cancelled" in body and "data-live" not in body
    job = Job.objects.get(pk=waiting.pk)
    assert job.status == JobStatus.CANCELLED and job.cancel_requested_by.username == "oscar"


def test_cancel_from_the_detail_page_returns_its_live_part(oscar, jobs):
    job = jobs["running"]
    response = post(oscar, f"/jobs/{job.pk}/cancel/", htmx=True)
    assert response.status_code == 200
    body = html(response)
    assert body.strip().startswith('<section id="job-live"') and "Cancelling" in body
    assert "Cancel requested</strong> by oscar" in body


def test_cancel_without_htmx_redirects_to_a_safe_next(oscar, jobs):
    job = jobs["waiting"]
    response = post(oscar, f"/jobs/{job.pk}/cancel/", {"next": "https://evil.example/"})
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    other = jobs["running"]
    response = post(oscar, f"/jobs/{other.pk}/cancel/", {"next": "/?status=running"})
    assert response["Location"] == "/?status=running"


def test_a_viewer_cannot_cancel_even_with_a_forged_request(vera, jobs):
    job = jobs["running"]
    response = post(vera, f"/jobs/{job.pk}/cancel/", {"view": "row"}, htmx=True)
    assert response.status_code == 403
    assert response["HX-Retarget"] == "#toasts" and "operator role" in html(response)
    assert post(vera, f"/jobs/{job.pk}/cancel/").status_code == 403
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING


def test_cancel_needs_csrf_and_post(oscar, jobs):
    job = jobs["running"]
    response = oscar.post(f"/jobs/{job.pk}/cancel/", {"view": "row"}, **HTMX)
    assert response.status_code == 403 and "form is stale" in html(response)
    assert oscar.get(f"/jobs/{job.pk}/cancel/").status_code == 405
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING


def test_cancel_of_a_finished_job_is_a_conflict_toast(oscar, jobs):
    response = post(oscar, f"/jobs/{jobs['succeeded'].pk}/cancel/", htmx=True)
    assert response.status_code == 409 and "already finished" in html(response)
    assert response["HX-Reswap"] == "beforeend"


def test_retry_a_finished_import(oscar, vera, project, operator):
    graph = ges_graph(project, name="films")
    original = run_job(ges_movie_import(graph, user=operator), status=JobStatus.SUCCEEDED)
    assert post(vera, f"/jobs/{original.pk}/retry/", htmx=True).status_code == 403
    response = post(oscar, f"/jobs/{original.pk}/retry/", htmx=True)
    assert response.status_code == 200
    new = Job.objects.exclude(pk=original.pk).get(retry_of=original)
    assert response["HX-Redirect"] == f"/jobs/{new.pk}/"
    assert new.request == original.request and new.submitted_by.username == "oscar"
    assert f'<a href="/jobs/{original.pk}/">' in html(oscar.get(f"/jobs/{new.pk}/"))
    conflict = post(oscar, f"/jobs/{new.pk}/retry/", htmx=True)
    assert conflict.status_code == 409 and "still waiting" in html(conflict)


# --- submitting ------------------------------------------------------------------------------


def ges_paths() -> dict[str, str]:
    return {
        "schema_path": str(shared_data("ges_movie", "schema.xml")),
        "vertexset_path": str(shared_data("ges_movie", "vertex.csv")),
        "edgeset_path": str(shared_data("ges_movie", "edge.csv")),
    }


def import_data(graph: Graph, **fields) -> dict:
    return {
        "graph": graph.pk,
        "format": "ges",
        "source": "server",
        "delimiter": ",",
        "trim_quote": '"',
        "parallel_edge": "allow",
        **fields,
    }


def test_import_form_page(oscar, vera, project, graph):
    page = oscar.get(f"/imports/new/?graph={graph.pk}")
    assert page.status_code == 200
    body = html(page)
    assert f'<option value="{graph.pk}" selected>movies (GES)</option>' in body
    assert 'data-browse="id_vertexset_path"' in body and 'id="file-browser"' in body
    assert 'hx-encoding="multipart/form-data"' in body
    assert vera.get("/imports/new/").status_code == 403


def test_import_form_without_graphs_points_to_graph_creation(oscar, project):
    assert "Create a graph" in html(oscar.get("/imports/new/"))


def test_import_form_shows_field_errors_inline(oscar, graph):
    response = post(oscar, "/imports/new/", {"format": "ges", "source": "server"}, htmx=True)
    assert response.status_code == 422
    body = html(response)
    assert body.strip().startswith('<form id="import-form"')
    assert 'id="id_graph_error"' in body and 'aria-invalid="true"' in body
    assert "Name at least one file" in body
    outside = post(
        oscar,
        "/imports/new/",
        import_data(graph, schema_path=ges_paths()["schema_path"], vertexset_path="/etc/passwd"),
        htmx=True,
    )
    assert outside.status_code == 422
    assert re.search(r'id="id_vertexset_path_error"><p>[^<]*import root', html(outside))
    assert Job.objects.count() == 0


def test_import_from_server_files(oscar, graph):
    response = post(oscar, "/imports/new/", import_data(graph, **ges_paths()))
    assert response.status_code == 302
    job = Job.objects.get()
    assert response["Location"] == f"/jobs/{job.pk}/"
    assert job.files.count() == 3 and job.submitted_by.username == "oscar"
    assert "Import submitted." in html(oscar.get(response["Location"]))
    again = post(oscar, "/imports/new/", import_data(graph, **ges_paths()), htmx=True)
    assert again.status_code == 200 and again["HX-Redirect"].startswith("/jobs/")


def test_import_uploaded_files(oscar, graph):
    files = {
        "schema_file": SimpleUploadedFile(
            "schema.xml", shared_data("ges_movie", "schema.xml").read_bytes()
        ),
        "vertex_files": SimpleUploadedFile(
            "vertex.csv", shared_data("ges_movie", "vertex.csv").read_bytes()
        ),
    }
    response = post(oscar, "/imports/new/", import_data(graph, source="upload", **files), htmx=True)
    assert response.status_code == 200, html(response)
    job = Job.objects.get()
    assert sorted(job.files.values_list("role", flat=True)) == ["schema", "vertex"]


def test_import_graphscope_mapping(oscar, project):
    graph = graphscope_graph(project)
    mapping = yaml.safe_load(shared_data("modern_graph", "bulk_load.yaml").read_text())
    mapping["loading_config"]["data_source"].pop("location", None)
    data = {
        "graph": graph.pk,
        "format": "graphscope",
        "source": "server",
        "parallel_edge": "allow",
        "mapping_text": yaml.safe_dump(mapping),
        "location": str(shared_data("modern_graph")),
    }
    response = post(oscar, "/imports/new/", data)
    assert response.status_code == 302, html(response)
    job = Job.objects.get()
    assert job.params["format"] == "graphscope" and job.files.count() == 4
    broken = post(oscar, "/imports/new/", {**data, "mapping_text": "a: [1"}, htmx=True)
    assert broken.status_code == 422 and "neither valid YAML nor JSON" in html(broken)


def test_viewer_cannot_submit_an_import(vera, graph):
    response = post(vera, "/imports/new/", import_data(graph, **ges_paths()))
    assert response.status_code == 403 and Job.objects.count() == 0


def test_graph_creation_with_inline_errors(oscar, vera, project):
    assert vera.get("/graphs/new/").status_code == 403
    assert oscar.get("/graphs/new/").status_code == 200
    response = post(oscar, "/graphs/new/", {"name": "films", "dialect": "ges"})
    graph = Graph.objects.get(name="films")
    assert response.status_code == 302 and response["Location"] == f"/imports/new/?graph={graph.pk}"
    duplicate = post(oscar, "/graphs/new/", {"name": "films", "dialect": "ges"}, htmx=True)
    assert duplicate.status_code == 422
    assert re.search(
        r'id="id_name_error"><p>graph &#x27;films&#x27; already exists', html(duplicate)
    )
    no_definition = post(oscar, "/graphs/new/", {"name": "gs", "dialect": "graphscope"}, htmx=True)
    assert "needs its graph definition" in html(no_definition)
    bad_xml = post(
        oscar, "/graphs/new/", {"name": "x", "dialect": "ges", "schema_text": "<PMML"}, htmx=True
    )
    assert bad_xml.status_code == 422 and 'id="id_schema_text_error"' in html(bad_xml)
    definition = shared_data("modern_graph", "graph.yaml").read_bytes()
    made = post(
        oscar,
        "/graphs/new/",
        {
            "name": "modern",
            "dialect": "graphscope",
            "schema_file": SimpleUploadedFile("graph.yaml", definition),
        },
        htmx=True,
    )
    assert made.status_code == 200 and made["HX-Redirect"].startswith("/imports/new/?graph=")
    assert Graph.objects.get(name="modern").schema["labels"]


def test_graph_list_and_delete(oscar, vera, graph):
    body = html(oscar.get("/graphs/"))
    assert "movies" in body and f"/graphs/{graph.pk}/delete/" in body
    assert f"/graphs/{graph.pk}/delete/" not in html(vera.get("/graphs/"))
    assert post(vera, f"/graphs/{graph.pk}/delete/", htmx=True).status_code == 403
    response = post(oscar, f"/graphs/{graph.pk}/delete/", htmx=True)
    job = Job.objects.get(type=JobType.GRAPH_OPERATION)
    assert response["HX-Redirect"] == f"/jobs/{job.pk}/"
    assert post(oscar, f"/graphs/{graph.pk}/delete/", htmx=True).status_code == 409
    assert post(oscar, "/graphs/%00/delete/", htmx=True).status_code == 404


def test_file_browser(oscar, settings):
    # the import roots read as one tree, with paths relative to them (no server path)
    roots = html(oscar.get("/files/?target=id_vertexset_path"))
    assert "ges_movie" in roots and str(shared_data()) not in roots
    inside = html(oscar.get(f"/files/?target=id_vertexset_path&path={shared_data('ges_movie')}"))
    assert (
        'data-pick="ges_movie/vertex.csv"' in inside
        and 'data-target="id_vertexset_path"' in inside
        and str(shared_data()) not in inside
    )
    assert html(oscar.get("/files/?target=id_vertexset_path&path=ges_movie")) == inside
    outside = html(oscar.get("/files/?target=x&path=/etc"))
    assert (
        'role="alert"' in outside
        and "&#x27;/etc&#x27; does not exist in the import roots" in outside
    )
    nul = oscar.get("/files/?path=%00")
    assert nul.status_code == 200 and "not a valid path" in html(nul)
    sneaky = html(oscar.get(f"/files/?target=%22onclick%3D&path={shared_data('ges_movie')}"))
    assert "data-pick" not in sneaky and "onclick" not in sneaky


def test_project_switch(client_for, operator, project):
    beta = project_create(name="beta")
    membership_set(project=beta, user=operator, role="operator")
    client = client_for(operator)
    page = html(client.get("/graphs/"))
    assert 'id="project-select"' in page and 'for="project-select"' in page
    to_graphs = post(client, "/project/", {"project": "beta", "next": "/graphs/"})
    assert to_graphs["Location"] == "/graphs/"
    assert "Project <strong>beta</strong>" in html(client.get("/graphs/"))
    to_list = post(client, "/project/", {"project": "alpha", "next": "/?project=beta&status=x"})
    assert to_list["Location"] == "/?project=alpha"
    job = make_job(beta, None)
    from_job = post(client, "/project/", {"project": "alpha", "next": f"/jobs/{job.pk}/"})
    assert from_job["Location"] == "/?project=alpha"
    away = post(client, "/project/", {"project": "alpha", "next": "https://evil.example/"})
    assert away["Location"] == "/?project=alpha"
    htmx = post(client, "/project/", {"project": "beta", "next": "/graphs/"}, htmx=True)
    assert htmx["HX-Redirect"] == "/graphs/"
    assert post(client, "/project/", {"project": "nope"}).status_code == 404


# --- robustness ------------------------------------------------------------------------------

ODD_VALUES = [
    "",
    "%00",
    "x%00y",
    "-1",
    "99999999999999999999",
    "%FF%FE",
    "<script>",
    "'",
    "a" * 3000,
    "2026-02-30",
    "0001-01-01T00:00:00%2B05:00",
    "9999-12-31",
]


def test_no_server_error_on_any_input(oscar, jobs):
    job = jobs["partially_failed"]
    names = [
        "status",
        "type",
        "graph",
        "submitted_by",
        "id",
        "q",
        "created_after",
        "created_before",
        "started_after",
        "started_before",
        "finished_after",
        "finished_before",
        "ordering",
        "page",
        "per_page",
        "live",
    ]
    for value in ODD_VALUES:
        for name in names:
            for url, extra in (("/", {}), ("/", HTMX), ("/jobs/live/", HTMX)):
                response = oscar.get(f"{url}?{name}={value}", **extra)
                assert response.status_code in (200, 286), (url, name, value)
        for url in (
            f"/jobs/{job.pk}/?page={value}&file={value}",
            f"/jobs/{job.pk}/failed-lines/?page={value}&file={value}",
            f"/jobs/{job.pk}/failed-lines.csv?file={value}",
            f"/files/?path={value}&target={value}",
            f"/imports/new/?graph={value}",
        ):
            assert oscar.get(url, **HTMX).status_code == 200, url
    for value in ODD_VALUES:
        if value in ("", "%00"):
            continue
        assert oscar.get(f"/?project={value}").status_code == 404
    posts = [
        ("/jobs/cancel/", {"ids": ["\x00", "zz"], "query": "project=alpha&created_after=\x00"}),
        ("/jobs/cancel/", {"scope": "all", "query": "project=alpha&created_after=\x00"}),
        ("/jobs/cancel/", {"scope": "all", "query": "%%%"}),
        ("/imports/new/", {"graph": "\x00", "format": "\x00", "source": "x"}),
        (
            "/imports/new/",
            {"graph": "x", "format": "graphscope", "source": "server", "mapping_text": "- 1"},
        ),
        ("/graphs/new/", {"name": "\x00", "dialect": "ges"}),
        ("/graphs/new/", {"name": "y" * 200, "dialect": "graphscope", "schema_text": "[1]"}),
        ("/project/", {"project": "\x00", "next": "\x00"}),
    ]
    for url, data in posts:
        response = post(oscar, url, data, htmx=True)
        assert response.status_code < 500, (url, data, response.status_code)


def test_error_pages_are_designed(oscar, client):
    missing = oscar.get("/jobs/" + "0" * 32 + "/")
    assert missing.status_code == 404 and "Not found" in html(missing)
    assert 'class="topbar"' in html(missing)


def test_job_list_url_round_trip(oscar, jobs):
    """The canonical URL of a filtered list shows the same list again (bookmarks, reload)."""
    response = oscar.get("/?status=running&status=waiting&ordering=status&per_page=25", **HTMX)
    url = response["HX-Push-Url"]
    assert parse_qs(urlsplit(url).query) == {
        "status": ["running", "waiting"],
        "ordering": ["status"],
        "per_page": ["25"],
        "project": ["alpha"],
    }
    again = html(oscar.get(url))
    assert re.findall(r'<tr id="job-([0-9a-f]{32})"', again) == [
        jobs["running"].pk,
        jobs["waiting"].pk,
    ]
    assert 'value="running" checked' in again and 'value="waiting" checked' in again


def test_static_assets_are_vendored(oscar):
    body = html(oscar.get("/"))
    assert '<script src="/static/django_htmx/htmx-2.min.js" defer></script>' in body
    assert "/static/dashboard/dashboard.css" in body and "/static/dashboard/dashboard.js" in body
    assert not re.search(r'(src|href)="(https?:)?//', body)
    assert 'hx-headers=\'{"X-CSRFToken": "' in body


def test_anonymous_client_cannot_reach_actions(jobs):
    client = Client()
    response = client.post(f"/jobs/{jobs['running'].pk}/cancel/")
    assert response.status_code in (302, 403)
    assert Job.objects.get(pk=jobs["running"].pk).status == JobStatus.RUNNING
