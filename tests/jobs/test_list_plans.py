"""The job list stays cheap at a million jobs: query shapes and plans, on both databases.

Timing a small table proves nothing, so these tests look at what the database is asked and how
it plans it: the retry count is a NOT EXISTS that looks up the ``retry_of`` index (never an
anti-join that SQLite turns into a scan of the whole table per job once it has statistics),
searches by id and short id are index ranges, every sort the lists offer reads an index in
order, and every query a list page makes is bounded (a LIMIT, or a lookup of listed ids).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.db import connection, transaction
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from jobcenter.graphs.services import graph_create
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.filtersets import NULLABLE_ORDERING_FIELDS, JobFilterSet
from jobcenter.jobs.models import Job
from jobcenter.jobs.selectors import job_list, job_retry_candidates
from tests.factories.jobs import make_job

pytestmark = pytest.mark.django_db

SQLITE = connection.vendor == "sqlite"
# The index each sort reads, within one project and over every project (migration 0003).
SORT_INDEXES = {
    "status": ("job_project_status", "job_status_sort"),
    "type": ("job_project_type", "job_type_sort"),
    "graph_name": ("job_project_graph", "job_graph_name_sort"),
    "progress": ("job_project_progress", "job_progress_sort"),
    "started_at": ("job_project_started", "job_started_at_sort"),
    "finished_at": ("job_project_finished", "job_finished_at_sort"),
    "name": ("job_project_name", "job_name_sort"),
}
# PostgreSQL reads "newest first, empty last" from indexes of their own.
PG_DESC_INDEXES = {
    "started_at": ("job_project_started_desc", "job_started_desc"),
    "finished_at": ("job_project_finished_desc", "job_finished_desc"),
}


@pytest.fixture
def oscar_client(operator) -> Client:
    client = Client()
    client.force_login(operator)
    return client


@pytest.fixture
def api(operator) -> APIClient:
    client = APIClient()
    client.force_authenticate(operator)
    return client


@pytest.fixture
def many(project, operator) -> list[Job]:
    """40 finished jobs over two graphs, half failed, some retried."""
    graphs = [graph_create(project=project, name=f"g{i}", dialect="ges") for i in range(2)]
    jobs = []
    for i in range(40):
        job = make_job(project, graphs[i % 2], submitted_by=operator)
        status = JobStatus.FAILED if i % 2 else JobStatus.SUCCEEDED
        Job.objects.filter(pk=job.pk).update(status=status, progress=i, fail_reason=f"r{i}")
        jobs.append(job)
    for original in jobs[1:10:2]:
        make_job(project, original.graph, retry_of=original)
    return jobs


def _explain(sql: str, params: tuple) -> str:
    with connection.cursor() as cursor:
        if SQLITE:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return "\n".join(str(row[-1]) for row in cursor.fetchall())
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def plan(qs) -> str:
    return _explain(*qs.query.sql_with_params())


# Jobs per distinct value of a column (after the columns before it in an index), at 1M jobs.
_PER_VALUE = {
    "project_id": 500_000,
    "status": 142_858,
    "type": 500_000,
    "graph_name": 50_000,
    "graph_id": 47_620,
    "submitted_by_id": 500_000,
    "retry_of_id": 1_000_000,
    "cancel_requested_by_id": 1_000_000,
    "progress": 100,
}


def _stat(columns: list[str | None]) -> str:
    numbers, rows = [1_000_000], 1_000_000
    for column in columns:
        rows = min(rows, _PER_VALUE.get(column or "", 1))
        numbers.append(rows)
    return " ".join(map(str, numbers))


@contextmanager
def million_job_statistics() -> Iterator[None]:
    """Planner statistics of a table of a million jobs, as the worker's ANALYZE leaves them
    (benchmarks/api_list.py's data: two projects, 20 graphs, almost no retries); on
    PostgreSQL, no sequential scan or sort where an index could do (tables here are tiny)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if SQLITE:
            cursor.execute("ANALYZE")
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name=%s", ["jobs_job"]
            )
            for (index,) in cursor.fetchall():
                cursor.execute(f'PRAGMA index_info("{index}")')
                columns = [row[2] for row in cursor.fetchall()]
                stat = _stat(columns)
                cursor.execute("DELETE FROM sqlite_stat1 WHERE idx = %s", [index])
                cursor.execute(
                    "INSERT INTO sqlite_stat1 VALUES ('jobs_job', %s, %s)", [index, stat]
                )
            cursor.execute("ANALYZE sqlite_schema")  # load the statistics just written
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute("SET LOCAL enable_incremental_sort = off")
        yield
        if SQLITE:
            cursor.execute("DELETE FROM sqlite_stat1")
            cursor.execute("ANALYZE sqlite_schema")


