"""The job list of the REST API at 1,000,000 jobs (SQLite), and its throughput under load.

1. Latency ("server time"): requests go through the whole Django stack in this process
   (middleware, token authentication, filters, pagination, serialisation) with Django's test
   client, as the operator of the project holding the jobs and as a superuser. Reported per case:
   median and p95 of ``--runs`` requests, measured around the call, and the median of the view's
   own time (its ``Server-Timing`` header). Targets: a filtered first page (``status=running``,
   limit 50) and a deep cursor page, each at most 30 ms median. Baselines measured in the same
   run: the health check (the fixed cost of a request) and the same deep page by offset.
2. SQL queries per list request for page sizes 1 and 500 (they must be equal), and SQLite's plan
   for the two target queries.
3. Throughput: ``manage.py serve`` (gunicorn and a worker, as ``make run`` starts them) serves
   the same database on loopback; for each ``--concurrency`` level, that many keep-alive clients
   (spread over processes, on the same machine) request the filtered first page for
   ``--duration`` seconds, then the health check as a baseline. Reported: requests/s, p50 and
   p99 latency, errors.

4. Every filter, search and sort the list offers (benchmarks/_list_cases.py), alone and every
   filter with every sort: first page with its count, wall and CPU time, ratio to the
   unfiltered first page measured in the same run; target 100 ms each.

Run: .venv/bin/python benchmarks/api_list.py [--jobs 1000000] [--runs 50] [--concurrency 4,16]
         [--duration 20] [--web-workers 3] [--data DIR (reuse the database of an earlier run)]
         [--skip-throughput] [--database sqlite|postgres] [--cross-runs 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import REPO, describe_run, django_in_tempdir

TARGET_MS = 30.0
STATUSES = [  # (status, share): most jobs have finished, a few are active
    ("succeeded", 0.80),
    ("partially_failed", 0.08),
    ("failed", 0.06),
    ("cancelled", 0.05),
    ("waiting", 0.005),
    ("running", 0.004),
    ("cancelling", 0.001),
]
LIST = "/api/v1/jobs/?status=running&limit=50"
HEALTH = "/api/health/"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def populate(n_jobs: int) -> None:
    """n_jobs jobs over the last year, 99% in project alpha (20 graphs), 1% in beta; raw bulk
    inserts (executemany, 50,000 rows per transaction) with values adapted as Django adapts
    them, so that the rows compare exactly like rows the app writes."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from jobcenter.graphs.services import graph_create
    from jobcenter.jobs.models import Job
    from jobcenter.projects.services import membership_set, project_create

    users = get_user_model().objects
    users.create_superuser(username="admin", password="bench-admin-pw")
    operator = users.create_user(username="oscar", password="bench-oscar-pw")
    alpha, beta = project_create(name="alpha"), project_create(name="beta")
    membership_set(project=alpha, user=operator, role="operator")
    graphs = [graph_create(project=alpha, name=f"g{i}", dialect="ges") for i in range(20)]
    beta_graph = graph_create(project=beta, name="other", dialect="ges")

    # Bulk loading as a database is bulk loaded: the list indexes are dropped first and built
    # once the rows are in (sorting once is much faster than a million ordered inserts).
    indexes = list(Job._meta.indexes)
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.remove_index(Job, index)
    fields = list(Job._meta.concrete_fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join("%s" for _ in fields)
    sql = f"INSERT INTO {Job._meta.db_table} ({columns}) VALUES ({marks})"  # noqa: S608
    rng = random.Random(42)
    statuses = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES], k=n_jobs)
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / n_jobs
    moment = connection.ops.adapt_datetimefield_value
    request = json.dumps({"format": "ges", "request": {"vertexset_path": "v.csv"}})
    rows: list[list[Any]] = []
    # Job types and names as a busy deployment has them; fail reasons as the app writes them;
    # one failed job in four retried (its retry a later job), so the "not retried yet" lookups
    # of "Retry all" meet real links.
    kinds = rng.choices(
        [
            ("import", "ImportGraph"),
            ("algorithm", "pagerank"),
            ("query", "query"),
            ("graph_operation", "DeleteGraph"),
        ],
        [0.6, 0.3, 0.08, 0.02],
        k=n_jobs,
    )
    reasons = {
        "partially_failed": "3 of 10 lines failed",
        "failed": "worker lost",
        "cancelled": "cancelled by oscar",
    }
    to_retry: list[str] = []
    for i, status in enumerate(statuses):
        created = start + step * i
        project, graph = (beta, beta_graph) if i % 100 == 99 else (alpha, graphs[i % 20])
        job_id = f"{int(created.timestamp() * 1000):012x}{rng.getrandbits(80):020x}"
        retry_of = to_retry.pop() if to_retry and rng.random() < 0.05 else None
        if status == "failed" and rng.random() < 0.25:
            to_retry.append(job_id)
        started = created + timedelta(seconds=5) if status != "waiting" else None
        active = status in ("waiting", "running", "cancelling")
        finished = None if active else created + timedelta(seconds=65)
        values = {
            "id": job_id,
            "type": kinds[i][0],
            "name": kinds[i][1],
            "project_id": project.pk,
            "graph_id": graph.pk,
            "graph_name": graph.name,
            "status": status,
            "progress": 40.0 if active else 100.0,
            "dialect": "native",
            "request": request,
            "params": request,
            "cancellable": active,
            "fail_reason": reasons.get(status, ""),
            "result": None,
            "created_at": moment(created),
            "started_at": moment(started) if started else None,
            "finished_at": moment(finished) if finished else None,
            "submitted_by_id": operator.pk,
            "cancel_requested_by_id": None,
            "cancel_requested_at": None,
            "retry_of_id": retry_of,
            "worker_id": "",
            "heartbeat_at": None,
            "attempt": 1 if started else 0,
            "task_id": "",
            "lines_done": 4 if active else 10,
            "lines_total": 10,
            "lines_per_second": 0.0,
            "phase": "",
            "dry_run": False,
        }
        rows.append([values[f.attname] for f in fields])
        if len(rows) == 50_000 or i == n_jobs - 1:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows)
            rows.clear()
    with connection.schema_editor() as editor:
        for index in indexes:
            editor.add_index(Job, index)


