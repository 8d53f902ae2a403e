"""The import kind: a graph's data read from files (GES or GraphScope requests, server paths
or uploads), validated line by line and committed to the graph's store in one transaction.

- Submit: :func:`job_submit_import_request` (every face's request, shaped by its dialect in
  jobcenter.graphs.formats, uploads stored), :func:`job_submit_import` (the shaped form, as a
  job keeps it: paths, schema and mappings checked; nothing is written unless the whole
  request is valid).
- Worker: :func:`import_graph` runs the loader under the heartbeat; per-file counters and
  failed lines are written by the heartbeat (:class:`ImportTracker`).
- Phases: "waiting for the graph" (its write lock), "reading files" (the loader's pre-pass),
  "loading graph" (lines validated and written), "committing".
- Dry run (``Job.dry_run``): the same work, and the store transaction rolled back at the end.
- Retry: the same request (a dry run again for a dry run), while the graph exists.
  Cancellable until its commit gate.
- Result: the loader's ``ImportSummary`` (lines and files, loaded and failed).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from jobcenter.core.errors import InvalidInput, InvalidState
from jobcenter.core.uploads import (
    safe_filename,
    upload_of,
    upload_root,
    uploads_discard,
    uploads_fetch,
    uploads_missing,
    uploads_named,
    uploads_store,
    uploads_touch,
)
from jobcenter.graphs.formats import ImportRequest, import_params
from jobcenter.graphs.loader import run_import
from jobcenter.graphs.models import Graph
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
from jobcenter.graphs.stores.base import StoreMissing
from jobcenter.graphs.stores.factory import open_store
from jobcenter.jobs import transitions
from jobcenter.jobs.chains import dependencies_record
from jobcenter.jobs.choices import EventKind, JobDialect, JobStatus, JobType
from jobcenter.jobs.dispatch import dispatch as _dispatch
from jobcenter.jobs.dispatch import record_event as _event
from jobcenter.jobs.models import FailedLine, Job, JobFile
from jobcenter.jobs.registry import Kind, Number, register
from jobcenter.jobs.runner import Heartbeat, end_stopped, ts
from jobcenter.jobs.selectors import import_committed
from jobcenter.jobs.submit import require_ready as _ready
from jobcenter.jobs.submit import require_role as _require_role
from jobcenter.jobs.throughput import ThroughputSampler
from jobcenter.projects.choices import Role

LOCK_POLL_SECONDS = 1.0

# --- submission -----------------------------------------------------------------------------


def job_submit_import(
    *,
    graph: Graph,
    params: dict[str, Any],
    request: dict[str, Any] | None = None,
    dialect: str = JobDialect.NATIVE,
    user: AbstractBaseUser | None = None,
    name: str = "ImportGraph",
    retry_of: Job | None = None,
    dry_run: bool = False,
) -> Job:
    """Validate an import against the graph (paths, schema, mappings) and queue it.

    ``dry_run``: the import validates every line as a real one would and writes nothing to the
    graph (:func:`jobcenter.graphs.loader.run_import`).

    ``params`` is normalised: ``{"format": "ges", "request": {...}}`` or
    ``{"format": "graphscope", "mapping": {...}}``; ``request`` is kept as the caller sent it.
    Nothing is written unless the whole request is valid.
    """
    _ready(graph, user)
    _uploads_still_there(graph, params)
    try:
        plan = graph_import_plan(graph=graph, params=params)
    except PlanError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    # The uploads it reads (whoever named them, however): retention keeps them while it waits
    # or runs, and a retry knows which files it needs.
    uploads = sorted(
        {u for spec in plan.files if (u := upload_of(spec.path, graph.project_id)) is not None}
    )
    stored_params = {k: v for k, v in params.items() if k != "uploads"}
    if uploads:
        stored_params["uploads"] = uploads
    with transaction.atomic():
        job = Job.objects.create(
            type=JobType.IMPORT,
            name=name,
            project=graph.project,
            graph=graph,
            graph_name=graph.name,
            dialect=dialect,
            request=request if request is not None else params,
            params=stored_params,
            submitted_by=user,
            retry_of=retry_of,
            dry_run=dry_run,
        )
        JobFile.objects.bulk_create(_job_files(job, plan))
        waits = dependencies_record(job)  # the jobs it waits for (jobs.chains), if any
        _event(job.id, EventKind.SUBMITTED, actor=user)
        if not waits:
            _dispatch(job)
    return job


def _uploads_still_there(graph: Graph, params: dict[str, Any]) -> None:
    """An import naming uploads (a retry) needs them: say so when retention removed them, and
    otherwise count their retention from now."""
    named = uploads_named(params)
    if missing := uploads_missing(graph.project_id, named):
        days = graph.project.effective_result_retention_days
        raise InvalidState(
            f"the files uploaded for this import ({', '.join(missing)}) were removed under "
            f"project {graph.project.name}'s retention of {days} days; upload them again",
            field="uploads",
        )
    uploads_touch(graph.project_id, named)


def _job_files(job: Job, plan: ImportPlan) -> list[JobFile]:
    return [
        JobFile(
            job=job,
            index=i,
            role=spec.role,
            path=_fit(spec.display_path or spec.path.name, JobFile._meta.get_field("path")),
            bytes_total=_size(spec.path),
        )
        for i, spec in enumerate(plan.files)
    ]


def _fit(text: str, field: Any) -> str:
    """``text`` shortened in its middle to the column's length (a path as shown, never read
    back: a deep path of long names is longer than the column)."""
    limit = field.max_length
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[-(limit - 1 - half) :]}"


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def job_submit_import_request(
    *,
    graph: Graph,
    request: ImportRequest,
    wire: dict[str, Any] | None = None,
    dialect: str = JobDialect.NATIVE,
    user: AbstractBaseUser | None = None,
    name: str = "ImportGraph",
    dry_run: bool = False,
) -> Job:
    """Every face's import: ``request`` as the face filled it, shaped by its dialect
    (jobcenter.graphs.formats), then queued by :func:`job_submit_import`; ``wire`` is the
    body as the face received it, kept on the job (default: the shaped request).

    Files uploaded with the request are stored in a new upload of the graph's project
    (jobcenter.core.uploads) and removed again when the import is refused; nothing else is
    written then.
    """
    if request.has_uploads:  # before any file is stored
        _require_role(user, graph.project, Role.OPERATOR)
    uploads = ProjectUploads(graph.project_id)
    try:
        try:
            params = import_params(request, uploads=uploads)
        except PlanError as exc:
            raise InvalidInput(exc.message, field=exc.field) from exc
        return job_submit_import(
            graph=graph,
            params=params,
            request=wire,
            dialect=dialect,
            user=user,
            name=name,
            dry_run=dry_run,
        )
    except BaseException:
        uploads.discard()
        raise


class ProjectUploads:
    """A project's uploads as the import dialects store files (graphs.formats.UploadStore)."""

    def __init__(self, project_id: Any) -> None:
        self.project_id = project_id
        self.stored: list[Path] = []

    def store(self, files: Sequence[UploadedFile], part: str) -> list[str]:
        """Store the files in a new upload of the project; their paths relative to the
        project's upload folder (an import root of that project only), as the import names
        them."""
        if len(files) == 1:
            named = {part: files[0]}
        else:  # numbered so that a directory listing keeps the upload order
            named = {f"{part}_{i:04d}": f for i, f in enumerate(files)}
        paths = list(uploads_store(named, project_id=self.project_id).values())
        self.stored.extend(paths)
        root = upload_root(self.project_id)
        return [path.relative_to(root).as_posix() for path in paths]

    def name(self, raw: str) -> str:
        return safe_filename(raw, "")

    def discard(self) -> None:
        """Remove what was stored (the import was refused)."""
        uploads_discard(self.project_id, {path.parent for path in self.stored})