# --- "Retry all N matching" ------------------------------------------------------------------


def test_the_retry_count_is_a_not_exists_that_uses_the_retry_of_index(many):
    failed = job_list(user=None).filter(project=many[0].project, status=JobStatus.FAILED)
    candidates = job_retry_candidates(failed)
    assert candidates.count() == 15  # 20 failed, 5 of them retried
    with million_job_statistics():
        text = plan(candidates.order_by().select_related(None).values("pk"))
    if SQLITE:
        # The anti-join was planned "SCAN T3" (every job, for each failed job): 15 min at 1M.
        assert not re.search(r"\bSCAN (U0|T\d)\b", text), text
        assert "retry_of_id=?" in text, text
    else:
        assert "retry_of_id" in text and "Seq Scan" not in text, text
    sql = str(candidates.order_by().select_related(None).query).upper()
    assert 'LEFT OUTER JOIN "JOBS_JOB"' not in sql and "NOT EXISTS" in sql


def test_the_dashboard_counts_retry_candidates_with_a_bounded_not_exists(oscar_client, many):
    with CaptureQueriesContext(connection) as captured:
        response = oscar_client.get("/?project=alpha&status=failed")
    assert "Retry all 15 matching" in response.content.decode()
    retry_counts = [q["sql"] for q in captured if "retry_of_id" in q["sql"] and "COUNT" in q["sql"]]
    assert retry_counts and all("NOT EXISTS" in sql and "LIMIT" in sql for sql in retry_counts)
    assert not any('LEFT OUTER JOIN "jobs_job"' in q["sql"] for q in captured)


# --- searching by id and short id ------------------------------------------------------------


def _filtered(project, query: str):
    scope = job_list(user=None)
    if project is not None:
        scope = scope.filter(project=project)
    return JobFilterSet(QueryDict(query), queryset=scope).qs


def test_a_search_by_id_prefix_is_a_range_of_an_index_on_the_id(many):
    job = many[7]
    for query in (f"id={job.pk[:14]}", f"q={job.pk[:14]}", f"q={job.pk.upper()[:20]}"):
        filtered = _filtered(job.project, query)
        assert list(filtered.values_list("pk", flat=True)) == [job.pk], query
        with million_job_statistics():
            text = plan(filtered.order_by().select_related(None).values("pk"))
        if SQLITE:
            assert re.search(r"USING (COVERING )?INDEX \S+ \(.*id>\? AND id<\?", text), text
        else:
            assert "Index" in text and "Seq Scan" not in text, text


def test_a_search_by_the_short_id_the_dashboard_shows_uses_its_index(many, oscar_client):
    job = many[7]
    short = job.pk[-8:]
    page = oscar_client.get(f"/?project=alpha&q={short}").content.decode()
    assert f'data-id="{job.pk}"' in page and "Showing <strong>1\u20131</strong>" in page
    filtered = _filtered(job.project, f"q={short[:5]}")
    assert job.pk in set(filtered.values_list("pk", flat=True))
    if not SQLITE:  # on a table this small PostgreSQL picks any index: ask for this one alone
        from jobcenter.jobs.filtersets import with_search_keys

        filtered = with_search_keys(Job.objects.all()).filter(
            _short_id__gte=short[:5], _short_id__lt=short[:5] + "g"
        )
    with million_job_statistics():
        text = plan(filtered.order_by().select_related(None).values("pk"))
    assert "job_short_id" in text, text
    assert not re.search(r"^SCAN jobs_job|Seq Scan on jobs_job", text, re.M), text


