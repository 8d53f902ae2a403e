"""Analytics jobs end to end in this process (the runner, the heartbeat thread and the real
stores): submission checks, results kept with the job, exports, index builds and graph
operations. Cancellation with a real worker process is in test_analytics_worker.py."""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from jobcenter.core.errors import InvalidInput, InvalidState, PermissionDenied
from jobcenter.graphs.indexes import list_indexes
from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_create, graph_lock_acquire, graph_lock_release
from jobcenter.graphs.stores.factory import open_store, store_key
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import ResultReader, result_path
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import (
    graph_delete_submit,
    job_purge,
    job_retry,
    job_submit_algorithm,
    job_submit_export,
    job_submit_graph_operation,
    job_submit_import,
    job_submit_index,
    job_submit_query,
)
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph, graphscope_graph
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db(transaction=True)


def run(job: Job) -> Job:
    execute_job(job_id=job.pk)
    return Job.objects.get(pk=job.pk)


def store_rows(graph: Graph) -> tuple[list, list]:
    store = open_store(graph)
    try:
        return store.vertices(), store.edges()
    finally:
        store.close()


@pytest.fixture
def movies(project, operator) -> Graph:
    graph = ges_graph(project)
    assert run(ges_movie_import(graph)).status == JobStatus.PARTIALLY_FAILED
    return Graph.objects.get(pk=graph.pk)


def modern_import(graph: Graph) -> Job:
    mapping = yaml.safe_load(shared_data("modern_graph", "bulk_load.yaml").read_text())
    mapping["loading_config"]["data_source"]["location"] = str(shared_data("modern_graph"))
    return job_submit_import(graph=graph, params={"format": "graphscope", "mapping": mapping})


def test_algorithm_job_keeps_a_paged_result(movies, operator):
    job = job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator)
    assert (job.type, job.name, job.cancellable) == (JobType.ALGORITHM, "Algorithm", True)
    assert job.params == {"algorithm": "pagerank", "parameters": {"alpha": 0.85, "directed": True}}
    job = run(job)
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    assert job.progress == 100.0
    assert job.result["total"] == 6 and job.result["kind"] == "vertices"
    with ResultReader(job.pk) as reader:
        page = reader.page(offset=2, limit=2)
        assert page.total == 6 and page.columns == ["id", "label", "pagerank"]
        assert [row["id"] for row in page.rows] == ["Ada", "Lethal Weapon"]
        assert sum(r[2] for r in reader.iter_rows()) == pytest.approx(1.0)


def test_shortest_path_job_on_the_movie_graph(movies, operator):
    job = job_submit_algorithm(
        graph=movies,
        algorithm="shortest_path",
        parameters={"source": "Vivian", "target": "Ada", "directed": True},
        user=operator,
    )
    job = run(job)
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    assert job.result["outputs"]["hops"] == 2  # Vivian -> Eric -> Ada (friends)
    with ResultReader(job.pk) as reader:
        assert [r[1] for r in reader.iter_rows()] == ["Vivian", "Eric", "Ada"]


def test_algorithm_parameters_are_checked_before_queueing(movies, operator):
    with pytest.raises(InvalidInput) as info:
        job_submit_algorithm(
            graph=movies,
            algorithm="personalized_pagerank",
            parameters={"source": "Nobody"},
            user=operator,
        )
    assert info.value.field == "parameters.source"
    assert info.value.message.startswith("parameter [source] is invalid!")
    assert not Job.objects.filter(type=JobType.ALGORITHM).exists()


def test_viewer_cannot_submit(movies, viewer):
    with pytest.raises(PermissionDenied):
        job_submit_algorithm(graph=movies, algorithm="pagerank", user=viewer)


def test_query_job(movies, operator):
    job = job_submit_query(
        graph=movies,
        query={
            "labels": ["user"],
            "filters": [{"property": "Gender", "predicate": "=", "values": ["F"]}],
            "sort": [{"property": "Age", "order": "desc"}],
        },
        user=operator,
    )
    assert job.name == "VertexQuery"
    job = run(job)
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    with ResultReader(job.pk) as reader:
        page = reader.page(offset=0, limit=10)
    assert [(r["id"], r["properties"]["Age"]) for r in page.rows] == [("Ada", 36), ("Vivian", 31)]
    assert job.lines_done == 2


def test_query_validation_names_the_field(movies, operator):
    with pytest.raises(InvalidInput) as info:
        job_submit_query(
            graph=movies,
            query={"filters": [{"property": "Age", "predicate": ">", "values": ["x"]}]},
            user=operator,
        )
    assert info.value.field == "filters.0.values.0"


