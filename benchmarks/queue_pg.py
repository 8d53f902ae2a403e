"""The job queue under load: ``--jobs`` tiny jobs through ``--workers`` real worker processes.

The job kind is ``echo`` (tests/jobs/echo_kind.py, also used by benchmarks/webhook_delivery.py):
a claim, one heartbeat write and a finish, so the figures are the queue's and the job
bookkeeping's, not a job's work. Workers are ``manage.py db_worker --no-reload --queue-name *``,
the command ``make run`` starts, on a throwaway PostgreSQL server of the benchmark's own
(``--database postgres``, the default; PostgreSQL's defaults: fsync and synchronous commit on,
``--fast`` turns them off as the test suite does) or on a SQLite file (``--database sqlite``).

1. Burst: the workers wait, idle; this process submits ``--jobs`` jobs through the submit
   service in one transaction on PostgreSQL, so that they all become visible (and the workers
   are woken) at its commit: the workers' throughput is measured, not this one submitter's.
   On SQLite, 250 a transaction (``--fill-batch``): one long write transaction locks the
   workers out (``BEGIN IMMEDIATE`` gives up after the 20 s busy timeout, and the worker
   dies). Jobs per second = jobs / (the first commit to the last job finished).
2. Paced: ``--paced`` more jobs, one transaction each, at half the burst's rate (no backlog):
   claim latency as a job sees it when the workers keep up. (One submitter's own rate, one
   job a transaction, is printed too.)

Claim latency: the task's ``enqueued_at`` -> ``started_at`` (the engine's claim, SKIP LOCKED on
PostgreSQL) and the job's ``created_at`` -> ``started_at`` (jobcenter's conditional claim), p50 /
p99 / max, both stamped by clients on this machine.

Double claims, counted three ways, each from a record the run itself leaves:
- each worker logs "Task id=<task> ... state=RUNNING" as it starts a task (its own log file):
  a task started by two workers, or twice by one, appears twice;
- each engine claim appends its worker's id to the task's ``worker_ids``: a list of 2 is a
  second claim;
- each job claim (waiting -> running) writes a ``started`` event naming the worker and bumps
  ``attempt``: two events, or an attempt of 2, is a job run twice.
Lost: a job not ``succeeded`` at the end, a task never started. Both must be 0.

Also: CPU of each worker, of the PostgreSQL server and of the submitting process over the
burst (share of one core), what PostgreSQL's backends were waiting on (pg_stat_activity sampled
every 50 ms) and the statements that took its time (pg_stat_statements).

Run:
  .venv/bin/python benchmarks/queue_pg.py [--database sqlite] [--jobs 10000] [--workers 4]
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pg import cpu_seconds, django_on_server, sched_seconds, server_cpu
from _setup import describe_run, django_in_tempdir, start_worker, stop_workers

from jobcenter.core.localpg import LocalPostgres

STARTED = re.compile(r"Task id=(\S+) path=\S+ state=RUNNING")


def setup(database: str, fast: bool) -> tuple[Path, LocalPostgres | None]:
    """A data directory, the job database (and the server), Django set up and migrated."""
    os.environ.update(JOBCENTER_JOB_KINDS="tests.jobs.echo_kind", JOBCENTER_WARM_ON_START="0")
    prefix = "jobcenter-bench-queue-"
    if database != "postgres":
        return django_in_tempdir(prefix), None
    data, pg = django_on_server(
        prefix, durable=not fast, shared_preload_libraries="'pg_stat_statements'"
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return data, pg


class WaitSampler(threading.Thread):
    """What the job database's backends are doing, every 50 ms (PostgreSQL)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop = threading.Event()
        self.seen: collections.Counter = collections.Counter()
        self.samples = 0

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(0.05):
                rows = conn.execute(
                    "SELECT state, coalesce(wait_event_type, 'CPU'), coalesce(wait_event, '') "
                    "FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                ).fetchall()
                self.samples += 1
                for state, kind, event in rows:
                    if state == "active":
                        self.seen[f"{kind}:{event}" if event else kind] += 1


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p * len(ordered)))]