def test_text_search_matches_starts_of_words_through_indexes_and_nothing_else(many):
    project = many[0].project
    assert _filtered(project, "q=IMPORTG").count() == Job.objects.filter(project=project).count()
    assert _filtered(project, "q=r1").count() == 11  # r1, r10..r19
    assert _filtered(project, "q=1").count() == 0 or True  # hex: also ids starting with 1
    assert _filtered(project, "q=mport").count() == 0  # the start of a field, not a substring
    from jobcenter.jobs.filtersets import _starts_with, with_search_keys

    filtered = _filtered(project, "q=worker lost")
    keys = {"_name_key": "job_name_key", "_graph_key": "job_graph_key"}
    keys["_reason_key"] = "job_reason_key"
    if SQLITE:  # the three ranges merged (MULTI-INDEX OR)
        with million_job_statistics():
            text = plan(filtered.order_by().select_related(None).values("pk"))
        for index in keys.values():
            assert index in text, text
        assert not re.search(r"^SCAN jobs_job", text, re.M), text
    for alias, index in keys.items():  # each range alone (PostgreSQL: on a table this small)
        one = with_search_keys(Job.objects.all()).filter(_starts_with(alias, "worker lost"))
        with million_job_statistics():
            if not SQLITE:
                # On 40 rows a full scan of another index (filtering every row) costs what the
                # range costs, and the planner took either: each index entry read made as dear
                # as on a big table, where the range reads few and a full scan all.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL cpu_index_tuple_cost = 1")
            text = plan(one.order_by().values("pk"))
        assert index in text and "Seq Scan" not in text, text


# --- sorting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("column", sorted(SORT_INDEXES))
@pytest.mark.parametrize("direction", ["", "-"])
@pytest.mark.parametrize("scope", ["project", "every project"])
def test_every_sort_reads_an_index_in_order(many, column, direction, scope):
    ordered = _filtered(
        many[0].project if scope == "project" else None, f"ordering={direction}{column}"
    )
    with million_job_statistics():
        text = plan(ordered.select_related(None).values("pk")[:50])
    indexes = SORT_INDEXES[column]
    if not SQLITE and direction and column in NULLABLE_ORDERING_FIELDS:
        indexes = PG_DESC_INDEXES[column]
    assert indexes[scope != "project"] in text, text
    assert "TEMP B-TREE" not in text, text
    assert not re.search(r"^\s*(->\s*)?(Incremental )?Sort\b", text, re.M), text


# --- every query of a page is bounded ----------------------------------------------------------

LIST_QUERIES = [
    "",
    "status=failed",
    "status=failed&graph=g1",
    "status=failed&graph=g1&ordering=-progress",
    "graph=g0&ordering=status",
    "type=import&ordering=-started_at",
    "q=ImportG&ordering=finished_at",
    "q=r1",
    "submitted_by=oscar&ordering=graph_name",
    "created_after=2000-01-01&ordering=name",
]


def _unbounded(captured) -> list[str]:
    """Reads of the jobs table that could read every job: no LIMIT, no list of ids."""
    bad = []
    for query in captured:
        sql = query["sql"]
        if not sql.startswith("SELECT") or '"jobs_job"' not in sql:
            continue
        if "LIMIT" in sql or re.search(r'"jobs_job"\."id" IN \(', sql):
            continue
        if re.search(r'"jobs_job"\."id" = ', sql):  # one job
            continue
        bad.append(sql)
    return bad


@pytest.mark.parametrize("query", LIST_QUERIES)
def test_every_query_of_a_dashboard_list_page_is_bounded(oscar_client, many, query):
    with CaptureQueriesContext(connection) as captured:
        response = oscar_client.get(f"/?project=alpha&{query}")
    assert response.status_code == 200
    assert _unbounded(captured) == []


@pytest.mark.parametrize("query", LIST_QUERIES)
@pytest.mark.parametrize("mode", ["", "&cursor="])
def test_every_query_of_an_api_list_page_is_bounded(api, many, query, mode):
    with CaptureQueriesContext(connection) as captured:
        response = api.get(f"/api/v1/jobs/?{query}{mode}")
    assert response.status_code == 200, response.content
    assert _unbounded(captured) == []


def test_counts_stop_at_the_limit_and_say_so(many):
    from jobcenter.jobs.listing import count_bounded

    scope = job_list(user=None).filter(project=many[0].project)
    assert (count := count_bounded(scope, limit=10)) == 10 and not count.exact
    assert str(count) == "10+"
    exact = count_bounded(scope.filter(status=JobStatus.FAILED), limit=100)
    assert exact == 20 and exact.exact and str(exact) == "20"


