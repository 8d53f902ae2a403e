"""Analytics jobs in a real ``db_worker`` process: real progress, and a cancel that stops a
long algorithm within 2 seconds (inside igraph's C code, and by killing the child process of
an algorithm that cannot be interrupted) without keeping any result."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.db import transaction

from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import ResultReader, result_path
from jobcenter.jobs.services import job_cancel, job_submit_algorithm, job_submit_import
from jobcenter.jobs.wakeup import announce
from jobcenter.projects.services import project_create
from tests.factories.files import random_ges_files
from tests.factories.graphs import ges_graph
from tests.factories.waiting import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def status_of(job: Job) -> str:
    return Job.objects.get(pk=job.pk).status


def cancel_while_computing(job: Job) -> float:
    """Wait until the job computes, cancel it, return how long the stop took."""
    wait_for(lambda: Job.objects.get(pk=job.pk).progress >= 50.0, timeout=90, interval=0.02)
    running = Job.objects.get(pk=job.pk)
    assert running.status == JobStatus.RUNNING
    # real progress: the load phase counted the edges it read
    assert running.lines_total == running.lines_done == 600_000, (
        running.progress,
        running.lines_done,
        running.lines_total,
    )
    requested = time.monotonic()
    job_cancel(job=running)
    wait_for(lambda: status_of(job) in TERMINAL_STATUSES, timeout=30, interval=0.02)
    return time.monotonic() - requested


def test_cancel_stops_long_algorithms_within_two_seconds(project, worker_factory, imports_dir):
    graph = ges_graph(project)
    files = random_ges_files(imports_dir / "random", vertices=120_000, edges=600_000, seed=11)
    imported = job_submit_import(graph=graph, params={"format": "ges", "request": files})
    worker_factory(JOBCENTER_HEARTBEAT_INTERVAL="0.2")
    wait_for(lambda: status_of(imported) in TERMINAL_STATUSES, timeout=120)
    assert status_of(imported) == JobStatus.SUCCEEDED

    # label propagation: igraph's C loop sees the worker's interrupt signal
    lpa = job_submit_algorithm(graph=graph, algorithm="label_propagation")
    took = cancel_while_computing(lpa)
    assert status_of(lpa) == JobStatus.CANCELLED
    assert took < 2.0, f"label propagation stopped after {took:.2f}s"

    # louvain: igraph does not check for interruption in it; its child process is killed
    louvain = job_submit_algorithm(graph=graph, algorithm="louvain")
    took = cancel_while_computing(louvain)
    assert status_of(louvain) == JobStatus.CANCELLED
    assert took < 2.0, f"louvain stopped after {took:.2f}s"

    for job in (lpa, louvain):
        assert not result_path(job.pk).exists()
        assert not Path(f"{result_path(job.pk)}.part").exists()
        assert Job.objects.get(pk=job.pk).result is None

    # the worker is still good for the next job
    cc = job_submit_algorithm(graph=graph, algorithm="connected_components")
    wait_for(lambda: status_of(cc) in TERMINAL_STATUSES, timeout=60)
    cc.refresh_from_db()
    assert cc.status == JobStatus.SUCCEEDED and cc.result["total"] == 120_000


def finished(job: Job, timeout: float = 60) -> Job:
    wait_for(lambda: status_of(job) in TERMINAL_STATUSES, timeout=timeout)
    job = Job.objects.get(pk=job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    return job


def test_worker_keeps_graphs_in_memory_for_algorithm_jobs(project, worker_factory, imports_dir):
    graph = ges_graph(project)
    files = random_ges_files(imports_dir / "resident", vertices=3_000, edges=12_000, seed=4)
    imported = job_submit_import(graph=graph, params={"format": "ges", "request": files})
    worker = worker_factory()
    finished(imported)
    # the worker loads the imported graph as soon as the import ended (no job was waiting)
    wait_for(lambda: "loaded into memory: 3000 vertices, 12000 edges" in worker.output())
    louvain = finished(job_submit_algorithm(graph=graph, algorithm="louvain"))
    assert louvain.result["graph_loaded_from"] == "memory"
    assert louvain.result["total"] == 3_000

    # a worker that starts loads the graphs of the latest algorithm jobs before taking jobs
    worker.stop()
    worker = worker_factory()
    components = finished(job_submit_algorithm(graph=graph, algorithm="connected_components"))
    assert components.result["graph_loaded_from"] == "memory"
    assert "Loaded 1 graph(s) in memory" in worker.output()

    # without that, the first job reads the store, and the next finds the graph in memory
    worker.stop()
    worker_factory(JOBCENTER_WARM_ON_START="0")
    first = finished(job_submit_algorithm(graph=graph, algorithm="k_core"))
    second = finished(job_submit_algorithm(graph=graph, algorithm="k_core"))
    assert (first.result["graph_loaded_from"], second.result["graph_loaded_from"]) == (
        "store",
        "memory",
    )
    assert first.result["outputs"] == second.result["outputs"]


def children_of(pid: int) -> set[int]:
    """The live child processes of process ``pid`` (Linux's /proc)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.add(int(entry.name))
    return found


def test_an_idle_worker_keeps_a_standby_child_with_the_graph_of_now(
    project, worker_factory, imports_dir
):
    """Its next computation starts without a fork (graphs/compute.py); a standby child serves
    one computation, and the one forked after a re-import holds the new data. (Louvain: never
    estimated short, so always computed in a child.)"""
    graph = ges_graph(project)
    files = random_ges_files(imports_dir / "standby-1", vertices=3_000, edges=12_000, seed=4)
    imported = job_submit_import(graph=graph, params={"format": "ges", "request": files})
    worker = worker_factory()
    finished(imported)
    wait_for(lambda: "loaded into memory: 3000 vertices, 12000 edges" in worker.output())
    wait_for(lambda: len(children_of(worker.pid)) == 1)  # forked while idle
    (standby,) = children_of(worker.pid)
    louvain = finished(job_submit_algorithm(graph=graph, algorithm="louvain"))
    assert louvain.result["graph_loaded_from"] == "memory"
    assert louvain.result["total"] == 3_000
    # it served that computation and ended; the idle worker forked the next one
    wait_for(lambda: len(children_of(worker.pid) - {standby}) == 1)
    assert standby not in children_of(worker.pid)
    (standby,) = children_of(worker.pid)

    # a re-import: 1,000 more vertices (the first 3,000 are there already) and more edges
    files = random_ges_files(imports_dir / "standby-2", vertices=4_000, edges=6_000, seed=5)
    again = job_submit_import(graph=graph, params={"format": "ges", "request": files})
    wait_for(lambda: status_of(again) in TERMINAL_STATUSES, timeout=60)
    assert status_of(again) == JobStatus.PARTIALLY_FAILED  # the 3,000 known ids
    wait_for(lambda: "loaded into memory: 4000 vertices, 18000 edges" in worker.output())
    wait_for(lambda: len(children_of(worker.pid) - {standby}) == 1)
    assert standby not in children_of(worker.pid)  # replaced: it held the old data
    after = finished(job_submit_algorithm(graph=graph, algorithm="louvain"))
    assert after.result["graph_loaded_from"] == "memory"
    assert after.result["total"] == 4_000  # the new data, not the standby's old copy
    with ResultReader(after.pk) as reader:
        assert {row[0] for row in reader.iter_rows()} == {f"v{i}" for i in range(4_000)}


def minor_faults(pid: int) -> int:
    """Minor page faults of process ``pid`` so far, its threads included (Linux's /proc):
    after a fork, the first write to each page the process shares with its child is one."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[7])


def test_an_idle_worker_copies_the_pages_it_shares_with_a_new_standby_before_a_job_comes(
    project, worker_factory, imports_dir
):
    """Forking the standby makes the worker's pages shared with it: the next look at the
    queue copies about a thousand of them (5 to 30 ms of a job's start delay when that look
    is the one that finds the job). The idle worker looks again right after the fork, so a
    later look (the one a submit wakes) copies few."""
    graph = ges_graph(project)
    files = random_ges_files(imports_dir / "standby-cow", vertices=3_000, edges=12_000, seed=4)
    imported = job_submit_import(graph=graph, params={"format": "ges", "request": files})
    # a 30 s interval and no sweep: between the looks that commits wake, the worker only waits
    worker = worker_factory(interval=30, JOBCENTER_SWEEP_INTERVAL="3600")
    finished(imported)
    wait_for(lambda: "loaded into memory: 3000 vertices, 12000 edges" in worker.output())
    wait_for(lambda: len(children_of(worker.pid)) == 1)  # the standby, forked while idle
    time.sleep(1.0)
    quiet = minor_faults(worker.pid)
    time.sleep(0.5)
    assert minor_faults(worker.pid) - quiet < 100  # waiting writes (almost) nothing
    looks = []
    for round_ in range(3):
        before = minor_faults(worker.pid)
        with transaction.atomic():  # a commit, with a notification on PostgreSQL
            project_create(name=f"wake-{round_}")
            announce()
        time.sleep(0.5)  # the worker woke, looked at the queue, found nothing, waits again
        looks.append(minor_faults(worker.pid) - before)
    # before: 600 to 1,000 (the first look after the fork); now as few as at the later ones
    assert looks[0] < 300, looks