def test_index_job_builds_an_index_later_queries_use(movies, operator):
    job = run(job_submit_index(graph=movies, label="user", property="Age", user=operator))
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    assert job.result["rows"] == 3
    store = open_store(movies)
    try:
        assert [i["label"] for i in list_indexes(store)] == ["user"]
    finally:
        store.close()
    with pytest.raises(InvalidInput) as info:
        job_submit_index(graph=movies, label="user", property="Height", user=operator)
    assert info.value.field == "property"


def test_index_job_waits_for_the_graph_write_lock(movies, operator):
    assert graph_lock_acquire(graph_id=movies.pk, job_id="someone-else")
    job = job_submit_index(graph=movies, label="user", property="Age", user=operator)
    threading.Timer(
        1.5, graph_lock_release, kwargs={"graph_id": movies.pk, "job_id": "someone-else"}
    ).start()
    job = run(job)
    assert job.status == JobStatus.SUCCEEDED
    assert (job.finished_at - job.started_at).total_seconds() >= 1.4
    assert Graph.objects.get(pk=movies.pk).write_lock == ""


def export_dir() -> Path:
    return Path(settings.JOBCENTER_EXPORT_ROOTS[0])


@pytest.mark.parametrize("dataset", ["ges_movie", "modern_graph"])
def test_ges_export_reimports_to_an_identical_graph(project, operator, dataset, imports_dir):
    if dataset == "ges_movie":
        source = ges_graph(project, "source")
        assert run(ges_movie_import(source)).status == JobStatus.PARTIALLY_FAILED
    else:
        source = graphscope_graph(project, "source")
        assert run(modern_import(source)).status == JobStatus.SUCCEEDED
    job = run(job_submit_export(graph=source, path=f"out/{dataset}", user=operator))
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    folder = export_dir() / "out" / dataset
    assert sorted(p.name for p in folder.iterdir()) == ["edge.csv", "schema.xml", "vertex.csv"]
    # Under the import roots (where imports may read), in a folder of this test's own.
    folder = Path(shutil.copytree(folder, Path(tempfile.mkdtemp(dir=imports_dir)) / dataset))
    copy = graph_create(project=project, name="copy", dialect="ges")
    again = job_submit_import(
        graph=copy,
        params={
            "format": "ges",
            "request": {
                "schema_path": str(folder / "schema.xml"),
                "vertexset_path": str(folder / "vertex.csv"),
                "edgeset_path": str(folder / "edge.csv"),
            },
        },
    )
    again = run(again)
    assert again.status == JobStatus.SUCCEEDED, again.fail_reason
    assert store_rows(Graph.objects.get(pk=copy.pk)) == store_rows(source)
    original = Graph.objects.get(pk=source.pk).schema
    copied = Graph.objects.get(pk=copy.pk).schema
    shape = lambda s: [  # noqa: E731
        (lbl["name"], [(p["name"], p["type"], p["cardinality"]) for p in lbl["properties"]])
        for lbl in s["labels"]
    ]
    assert shape(copied) == shape(original)
    if dataset == "ges_movie":  # the same schema, label kinds included
        assert [lbl["kind"] for lbl in copied["labels"]] == [
            lbl["kind"] for lbl in original["labels"]
        ]


def test_export_refuses_paths_outside_the_roots_and_existing_targets(movies, operator):
    for bad in ("../escape", "/etc/passwd-copy", ""):
        with pytest.raises(InvalidInput) as info:
            job_submit_export(graph=movies, path=bad, user=operator)
        assert info.value.field == "path"
    (export_dir() / "taken").mkdir(parents=True, exist_ok=True)
    with pytest.raises(InvalidInput, match="already exists"):
        job_submit_export(graph=movies, path="taken", user=operator)


def test_export_of_a_result_as_csv(movies, operator):
    algo = run(job_submit_algorithm(graph=movies, algorithm="degree_statistics", user=operator))
    job = run(job_submit_export(source_job=algo, path="results/degrees.csv", user=operator))
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    lines = (export_dir() / "results" / "degrees.csv").read_text().splitlines()
    assert lines[0] == "id,label,in_degree,out_degree,degree"
    assert "Eric,user,1,2,3" in lines and len(lines) == 7
    failed = run(job_submit_algorithm(graph=movies, algorithm="louvain", user=operator))
    Job.objects.filter(pk=failed.pk).update(status=JobStatus.FAILED)
    with pytest.raises(InvalidState):
        job_submit_export(source_job=Job.objects.get(pk=failed.pk), path="x.csv", user=operator)


