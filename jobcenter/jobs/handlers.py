"""What each job type does in a worker. Handlers adapt a job to the engine that does the work
(the loader for imports) and report through the runner's heartbeat."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from django.conf import settings

from jobcenter.graphs.algorithms import RESIDENT
from jobcenter.graphs.loader import run_import
from jobcenter.graphs.plan import (
    ImportAborted,
    ImportPlan,
    ImportProgress,
    ImportStopped,
    ImportSummary,
    PlanError,
)
from jobcenter.graphs.services import (
    graph_import_plan,
    graph_lock_acquire,
    graph_lock_release,
    graph_record_import,
)
from jobcenter.graphs.store import GraphStore, delete_store
from jobcenter.jobs import analytics, services
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import FailedLine, Job
from jobcenter.jobs.runner import Heartbeat, end_stopped, ts
from jobcenter.jobs.throughput import ThroughputSampler

LOCK_POLL_SECONDS = 1.0


class ImportTracker:
    """Turns the loader's in-memory counters into the rows the heartbeat writes."""

    def __init__(self, job: Job, progress: ImportProgress) -> None:
        self.job = job
        self.progress = progress
        self.file_ids = dict(job.files.values_list("index", "id"))
        self._written: dict[int, tuple] = {}
        self._last_lines = 0
        self._last_time = self._started = time.monotonic()
        self._rate = 0.0
        self.sampler = ThroughputSampler()

    def _file_updates(self, *, final: bool = False) -> list[services.FileUpdate]:
        updates = []
        for index, fp in enumerate(self.progress.files):
            fields = {
                "total_lines": fp.total_lines,
                "successful_lines": fp.successful_lines,
                "failed_lines": fp.failed_lines,
                "bytes_read": fp.bytes_read,
                "bytes_total": fp.bytes_total,
                "status": str(fp.status) if fp.status else "",
                "cause": fp.cause,
                "log": fp.log,
                "started_at": ts(fp.started),
                "finished_at": ts(fp.finished),
                # dict() copies at once (the loader thread may be adding a reason meanwhile)
                "reason_counts": {str(r): n for r, n in dict(fp.reasons).items()},
            }
            key = tuple(fields.values())
            if final or self._written.get(index) != key:
                self._written[index] = key
                updates.append(services.FileUpdate(index=index, fields=fields))
        return updates

    def _drain_failed(self) -> list[FailedLine]:
        rows = []
        queue = self.progress.failed
        while queue:
            line = queue.popleft()
            rows.append(
                FailedLine(
                    job_id=self.job.pk,
                    file_id=self.file_ids[line.file_index],
                    line_number=line.line_number,
                    reason=str(line.reason),
                    message=line.message,
                    raw=line.raw,
                )
            )
        return rows

    def _percent(self) -> float:
        done, total = self.progress.lines_done, self.progress.lines_total
        return min(100.0, 100.0 * done / total) if total else 0.0

    def snapshot(self) -> dict[str, Any]:
        done, total = self.progress.lines_done, self.progress.lines_total
        now = time.monotonic()
        elapsed = now - self._last_time
        if elapsed > 0:
            instant = (done - self._last_lines) / elapsed
            self._rate = instant if self._rate == 0 else 0.5 * self._rate + 0.5 * instant
        self._last_lines, self._last_time = done, now
        sampled = self.sampler.add(now - self._started, done)
        return {
            "progress": min(99.9, 100.0 * done / total) if total else 0.0,
            "lines_done": done,
            "lines_total": total,
            "lines_per_second": round(self._rate, 1),
            "files": self._file_updates(),
            "failed": self._drain_failed(),
            "samples": self.sampler.points if sampled else None,
        }

    def final(self) -> dict[str, Any]:
        done = self.progress.lines_done
        return {
            "files": self._file_updates(final=True),
            "failed": self._drain_failed(),
            "lines_done": done,
            "lines_total": self.progress.lines_total,
            "progress": self._percent(),
            "samples": self.sampler.finish(time.monotonic() - self._started, done),
        }


def import_outcome(summary: ImportSummary, plan: ImportPlan) -> tuple[JobStatus, str]:
    """Job status and readable reason from the per-file results."""
    data_files = [f for f in summary.files if f.get("role") != "schema"] or list(summary.files)
    failed_files = [f for f in data_files if f.get("status") == "failed"]
    if summary.lines_failed == 0 and not failed_files:
        return JobStatus.SUCCEEDED, ""
    parts = [
        f"{f.get('path')}: {f.get('cause')}"
        for f in summary.files
        if f.get("status") in ("failed", "partFailed") and f.get("cause")
    ]
    detail = "; ".join(parts)
    if failed_files and len(failed_files) == len(data_files):
        return JobStatus.FAILED, f"every file failed. {detail}".strip()
    return (
        JobStatus.PARTIALLY_FAILED,
        f"{summary.lines_failed} of {summary.lines_total} lines failed. {detail}".strip(),
    )


