"""End to end with a real ``db_worker`` process: run, cancel, kill -9, shut down."""

from __future__ import annotations

import signal
import time

import pytest

from jobcenter.graphs.models import Graph
from jobcenter.graphs.stores.factory import open_store, store_exists
from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import register, unregister
from jobcenter.jobs.services import job_cancel, job_submit_import
from tests.factories.files import PACED, write_ges_files
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.factories.waiting import wait_for
from tests.jobs import sleepy_kind

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def status_of(job: Job) -> str:
    return Job.objects.get(pk=job.pk).status


def graph_counts(graph: Graph) -> dict:
    if not store_exists(graph):
        return {"vertices": {}, "edges": {}}
    store = open_store(graph)
    try:
        return store.counts()
    finally:
        store.close()


# A cancel reaches a running job at its next heartbeat (a worker's stop signal, at once): tests
# that cancel or kill an import part-way beat often, so that it is seen running and the cancel
# lands while the (columnar, fast) import runs.
QUICK_BEAT = "0.2"


# Edges of an import still reading when the tests that stop, cancel or kill a running import
# act (at its first progress, about a second in): their workers run it at a pace (PACED)
# that makes it last at least 30 s, however fast the machine.
STILL_READING = 6_000_000


def big_import(graph: Graph, imports_dir, *, edges: int = 600_000) -> Job:
    files = write_ges_files(imports_dir / f"big-{graph.pk}", vertices=20_000, edges=edges)
    return job_submit_import(graph=graph, params={"format": "ges", "request": files})


def test_worker_imports_ges_movie_with_exact_counts(project, worker_factory):
    graph = ges_graph(project)
    job = ges_movie_import(graph)
    worker_factory()
    wait_for(lambda: status_of(job) in TERMINAL_STATUSES, timeout=60)
    job.refresh_from_db()
    assert job.status == JobStatus.PARTIALLY_FAILED, job.fail_reason
    files = {f.role: f for f in job.files.all()}
    assert (files["schema"].total_lines, files["schema"].successful_lines) == (4, 4)
    assert (
        files["vertex"].total_lines,
        files["vertex"].successful_lines,
        files["vertex"].failed_lines,
        files["vertex"].status,
    ) == (10, 6, 4, "partFailed")
    assert (
        files["edge"].total_lines,
        files["edge"].successful_lines,
        files["edge"].failed_lines,
        files["edge"].status,
    ) == (9, 5, 4, "partFailed")
    failed = list(job.failed_lines.values_list("file__role", "line_number"))
    assert failed == [
        ("vertex", 4),
        ("vertex", 5),
        ("vertex", 9),
        ("vertex", 10),
        ("edge", 6),
        ("edge", 7),
        ("edge", 8),
        ("edge", 9),
    ]
    assert job.progress == 100.0 and job.started_at and job.finished_at
    assert (job.lines_done, job.lines_total) == (19, 19)  # data lines; schema labels are not
    counts = graph_counts(graph)
    assert sum(counts["vertices"].values()) == 6 and sum(counts["edges"].values()) == 5


def test_cancel_running_import_leaves_graph_unchanged(project, worker_factory, imports_dir):
    graph = ges_graph(project)
    first = ges_movie_import(graph)
    worker_factory(JOBCENTER_HEARTBEAT_INTERVAL=QUICK_BEAT, **PACED)
    wait_for(lambda: status_of(first) in TERMINAL_STATUSES, timeout=60)
    before = graph_counts(graph)
    job = big_import(graph, imports_dir, edges=STILL_READING)
    wait_for(lambda: Job.objects.get(pk=job.pk).lines_done > 0, timeout=60)
    requested = time.monotonic()
    job_cancel(job=Job.objects.get(pk=job.pk))
    wait_for(lambda: status_of(job) in TERMINAL_STATUSES, timeout=30)
    observed = time.monotonic() - requested
    assert status_of(job) == JobStatus.CANCELLED
    assert observed < 2.5, f"cancellation took {observed:.2f}s"
    assert graph_counts(graph) == before


def test_killed_worker_job_is_recovered_and_rolled_back(project, worker_factory, imports_dir):
    graph = ges_graph(project)
    job = big_import(graph, imports_dir, edges=STILL_READING)
    worker = worker_factory(
        JOBCENTER_STALE_AFTER="3",
        JOBCENTER_SWEEP_INTERVAL="0.5",
        JOBCENTER_HEARTBEAT_INTERVAL=QUICK_BEAT,
        **PACED,
    )
    wait_for(lambda: Job.objects.get(pk=job.pk).lines_done > 0, timeout=60)
    worker.kill()
    assert status_of(job) == JobStatus.RUNNING
    # a new worker sweeps at start and then periodically
    worker_factory(JOBCENTER_STALE_AFTER="3", JOBCENTER_SWEEP_INTERVAL="0.5")
    wait_for(lambda: status_of(job) in TERMINAL_STATUSES, timeout=30)
    job.refresh_from_db()
    assert (job.status, job.fail_reason) == (JobStatus.FAILED, "worker lost")
    assert graph_counts(graph) == {"vertices": {}, "edges": {}}
    assert Graph.objects.get(pk=graph.pk).write_lock == ""


