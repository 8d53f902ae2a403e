"""The job list of the REST API at 1,000,000 jobs (SQLite), and its throughput under load.

1. Latency ("server time"): requests go through the whole Django stack in this process
   (middleware, token authentication, filters, pagination, serialisation) with Django's test
   client, as an operator who is a member of the project holding the jobs. Reported: median and
   p95 of ``--runs`` requests per case. Targets: a filtered first page (``status=running``,
   limit 50) and a deep cursor page at most 30 ms median each.
2. Throughput: ``manage.py serve`` (gunicorn and a worker, as ``make run`` starts them) serves
   the same database on loopback; ``--concurrency`` keep-alive clients (spread over processes)
   request the filtered first page for ``--duration`` seconds. Reported: requests/s, p50, p99.

Run: .venv/bin/python benchmarks/api_list.py [--jobs 1000000] [--runs 50]
         [--concurrency 16] [--duration 20] [--data DIR (reuse a database made by a run)]
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
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import REPO, django_in_tempdir

STATUSES = [  # (status, share): most jobs have finished, a few are active
    ("succeeded", 0.80),
    ("partially_failed", 0.08),
    ("failed", 0.06),
    ("cancelled", 0.05),
    ("waiting", 0.005),
    ("running", 0.004),
    ("cancelling", 0.001),
]


def populate(n_jobs: int) -> None:
    """n_jobs jobs over the last year in project alpha (plus a few in beta), raw inserts."""
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

    fields = [f for f in Job._meta.concrete_fields]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join("%s" for _ in fields)
    sql = f"INSERT INTO {Job._meta.db_table} ({columns}) VALUES ({marks})"  # noqa: S608
    rng = random.Random(42)
    weights = [share for _, share in STATUSES]
    names = [s for s, _ in STATUSES]
    start = datetime.now(UTC) - timedelta(days=365)
    step = timedelta(days=365) / n_jobs
    fmt = "%Y-%m-%d %H:%M:%S.%f"
    rows = []
    for i in range(n_jobs):
        created = start + step * i
        status = rng.choices(names, weights)[0]
        project, graph = (beta, beta_graph) if i % 100 == 99 else (alpha, graphs[i % 20])
        started = created + timedelta(seconds=5) if status != "waiting" else None
        finished = (
            created + timedelta(seconds=65)
            if status not in ("waiting", "running", "cancelling")
            else None
        )
        ms = int(created.timestamp() * 1000)
        values = {
            "id": f"{ms:012x}{rng.getrandbits(80):020x}",
            "type": "import",
            "name": "ImportGraph",
            "project_id": project.pk,
            "graph_id": graph.pk,
            "graph_name": graph.name,
            "status": status,
            "progress": 100.0 if finished else 40.0,
            "dialect": "native",
            "request": json.dumps({"vertexset_path": f"/data/v{i}.csv"}),
            "params": json.dumps({"format": "ges", "request": {}}),
            "cancellable": 0 if finished else 1,
            "fail_reason": "3 of 10 lines failed" if status == "partially_failed" else "",
            "result": None,
            "created_at": created.strftime(fmt),
            "started_at": started.strftime(fmt) if started else None,
            "finished_at": finished.strftime(fmt) if finished else None,
            "submitted_by_id": operator.pk,
            "cancel_requested_by_id": None,
            "cancel_requested_at": None,
            "retry_of_id": None,
            "worker_id": "",
            "heartbeat_at": None,
            "attempt": 1 if started else 0,
            "task_id": "",
            "lines_done": 10,
            "lines_total": 10,
            "lines_per_second": 0.0,
        }
        rows.append([values[f.attname] for f in fields])
        if len(rows) == 20_000:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(sql, rows)
            rows.clear()
    if rows:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def measure(client, url: str, runs: int) -> tuple[float, float, dict]:
    times = []
    body: dict = {}
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        body = response.json()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1], body


def latency(runs: int) -> list[tuple[str, float, float]]:
    from django.db import connection
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    from jobcenter.api.pagination import encode_cursor, ordering_keys
    from jobcenter.jobs.filtersets import JobFilterSet
    from jobcenter.jobs.models import Job
    from jobcenter.jobs.selectors import job_list

    results = []
    for username in ("oscar", "admin"):
        user = Job._meta.get_field("submitted_by").related_model.objects.get(username=username)
        token = Token.objects.get_or_create(user=user)[0].key
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        qs = JobFilterSet(data={}, queryset=job_list(user=user)).qs
        keys = ordering_keys(qs)
        deep_row = qs[900_000 if qs.count() > 900_000 else qs.count() - 60]
        deep = encode_cursor(keys, deep_row, backward=False)
        cases = [
            ("filtered first page: status=running&limit=50", "?status=running&limit=50"),
            ("deep cursor page (row 900,000), limit=50", f"?cursor={deep}&limit=50"),
            ("first page, no filter, limit=50 (with count)", "?limit=50"),
            ("first page in cursor mode, limit=50", "?cursor=&limit=50"),
            ("status=failed&graph=g3, limit=50", "?status=failed&graph=g3&limit=50"),
            ("deep offset page (offset=900000), limit=50", "?offset=900000&limit=50"),
        ]
        for label, query in cases:
            connection.queries_log.clear()
            median, p95, body = measure(client, "/api/v1/jobs/" + query, runs)
            results.append((f"{username}: {label}", median, p95))
            print(f"  {username:<6} {label:<48} median {median:7.2f} ms  p95 {p95:7.2f} ms")
            assert len(body["results"]) == 50 or "offset" in query, body["count"]
    return results


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _client_process(port: int, path: str, token: str, threads: int, until: float, queue) -> None:
    import threading

    samples: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def loop() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.time() < until:
            started = time.perf_counter()
            conn.request("GET", path, headers={"Authorization": f"Token {token}"})
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            if response.status != 200:
                bad += 1
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


def throughput(data: Path, concurrency: int, duration: float, web_workers: int) -> dict:
    from rest_framework.authtoken.models import Token

    token = Token.objects.get(user__username="oscar").key
    port = _free_port()
    env = {**os.environ, "JOBCENTER_DATA_DIR": str(data), "DJANGO_SETTINGS_MODULE": ""}
    env.pop("DJANGO_SETTINGS_MODULE")
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
                conn.request("GET", "/api/health/")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.3)
        path = "/api/v1/jobs/?status=running&limit=50"
        processes = min(4, concurrency)
        per_process = [
            concurrency // processes + (i < concurrency % processes) for i in range(processes)
        ]
        queue: multiprocessing.Queue = multiprocessing.Queue()
        # warm-up
        _client_process(port, path, token, 2, time.time() + 2, queue)
        queue.get()
        until = time.time() + duration
        procs = [
            multiprocessing.Process(
                target=_client_process, args=(port, path, token, n, until, queue)
            )
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
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    samples.sort()
    return {
        "requests": len(samples),
        "errors": errors,
        "rps": len(samples) / elapsed,
        "p50_ms": samples[len(samples) // 2] * 1000,
        "p99_ms": samples[int(len(samples) * 0.99) - 1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--data", help="reuse the data directory of an earlier run")
    parser.add_argument("--skip-throughput", action="store_true")
    args = parser.parse_args()

    if args.data:
        os.environ["JOBCENTER_DATA_DIR"] = args.data
        os.environ["DJANGO_SETTINGS_MODULE"] = "jobcenter.settings"
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        data = Path(args.data)
    else:
        data = django_in_tempdir("jobcenter-bench-api-")
        started = time.perf_counter()
        populate(args.jobs)
        print(f"populated {args.jobs:,} jobs in {time.perf_counter() - started:.0f} s: {data}")
    from jobcenter.jobs.models import Job

    print(
        f"jobs: {Job.objects.count():,}; running: {Job.objects.filter(status='running').count():,}"
    )
    print("latency, in process (median / p95 of", args.runs, "requests):")
    latency(args.runs)
    if not args.skip_throughput:
        result = throughput(data, args.concurrency, args.duration, args.web_workers)
        print(
            f"throughput (manage.py serve, {args.web_workers} gunicorn workers x 4 threads, "
            f"{args.concurrency} clients, {args.duration:.0f} s, GET "
            "/api/v1/jobs/?status=running&limit=50): "
            f"{result['rps']:.0f} requests/s, p50 {result['p50_ms']:.1f} ms, "
            f"p99 {result['p99_ms']:.1f} ms, {result['requests']} requests, "
            f"{result['errors']} errors"
        )


if __name__ == "__main__":
    main()
