"""The number of SQL queries per list request does not grow with the page size (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jobcenter.graphs.services import graph_create
from jobcenter.jobs.models import FailedLine, Job, JobEvent
from jobcenter.jobs.services import job_cancel
from jobcenter.projects.services import membership_set
from tests.factories.jobs import make_job, run_job
from tests.factories.projects import user_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied(project, operator) -> Job:
    """60 jobs over 6 graphs and 6 submitters, some cancelled by others, some retries: every
    related object a row could lazily load is different from row to row."""
    graphs = [graph_create(project=project, name=f"g{i}", dialect="ges") for i in range(6)]
    users = [user_create(f"user{i}") for i in range(6)]
    for user in users:
        membership_set(project=project, user=user, role="operator")
    previous = None
    for i in range(60):
        job = make_job(project, graphs[i % 6], submitted_by=users[i % 6], retry_of=previous)
        if i % 3 == 0:
            job_cancel(job=job, user=users[(i + 1) % 6])
        elif i % 3 == 1:
            run_job(job)
        previous = job
    big = make_job(project, graphs[0], submitted_by=operator)
    file = big.files.get(index=0)
    FailedLine.objects.bulk_create(
        FailedLine(job=big, file=file, line_number=n, reason="r", message="m", raw="x")
        for n in range(60)
    )
    JobEvent.objects.bulk_create(
        JobEvent(job=big, kind="requeued", actor=users[n % 6]) for n in range(60)
    )
    return big


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/jobs/?limit={n}",
        "/api/v1/jobs/?cursor=&limit={n}",
        "/api/v1/jobs/?status=cancelled,running&ordering=-started_at&limit={n}",
        "/api/v1/jobs/?q=import&graph=g1&limit={n}",
        "/api/v1/graphs/?limit={n}",
        "/api/v1/projects/?limit={n}",
        "/api/v1/projects/alpha/members/?limit={n}",
        "/api/v1/jobs/{big}/timeline/?limit={n}",
        "/api/v1/jobs/{big}/failed-lines/?limit={n}",
        "/api/v1/jobs/{big}/files/?limit={n}",
    ],
)
@pytest.mark.parametrize("who", ["operator", "admin_user"])
def test_queries_per_list_request_do_not_depend_on_the_page_size(
    client_for, varied, request, url, who
):
    client = client_for(request.getfixturevalue(who))
    counts = {n: count_queries(client, url.format(n=n, big=varied.pk)) for n in (1, 2, 10, 50, 200)}
    assert len(set(counts.values())) == 1, counts
    assert counts[1] <= 6, counts  # token, projects, (count), page (ids, rows), one lookup


def test_the_job_list_is_five_queries_and_four_in_cursor_mode(api, admin_api, varied):
    # token, projects, the bounded count, the page's ids, their rows (jobs.listing.job_page);
    # a cursor page has no count; a superuser has no projects to look up
    assert count_queries(api, "/api/v1/jobs/?limit=50") == 5
    assert count_queries(api, "/api/v1/jobs/?cursor=&limit=50") == 4
    assert count_queries(admin_api, "/api/v1/jobs/?cursor=&limit=50") == 3