def measure(client: Any, url: str, runs: int) -> dict[str, Any]:
    client.get(url)  # warm-up: the first request pays for cold caches and imports
    wall: list[float] = []
    cpu: list[float] = []
    view: list[float] = []
    body: dict = {}
    for _ in range(runs):
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        timing = response.get("Server-Timing", "")
        if "dur=" in timing:
            view.append(float(timing.split("dur=")[1]))
        body = response.json()
    return {
        "median": statistics.median(wall),
        "p95": percentile(wall, 0.95),
        "cpu": statistics.median(cpu),
        "view": statistics.median(view) if view else float("nan"),
        "body": body,
    }


def latency(runs: int) -> dict[str, dict[str, float]]:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from jobcenter.api.pagination import encode_cursor, ordering_keys
    from jobcenter.jobs.selectors import job_list_filtered

    figures: dict[str, dict[str, float]] = {}
    since = "created_after=" + (datetime.now(UTC) - timedelta(days=182)).date().isoformat()
    for username, role in (("oscar", "operator of alpha"), ("admin", "superuser")):
        user = get_user_model().objects.get(username=username)
        token = Token.objects.get_or_create(user=user)[0].key
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        jobs = job_list_filtered(user=user, data={})
        visible = jobs.count()
        deep_index = min(900_000, visible - 60)
        deep_cursor = encode_cursor(ordering_keys(jobs), jobs[deep_index], backward=False)
        cases = [
            ("health check (baseline)", HEALTH),
            ("filtered first page: status=running, limit 50", LIST),
            (f"deep cursor page (row {deep_index:,}), limit 50", f"?cursor={deep_cursor}&limit=50"),
            (
                f"deep offset page (offset {deep_index:,}) (baseline)",
                f"?offset={deep_index}&limit=50",
            ),
            (f"first page, no filter, limit 50 (counts {visible:,})", "?limit=50"),
            ("first page in cursor mode, limit 50", "?cursor=&limit=50"),
            ("status=failed&graph=g3, limit 50", "?status=failed&graph=g3&limit=50"),
            ("q=worker&created_after=<half a year ago>, limit 50", f"?q=worker&{since}&limit=50"),
        ]
        print(f"  {username} ({role}, sees {visible:,} jobs)")
        for label, query in cases:
            url = query if query.startswith("/") else "/api/v1/jobs/" + query
            result = measure(client, url, runs)
            if "limit=50" in query:  # a real page, not an empty or an error one
                rows = len(result["body"]["results"])
                assert rows == min(50, result["body"]["count"] or 50), (label, rows)
            figures[f"{username}: {label}"] = result
            target = ""
            if label.startswith(("filtered first page", "deep cursor page")):
                verdict = "ok" if result["median"] <= TARGET_MS else "MISSED"
                target = f"  [target <= {TARGET_MS:.0f} ms: {verdict}]"
            print(
                f"    {label:<52} median {result['median']:7.2f} ms  p95 {result['p95']:7.2f} ms"
                f"  CPU {result['cpu']:7.2f} ms  (view {result['view']:6.2f} ms){target}"
            )
        deep = figures[f"{username}: deep cursor page (row {deep_index:,}), limit 50"]
        offset = figures[f"{username}: deep offset page (offset {deep_index:,}) (baseline)"]
        print(
            f"    -> the deep cursor page is {offset['median'] / deep['median']:.0f}x faster "
            "than the same page by offset"
        )
    return figures