def import_graph(*, job: Job, worker_id: str) -> None:
    finish: Callable[..., bool] = services.job_finish
    graph = job.graph
    if graph is None:
        finish(
            job_id=job.pk,
            worker_id=worker_id,
            status=JobStatus.FAILED,
            fail_reason="the graph was deleted before the import started",
        )
        return
    try:
        plan = graph_import_plan(graph=graph, params=job.params)
    except PlanError as exc:
        finish(job_id=job.pk, worker_id=worker_id, status=JobStatus.FAILED, fail_reason=exc.message)
        return
    stop = threading.Event()
    progress = ImportProgress.for_plan(plan)
    progress.stop = stop
    tracker = ImportTracker(job, progress)
    beat = Heartbeat(job_id=job.pk, worker_id=worker_id, snapshot=tracker.snapshot, stop_event=stop)
    beat.start()
    locked = False
    try:
        while not (locked := graph_lock_acquire(graph_id=graph.pk, job_id=job.pk)):
            if stop.wait(LOCK_POLL_SECONDS):
                raise ImportStopped()
        store = GraphStore(graph.store_path)
        try:
            summary = run_import(
                plan,
                store,
                job_id=job.pk,
                progress=progress,
                commit_gate=lambda _s: services.job_commit_gate(job_id=job.pk, worker_id=worker_id),
                index_capacity=settings.JOBCENTER_IMPORT_INDEX_CAPACITY,
            )
        finally:
            store.close()
    except ImportStopped:
        beat.finish()
        end_stopped(job=job, worker_id=worker_id, reason=beat.reason, **tracker.final())
        return
    except (ImportAborted, PlanError) as exc:
        beat.finish()
        finish(
            job_id=job.pk,
            worker_id=worker_id,
            status=JobStatus.FAILED,
            fail_reason=str(exc),
            **tracker.final(),
        )
        return
    finally:
        beat.finish()
        if locked:
            graph_lock_release(graph_id=graph.pk, job_id=job.pk)
    graph_record_import(graph_id=graph.pk, schema=plan.schema)
    status, reason = import_outcome(summary, plan)
    finish(
        job_id=job.pk,
        worker_id=worker_id,
        status=status,
        fail_reason=reason,
        result=asdict(summary),
        **tracker.final(),
    )


def graph_operation(*, job: Job, worker_id: str) -> None:
    """Graph lifecycle operations: deletion here (waits for a running write to end); clear,
    backup and restore in jobcenter.jobs.analytics."""
    graph = job.graph
    if job.params.get("operation") in ("clear", "backup", "restore"):
        analytics.graph_operation(job=job, worker_id=worker_id)
        return
    if job.params.get("operation") != "delete":
        services.job_finish(
            job_id=job.pk,
            worker_id=worker_id,
            status=JobStatus.FAILED,
            fail_reason=f"unknown graph operation {job.params.get('operation')!r}",
        )
        return
    if graph is None:
        services.job_finish(job_id=job.pk, worker_id=worker_id, status=JobStatus.SUCCEEDED)
        return
    stop = threading.Event()
    beat = Heartbeat(
        job_id=job.pk,
        worker_id=worker_id,
        stop_event=stop,
        snapshot=lambda: {
            "progress": 0.0,
            "lines_done": 0,
            "lines_total": 0,
            "lines_per_second": 0.0,
        },
    )
    beat.start()
    try:
        while not graph_lock_acquire(graph_id=graph.pk, job_id=job.pk):
            if stop.wait(LOCK_POLL_SECONDS):
                return  # lost: the sweeper ended this job
        store_path = graph.store_path
        graph.delete()
        delete_store(store_path)
        RESIDENT.forget(store_path)
    finally:
        beat.finish()
    services.job_finish(job_id=job.pk, worker_id=worker_id, status=JobStatus.SUCCEEDED)


HANDLERS: dict[str, Callable[..., None]] = {
    JobType.IMPORT: import_graph,
    JobType.GRAPH_OPERATION: graph_operation,
    JobType.ALGORITHM: analytics.algorithm,
    JobType.QUERY: analytics.query,
    JobType.INDEX: analytics.index,
    JobType.EXPORT: analytics.export,
}