def test_worker_shutdown_requeues_running_job(project, worker_factory, imports_dir):
    graph = ges_graph(project)
    job = big_import(graph, imports_dir, edges=STILL_READING)
    worker = worker_factory(**PACED)
    wait_for(lambda: Job.objects.get(pk=job.pk).lines_done > 0, timeout=60)
    started = time.monotonic()
    assert worker.stop() == 0, worker.output()
    assert time.monotonic() - started < 10
    job.refresh_from_db()
    assert job.status == JobStatus.WAITING and job.lines_done == 0
    assert graph_counts(graph) == {"vertices": {}, "edges": {}}
    worker_factory()
    wait_for(lambda: status_of(job) in TERMINAL_STATUSES, timeout=120)
    assert status_of(job) == JobStatus.SUCCEEDED
    assert sum(graph_counts(graph)["edges"].values()) == STILL_READING


def test_a_stop_signal_reaches_a_running_import_at_once(project, worker_factory, imports_dir):
    """With the default heartbeat interval (about a second), a stop signal sent just after a
    heartbeat does not wait for the next one: the import stops at once, rolls back and is back
    in the queue within half a second."""
    graph = ges_graph(project)
    job = big_import(graph, imports_dir, edges=STILL_READING)
    worker = worker_factory(**PACED)
    wait_for(lambda: Job.objects.get(pk=job.pk).lines_done > 0, timeout=60)
    last_beat = Job.objects.get(pk=job.pk).heartbeat_at
    wait_for(lambda: Job.objects.get(pk=job.pk).heartbeat_at != last_beat, interval=0.01)
    sent = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    wait_for(lambda: status_of(job) != JobStatus.RUNNING, interval=0.01)
    took = time.monotonic() - sent
    job.refresh_from_db()
    assert (job.status, job.lines_done) == (JobStatus.WAITING, 0), worker.output()
    assert took < 0.5, f"the job stopped {took:.2f}s after the signal"
    assert worker.proc.wait(timeout=20) == 0, worker.output()
    assert graph_counts(graph) == {"vertices": {}, "edges": {}}


def test_a_stop_signal_delivered_twice_is_one_graceful_stop(project, worker_factory, imports_dir):
    """A supervisor that signals the worker and its whole process group (or make plus a
    terminal) delivers the same stop twice within milliseconds: the job still goes back to the
    queue instead of being left running by a forced exit."""
    graph = ges_graph(project)
    job = big_import(graph, imports_dir, edges=STILL_READING)
    worker = worker_factory(**PACED)
    wait_for(lambda: Job.objects.get(pk=job.pk).lines_done > 0, timeout=60)
    worker.proc.send_signal(signal.SIGINT)
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=20) == 0, worker.output()
    job.refresh_from_db()
    assert (job.status, job.lines_done) == (JobStatus.WAITING, 0), worker.output()
    assert "forced exit" not in worker.output()
    assert graph_counts(graph) == {"vertices": {}, "edges": {}}


@pytest.fixture
def sleepy_registered():
    register(sleepy_kind.KIND)
    yield sleepy_kind.KIND
    unregister(sleepy_kind.TYPE)


def test_a_second_stop_signal_later_forces_exit_at_once(project, worker_factory, sleepy_registered):
    graph = ges_graph(project)
    # A job that does not look at its stop flag for a minute (one long library call).
    job = sleepy_kind.job_submit_sleepy(graph=graph)
    worker = worker_factory(JOBCENTER_JOB_KINDS="tests.jobs.sleepy_kind")
    wait_for(lambda: status_of(job) == JobStatus.RUNNING, timeout=60)
    worker.proc.send_signal(signal.SIGTERM)
    time.sleep(1.5)
    assert worker.proc.poll() is None, worker.output()
    sent = time.monotonic()
    worker.proc.send_signal(signal.SIGTERM)
    assert worker.proc.wait(timeout=10) == 1, worker.output()
    assert time.monotonic() - sent < 2
    assert "forced exit" in worker.output()
    # Left as a crash leaves it: the sweep of the next worker recovers it.
    assert status_of(job) == JobStatus.RUNNING


def test_an_idle_worker_outlives_a_write_lock_longer_than_its_busy_timeout(
    project, worker_factory, imports_dir
):
    """Another process holding the job database's write lock (say, a burst of thousands of
    submits in one transaction) makes the worker's claim give up: it looks again later, it does
    not die. PostgreSQL claims never wait on such a lock (SKIP LOCKED): there the test checks
    that a long transaction elsewhere does not stop the worker either."""
    from django.db import connection

    worker = worker_factory(JOBCENTER_TEST_SQLITE_BUSY="0.3")
    graph = ges_graph(project)
    wait_for(lambda: "Starting worker" in worker.output(), timeout=30)
    if connection.vendor == "sqlite":
        import sqlite3

        holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        time.sleep(2)  # several of the worker's polls give up on the lock meanwhile
        holder.execute("ROLLBACK")
        holder.close()
    else:
        with connection.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("LOCK TABLE jobs_job IN SHARE ROW EXCLUSIVE MODE")
            time.sleep(2)
            cursor.execute("ROLLBACK")
    assert worker.proc.poll() is None, worker.output()
    job = ges_movie_import(graph)
    wait_for(lambda: status_of(job) in TERMINAL_STATUSES, timeout=60)
    assert status_of(job) == JobStatus.PARTIALLY_FAILED
