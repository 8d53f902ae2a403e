"""Running a job inside a worker: claim, heartbeat, cooperative stop, finish.

The task engine calls :func:`execute_job` with a job id, perhaps more than once; the claim makes
the second call a no-op. While a handler works, a :class:`Heartbeat` thread writes progress,
file counters and failed lines about once a second in one conditional UPDATE, and learns from
its row count whether a cancel was requested or the job was taken away. Handlers only bump
in-memory counters, so bookkeeping costs the hot loop almost nothing.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.db import close_old_connections, connection

from jobcenter.core.ids import worker_id_for
from jobcenter.jobs import transitions
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import FailedLine, Job, JobFile
from jobcenter.jobs.registry import between_jobs, kind_for

logger = logging.getLogger("jobcenter.jobs")

# Set by the worker command on its first SIGINT/SIGTERM: running jobs stop at their next
# heartbeat and go back to the queue.
SHUTDOWN = threading.Event()


def current_worker_id() -> str:
    return worker_id_for(os.getpid())


class StopReason:
    CANCEL = "cancel"
    LOST = "lost"
    SHUTDOWN = "shutdown"


class Heartbeat(threading.Thread):
    """Writes a job's heartbeat and progress every ``interval`` seconds until stopped.

    ``snapshot`` returns the keyword arguments of :func:`transitions.job_heartbeat` (besides the
    ids); ``stop_event`` is set when the job must stop, with ``reason`` saying why.
    """

    def __init__(
        self,
        *,
        job_id: str,
        worker_id: str,
        snapshot: Callable[[], dict],
        stop_event: threading.Event,
        interval: float | None = None,
    ) -> None:
        super().__init__(name=f"heartbeat-{job_id}", daemon=True)
        self.job_id = job_id
        self.worker_id = worker_id
        self.snapshot = snapshot
        self.stop_event = stop_event
        self.interval = interval if interval is not None else settings.JOBCENTER_HEARTBEAT_INTERVAL
        self.reason: str | None = None
        self._done = threading.Event()
        self.beats = 0
        self.seconds_writing = 0.0

    def run(self) -> None:
        try:
            while not self._done.wait(self.interval):
                self.beat()
        finally:
            connection.close()

    def beat(self) -> None:
        if SHUTDOWN.is_set() and self.reason is None:
            self.request_stop(StopReason.SHUTDOWN)
        started = time.perf_counter()
        try:
            outcome = transitions.job_heartbeat(
                job_id=self.job_id, worker_id=self.worker_id, **self.snapshot()
            )
        except Exception:  # a busy database must not kill the job; the next beat retries
            logger.exception("heartbeat of job %s failed", self.job_id)
            return
        finally:
            self.seconds_writing += time.perf_counter() - started
            self.beats += 1
        if outcome == transitions.BeatOutcome.CANCEL:
            self.request_stop(StopReason.CANCEL)
        elif outcome == transitions.BeatOutcome.LOST:
            self.request_stop(StopReason.LOST)

    def request_stop(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason
        self.stop_event.set()

    def finish(self) -> None:
        self._done.set()
        if self.is_alive():
            self.join(timeout=30)


def execute_job(*, job_id: str) -> None:
    """Run one job to a terminal state (or back to the queue on shutdown)."""
    close_old_connections()
    worker_id = current_worker_id()
    between_jobs(idle=False)  # e.g. drop the graphs closed since the last job
    job = transitions.job_claim(job_id=job_id, worker_id=worker_id)
    if job is None:
        logger.info("job %s was not waiting; nothing to do", job_id)
        return
    kind = kind_for(job.type)
    try:
        if kind is None:
            raise RuntimeError(f"no handler for job type {job.type!r}")
        kind.handler(job=job, worker_id=worker_id)
    except Exception as exc:
        logger.exception("job %s crashed", job_id)
        transitions.job_finish(
            job_id=job_id,
            worker_id=worker_id,
            status=JobStatus.FAILED,
            fail_reason=f"internal error: {type(exc).__name__}: {exc}",
        )


def end_stopped(*, job: Job, worker_id: str, reason: str | None, **finish: object) -> None:
    """Record how a stopped job ends, by why it stopped."""
    if reason == StopReason.SHUTDOWN:
        transitions.job_requeue(job_id=job.pk, worker_id=worker_id, reason="worker shut down")
    elif reason == StopReason.LOST:
        logger.warning("job %s is no longer ours; leaving it as it is", job.pk)
    else:
        transitions.job_finish(
            job_id=job.pk, worker_id=worker_id, status=JobStatus.CANCELLED, **finish
        )


def ts(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, tz=UTC) if value else None


__all__ = [
    "SHUTDOWN",
    "FailedLine",
    "Heartbeat",
    "JobFile",
    "end_stopped",
    "execute_job",
    "worker_id_for",
]