def test_backup_clear_restore(movies, operator):
    before = store_rows(movies)
    backup = run(job_submit_graph_operation(graph=movies, operation="backup", path="b/movies.db"))
    assert backup.status == JobStatus.SUCCEEDED, backup.fail_reason
    assert backup.cancellable is False
    cleared = run(job_submit_graph_operation(graph=movies, operation="clear", user=operator))
    assert cleared.status == JobStatus.SUCCEEDED, cleared.fail_reason
    assert store_rows(movies) == ([], [])
    assert cleared.result["vertices_removed"] == 6
    # an algorithm after the clear sees the empty graph (no stale cached copy)
    empty = run(job_submit_algorithm(graph=movies, algorithm="pagerank"))
    assert empty.result["total"] == 0
    restored = run(
        job_submit_graph_operation(graph=movies, operation="restore", path="b/movies.db")
    )
    assert restored.status == JobStatus.SUCCEEDED, restored.fail_reason
    assert store_rows(movies) == before
    again = run(job_submit_algorithm(graph=movies, algorithm="pagerank"))
    assert again.result["total"] == 6


def test_a_retried_graph_operation_keeps_its_dialect(movies, operator):
    cleared = run(
        job_submit_graph_operation(graph=movies, operation="clear", user=operator, dialect="ges")
    )
    again = job_retry(job=cleared, user=operator)
    assert (again.dialect, again.params, again.retry_of_id) == ("ges", cleared.params, cleared.pk)


def test_restore_of_a_file_that_is_no_backup_fails_clearly(movies, operator):
    bogus = export_dir() / "bogus.db"
    bogus.parent.mkdir(parents=True, exist_ok=True)
    bogus.write_bytes(b"not a database at all" * 100)
    job = run(job_submit_graph_operation(graph=movies, operation="restore", path=str(bogus)))
    assert job.status == JobStatus.FAILED
    assert "not a" in job.fail_reason
    assert len(store_rows(movies)[0]) == 6
    with pytest.raises(InvalidInput):
        job_submit_graph_operation(graph=movies, operation="restore", path="/etc/hostname")
    with pytest.raises(InvalidInput):
        job_submit_graph_operation(graph=movies, operation="explode")


def test_jobs_on_a_graph_being_deleted(movies, operator):
    queued = job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator)
    graph_delete_submit(graph=movies, user=operator)
    with pytest.raises(InvalidState):
        job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator)
    job = run(queued)
    assert job.status == JobStatus.FAILED
    assert job.fail_reason == "graph 'movies' is being deleted"


def test_purge_removes_jobs_and_their_results(movies, operator):
    from django.utils import timezone

    job = run(job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator))
    assert result_path(job.pk).exists()
    assert job_purge(before=timezone.now()) >= 2
    assert not Job.objects.filter(pk=job.pk).exists()
    assert not result_path(job.pk).exists()


def test_purge_command_keeps_recent_results(movies, operator, tmp_path):
    from django.core.management import call_command

    job = run(job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator))
    orphan = result_path("0" * 32)
    shutil.copy(result_path(job.pk), orphan)
    call_command("purge_results", verbosity=0)
    assert result_path(job.pk).exists() and not orphan.exists()
    call_command("purge_results", "--days", "0", verbosity=0)
    assert not result_path(job.pk).exists()
    assert Job.objects.get(pk=job.pk).result["purged"] is True


def test_reads_never_see_a_running_import(movies, operator):
    """An import is one store transaction: an algorithm running meanwhile reads the last
    committed graph, not the half-written one."""
    writer = open_store(movies)
    try:
        writer.begin(width=writer.width(), schema=movies.schema)
        blanks = (None,) * writer.width()
        writer.add_vertices([(1000 + i, "", f"new{i}", "user", *blanks) for i in range(50)])
        job = run(job_submit_algorithm(graph=movies, algorithm="degree_statistics"))
        assert job.status == JobStatus.SUCCEEDED, job.fail_reason
        assert job.result["outputs"]["vertices"] == 6  # not 56
    finally:
        writer.rollback()
        writer.close()


def test_finished_analytics_jobs_can_be_retried(movies, operator):
    from jobcenter.jobs.services import job_retry

    first = run(
        job_submit_query(
            graph=movies,
            query={"labels": ["movie"], "sort": [{"property": "Year", "order": "desc"}]},
            user=operator,
        )
    )
    again = job_retry(job=first, user=operator)
    assert (again.retry_of_id, again.type, again.name) == (first.pk, first.type, first.name)
    again = run(again)
    with ResultReader(again.pk) as reader:
        assert [r[0] for r in reader.iter_rows()] == ["Up", "Heat", "Lethal Weapon"]
    algo = run(job_submit_algorithm(graph=movies, algorithm="k_core", parameters={"k": 1}))
    retried = run(job_retry(job=algo, user=operator)).result
    # the same result; the retry found the graph in memory, where the first run left it
    assert (algo.result.pop("graph_loaded_from"), retried.pop("graph_loaded_from")) == (
        "store",
        "memory",
    )
    del algo.result["seconds_loading"], retried["seconds_loading"]
    assert retried == algo.result


