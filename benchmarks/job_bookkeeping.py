"""Cost of job bookkeeping during an import, and read latency while an import runs.

1. Overhead: the same import run (a) by the bare loader with no job around it, and (b) as a real
   job through ``runner.execute_job`` (claim, heartbeat thread writing progress/files/failed lines,
   commit gate, final write). Alternated ``--rounds`` times; medians compared. Target: <= 5%.
2. Latency: a real ``db_worker`` process runs a large import while this process reads the job
   detail (job, files, failed-line count — what a job-detail request reads) every 20 ms.
   Reported: p50/p99/max against the same reads with no import running.

Run: .venv/bin/python benchmarks/job_bookkeeping.py [--edges 1000000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import django_in_tempdir, start_worker, stop_workers

from tests.factories.files import write_ges_files


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--vertices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    data = django_in_tempdir("jobcenter-bench-")
    from jobcenter.graphs.loader import run_import
    from jobcenter.graphs.plan import ImportProgress
    from jobcenter.graphs.services import graph_create, graph_import_plan
    from jobcenter.graphs.stores.sqlite import SqliteStore
    from jobcenter.jobs.models import Job
    from jobcenter.jobs.runner import execute_job
    from jobcenter.jobs.selectors import job_files
    from jobcenter.jobs.services import job_submit_import
    from jobcenter.projects.services import project_create

    files = write_ges_files(data / "imports" / "g", vertices=args.vertices, edges=args.edges)
    params = {"format": "ges", "request": files}
    project = project_create(name="bench")
    lines = args.vertices + args.edges

    bare_times, job_times = [], []

    def bare_round(round_no: int) -> None:
        graph = graph_create(project=project, name=f"bare{round_no}", dialect="ges")
        plan = graph_import_plan(graph=graph, params=params)
        progress = ImportProgress.for_plan(plan)
        store = SqliteStore(graph.store_path)
        started = time.perf_counter()
        run_import(
            plan, store, job_id=f"bare{round_no}", progress=progress, commit_gate=lambda s: True
        )
        bare_times.append(time.perf_counter() - started)
        store.close()

    def job_round(round_no: int) -> None:
        graph = graph_create(project=project, name=f"job{round_no}", dialect="ges")
        job = job_submit_import(graph=graph, params=params)
        started = time.perf_counter()
        execute_job(job_id=job.pk)
        job_times.append(time.perf_counter() - started)
        job.refresh_from_db()
        assert job.status == "succeeded", (job.status, job.fail_reason)

    for round_no in range(args.rounds):
        # Alternate which side goes first so that warm-up and drift hit both alike.
        order = (bare_round, job_round) if round_no % 2 == 0 else (job_round, bare_round)
        for run in order:
            run(round_no)
        print(
            f"round {round_no + 1}: bare loader {bare_times[-1]:.2f}s, "
            f"as a job {job_times[-1]:.2f}s",
            flush=True,
        )

    bare, full = statistics.median(bare_times), statistics.median(job_times)
    print(f"\nlines per import: {lines:,}")
    print(f"bare loader   median {bare:.2f}s  ({lines / bare:,.0f} lines/s)")
    print(f"as a real job median {full:.2f}s  ({lines / full:,.0f} lines/s)")
    print(f"bookkeeping overhead: {100 * (full / bare - 1):+.1f}%  (target <= 5%)")

    # --- read latency while a worker imports ------------------------------------------------
    def read_detail(job_id: str) -> float:
        t0 = time.perf_counter()
        job = Job.objects.select_related("project", "graph").get(pk=job_id)
        list(job_files(job=job))
        job.failed_lines.count()
        return (time.perf_counter() - t0) * 1000

    graph = graph_create(project=project, name="latency", dialect="ges")
    big = write_ges_files(data / "imports" / "big", vertices=args.vertices, edges=3 * args.edges)
    idle_job = Job.objects.order_by("-created_at").first()
    idle = [read_detail(idle_job.pk) for _ in range(200)]

    worker = start_worker("--interval", "0.1", "--no-startup-delay")
    try:
        job = job_submit_import(graph=graph, params={"format": "ges", "request": big})
        while Job.objects.get(pk=job.pk).status == "waiting":
            time.sleep(0.05)
        busy = []
        while Job.objects.get(pk=job.pk).status == "running":
            busy.append(read_detail(job.pk))
            time.sleep(0.02)
        final = Job.objects.get(pk=job.pk)
    finally:
        stop_workers([worker])

    def summary(values: list[float]) -> str:
        values = sorted(values)
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        return f"p50 {statistics.median(values):.2f} ms, p99 {p99:.2f} ms, max {values[-1]:.2f} ms"

    print(f"\njob-detail read, no import running: {summary(idle)} ({len(idle)} reads)")
    print(
        f"job-detail read during a {final.lines_total:,}-line import ({final.status}): "
        f"{summary(busy)} ({len(busy)} reads)"
    )


if __name__ == "__main__":
    main()