def every_filter_and_sort(runs: int, cross_runs: int) -> None:
    """The first page (limit 50, with its count) of every filter, search and sort, alone and
    every filter with every sort, as the operator of alpha; every sort as the superuser."""
    from _list_cases import report, sort_cases
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIClient

    users = get_user_model().objects
    for username in ("oscar", "admin"):
        client = APIClient()
        client.force_authenticate(users.get(username=username))

        def get(query: str, client: Any = client) -> Any:
            response = client.get(f"/api/v1/jobs/?limit=50&{query}")
            assert response.status_code == 200, (query, response.content[:300])
            return response

        if username == "oscar":
            report(
                "API first page, operator of alpha (authentication forced)", get, runs, cross_runs
            )
        else:
            from _list_cases import measure

            base = measure(lambda: get(""), runs)
            print(f"API first page, superuser (every project), baseline {base['wall']:.1f} ms:")
            for label, query in sort_cases():
                r = measure(lambda q=query: get(q), runs)
                ratio = r["wall"] / base["wall"]
                print(f"  {label:<56} {r['wall']:8.1f} {r['cpu']:8.1f} {ratio:7.2f}")


def queries_and_plans() -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.http import QueryDict
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from jobcenter.api.pagination import keyset_filter, ordering_keys
    from jobcenter.jobs.selectors import job_list_filtered

    oscar = get_user_model().objects.get(username="oscar")
    client = APIClient()
    client.force_authenticate(oscar)
    counts = {}
    for mode in ("offset", "cursor"):
        for limit in (1, 500):
            url = f"/api/v1/jobs/?limit={limit}" + ("&cursor=" if mode == "cursor" else "")
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url).status_code == 200
            counts[(mode, limit)] = len(captured)
    print(
        "SQL queries per list request (authentication forced, no token lookup), limit 1 vs 500: "
        f"offset mode {counts[('offset', 1)]} vs {counts[('offset', 500)]}, "
        f"cursor mode {counts[('cursor', 1)]} vs {counts[('cursor', 500)]}"
    )
    jobs = job_list_filtered(user=oscar, data={})
    filtered = job_list_filtered(user=oscar, data=QueryDict("status=running"))
    keys = ordering_keys(jobs)
    deep_row = jobs[min(900_000, jobs.count() - 60)]
    values = [getattr(deep_row, key.name) for key in keys]
    deep = jobs.filter(keyset_filter(keys, values, forward=True))[:51]
    for label, qs in (("filtered first page", filtered[:50]), ("deep cursor page", deep)):
        sql, params = qs.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = "; ".join(row[-1] for row in cursor.fetchall())
        print(f"plan of the {label}: {plan}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client_process(port: int, path: str, token: str, threads: int, until: float, queue) -> None:
    samples: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.time() < until:
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Authorization": f"Token {token}"})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            except (OSError, http.client.HTTPException):
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            mine.append(time.perf_counter() - started)
            bad += not ok
        conn.close()
        with lock:
            samples.extend(mine)
            errors[0] += bad

    workers = [threading.Thread(target=loop) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    queue.put((samples, errors[0]))


def _load(port: int, path: str, token: str, concurrency: int, duration: float) -> dict[str, Any]:
    processes = min(4, concurrency)
    per_process = [
        concurrency // processes + (i < concurrency % processes) for i in range(processes)
    ]
    queue: multiprocessing.Queue = multiprocessing.Queue()
    _client_process(port, path, token, 2, time.time() + 2, queue)  # warm-up
    queue.get()
    until = time.time() + duration
    procs = [
        multiprocessing.Process(target=_client_process, args=(port, path, token, n, until, queue))
        for n in per_process
    ]
    started = time.time()
    for p in procs:
        p.start()
    samples: list[float] = []
    errors = 0
    for _ in procs:
        got, bad = queue.get()
        samples.extend(got)
        errors += bad
    for p in procs:
        p.join()
    elapsed = time.time() - started
    return {
        "requests": len(samples),
        "errors": errors,
        "rps": len(samples) / elapsed,
        "p50_ms": percentile(samples, 0.50) * 1000,
        "p99_ms": percentile(samples, 0.99) * 1000,
    }


def throughput(data: Path, levels: list[int], duration: float, web_workers: int) -> None:
    from rest_framework.authtoken.models import Token

    token = Token.objects.get(user__username="oscar").key
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env["JOBCENTER_DATA_DIR"] = str(data)
    # gunicorn's default control socket (~/.gunicorn/gunicorn.ctl) is shared by every instance
    # of the user on this machine; this one needs none.
    env["GUNICORN_CMD_ARGS"] = "--no-control-socket"
    py = sys.executable
    subprocess.run(
        [py, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=REPO, env=env, check=True
    )
    server = subprocess.Popen(
        [py, "manage.py", "serve", "--port", str(port), "--web-workers", str(web_workers)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.time() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", HEALTH)
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.3)
        print(
            f"throughput on loopback: manage.py serve ({web_workers} gunicorn workers x 4 "
            "threads, WhiteNoise, access log on) and keep-alive clients in up to 4 processes on "
            f"the same machine, {duration:.0f} s per line:"
        )
        for concurrency in levels:
            for label, path in (("GET " + LIST, LIST), ("GET /api/health/ (baseline)", HEALTH)):
                load = os.getloadavg()[0]
                r = _load(port, path, token, concurrency, duration)
                print(
                    f"  {concurrency:>3} clients  {label:<46} {r['rps']:6.0f} requests/s  "
                    f"p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:7.1f} ms  ({r['requests']} "
                    f"requests, {r['errors']} errors; load average before: {load:.2f})"
                )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument(
        "--concurrency", default="4,16", help="clients, one run per value (comma-separated)"
    )
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--data", help="reuse the data directory of an earlier run")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--cross-runs", type=int, default=3, help="requests per filter x sort combination"
    )
    args = parser.parse_args()

    print(
        f"machine: {os.cpu_count()} cores; load average (1/5/15 min) at start: "
        + " / ".join(f"{x:.2f}" for x in os.getloadavg())
    )
    if args.data:
        os.environ["JOBCENTER_DATA_DIR"] = args.data
        os.environ["DJANGO_SETTINGS_MODULE"] = "jobcenter.settings"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        data = Path(args.data)
    else:
        data = django_in_tempdir("jobcenter-bench-api-", args.database)
        started = time.perf_counter()
        populate(args.jobs)
        print(f"populated {args.jobs:,} jobs in {time.perf_counter() - started:.0f} s: {data}")
    # What the worker's sweep does once a table has grown or gained an index.
    from jobcenter.core.dbstats import database_statistics_refresh
    from jobcenter.jobs.management.commands.db_worker import ANALYZED_MODELS

    started = time.perf_counter()
    analysed = database_statistics_refresh(models=ANALYZED_MODELS)
    from django.db import connection

    if connection.vendor == "postgresql":  # what autovacuum does after a bulk load
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE jobs_job")
        analysed = ["jobs_job (VACUUM ANALYZE)"]
    print(
        f"planner statistics refreshed ({', '.join(analysed) or 'none needed'}) in "
        f"{time.perf_counter() - started:.1f} s, as the worker's sweep does"
    )
    from jobcenter.jobs.models import Job

    running = Job.objects.filter(status="running").count()
    print(f"jobs: {Job.objects.count():,}, of which running: {running:,}")
    print("measured: " + describe_run())
    print(f"latency, in process (median and p95 of {args.runs} requests, after 1 warm-up):")
    latency(args.runs)
    every_filter_and_sort(args.runs, args.cross_runs)
    if args.database == "sqlite":
        queries_and_plans()
    if not args.skip_throughput:
        levels = [int(n) for n in args.concurrency.split(",") if n.strip()]
        throughput(data, levels, args.duration, args.web_workers)
    print(
        "load average (1/5/15 min) at the end: " + " / ".join(f"{x:.2f}" for x in os.getloadavg())
    )


if __name__ == "__main__":
    main()
