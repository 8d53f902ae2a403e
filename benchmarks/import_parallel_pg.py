"""Two workers importing two graphs at once against one worker importing one, on the
PostgreSQL graph store (issue 15: two at once >= 1.6x one worker's throughput).

Two real ``manage.py db_worker --no-reload --queue-name *`` processes (the command ``make run``
starts) with ``JOBCENTER_GRAPH_STORE=postgresql``, the jobs and the graph data on a throwaway
PostgreSQL server of this script's own (PostgreSQL's defaults: fsync and synchronous commit
on; ``--fast`` turns them off, as the test suite and benchmarks/import_pg.py do). One generated
GES graph's files (``--vertices``, ``--edges``; tests/factories/files.py ``write_ges_files``),
imported through the import service every face calls (``job_submit_import``) into new graphs.
Rounds alternate their order (``--rounds``), both workers idle at the start of each side:

- ``one``: one import job (one graph): the other worker stays idle;
- ``two``: two import jobs (two graphs) submitted in one transaction, so that both become
  visible at its commit: each worker takes one.

A side's wall time runs from the submitting commit to the last job's ``finished_at``; lines/s
is every imported line over it. Also per side (medians): each job's own time (``started_at`` to
``finished_at``), CPU of the workers and of the PostgreSQL server per 1,000 lines, how long the
workers were runnable but waiting for a core, the WAL written (``pg_current_wal_lsn``), and what
the server's backends were doing (``pg_stat_activity`` every 50 ms).

The workers' memory budget is 1 MB (``JOBCENTER_GRAPH_MEMORY_MB``), so that the load of a new
graph into memory after its import (a head start for algorithm jobs) does not take a core from
the other worker's import: only the imports are measured.

Run:
  .venv/bin/python benchmarks/import_parallel_pg.py [--edges 1000000] [--rounds 3] [--fast]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pg import cpu_seconds, django_on_server, sched_seconds, server_cpu
from _setup import describe_run, start_worker, stop_workers
from queue_pg import WaitSampler

from jobcenter.core.localpg import LocalPostgres


def setup(fast: bool) -> tuple[Path, LocalPostgres]:
    """A data directory, the job database and graph store (one server), Django migrated."""
    os.environ.update(
        JOBCENTER_GRAPH_STORE="postgresql",
        JOBCENTER_WARM_ON_START="0",
        JOBCENTER_GRAPH_MEMORY_MB="1",
    )
    os.environ.pop("JOBCENTER_GRAPH_STORE_URL", None)
    return django_on_server("jobcenter-bench-import2-", durable=not fast)


def wal_lsn() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn")
        return int(cursor.fetchone()[0])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--vertices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fast", action="store_true", help="PostgreSQL without fsync")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    data, pg = setup(args.fast)
    from django.db import transaction

    from jobcenter.graphs.services import graph_create
    from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus
    from jobcenter.jobs.models import Job
    from jobcenter.jobs.services import job_submit_import
    from jobcenter.projects.services import project_create
    from tests.factories.files import write_ges_files

    print(f"measured: {describe_run()}")
    files = write_ges_files(data / "imports" / "graph", vertices=args.vertices, edges=args.edges)
    lines = args.vertices + args.edges
    durability = "fsync off" if args.fast else "fsync and synchronous commit on"
    print(
        f"{lines:,} lines a graph ({args.vertices:,} vertices, {args.edges:,} edges); two workers "
        f"(manage.py db_worker), JOBCENTER_GRAPH_STORE=postgresql, PostgreSQL {durability}"
    )
    project = project_create(name="bench")
    log = data / "workers.log"
    workers = [start_worker("--queue-name", "*", log=log) for _ in range(2)]
    made = 0

    def side(count: int) -> dict[str, float]:
        nonlocal made
        graphs = []
        for _ in range(count):
            made += 1
            graphs.append(graph_create(project=project, name=f"g{made}", dialect="ges"))
        cpu_w = [cpu_seconds(w.pid) for w in workers]
        sched_w = [sched_seconds(w.pid) for w in workers]
        cpu_s, wal = server_cpu(pg), wal_lsn()
        sampler = WaitSampler(pg.url("jobcenter"))
        sampler.start()
        with transaction.atomic():
            jobs = [
                job_submit_import(graph=g, params={"format": "ges", "request": files})
                for g in graphs
            ]
        started = time.perf_counter()
        ids = [j.pk for j in jobs]
        deadline = time.monotonic() + args.timeout
        while Job.objects.filter(pk__in=ids, status__in=TERMINAL_STATUSES).count() < count:
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out; the workers' log: {data / 'workers.log'}")
            if any(w.poll() is not None for w in workers):
                raise SystemExit(f"a worker died; its log: {data / 'workers.log'}")
            time.sleep(0.02)
        seen = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
        done = list(Job.objects.filter(pk__in=ids))
        for job in done:
            if job.status != JobStatus.SUCCEEDED or job.lines_total != lines:
                raise SystemExit(f"job {job.pk}: {job.status} {job.lines_total} {job.fail_reason}")
        first_created = min(j.created_at for j in done)
        wall = (max(j.finished_at for j in done) - first_created).total_seconds()
        own = [(j.finished_at - j.started_at).total_seconds() for j in done]
        time.sleep(1)  # the workers' bookkeeping after the jobs (task result, warm-up check)
        cpu_workers = sum(cpu_seconds(w.pid) - c for w, c in zip(workers, cpu_w, strict=True))
        waiting = sum(sched_seconds(w.pid)[1] - s[1] for w, s in zip(workers, sched_w, strict=True))
        active = sum(sampler.seen.values())
        top = ", ".join(
            f"{k} {v / max(1, active) * 100:.0f}%" for k, v in sampler.seen.most_common(4)
        )
        return {
            "wall": wall,
            "seen": seen,
            "rate": lines * count / wall,
            "job": statistics.median(own),
            "jobs": own,
            "cpu_workers": cpu_workers,
            "cpu_server": server_cpu(pg) - cpu_s,
            "waiting": waiting,
            "wal": wal_lsn() - wal,
            "lines": lines * count,
            "active": active / max(1, sampler.samples),
            "top": top,
        }

    results: dict[str, list[dict]] = {"one": [], "two": []}
    try:
        time.sleep(3)  # the workers start and go idle
        for round_ in range(args.rounds):
            order = ["one", "two"] if round_ % 2 == 0 else ["two", "one"]
            for name in order:
                r = side(1 if name == "one" else 2)
                results[name].append(r)
                print(
                    f"round {round_ + 1} {name}: {r['wall']:.2f}s, {r['rate']:,.0f} lines/s; "
                    f"job(s) {', '.join(f'{x:.2f}s' for x in r['jobs'])}; CPU workers "
                    f"{r['cpu_workers']:.2f}s, server {r['cpu_server']:.2f}s; workers waiting "
                    f"for a core {r['waiting']:.2f}s; WAL {r['wal'] / 1e6:.0f} MB; backends "
                    f"active {r['active']:.2f}: {r['top']}; load "
                    + " / ".join(f"{x:.2f}" for x in os.getloadavg())
                )
    finally:
        stop_workers(workers)

    def med(name: str, key: str, per_line: bool = False) -> float:
        values = [r[key] / (r["lines"] if per_line else 1) for r in results[name]]
        return statistics.median(values)

    print(f"\nmedians of {args.rounds} rounds:")
    print(
        f"{'side':<5} {'wall':>7} {'lines/s':>10} {'job':>7} {'worker CPU/1k lines':>20} "
        f"{'server CPU/1k lines':>20} {'workers waiting':>16} {'WAL/line':>9}"
    )
    for name in results:
        print(
            f"{name:<5} {med(name, 'wall'):>6.2f}s {med(name, 'rate'):>10,.0f} "
            f"{med(name, 'job'):>6.2f}s {med(name, 'cpu_workers', True) * 1e6:>17.1f} ms "
            f"{med(name, 'cpu_server', True) * 1e6:>17.1f} ms "
            f"{med(name, 'waiting'):>15.2f}s {med(name, 'wal', True):>7.0f} B"
        )
    ratio = statistics.median(
        t["rate"] / o["rate"] for o, t in zip(results["one"], results["two"], strict=True)
    )
    per_line = med("one", "cpu_workers", True) + med("one", "cpu_server", True)
    cores = os.cpu_count() or 1
    ceiling = cores / per_line
    print(
        f"one import: {per_line * 1e6:.2f} ms of CPU per 1,000 lines (worker + server), "
        f"{per_line * med('one', 'rate'):.2f} cores busy; {cores} cores give at most "
        f"{ceiling:,.0f} lines/s in all = {ceiling / med('one', 'rate'):.2f}x one import alone"
    )
    print(
        f"two at once / one alone, lines/s (median of the rounds' ratios): {ratio:.2f} "
        f"(target >= 1.6); load average now " + " / ".join(f"{x:.2f}" for x in os.getloadavg())
    )


if __name__ == "__main__":
    main()