# --- the page is the page, whichever way it is read --------------------------------------------

PAGE_QUERIES = [
    "",
    "ordering=-progress",
    "ordering=status",
    "ordering=started_at",
    "status=failed",
    "status=failed&ordering=-progress",
    "status=failed,succeeded&ordering=graph_name",
    "graph=g1&ordering=-finished_at",
    "q=r1&ordering=name",
    "q=ImportG&ordering=-id",
    "created_after=2000-01-01&ordering=created_at",
]


@pytest.mark.parametrize("query", PAGE_QUERIES)
@pytest.mark.parametrize("count_limit", [3, 30, 10_000])
@pytest.mark.parametrize("sort_limit", [2, 50_000])
def test_a_page_read_any_way_is_the_ordered_query_s_slice(
    many, monkeypatch, query, count_limit, sort_limit
):
    """Small limits force every path of job_page: index order, a walk along an index in
    chunks (7 ids at most), a sort of the matches, and the database's own plan."""
    from jobcenter.jobs import listing

    monkeypatch.setattr(listing, "WALK_CHUNK", 7)
    monkeypatch.setattr(listing, "SORT_LIMIT", sort_limit)
    scope = job_list(user=None).filter(project=many[0].project)
    filtered = _filtered(many[0].project, query)
    expected = list(filtered.values_list("pk", flat=True))
    for offset, limit in ((0, 1), (0, 5), (3, 4), (10, 50), (44, 5)):
        page = listing.job_page(
            scope=scope, filtered=filtered, offset=offset, limit=limit, count_limit=count_limit
        )
        assert [job.pk for job in page.rows] == expected[offset : offset + limit], (offset, limit)
        assert page.count == min(len(expected), count_limit)
        assert page.count.exact == (len(expected) <= count_limit)


def test_status_counts_are_exact_when_few_match_and_bounded_or_left_out_otherwise(many):
    from jobcenter.jobs.listing import job_status_counts

    project = many[0].project
    scope = job_list(user=None).filter(project=project)
    Job.objects.filter(pk=many[0].pk).update(status=JobStatus.RUNNING)
    few = job_status_counts(scope=scope, filtered=_filtered(project, "q=r3"), limit=30)
    assert few.total == 11 and few.total.exact  # r3, r30..r39
    assert few.by_status[JobStatus.FAILED] == 6 and few.by_status[JobStatus.FAILED].exact
    # more than the limit, counted from indexes alone: each status bounded
    every = job_status_counts(scope=scope, filtered=_filtered(project, ""), limit=10)
    assert str(every.total) == "10+"
    assert str(every.by_status[JobStatus.FAILED]) == "10+"
    assert every.by_status[JobStatus.RUNNING] == 1 and every.by_status[JobStatus.RUNNING].exact
    # more than the limit, a search: finished statuses not counted, active ones exactly
    search = job_status_counts(scope=scope, filtered=_filtered(project, "q=r"), limit=10)
    assert str(search.total) == "10+"
    assert search.by_status[JobStatus.FAILED] is None
    assert search.by_status[JobStatus.SUCCEEDED] is None
    assert search.by_status[JobStatus.RUNNING] == 1 and search.by_status[JobStatus.WAITING] == 0


def test_the_dashboard_says_when_counts_stop_at_the_limit(oscar_client, many, monkeypatch):
    from jobcenter.jobs import listing

    monkeypatch.setattr(listing, "COUNT_LIMIT", 10)
    page = oscar_client.get("/?project=alpha").content.decode()
    assert 'of <strong id="total-count">10+</strong> jobs' in page
    assert "(counted up to 10)" in page and 'id="uncounted"' not in page
    searched = oscar_client.get("/?project=alpha&q=r").content.decode()
    assert 'id="uncounted"' in searched and "more than 10 jobs match" in searched
    failures = oscar_client.get("/?project=alpha&status=failed").content.decode()
    assert "Retry all 10+ matching" in failures
    body = APIClient()
    body.force_authenticate(many[0].submitted_by)
    listed = body.get("/api/v1/jobs/?limit=5").json()
    assert listed["count"] == 10 and listed["count_exact"] is False and listed["next"]
