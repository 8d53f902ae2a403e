"""``manage.py db_worker``: django-tasks-db's worker plus jobcenter's recovery.

At start it loads the graphs of the latest algorithm jobs into memory (JOBCENTER_WARM_ON_START,
within JOBCENTER_GRAPH_MEMORY_MB). At start and then every JOBCENTER_SWEEP_INTERVAL seconds it
ends jobs whose worker died (and, on SQLite, refreshes the query planner's statistics of the
job tables when they have grown); every JOBCENTER_PURGE_INTERVAL seconds it applies the
projects' result retention. On the
first Ctrl-C / SIGTERM, the job being run stops at its next checkpoint, rolls back and goes back
to the queue, so shutting down never waits for a long import (a second signal, a second or
more after the first, forces exit).
Before each job and while idle it runs the job kinds' ``between_jobs`` hooks (start and close
graph: the started graphs kept in memory, the closed ones dropped).
``--lost-worker ID`` (``manage.py serve`` passes the workers it saw die) has the start-up
recovery take those workers' jobs at once, without waiting for their heartbeats to go stale.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import CommandParser
from django.db import close_old_connections, connection
from django.db.utils import OperationalError
from django_tasks_db.management.commands.db_worker import Command as BaseWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from jobcenter.core.dbstats import database_statistics_refresh
from jobcenter.graphs.compute import standby_drop, standby_pid
from jobcenter.jobs.models import FailedLine, Job, JobEvent, JobFile
from jobcenter.jobs.registry import between_jobs
from jobcenter.jobs.resident import keep_standby, warm_recent
from jobcenter.jobs.runner import SHUTDOWN, shutdown
from jobcenter.jobs.services import job_results_expire
from jobcenter.jobs.transitions import job_recover_stale
from jobcenter.jobs.wakeup import doorbell_for
from jobcenter.notifications.sender import send_forever

logger = logging.getLogger("jobcenter.jobs")


# A stop signal repeated within this many seconds of the first is the same stop delivered twice
# (a supervisor signalling the worker and its whole process group), not a second Ctrl-C.
REPEAT_WINDOW = 1.0


class JobcenterWorker(Worker):
    """django-tasks-db's worker with a stop that never loses a job.

    The first SIGINT/SIGTERM/SIGQUIT sets SHUTDOWN and stops the running job at once (at its
    next look at its stop flag; it goes back to the queue) and ends the loop after the current
    task or sleep. Unlike the base class it never raises SystemExit at whatever line the worker
    is on (in an idle worker that may be just after a task was claimed, leaving its job waiting
    with no task). A repeat within REPEAT_WINDOW is ignored; a later signal forces exit at once
    (the job is then recovered as after a crash).
    """

    first_signal_at: float | None = None

    def run(self) -> None:
        """The base worker's loop (take a ready task, run it, repeat), except that an idle
        worker waits on a doorbell (:mod:`jobcenter.jobs.wakeup`) instead of sleeping
        ``interval``: a newly queued task starts within milliseconds, and the queue is still
        looked at at least once per ``interval``."""
        logger.info("Starting worker worker_id=%s queues=%s", self.worker_id, self.queue_names)
        if self.startup_delay and self.interval:
            time.sleep(random.random())  # spreads workers started together
        doorbell = doorbell_for(DBTaskResult.objects.db)
        looked_after_fork = False
        try:
            while self.running:
                close_old_connections()
                mark = doorbell.mark()
                taken, looked = self._take()
                if taken is not None:
                    self.run_task(taken)
                elif self.batch and looked:
                    logger.info("No more tasks to run for worker_id=%s.", self.worker_id)
                    return
                if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                    logger.info("Ran the maximum of %d task(s).", self._run_tasks)
                    return
                close_old_connections()
                if self.running and taken is None:
                    between_jobs(idle=True)  # e.g. load the started graphs this worker lacks
                    held = standby_pid()
                    forked = keep_standby() not in (None, held)
                    if forked and not looked_after_fork:
                        # The pages this loop writes are shared with the new standby now, and
                        # the first look at the queue after a fork copies about a thousand of
                        # them (5 to 40 ms). Look again at once, while idle, so that the look
                        # that finds the next job does not pay for them (once per fork: a
                        # standby that keeps dying is not forked again without a wait).
                        looked_after_fork = True
                        continue
                    looked_after_fork = False
                    doorbell.wait(mark, self.interval, SHUTDOWN)
        finally:
            standby_drop()
            doorbell.close()

    def _take(self) -> tuple[DBTaskResult | None, bool]:
        """Claim the next ready task of our queues, as the base worker does (SKIP LOCKED on
        PostgreSQL, an exclusive transaction on SQLite). Returns it (or None) and whether the
        queue could be looked at (False while SQLite's database was locked)."""
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        # The whole transaction, its BEGIN and COMMIT included: on SQLite the BEGIN is what
        # waits out another writer (a burst of submits, a long sweep) and may give up.
        try:
            with exclusive_transaction(tasks.db):
                taken = tasks.get_locked()
                if taken is not None:
                    taken.claim(self.worker_id)
        except OperationalError as error:
            if is_locked_database_exception(error):
                return None, False
            raise
        return taken, True

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        shutdown()
        name = signal.strsignal(signum)
        if self.first_signal_at is None:
            self.first_signal_at = now
            self.running = False
            logger.warning(
                "Received %s: stopping; a running job goes back to the queue "
                "(press Ctrl+C again to force)",
                name,
            )
        elif now - self.first_signal_at >= REPEAT_WINDOW:
            logger.warning("Received %s again: forced exit", name)
            self.reset_signals()
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(1)


# Tables whose SQLite planner statistics the sweep keeps fresh (see jobcenter.core.dbstats).
ANALYZED_MODELS = (Job, JobFile, FailedLine, JobEvent)


def sweep_forever(stop: threading.Event, interval: float) -> None:
    last_expiry = 0.0
    try:
        while not stop.wait(interval):
            try:
                job_recover_stale(stale_after=settings.JOBCENTER_STALE_AFTER)
                database_statistics_refresh(models=ANALYZED_MODELS)
                if time.monotonic() - last_expiry >= settings.JOBCENTER_PURGE_INTERVAL:
                    last_expiry = time.monotonic()
                    report = job_results_expire()
                    if report.removed or report.orphans or report.uploads:
                        logger.info(
                            "retention: removed %d result(s), %d orphan file(s), %d upload(s)",
                            report.removed,
                            report.orphans,
                            report.uploads,
                        )
            except Exception:
                logger.exception("recovery sweep failed")
    finally:
        connection.close()


class Command(BaseWorkerCommand):
    help = "Run a jobcenter worker: executes queued jobs and recovers jobs of dead workers."
    # The system checks load the URLconf, and with it every view, DRF, drf-spectacular and
    # psycopg: memory a worker, which serves no request, holds for nothing (``serve`` and
    # ``migrate`` run the checks).
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--lost-worker",
            action="append",
            default=[],
            metavar="ID",
            help="Id (host:pid) of a worker known to be dead: its jobs are recovered at start.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        worker = JobcenterWorker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        # From the start: a stop during recovery or warm-up is as graceful as one during a job.
        worker.configure_signals()
        ended = job_recover_stale(
            stale_after=settings.JOBCENTER_STALE_AFTER, dead_workers=options["lost_worker"]
        )
        if ended:
            self.stdout.write(f"Recovered {len(ended)} job(s) left by a lost worker.")
        stop = threading.Event()
        sweeper = threading.Thread(
            target=sweep_forever,
            args=(stop, settings.JOBCENTER_SWEEP_INTERVAL),
            name="recovery-sweep",
            daemon=True,
        )
        sweeper.start()
        # Webhook deliveries (jobcenter.notifications.sender), sent beside the jobs.
        threading.Thread(
            target=send_forever, args=(stop,), name="webhook-sender", daemon=True
        ).start()
        started = time.perf_counter()
        between_jobs(idle=False)  # before any graph is loaded (see kinds.close_graph.drop_closed)
        warmed = warm_recent(settings.JOBCENTER_WARM_ON_START)
        if warmed:
            names = ", ".join(graph.name for graph in warmed)
            elapsed = time.perf_counter() - started
            self.stdout.write(f"Loaded {len(warmed)} graph(s) in memory in {elapsed:.1f}s: {names}")
        try:
            worker.run()
        finally:
            stop.set()
            worker.reset_signals()
