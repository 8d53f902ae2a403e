"""The dashboard's job list at 1,000,000 jobs (SQLite or PostgreSQL): server time per page,
size of a refresh.

Requests go through the whole Django stack in this process (middleware, session login, the
shared FilterSet, templates) with Django's test client, as an operator of the project that holds
the jobs (benchmarks/api_list.py's data set, 99% of the jobs in project alpha, with the active
jobs where they are in practice: see populate()). "Server time" is the time the test client takes
for one request; reported: median and p95 of ``--runs`` requests per case, after one warm-up
request (reported as "cold": the first request of a case, with cold database and code caches;
no count is cached between requests).

Targets: the job list page renders in at most 100 ms (median), and a refresh response is at most
2 KB per active job on screen (50 running jobs on screen: one request, at most 100 KB).

Then every filter, search and sort of the list (benchmarks/_list_cases.py), alone and every
filter with every sort, with wall and CPU time and the ratio to the unfiltered list measured in
the same run; target 100 ms each (counts on the page included).

Run: .venv/bin/python benchmarks/dashboard_list.py [--jobs 1000000] [--runs 30]
         [--data DIR (reuse a database made by this script or by api_list.py)]
         [--database sqlite|postgres] [--cross-runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import describe_run, django_in_tempdir

HTMX = {"HTTP_HX_REQUEST": "true"}
TARGET_MS = 100.0
TARGET_BYTES_PER_JOB = 2048


def populate(n_jobs: int) -> None:
    """benchmarks/api_list.py's data set, except that active jobs are where they are in real
    life: the newest 50 jobs of project alpha are running and the 20 before them waiting (the
    worker takes jobs in order, and the sweeper ends jobs whose worker died), plus a few hundred
    old jobs still active (stuck somewhere), which the status counts must count live."""
    import api_list
    from django.db import connection, transaction
    from django.utils import timezone

    from jobcenter.jobs.models import Job

    api_list.STATUSES = [
        ("succeeded", 0.80),
        ("partially_failed", 0.08),
        ("failed", 0.065),
        ("cancelled", 0.05),
        ("waiting", 0.0002),
        ("running", 0.0001),
        ("cancelling", 0.00005),
    ]
    api_list.populate(n_jobs)
    newest = list(
        Job.objects.filter(project__name="alpha")
        .order_by("-created_at", "-id")
        .values_list("pk", flat=True)[:70]
    )
    now = timezone.now()
    with transaction.atomic():
        for i, pk in enumerate(newest):
            if i < 50:
                Job.objects.filter(pk=pk).update(
                    status="running",
                    started_at=now,
                    finished_at=None,
                    cancellable=True,
                    progress=1.5 * i,
                    lines_done=15_000 * i,
                    lines_total=1_000_000,
                    lines_per_second=250_000.0,
                    fail_reason="",
                )
            else:
                Job.objects.filter(pk=pk).update(
                    status="waiting",
                    started_at=None,
                    finished_at=None,
                    cancellable=True,
                    progress=0.0,
                    fail_reason="",
                )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        if connection.vendor == "postgresql":
            cursor.execute("VACUUM jobs_job")  # the visibility map index-only scans use


def measure(client, url: str, runs: int, headers: dict) -> tuple[float, float, float, float, bytes]:
    """Cold wall time, then median and p95 wall time and median CPU time (this process: Django,
    and SQLite, which runs in it; not a PostgreSQL server's) of ``runs`` requests, in ms."""
    started = time.perf_counter()
    response = client.get(url, **headers)
    cold = (time.perf_counter() - started) * 1000
    assert response.status_code in (200, 286), (url, response.status_code)
    times, cpu = [], []
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code in (200, 286), (url, response.status_code)
    times.sort()
    return (
        cold,
        statistics.median(times),
        times[max(0, int(len(times) * 0.95) - 1)],
        statistics.median(cpu),
        (response.content),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--data", help="reuse the data directory of an earlier run")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--cross-runs", type=int, default=3, help="requests per filter x sort combination"
    )
    args = parser.parse_args()

    if args.data:
        os.environ["JOBCENTER_DATA_DIR"] = args.data
        os.environ["DJANGO_SETTINGS_MODULE"] = "jobcenter.settings"
        os.environ.pop("DATABASE_URL", None)
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    else:
        data = django_in_tempdir("jobcenter-bench-dashboard-", args.database)
        started = time.perf_counter()
        populate(args.jobs)
        print(f"populated {args.jobs:,} jobs in {time.perf_counter() - started:.0f} s: {data}")

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client

    from jobcenter.jobs.models import Job

    call_command("collectstatic", "--noinput", verbosity=0)  # production static storage
    total = Job.objects.count()
    running = list(
        Job.objects.filter(project__name="alpha", status="running")
        .order_by("-created_at")
        .values_list("pk", flat=True)[:50]
    )
    print(f"jobs: {total:,}; running in alpha: {len(running)} shown on a page of 50")
    print("measured: " + describe_run())
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    client = Client()
    client.force_login(get_user_model().objects.get(username="oscar"))
    prefix = running[0][:14]
    from datetime import date, timedelta

    week = [(date.today() - timedelta(days=d)).isoformat() for d in (200, 194)]
    cases = [
        ("job list page, first page (50 rows)", "/", {}),
        ("job list page, status=running", "/?status=running", {}),
        ("filter change (htmx): status=failed&graph=g3", "/?status=failed&graph=g3", HTMX),
        ("filter change (htmx): search by id prefix", f"/?q={prefix}", HTMX),
        (
            "filter change (htmx): created in one week",
            f"/?created_after={week[0]}&created_before={week[1]}",
            HTMX,
        ),
        ("page 2 (htmx)", "/?page=2", HTMX),
        ("sorted by progress (htmx)", "/?ordering=-progress", HTMX),
        ("last page, offset 989,950 (htmx)", "/?page=19800", HTMX),
    ]
    print(
        f"server time, in process (cold, then median / p95 wall and median CPU of {args.runs} "
        "requests):"
    )
    results = {}
    for label, url, headers in cases:
        cold, median, p95, cpu, body = measure(client, url, args.runs, headers)
        results[label] = median
        print(
            f"  {label:<48} cold {cold:8.1f} ms   median {median:7.1f} ms   p95 {p95:7.1f} ms"
            f"   CPU {cpu:7.1f} ms   {len(body) / 1024:6.1f} KB"
        )

    live = "/jobs/live/?project=alpha&status=running" + "".join(f"&live={i}" for i in running)
    cold, median, p95, cpu, body = measure(client, live, args.runs, HTMX)
    per_job = len(body) / max(1, len(running))
    print(
        f"  {'refresh, ' + str(len(running)) + ' running jobs on screen (htmx)':<48} cold "
        f"{cold:8.1f} ms   median {median:7.1f} ms   p95 {p95:7.1f} ms   CPU {cpu:7.1f} ms   "
        f"{len(body) / 1024:6.1f} KB"
    )
    print(
        f"refresh response: {len(body):,} bytes for {len(running)} active jobs = {per_job:,.0f} "
        f"bytes per job (target <= {TARGET_BYTES_PER_JOB:,})"
    )
    from _list_cases import report

    def get(query: str) -> bytes:
        response = client.get(f"/?project=alpha&{query}", **HTMX)
        assert response.status_code == 200, (query, response.status_code)
        return response.content

    report(
        "dashboard list (htmx partial: rows, status counts, totals, retry count)",
        get,
        args.runs,
        args.cross_runs,
    )
    page = results["job list page, first page (50 rows)"]
    print(f"job list page median: {page:.1f} ms (target <= {TARGET_MS:.0f} ms)")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ok = page <= TARGET_MS and per_job <= TARGET_BYTES_PER_JOB
    print("targets met" if ok else "TARGETS MISSED")


if __name__ == "__main__":
    main()
