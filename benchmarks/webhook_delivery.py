"""Webhooks: every job ending delivered to a local receiver, none lost, repeats only as
at-least-once allows, and how long after its job's end a delivery arrives.

``--jobs`` jobs (default 10,000) of a trivial kind (``echo``, tests/jobs/echo_kind.py: a claim,
one heartbeat and a finish; so the figures are the notification path, not a job's work) are
submitted through their submit service while real ``manage.py db_worker`` processes
(``--workers``) run them; the project has one webhook listening to every ending, pointing at a
``http.server`` receiver on 127.0.0.1 in this process, which checks each delivery's signature
and records its ``Jobcenter-Delivery`` id, its job and its arrival time.

- lost: jobs that ended without their delivery reaching the receiver (after the queue drained);
- repeats: deliveries received more than once (same id; the receiver drops them);
- delay: arrival at the receiver minus the job's ``finished_at`` (the row written in the same
  transaction as the delivery), p50 / p95 / max.

``--kill-worker-at N``: SIGKILL a worker once N deliveries have arrived, then start a new one:
deliveries it had taken are sent again after their lease (JOBCENTER_WEBHOOK_TIMEOUT * 2 + 30 s),
so some may arrive twice; none may be missing.

Run:
  .venv/bin/python benchmarks/webhook_delivery.py [--database postgres] [--jobs 10000]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import signal
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import describe_run, django_in_tempdir, start_worker, stop_workers, worker_env


class Inbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.arrivals: dict[str, list[float]] = {}  # delivery id -> arrival times
        self.job_of: dict[str, str] = {}
        self.bad_signatures = 0
        self.secret = ""

    def start(self) -> ThreadingHTTPServer:
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                now = time.time()
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stamp = self.headers["Jobcenter-Timestamp"]
                mac = hmac.new(inbox.secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
                good = hmac.compare_digest(
                    f"v1={mac.hexdigest()}", self.headers["Jobcenter-Signature"]
                )
                delivery = self.headers["Jobcenter-Delivery"]
                with inbox.lock:
                    if not good:
                        inbox.bad_signatures += 1
                    inbox.arrivals.setdefault(delivery, []).append(now)
                    inbox.job_of[delivery] = json.loads(body)["job"]["id"]
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def received(self) -> int:
        with self.lock:
            return len(self.arrivals)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--kill-worker-at", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    knobs = {
        "JOBCENTER_WEBHOOK_ALLOWED_HOSTS": "127.0.0.1",
        "JOBCENTER_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
        "JOBCENTER_WEBHOOK_TIMEOUT": "2",
        "JOBCENTER_JOB_KINDS": "tests.jobs.echo_kind",
    }
    os.environ.update(knobs)
    data = django_in_tempdir("jobcenter-bench-webhooks-", args.database)
    from django.conf import settings

    from jobcenter.graphs.services import graph_create
    from jobcenter.jobs.choices import TERMINAL_STATUSES
    from jobcenter.jobs.models import Job
    from jobcenter.notifications.models import Delivery
    from jobcenter.notifications.services import webhook_create
    from jobcenter.projects.services import project_create
    from tests.jobs.echo_kind import job_submit_echo

    print(f"measured: {describe_run()}")
    print(
        f"{args.jobs:,} jobs, {args.workers} worker(s), poll interval "
        f"{settings.JOBCENTER_WEBHOOK_POLL_INTERVAL} s, retry base "
        f"{settings.JOBCENTER_WEBHOOK_RETRY_BASE} s"
    )
    env = worker_env()

    inbox = Inbox()
    server = inbox.start()
    project = project_create(name="bench")
    graph = graph_create(project=project, name="g", dialect="ges")
    admin = __import__("django.contrib.auth", fromlist=["get_user_model"]).get_user_model()
    user = admin.objects.create_superuser(username="bench", password="x")
    _, inbox.secret = webhook_create(
        project=project, user=user, url=f"http://127.0.0.1:{server.server_address[1]}/hook"
    )
    log = data / "workers.log"
    workers = [start_worker("--queue-name", "*", env=env, log=log) for _ in range(args.workers)]
    killed = False
    try:
        started = time.perf_counter()
        for i in range(args.jobs):
            job_submit_echo(graph=graph, text=f"t{i}")
            if args.kill_worker_at and not killed and inbox.received() >= args.kill_worker_at:
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait()
                workers[0] = start_worker("--queue-name", "*", env=env, log=log)
                killed = True
                print(f"killed a worker (SIGKILL) after {inbox.received():,} deliveries")
        submitted = time.perf_counter() - started
        print(f"submitted in {submitted:.1f}s")
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            ended = Job.objects.filter(status__in=TERMINAL_STATUSES).count()
            pending = Delivery.objects.filter(status="pending").count()
            if args.kill_worker_at and not killed and inbox.received() >= args.kill_worker_at:
                workers[0].send_signal(signal.SIGKILL)
                workers[0].wait()
                workers[0] = start_worker("--queue-name", "*", env=env, log=log)
                killed = True
                print(f"killed a worker (SIGKILL) after {inbox.received():,} deliveries")
            if ended == args.jobs and pending == 0:
                break
            time.sleep(0.2)
        else:
            raise SystemExit("timed out")
        total = time.perf_counter() - started
        time.sleep(0.5)  # the last answers' records
    finally:
        stop_workers(workers)
        server.shutdown()

    jobs = dict(Job.objects.values_list("pk", "finished_at"))
    statuses = Job.objects.order_by().values_list("status", flat=True).distinct()
    deliveries = dict(Delivery.objects.values_list("pk", "job_id"))
    with inbox.lock:
        arrivals = dict(inbox.arrivals)
        job_of = dict(inbox.job_of)
    reached = set(job_of.values())
    lost = [job for job in jobs if job not in reached]
    repeats = sum(len(times) - 1 for times in arrivals.values())
    unknown = [d for d in arrivals if d not in deliveries]
    delays = sorted(
        times[0] - jobs[job_of[d]].timestamp() for d, times in arrivals.items() if d in job_of
    )
    attempts = list(Delivery.objects.values_list("attempts", flat=True))

    def pct(p: float) -> float:
        return delays[min(len(delays) - 1, int(p * len(delays)))] * 1000

    print(f"job statuses: {sorted(statuses)}")
    print(
        f"jobs ended: {len(jobs):,}; deliveries written: {len(deliveries):,}; distinct "
        f"deliveries received: {len(arrivals):,} (unknown ids: {len(unknown)}); bad signatures: "
        f"{inbox.bad_signatures}"
    )
    print(f"lost: {len(lost)}; repeats (same delivery id again): {repeats}")
    print(
        f"attempts per delivery: max {max(attempts)}, total {sum(attempts):,}; everything done in "
        f"{total:.1f}s ({len(arrivals) / total:.0f} deliveries/s)"
    )
    print(
        f"delay (job finished_at -> arrival): p50 {pct(0.5):.1f} ms, p95 {pct(0.95):.1f} ms, "
        f"max {delays[-1] * 1000:.1f} ms, mean {statistics.mean(delays) * 1000:.1f} ms"
    )
    if lost or unknown or inbox.bad_signatures:
        raise SystemExit("FAILED: lost, unknown or badly signed deliveries")


if __name__ == "__main__":
    main()