def ms(values: list[float]) -> str:
    return (
        f"p50 {pct(values, 0.5) * 1000:.1f} ms, p99 {pct(values, 0.99) * 1000:.1f} ms, "
        f"max {max(values) * 1000:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--paced", type=int, default=500)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--fast", action="store_true", help="PostgreSQL without fsync")
    parser.add_argument(
        "--fill-batch",
        type=int,
        default=0,
        help="burst jobs per transaction (default: all of them on PostgreSQL, 250 on SQLite)",
    )
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    data, pg = setup(args.database, args.fast)
    from django.db import connection, transaction
    from django_tasks_db.models import DBTaskResult

    from jobcenter.graphs.services import graph_create
    from jobcenter.jobs.choices import EventKind, JobStatus
    from jobcenter.jobs.models import Job, JobEvent
    from jobcenter.projects.services import project_create
    from tests.jobs.echo_kind import job_submit_echo

    print(f"measured: {describe_run()}")
    durability = ""
    if pg is not None:
        durability = " (fsync off)" if args.fast else " (fsync and synchronous commit on)"
    print(
        f"{args.jobs:,} echo jobs in a burst, then {args.paced:,} paced; {args.workers} "
        f"workers (manage.py db_worker){durability}"
    )
    project = project_create(name="bench")
    graph = graph_create(project=project, name="g", dialect="ges")

    logs = [data / f"worker-{n}.log" for n in range(args.workers)]
    workers = [start_worker("--queue-name", "*", log=log) for log in logs]

    def finished() -> int:
        return Job.objects.filter(status=JobStatus.SUCCEEDED).count()

    def wait_all(total: int) -> float:
        deadline = time.monotonic() + args.timeout
        while (done := finished()) < total:
            if time.monotonic() > deadline:
                raise SystemExit(f"timed out: {done:,} of {total:,} jobs finished")
            if any(w.poll() is not None for w in workers):
                raise SystemExit("a worker died: see its log in " + str(data))
            time.sleep(0.05)
        return time.perf_counter()

    try:
        time.sleep(3)  # the workers start and go idle
        sampler = None
        if pg is not None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_stat_statements_reset()")
            sampler = WaitSampler(pg.url("jobcenter"))
            sampler.start()
        batch = args.fill_batch or (args.jobs if pg is not None else 250)
        filling = time.perf_counter()
        for first in range(0, args.jobs, batch):
            with transaction.atomic():
                for i in range(first, min(args.jobs, first + batch)):
                    job_submit_echo(graph=graph, text=f"b{i}")
                if first == 0:  # the clock starts as the first batch becomes visible
                    cpu_workers = [cpu_seconds(w.pid) for w in workers]
                    sched_workers = [sched_seconds(w.pid) for w in workers]
                    cpu_server = server_cpu(pg) if pg is not None else 0.0
                    cpu_self = time.process_time()
                    started = time.perf_counter()
        filled = time.perf_counter() - filling
        ended = wait_all(args.jobs)
        burst = ended - started
        cpu_workers = [cpu_seconds(w.pid) - c for w, c in zip(workers, cpu_workers, strict=True)]
        cpu_server = (server_cpu(pg) - cpu_server) if pg is not None else 0.0
        queued = sum(
            sched_seconds(w.pid)[1] - before[1]
            for w, before in zip(workers, sched_workers, strict=True)
        )
        cpu_self = time.process_time() - cpu_self
        if sampler is not None:
            sampler.stop.set()
            sampler.join()
        rate = args.jobs / burst
        burst_ids = set(Job.objects.values_list("pk", flat=True))

        paced_rate = rate / 2
        started_paced = time.perf_counter()
        submitting = 0.0
        for i in range(args.paced):
            due = started_paced + i / paced_rate
            time.sleep(max(0.0, due - time.perf_counter()))
            one = time.perf_counter()
            job_submit_echo(graph=graph, text=f"p{i}")
            submitting += time.perf_counter() - one
        wait_all(args.jobs + args.paced)
        time.sleep(1)  # the last tasks' own bookkeeping (set_successful)
    finally:
        stop_workers(workers)

    total = args.jobs + args.paced
    jobs = list(Job.objects.values_list("pk", "task_id", "status", "attempt", "created_at"))
    tasks = {
        str(t.id): t
        for t in DBTaskResult.objects.only("id", "enqueued_at", "started_at", "worker_ids")
    }
    job_claims = dict(Job.objects.values_list("pk", "started_at"))
    starts = collections.Counter()
    per_worker = []
    for log in logs:
        found = STARTED.findall(log.read_text())
        per_worker.append(len(found))
        starts.update(found)
    events = collections.Counter(
        JobEvent.objects.filter(kind=EventKind.STARTED).values_list("job_id", flat=True)
    )

    logged_twice = sum(1 for n in starts.values() if n > 1)
    claimed_twice = sum(1 for t in tasks.values() if len(t.worker_ids) > 1)
    run_twice = sum(1 for pk, *_ in jobs if events[pk] > 1)
    attempt_twice = sum(1 for _, _, _, attempt, _ in jobs if attempt > 1)
    not_succeeded = sum(1 for _, _, status, _, _ in jobs if status != JobStatus.SUCCEEDED)
    never_started = sum(1 for _, task_id, *_ in jobs if starts[task_id] == 0)

    def latencies(ids: set) -> tuple[list[float], list[float]]:
        task_lat, job_lat = [], []
        for pk, task_id, _, _, created in jobs:
            if pk not in ids:
                continue
            task = tasks[task_id]
            task_lat.append((task.started_at - task.enqueued_at).total_seconds())
            job_lat.append((job_claims[pk] - created).total_seconds())
        return task_lat, job_lat

    all_ids = {pk for pk, *_ in jobs}
    burst_task, burst_job = latencies(burst_ids)
    paced_task, paced_job = latencies(all_ids - burst_ids)

    print(
        f"burst: {args.jobs:,} jobs written {batch:,} a transaction in {filled:.1f}s; all "
        f"finished {burst:.1f}s after the first commit: {rate:.0f} jobs/s"
    )
    print(f"  claim latency with a backlog, task enqueued -> claimed: {ms(burst_task)}")
    print(f"  claim latency with a backlog, job created -> started: {ms(burst_job)}")
    print(
        f"paced: {args.paced:,} jobs at {paced_rate:.0f}/s (half the burst's rate); a submission "
        f"(one transaction) took {submitting / max(1, args.paced) * 1000:.1f} ms on average "
        f"(one submitter: {args.paced / max(submitting, 1e-9):.0f}/s at most)"
    )
    if paced_task:
        print(f"  claim latency, task enqueued -> claimed: {ms(paced_task)}")
        print(f"  claim latency, job created -> started: {ms(paced_job)}")
    print(f"tasks started per worker (from their logs): {per_worker} = {sum(per_worker):,}")
    print(
        f"double claims: tasks started twice (worker logs) {logged_twice}, tasks claimed twice "
        f"(worker_ids) {claimed_twice}, jobs started twice (events) {run_twice}, jobs with "
        f"attempt > 1 {attempt_twice}"
    )
    print(
        f"lost: jobs not succeeded {not_succeeded}, jobs whose task never started "
        f"{never_started} (of {total:,}; {len(tasks):,} tasks)"
    )
    cores = os.cpu_count() or 1
    print(
        f"CPU over the burst ({burst:.1f}s, {cores} cores): workers "
        + ", ".join(f"{c / burst * 100:.0f}%" for c in cpu_workers)
        + f" of a core (sum {sum(cpu_workers) / burst * 100:.0f}%); "
        + (f"PostgreSQL {cpu_server / burst * 100:.0f}%; " if pg is not None else "")
        + f"submitter {cpu_self / burst * 100:.0f}%; machine "
        f"{(sum(cpu_workers) + cpu_server + cpu_self) / burst / cores * 100:.0f}% busy by these"
    )
    share = sum(cpu_workers) / burst / args.workers * 100
    print(
        f"workers runnable but waiting for a core: {queued / burst / args.workers * 100:.0f}% of "
        f"the burst each on average (on a core: {share:.0f}%; the rest waiting for the "
        f"database or idle); load average now " + " / ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    if pg is not None and sampler is not None:
        active = sum(sampler.seen.values())
        print(
            f"PostgreSQL backends active per sample: {active / max(1, sampler.samples):.2f} "
            f"(of {args.workers + 1} clients); waiting on: "
            + ", ".join(
                f"{k} {v / max(1, active) * 100:.0f}%" for k, v in sampler.seen.most_common(6)
            )
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT calls, total_exec_time, mean_exec_time, query FROM pg_stat_statements "
                "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                "ORDER BY total_exec_time DESC LIMIT 6"
            )
            rows = cursor.fetchall()
        print("statements by total execution time (the whole run):")
        for calls, total_ms, mean_ms, query in rows:
            text = " ".join(query.split())[:110]
            print(f"  {total_ms / 1000:6.2f}s {calls:7,} calls {mean_ms:6.3f} ms  {text}")
    if logged_twice or claimed_twice or run_twice or attempt_twice or not_succeeded:
        raise SystemExit("FAILED: double claims or lost jobs")
    if never_started or sum(per_worker) != total:
        raise SystemExit("FAILED: the worker logs do not account for every job")


if __name__ == "__main__":
    main()