# --- worker -----------------------------------------------------------------------------------


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

    def _file_updates(self, *, final: bool = False) -> list[transitions.FileUpdate]:
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
                updates.append(transitions.FileUpdate(index=index, fields=fields))
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
            "phase": self.progress.phase,
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
    finish: Callable[..., bool] = transitions.job_finish
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
        uploads_fetch(graph.project_id, uploads_named(job.params))  # uploaded on another machine
        plan = graph_import_plan(graph=graph, params=job.params)
    except PlanError as exc:
        finish(job_id=job.pk, worker_id=worker_id, status=JobStatus.FAILED, fail_reason=exc.message)
        return
    stop = threading.Event()
    progress = ImportProgress.for_plan(plan)
    progress.stop = stop
    progress.max_lines_per_second = settings.JOBCENTER_IMPORT_MAX_LINES_PER_SECOND
    tracker = ImportTracker(job, progress)
    beat = Heartbeat(job_id=job.pk, worker_id=worker_id, snapshot=tracker.snapshot, stop_event=stop)
    beat.start()
    locked = False
    try:
        while not (locked := graph_lock_acquire(graph_id=graph.pk, job_id=job.pk)):
            progress.phase = "waiting for the graph"
            if stop.wait(LOCK_POLL_SECONDS):
                raise ImportStopped()
        store = open_store(graph)
        try:
            summary = run_import(
                plan,
                store,
                job_id=job.pk,
                progress=progress,
                commit_gate=lambda _s: transitions.job_commit_gate(
                    job_id=job.pk, worker_id=worker_id
                ),
                index_capacity=settings.JOBCENTER_IMPORT_INDEX_CAPACITY,
                dry_run=job.dry_run,
            )
        finally:
            store.close()
    except ImportStopped:
        beat.finish()
        end_stopped(job=job, worker_id=worker_id, reason=beat.reason, **tracker.final())
        return
    except (ImportAborted, PlanError, StoreMissing) as exc:
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
    if not job.dry_run:  # a dry run left the graph as it was
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


def retry(job: Job, user: AbstractBaseUser | None) -> Job:
    """The same import again (its uploads must still be there; a dry run's retry is one)."""
    return job_submit_import(
        graph=job.graph,
        params=job.params,
        request=job.request,
        dialect=job.dialect,
        user=user,
        name=job.name,
        retry_of=job,
        dry_run=job.dry_run,
    )


def retry_refused(job: Job) -> str | None:
    return None if job.graph_id is not None else f"the graph of job {job.pk} no longer exists"


def progress_text(job: Job, short: bool, number: Number) -> str:
    """What an import's counters mean, at any status (Kind.progress_text)."""
    done, total = job.lines_done, job.lines_total
    if not total:
        return ""
    if short:
        return f"{number(done)}/{number(total)} lines"
    text = f"{number(done)} of {number(total)} lines read"  # validated; committed only at the end
    return text + (", none committed" if import_committed(job) is False else "")


KIND = register(
    Kind(
        type=JobType.IMPORT,
        handler=import_graph,
        retry=retry,
        retry_refused=retry_refused,
        cancellable=True,
        writes_graph=lambda job: not job.dry_run,
        loads_files=True,
        phases=("waiting for the graph", "reading files", "loading graph", "committing"),
        result="the loader's summary: lines and files loaded and failed (Job.result), per-file "
        "counters (JobFile) and failed lines (FailedLine)",
        progress_text=progress_text,
    )
)
