"""Running a job inside a worker: claim, heartbeat, cooperative stop, finish.

The task engine calls :func:`execute_job` with a job id, perhaps more than once; the claim makes
the second call a no-op. While a handler works, a :class:`Heartbeat` thread writes progress,
file counters and failed lines about once a second in one conditional UPDATE, and learns from
its row count whether a cancel was requested or the job was taken away. Handlers only bump
in-memory counters, so bookkeeping costs the hot loop almost nothing. A worker's stop signal
(:func:`shutdown`) does not wait for the next beat: it wakes the running jobs' heartbeats at once.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

from django.conf import settings
from django.db import close_old_connections, connection

from jobcenter.core.ids import worker_id_for
from jobcenter.graphs.compute import standby_drop
from jobcenter.jobs import transitions
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import FailedLine, Job, JobFile
from jobcenter.jobs.registry import between_jobs, kind_for

logger = logging.getLogger("jobcenter.jobs")

# Set by the worker command on its first SIGINT/SIGTERM (:func:`shutdown`): running jobs stop
# and go back to the queue.
SHUTDOWN = threading.Event()

# The heartbeats of the jobs this process runs now (started and not yet finished).
RUNNING: set[Heartbeat] = set()

_FINISH = "finish"  # what Heartbeat.finish tells the thread; anything else is a stop signal


def shutdown() -> None:
    """A worker's stop signal: set SHUTDOWN and have every running job stop now, not at its
    next heartbeat. Called from a signal handler, that is in the main thread between two of its
    bytecodes: setting a job's stop event here could deadlock on the event's lock should the
    main thread hold it (waiting on that event), so each heartbeat is woken through a
    SimpleQueue (whose put is reentrant) and sets its job's stop event itself."""
    SHUTDOWN.set()
    for beat in tuple(RUNNING):
        beat.wake()


def current_worker_id() -> str:
    return worker_id_for(os.getpid())


class StopReason:
    CANCEL = "cancel"
    LOST = "lost"
    SHUTDOWN = "shutdown"


class Heartbeat(threading.Thread):
    """Writes a job's heartbeat and progress every ``interval`` seconds until stopped.

    ``snapshot`` returns the keyword arguments of :func:`transitions.job_heartbeat` (besides the
    ids); ``stop_event`` is set when the job must stop, with ``reason`` saying why: a cancel
    or a lost job at a beat, a shutdown at once (:func:`shutdown` wakes the thread).
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
        self._messages: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.beats = 0
        self.seconds_writing = 0.0

    def start(self) -> None:
        RUNNING.add(self)  # before run() looks at SHUTDOWN: a signal in between wakes it
        super().start()

    def wake(self) -> None:
        """Stop the job now (a stop signal); safe in a signal handler."""
        self._messages.put("shutdown")

    def run(self) -> None:
        try:
            if SHUTDOWN.is_set():
                self.request_stop(StopReason.SHUTDOWN)
            due = time.monotonic() + self.interval
            while True:
                try:
                    message = self._messages.get(timeout=max(0.0, due - time.monotonic()))
                except queue.Empty:
                    self.beat()
                    due = time.monotonic() + self.interval
                    continue
                if message == _FINISH:
                    return
                self.request_stop(StopReason.SHUTDOWN)
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
        RUNNING.discard(self)
        self._messages.put(_FINISH)
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
    if kind is None or not kind.computes:
        standby_drop()  # its memory is the worker's, copied as this job writes it
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
    "shutdown",
    "worker_id_for",
]
