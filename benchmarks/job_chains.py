"""Job chains (issue 17): jobs that wait for others, run by real workers.

``--chains`` chains (default 100) of ``--length`` jobs (default 10: 1,000 jobs) of a trivial kind
(``echo``, tests/jobs/echo_kind.py: a claim, one heartbeat and a finish, so the figures are the
chain's bookkeeping, not a job's work), each job depending on the one before it, submitted with
``jobs.chains.chain_submit`` (what ``POST /api/v1/projects/{project}/chains/`` calls) and run by
``--workers`` real ``manage.py db_worker`` processes (default 4; the command the tests start).

``--in-flight`` chains are kept submitted at once (default: as many as there are workers, so a
released job finds an idle worker and the figure is the link's own cost: the release in the
dependency's ending transaction, the wake-up, the claim). ``--in-flight 0``: every chain is
submitted at the start (then a released job also waits its turn behind the other runnable jobs).

Printed:

- early starts: jobs whose ``started_at`` is before a dependency's ``finished_at`` (must be 0);
- lost: jobs that did not succeed (or never ended) once the queue drained (must be 0);
- per-link overhead: a job's ``started_at`` minus its dependency's ``finished_at``, median,
  p95 and max (goal: median <= 100 ms on PostgreSQL);
- where a link's time goes (medians): the dependency's end to its dependent's release (the
  rest of the ending transaction: the ``released`` event), the release to a worker taking the
  task (the engine's ``started_at``: commit, wake-up, the queue's read), and that to the job's
  claim (``started_at``);
- the baseline, measured first in the same run on the same idle workers: ``--baseline`` jobs
  (default 20) submitted one at a time with no dependency, ``started_at`` minus
  ``created_at`` (a new job's own wait for a worker; a link cannot cost less).

Run:
  .venv/bin/python benchmarks/job_chains.py [--database postgres] [--chains 100 --length 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import describe_run, django_in_tempdir, start_worker, stop_workers, worker_env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--chains", type=int, default=100)
    parser.add_argument("--length", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--in-flight", type=int, default=None)
    parser.add_argument("--interval", type=float, default=1.0, help="the workers' poll interval")
    parser.add_argument("--baseline", type=int, default=20)
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args()
    in_flight = args.workers if args.in_flight is None else args.in_flight
    in_flight = in_flight or args.chains

    os.environ["JOBCENTER_JOB_KINDS"] = "tests.jobs.echo_kind"
    data = django_in_tempdir("jobcenter-bench-chains-", args.database)
    from django_tasks_db.models import DBTaskResult

    from jobcenter.graphs.services import graph_create
    from jobcenter.jobs.chains import ChainStep, chain_submit
    from jobcenter.jobs.choices import TERMINAL_STATUSES, EventKind, JobStatus
    from jobcenter.jobs.models import Job, JobDependency, JobEvent
    from jobcenter.projects.services import project_create
    from tests.jobs.echo_kind import job_submit_echo

    print(f"measured: {describe_run()}")
    total = args.chains * args.length
    print(
        f"{args.chains} chains of {args.length} echo jobs ({total:,} jobs), {args.workers} "
        f"workers (poll interval {args.interval} s), {in_flight} chain(s) in flight"
    )
    env = worker_env()
    project = project_create(name="bench")
    graph = graph_create(project=project, name="g", dialect="ges")

    def submit_chain(n: int) -> list[Job]:
        steps = [
            ChainStep(
                submit=lambda created, i=i: job_submit_echo(graph=graph, text=f"c{n}-{i}"),
                depends_on=[i - 1] if i else [],
            )
            for i in range(args.length)
        ]
        return chain_submit(project=project, steps=steps)

    log = data / "workers.log"
    # As the test suite starts one (tests/conftest.py, WorkerProcess).
    options = ("--interval", str(args.interval), "--no-startup-delay")
    workers = [start_worker(*options, env=env, log=log) for _ in range(args.workers)]
    time.sleep(2)  # the workers are up (their start-up is not a link's cost)
    try:
        baseline: list[float] = []
        for n in range(args.baseline):
            alone = job_submit_echo(graph=graph, text="alone", name=f"alone-{n}")
            while Job.objects.filter(pk=alone.pk, status__in=TERMINAL_STATUSES).count() == 0:
                time.sleep(0.01)
            alone.refresh_from_db()
            baseline.append((alone.started_at - alone.created_at).total_seconds())
            time.sleep(0.1)  # every worker idle again
        started = time.perf_counter()
        lasts: list[str] = []
        submitted = 0
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            running = (
                len(lasts) - Job.objects.filter(pk__in=lasts, status__in=TERMINAL_STATUSES).count()
            )
            while submitted < args.chains and running < in_flight:
                lasts.append(submit_chain(submitted)[-1].pk)
                submitted += 1
                running += 1
            if submitted == args.chains and running == 0:
                break
            time.sleep(0.05)
        else:
            print("timed out: what had not ended counts as lost")
        elapsed = time.perf_counter() - started
    finally:
        stop_workers(workers)

    jobs = {
        pk: (status, started_at, finished_at)
        for pk, status, started_at, finished_at in Job.objects.exclude(
            name__startswith="alone"
        ).values_list("pk", "status", "started_at", "finished_at")
    }
    lost = [pk for pk, (status, *_) in jobs.items() if status != JobStatus.SUCCEEDED]
    early = 0
    overheads: list[float] = []
    for job_id, dep_id in JobDependency.objects.values_list("job_id", "depends_on_id"):
        start, end = jobs[job_id][1], jobs[dep_id][2]
        if start is None or end is None:
            continue
        if start < end:
            early += 1
        overheads.append((start - end).total_seconds())
    overheads.sort()
    durations = sorted(
        (end - start).total_seconds() for _, start, end in jobs.values() if start and end
    )

    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    print(
        f"jobs: {len(jobs):,} submitted, {len(jobs) - len(lost):,} succeeded in {elapsed:.1f} s "
        f"({len(jobs) / elapsed:.0f} jobs/s)"
    )
    print(f"early starts (started before a dependency ended): {early}")
    print(f"lost (not succeeded): {len(lost)}")
    if overheads:
        p95 = overheads[min(len(overheads) - 1, int(0.95 * len(overheads)))]
        print(
            f"per-link overhead (start minus dependency's end), {len(overheads):,} links: "
            f"median {ms(statistics.median(overheads))}, p95 {ms(p95)}, max {ms(overheads[-1])}"
        )
    released = dict(JobEvent.objects.filter(kind=EventKind.RELEASED).values_list("job_id", "at"))
    taken = {
        task.args_kwargs["args"][0]: task.started_at
        for task in DBTaskResult.objects.exclude(started_at=None)
    }
    parts: list[tuple[float, float, float]] = []
    for job_id, dep_id in JobDependency.objects.values_list("job_id", "depends_on_id"):
        if job_id in released and job_id in taken and jobs[job_id][1] and jobs[dep_id][2]:
            parts.append(
                (
                    (released[job_id] - jobs[dep_id][2]).total_seconds(),
                    (taken[job_id] - released[job_id]).total_seconds(),
                    (jobs[job_id][1] - taken[job_id]).total_seconds(),
                )
            )
    if parts:
        ending, wake, claim = (statistics.median(p) for p in zip(*parts, strict=True))
        print(
            f"  of which: end to release {ms(ending)}, release to task taken {ms(wake)}, "
            f"task taken to claim {ms(claim)}"
        )
    if baseline:
        print(
            f"baseline, a lone job's submit to start ({len(baseline)} jobs): median "
            f"{ms(statistics.median(baseline))}, max {ms(max(baseline))}"
        )
    if durations:
        print(f"a job's own run (its start to its end): median {ms(statistics.median(durations))}")
    if early or lost:
        raise SystemExit("FAILED: early starts or lost jobs")


if __name__ == "__main__":
    main()