def test_compact_results_share_one_names_snapshot_and_page_like_rows(movies, operator):
    import os
    import time

    from django.core.management import call_command

    from jobcenter.jobs.results import names_path

    sssp = run(
        job_submit_algorithm(
            graph=movies,
            algorithm="single_source_shortest_paths",
            parameters={"source": "Vivian"},
        )
    )
    pagerank = run(job_submit_algorithm(graph=movies, algorithm="pagerank"))
    with ResultReader(sssp.pk) as first, ResultReader(pagerank.pk) as second:
        assert first.names_key and first.names_key == second.names_key
        snapshot = names_path(first.names_key)
        rows = list(first.iter_rows())
        # Vivian reaches Eric and Heat (1), then Lethal Weapon and Ada (2), Up and Heat...
        assert rows[0] == ("Vivian", "user", 0)
        assert {r[0]: r[2] for r in rows}["Ada"] == 2
        page = first.page(offset=1, limit=2)
        assert [tuple(r.values()) for r in page.rows] == rows[1:3]
        assert first.page(offset=len(rows), limit=5).rows == []
    assert snapshot.exists()
    # purging the results frees the snapshot (once it is old enough not to be in use)
    old = time.time() - 7200
    os.utime(snapshot, (old, old))
    call_command("purge_results", "--days", "0", "--jobs", verbosity=0)
    assert not snapshot.exists()


def test_results_expire_by_each_projects_retention(movies, operator, settings):
    """Old results go by their project's retention (0: for ever; none: the default)."""
    from datetime import timedelta

    from django.utils import timezone

    from jobcenter.jobs.services import job_results_expire
    from jobcenter.projects.services import project_update

    settings.JOBCENTER_RESULT_RETENTION_DAYS = 30
    job = run(job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator))
    Job.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=10))
    assert job_results_expire().removed == 0  # default 30 days: kept
    project_update(project=movies.project, user=None, result_retention_days=0)
    assert job_results_expire().removed == 0  # for ever
    project_update(project=movies.project, user=None, result_retention_days=7)
    assert job_results_expire().removed == 1
    assert not result_path(job.pk).exists()
    assert Job.objects.get(pk=job.pk).result["purged"] is True
    assert job_results_expire().removed == 0  # once


def test_a_damaged_result_file_does_not_stop_the_purge(movies, operator):
    """Retention goes on past a result whose metadata cannot be read."""
    import sqlite3

    from jobcenter.jobs.services import job_results_expire

    job = run(job_submit_algorithm(graph=movies, algorithm="pagerank", user=operator))
    conn = sqlite3.connect(result_path(job.pk))
    with conn:
        conn.execute("UPDATE meta SET value = '[not json' WHERE key = 'columns'")
    conn.close()
    report = job_results_expire()
    assert report.removed == 0
    assert result_path(job.pk).exists()  # a finished job's result stays under retention


def test_graphs_are_loaded_after_the_jobs_that_write_them(movies, operator):
    from jobcenter.graphs.resident import RESIDENT
    from jobcenter.jobs.resident import warm, warm_after_job
    from jobcenter.jobs.runner import SHUTDOWN

    imported = Job.objects.get(graph=movies, type=JobType.IMPORT)  # partially failed: data
    assert warm_after_job(imported.pk) and len(RESIDENT.held()) == 1
    key = RESIDENT.held()[0]
    assert key[0] == store_key(movies)

    # a clear writes a new data version: the old copy goes, the new one is loaded after
    cleared = run(job_submit_graph_operation(graph=movies, operation="clear", user=operator))
    assert RESIDENT.held() == []
    assert warm_after_job(cleared.pk) and RESIDENT.held()[0][1] != key[1]

    # jobs that write nothing, or fail, load nothing
    RESIDENT.clear()
    query = run(job_submit_query(graph=movies, query={"labels": ["movie"]}, user=operator))
    assert not warm_after_job(query.pk) and RESIDENT.held() == []
    # nor while other jobs wait: they go first
    waiting = job_submit_query(graph=movies, query={"labels": ["movie"]}, user=operator)
    assert not warm_after_job(imported.pk) and RESIDENT.held() == []
    run(waiting)
    Job.objects.filter(pk=imported.pk).update(status=JobStatus.FAILED)
    assert not warm_after_job(imported.pk) and RESIDENT.held() == []

    # a worker shutting down stops loading
    SHUTDOWN.set()
    try:
        assert not warm(movies) and RESIDENT.held() == []
    finally:
        SHUTDOWN.clear()
    assert warm(movies)
