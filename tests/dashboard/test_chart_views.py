"""The dashboard's charts through Django's test client: an import's lines per second and its
failed lines by reason on the job page (refreshed with its live part), the job list's last 24
hours by status (full page loads only), all plain SVG with no inline style or script."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import FailedLine, Job, JobThroughput
from jobcenter.jobs.transitions import FileUpdate, job_claim, job_finish, job_heartbeat
from tests.dashboard.conftest import HTMX
from tests.factories.jobs import make_job, run_job

pytestmark = pytest.mark.django_db


def html(response) -> str:
    return response.content.decode()


def section(body: str, element_id: str) -> str:
    """The element with ``element_id`` (up to its closing tag of the same name)."""
    match = re.search(rf'<(\w+)[^>]*\bid="{element_id}"', body)
    assert match, f"#{element_id} is not on the page"
    tag = match.group(1)
    end = body.index(f"</{tag}>", match.end())
    return body[match.start() : end]


def no_inline_style_or_script(fragment: str) -> None:
    assert " style=" not in fragment and "<style" not in fragment
    assert "<script" not in fragment and not re.search(r"<[^>]*\son\w+=", fragment)


def running_import(project, graph, points: list[list[float]], lines_done: int) -> Job:
    job = run_job(make_job(project, graph))
    job_heartbeat(
        job_id=job.pk,
        worker_id="w1",
        progress=50.0,
        lines_done=lines_done,
        lines_total=2 * lines_done,
        lines_per_second=1000.0,
        samples=points,
    )
    return Job.objects.get(pk=job.pk)


# --- lines per second ------------------------------------------------------------------------


def test_a_running_imports_page_draws_its_lines_per_second_and_refreshes_it(oscar, project, graph):
    points = [[0.0, 0], [1.0, 1000], [2.0, 3000], [3.0, 6000]]
    job = running_import(project, graph, points, 6000)
    body = html(oscar.get(f"/jobs/{job.pk}/"))
    chart = section(body, "throughput-chart")
    assert (
        'role="img"' in chart and 'aria-labelledby="throughput-title throughput-summary"' in chart
    )
    assert "Lines per second" in chart
    # 1,000/s, then 2,000/s, then 3,000/s: the summary says it in words
    summary = section(chart, "throughput-summary")
    assert "6,000 lines in 3s" in summary and "3.0k/s at most" in summary
    assert "2.0k/s on average" in summary and "lately" in summary
    assert re.search(r'<path class="chart-line" d="M[\d. VH]+"', chart)
    no_inline_style_or_script(chart)

    # the live part (polled every 2 s) carries the chart, with the new points
    job_heartbeat(
        job_id=job.pk,
        worker_id="w1",
        progress=60.0,
        lines_done=16000,
        lines_total=12000,
        lines_per_second=10000.0,
        samples=[*points, [4.0, 16000]],
    )
    live = html(oscar.get(f"/jobs/{job.pk}/live/", **HTMX))
    assert "10k/s at most" in section(live, "throughput-summary")


def test_a_finished_import_keeps_its_chart_and_says_nothing_of_now(oscar, project, graph):
    job = run_job(make_job(project, graph))
    job_finish(
        job_id=job.pk,
        worker_id="w1",
        status=JobStatus.SUCCEEDED,
        lines_done=500,
        lines_total=500,
        samples=[[0.0, 0], [1.0, 100], [2.5, 500]],
    )
    chart = section(html(oscar.get(f"/jobs/{job.pk}/")), "throughput-chart")
    assert "500 lines in 2s" in chart  # 2.5 s, shown whole
    assert "lately" not in chart and "Lately" not in chart


def test_no_chart_before_an_import_starts_nor_for_other_jobs(oscar, project, graph):
    waiting = make_job(project, graph)
    assert 'id="throughput-chart"' not in html(oscar.get(f"/jobs/{waiting.pk}/"))
    algorithm = run_job(make_job(project, graph, type=JobType.ALGORITHM, name="pagerank"))
    body = html(oscar.get(f"/jobs/{algorithm.pk}/"))
    assert 'id="throughput-chart"' not in body and 'id="failures-chart"' not in body
    # started, no point yet: a placeholder while it runs
    started = run_job(make_job(project, graph))
    assert "appears here after a few seconds" in html(oscar.get(f"/jobs/{started.pk}/"))


def test_odd_stored_points_do_not_break_the_page(oscar, project, graph):
    job = run_job(make_job(project, graph))
    JobThroughput.objects.create(
        job=job, points=[[0, 0], "x", [1, None], [2.0, 50], [1.0, 10], [3, 80, 1], {"a": 1}]
    )
    response = oscar.get(f"/jobs/{job.pk}/")
    assert response.status_code == 200
    assert "50 lines in 2s" in section(html(response), "throughput-chart")


# --- failed lines by reason per file ----------------------------------------------------------


def test_failed_lines_by_reason_per_file_from_the_counts_of_every_line(oscar, project, graph):
    job = run_job(make_job(project, graph))
    job_finish(
        job_id=job.pk,
        worker_id="w1",
        status=JobStatus.PARTIALLY_FAILED,
        files=[
            FileUpdate(
                index=1,
                fields={
                    "status": "partFailed",
                    "total_lines": 20_000,
                    "successful_lines": 5_000,
                    "failed_lines": 15_000,
                    # more than the failed-line records kept: every one is counted
                    "reason_counts": {"bad_type": 12_000, "duplicate_id": 3_000},
                },
            ),
            FileUpdate(
                index=2,
                fields={
                    "status": "partFailed",
                    "total_lines": 10,
                    "successful_lines": 7,
                    "failed_lines": 3,
                    "reason_counts": {"missing_vertex": 3},
                },
            ),
        ],
    )
    chart = section(html(oscar.get(f"/jobs/{job.pk}/")), "failures-chart")
    labels = re.findall(r'<svg class="failure-bar"[^>]*aria-label="([^"]*)"', chart)
    assert labels == [
        "vertex.csv: 15,000 failed lines: bad_type 12,000, duplicate_id 3,000",
        "edge.csv: 3 failed lines: missing_vertex 3",
    ]
    # one scale: the biggest file fills the width, the other's bar is tiny
    widths = re.findall(r'<rect class="r-\d" x="[\d.]+" y="0" width="([\d.]+)"', chart)
    assert widths == ["80", "20", "0"]
    assert '<a href="?file=1#failed-lines"' in chart
    legend = re.findall(r"<code>(\w+)</code> ([\d,]+)", chart)
    assert legend == [("bad_type", "12,000"), ("duplicate_id", "3,000"), ("missing_vertex", "3")]
    no_inline_style_or_script(chart)


def test_a_job_run_before_reasons_were_counted_is_counted_from_its_records(oscar, project, graph):
    job = run_job(make_job(project, graph), status=JobStatus.PARTIALLY_FAILED, failed_lines=3)
    FailedLine.objects.filter(job=job).update(reason="bad_type")
    job.files.filter(index=1).update(failed_lines=5, reason_counts={})
    chart = section(html(oscar.get(f"/jobs/{job.pk}/")), "failures-chart")
    assert 'aria-label="vertex.csv: 5 failed lines: bad_type 3, reason not kept 2"' in chart
    assert "before every reason was counted" in chart


def test_no_failures_chart_without_failed_lines(oscar, jobs):
    body = html(oscar.get(f"/jobs/{jobs['succeeded'].pk}/"))
    assert 'id="failures-chart"' not in body


# --- the job list's last 24 hours ---------------------------------------------------------------


def test_the_job_list_shows_the_last_24_hours_by_status_on_full_page_loads_only(
    oscar, project, graph
):
    now = timezone.now()
    for hours_ago, status in (
        (0.1, "running"),
        (0.2, "succeeded"),
        (0.3, "succeeded"),
        (5.5, "failed"),
    ):
        job = make_job(project, graph)
        Job.objects.filter(pk=job.pk).update(
            status=status, created_at=now - timedelta(hours=hours_ago)
        )
    old = make_job(project, graph)
    Job.objects.filter(pk=old.pk).update(created_at=now - timedelta(hours=30))

    body = html(oscar.get("/"))
    chart = section(body, "hours-chart")
    summary = re.search(r'<svg class="hours-svg"[^>]*aria-label="([^"]*)"', chart).group(1)
    assert summary.startswith(
        "4 jobs submitted in the last 24 hours (2 succeeded, 1 failed, 1 running)"
    )
    assert "the busiest hour had 3, in the last hour" in summary
    titles = re.findall(r"<title>([^<]*)</title>", chart)
    assert len(titles) == 24
    assert titles[-1] == "in the last hour: 3 jobs (2 succeeded, 1 running)"
    assert titles[-6] == "6 to 5 hours ago: 1 job (1 failed)"
    assert titles[0] == "24 to 23 hours ago: 0 jobs"
    assert '<a href="?project=alpha&amp;status=failed">' in chart
    no_inline_style_or_script(chart)

    # a filter change or a page of the list (htmx) neither draws nor counts it again
    with CaptureQueriesContext(connection) as queries:
        partial = html(oscar.get("/?status=failed", **HTMX))
    assert 'id="hours-chart"' not in partial
    assert not [q for q in queries if "strftime" in q["sql"] or "EXTRACT(EPOCH" in q["sql"]]


def test_no_strip_for_a_project_without_jobs_in_the_last_24_hours(oscar, project, graph):
    old = make_job(project, graph)
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert 'id="hours-chart"' not in html(oscar.get("/"))


def test_the_strip_counts_the_current_projects_jobs_only(client_for, project, graph):
    from jobcenter.projects.services import membership_set, project_create
    from tests.factories.projects import user_create

    other = project_create(name="beta")
    make_job(other, None)
    make_job(project, graph)
    user = user_create("both")
    membership_set(project=other, user=user, role="viewer")
    body = html(client_for(user).get("/?project=beta"))
    assert "1 job submitted in the last 24 hours" in section(body, "hours-chart")


def test_job_claim_and_finish_helpers_still_work_without_samples(project, graph):
    """The samples are optional for every writer (analytics jobs send none)."""
    job = make_job(project, graph)
    assert job_claim(job_id=job.pk, worker_id="w") is not None
    assert job_finish(job_id=job.pk, worker_id="w", status=JobStatus.SUCCEEDED)
    assert not JobThroughput.objects.filter(job=job).exists()
