"""Results read on another machine than the one that wrote them (jobcenter.core.shared): a
result is published to the shared storage and fetched by whoever reads it; its retention
reaches the shared storage; a half-written shared file is never kept."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from jobcenter.core import shared
from jobcenter.graphs.models import Graph
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import (
    ResultReader,
    ResultWriter,
    names_name,
    names_snapshot,
    result_name,
    result_path,
)
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import (
    job_purge,
    job_results_expire,
    job_submit_algorithm,
    job_submit_query,
)
from tests.api.conftest import token_for
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.machines import STORAGE_KINDS, Machines

pytestmark = pytest.mark.django_db(transaction=True)


def run(job: Job) -> Job:
    execute_job(job_id=job.pk)
    return Job.objects.get(pk=job.pk)


@pytest.fixture(params=STORAGE_KINDS)
def machines(request, settings, tmp_path) -> Machines:
    return Machines(settings, tmp_path, request.param)


@pytest.fixture
def api(operator) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(operator)}")
    return client


@pytest.fixture
def movies(project, operator) -> Graph:
    graph = ges_graph(project)
    assert run(ges_movie_import(graph)).status == JobStatus.PARTIALLY_FAILED
    return Graph.objects.get(pk=graph.pk)


def test_results_of_one_machine_are_read_on_another(machines, movies, operator, api):
    """Worker A computes a pagerank (compact: values plus the graph's names snapshot) and a
    query (rows); the web server B, with a result directory of its own, serves both through
    the API, as a page and as CSV."""
    machines.on("worker-a")
    ranked = run(job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator))
    queried = run(job_submit_query(graph=movies, query={"target": "vertices"}, user=operator))
    assert ranked.status == queried.status == JobStatus.SUCCEEDED, ranked.fail_reason
    with ResultReader(ranked.pk) as reader:
        expected_ranks = reader.page(offset=0, limit=1000).rows
    with ResultReader(queried.pk) as reader:
        expected_rows = reader.page(offset=0, limit=1000).rows

    web = machines.on("web-b")
    assert not result_path(ranked.pk).exists()
    page = api.get(f"/api/v1/jobs/{ranked.pk}/result/?limit=1000")
    assert page.status_code == 200, page.content
    assert page.json()["rows"] == expected_ranks and len(expected_ranks) > 0
    page = api.get(f"/api/v1/jobs/{queried.pk}/result/?limit=1000")
    assert page.status_code == 200, page.content
    assert page.json()["rows"] == expected_rows and len(expected_rows) > 0
    csv = api.get(f"/api/v1/jobs/{ranked.pk}/result.csv")
    assert csv.status_code == 200
    assert len(b"".join(csv.streaming_content).decode().splitlines()) == len(expected_ranks) + 1
    # fetched once into B's own result directory, names snapshot included
    assert result_path(ranked.pk).is_relative_to(web)
    assert result_path(ranked.pk).exists()

    # the dashboard's and GES's result pages on other web servers
    machines.on("web-c")
    dashboard = Client()
    dashboard.force_login(operator)
    page = dashboard.get(f"/jobs/{ranked.pk}/", follow=True)
    assert page.status_code == 200
    assert all(row["id"] in page.content.decode() for row in expected_ranks)
    machines.on("web-d")
    ges = APIClient()
    ges.credentials(HTTP_X_AUTH_TOKEN=token_for(operator))
    status = ges.get(f"/ges/v1.0/alpha/graphs/{movies.name}/jobs/{ranked.pk}/status")
    assert status.status_code == 200, status.content
    outputs = status.json()["data"]["outputs"]
    assert outputs["data_total_size"] == len(expected_ranks)
    assert {next(iter(e)) for e in outputs["pagerank"]} == {r["id"] for r in expected_ranks}


def test_retention_removes_results_from_the_shared_storage(machines, movies, operator, api):
    machines.on("worker-a")
    job = run(job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator))
    machines.on("web-b")
    assert api.get(f"/api/v1/jobs/{job.pk}/result/").status_code == 200  # B holds a copy now
    machines.on("worker-c")  # the retention runs on yet another worker
    job_results_expire(days=0)
    assert not shared.exists(result_name(job.pk))
    machines.on("web-b")
    response = api.get(f"/api/v1/jobs/{job.pk}/result/")
    assert response.status_code == 404
    assert "had its result removed (retention)" in response.json()["message"], response.json()
    assert not result_path(job.pk).exists()  # B's copy went with it


def test_purge_and_orphans_reach_the_shared_storage(machines, movies, operator):
    machines.on("worker-a")
    kept = run(job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator))
    purged = run(job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator))
    Job.objects.filter(pk=purged.pk).update(created_at=timezone.now() - timezone.timedelta(days=9))
    machines.on("worker-c")
    assert job_purge(before=timezone.now() - timezone.timedelta(days=1)) >= 1
    assert not shared.exists(result_name(purged.pk))
    assert shared.exists(result_name(kept.pk))
    with ResultReader(kept.pk) as reader:
        names_key = reader.names_key
    # A result whose job is gone (deleted behind the app's back), and a names snapshot no
    # result refers to any more, once it is an hour old.
    Job.objects.filter(pk=kept.pk).delete()
    job_results_expire()
    assert not shared.exists(result_name(kept.pk))
    assert shared.exists(names_name(names_key))  # written less than an hour ago
    old = time.time() - 7200
    os.utime(machines.shared / names_name(names_key), (old, old))
    job_results_expire()
    assert not shared.exists(names_name(names_key))


def test_a_names_snapshot_in_use_stays(machines, movies, operator):
    machines.on("worker-a")
    job = run(job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator))
    with ResultReader(job.pk) as reader:
        names_key = reader.names_key
    old = time.time() - 7200
    os.utime(machines.shared / names_name(names_key), (old, old))
    job_results_expire()
    assert shared.exists(names_name(names_key))
    machines.on("web-b")
    with ResultReader(job.pk) as reader:
        assert reader.total > 0


def test_a_half_written_shared_file_is_never_kept(machines, db):
    machines.on("worker-a")
    names_snapshot("k" * 32, [("a", "person"), ("b", "person")])
    writer = ResultWriter("d" * 32, kind="vertices", columns=["id", "label", "rank"])
    writer.add_vertex_values(names_key="k" * 32, values=[0.5, 0.5], indices=None)
    writer.finish()
    writer.publish()
    whole = (machines.shared / result_name("d" * 32)).read_bytes()
    (machines.shared / result_name("d" * 32)).write_bytes(whole[: len(whole) // 2])
    machines.on("web-b")
    with pytest.raises(sqlite3.DatabaseError, match="still being written"):
        ResultReader("d" * 32)
    assert not result_path("d" * 32).exists()
    assert list(result_path("d" * 32).parent.iterdir()) == []  # no temporary left either
    (machines.shared / result_name("d" * 32)).write_bytes(whole)  # the writer got there
    with ResultReader("d" * 32) as reader:
        assert [r["id"] for r in reader.page(offset=0, limit=5).rows] == ["a", "b"]
