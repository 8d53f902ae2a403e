"""GraphScope Interactive's wire (admin API v0.3): every field name, status, job type and
error code of this dialect lives here. docs/compat.md explains each mapping.

The official Python SDK (gs_interactive 0.3) validates responses with strict pydantic models:
ids are JSON strings, times JSON ints (epoch milliseconds), ``status`` one of five upper-case
values, ``log`` a string and ``detail`` an object; one malformed job breaks a whole list. So
everything the dialect emits goes through the functions below.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from jobcenter.compat.common import epoch_ms, utc_text
from jobcenter.core.errors import (
    Conflict,
    InvalidInput,
    InvalidState,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from jobcenter.graphs.models import Graph
from jobcenter.jobs import selectors
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import FailedLine, Job, JobEvent, JobFile
from jobcenter.jobs.registry import kind_of

logger = logging.getLogger("jobcenter.compat")

# --- statuses -----------------------------------------------------------------------------

RUNNING, SUCCESS, FAILED, CANCELLED, WAITING = (
    "RUNNING",
    "SUCCESS",
    "FAILED",
    "CANCELLED",
    "WAITING",
)

STATUS: dict[str, str] = {
    JobStatus.WAITING: WAITING,
    JobStatus.RUNNING: RUNNING,
    # Still running until the worker has rolled the import back: CANCELLED is terminal, and a
    # client that sees it may load again or read the graph at once.
    JobStatus.CANCELLING: RUNNING,
    JobStatus.SUCCEEDED: SUCCESS,
    # The good lines were committed; FAILED would invite a retry that loads them twice.
    # ``detail.failed_lines`` and the log say what was rejected.
    JobStatus.PARTIALLY_FAILED: SUCCESS,
    JobStatus.FAILED: FAILED,
    JobStatus.CANCELLED: CANCELLED,
}

# --- job types ----------------------------------------------------------------------------

# JobStatus.type is a free string for the SDK; upstream only ever sends BULK_LOADING. A new job
# type is one row here (a type missing from the table is sent upper-cased).
BULK_LOADING = "BULK_LOADING"
JOB_TYPE: dict[str, str] = {
    JobType.IMPORT: BULK_LOADING,  # upstream's only job type
    JobType.ALGORITHM: "ALGORITHM",
    JobType.QUERY: "QUERY",
    JobType.INDEX: "INDEX",
    JobType.EXPORT: "EXPORT",
    JobType.GRAPH_OPERATION: "GRAPH_OPERATION",  # refined by the job's name, e.g. DELETE_GRAPH
}

# --- errors (gs_interactive.client.status.StatusCode / interactive.proto Code) ----------------

OK = 0
INVALID_ARGUMENT = 2
NOT_FOUND = 4
ALREADY_EXISTS = 5
UNIMPLEMENTED = 7
PERMISSION_DENIED = 8
ILLEGAL_STATE = 12
INVALID_SCHEMA = 101
ILLEGAL_OPERATION = 102
INTERNAL_ERROR = 103
INVALID_IMPORT_FILE = 104


class GraphScopeError(Exception):
    """An error already in this dialect's terms."""

    def __init__(self, http_status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.http_status, self.code, self.message = http_status, code, message


def error_body(code: int, message: str) -> dict[str, Any]:
    return {"code": code, "message": message}


def error_response(exc: Exception) -> Response:
    """Any exception raised in a view, as upstream's ``{"code", "message"}`` error.

    HTTP statuses follow upstream's http_utils.cc, except that nothing is answered with 409
    or 422: the SDK turns those into UNKNOWN (999). ALREADY_EXISTS is therefore a 400.
    """
    status, code, message = _classify(exc)
    return Response(error_body(code, message), status=status)


def _classify(exc: Exception) -> tuple[int, int, str]:
    if isinstance(exc, GraphScopeError):
        return exc.http_status, exc.code, exc.message
    if isinstance(exc, ServiceError):
        return _service_error(exc)
    if isinstance(exc, Http404):
        return 404, NOT_FOUND, str(exc) or "not found"
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        # 403, not 401: the SDK maps 403 to PERMISSION_DENIED and everything else to UNKNOWN.
        return 403, PERMISSION_DENIED, _detail(exc)
    if isinstance(exc, drf.PermissionDenied):
        return 403, PERMISSION_DENIED, _detail(exc)
    if isinstance(exc, drf.ParseError | drf.UnsupportedMediaType):
        return 400, INVALID_ARGUMENT, f"invalid request body: {_detail(exc)}"
    if isinstance(exc, drf.MethodNotAllowed):
        return 405, UNIMPLEMENTED, _detail(exc)
    if isinstance(exc, drf.APIException):
        return exc.status_code, INVALID_ARGUMENT, _detail(exc)
    logger.exception("GraphScope request failed", exc_info=exc)
    return 500, INTERNAL_ERROR, f"internal error: {type(exc).__name__}"


def _service_error(exc: ServiceError) -> tuple[int, int, str]:
    if isinstance(exc, NotFound):
        return 404, NOT_FOUND, exc.message
    if isinstance(exc, PermissionDenied):
        return 403, PERMISSION_DENIED, exc.message
    if isinstance(exc, Conflict):
        return 400, ALREADY_EXISTS, exc.message
    if isinstance(exc, InvalidState):
        return 400, ILLEGAL_OPERATION, exc.message
    if isinstance(exc, InvalidInput) and exc.field == "schema":
        return 400, INVALID_SCHEMA, exc.message
    return 400, INVALID_ARGUMENT, exc.message


def _detail(exc: drf.APIException) -> str:
    return str(exc.detail)


# --- the errors views raise, by situation ---------------------------------------------------


def not_found(what: str, ref: str) -> GraphScopeError:
    """An unknown job, graph or project (also one the caller may not see)."""
    return GraphScopeError(404, NOT_FOUND, f"{what} {ref} does not exist")


def invalid_argument(message: str) -> GraphScopeError:
    return GraphScopeError(400, INVALID_ARGUMENT, message)


def invalid_import_file(message: str) -> GraphScopeError:
    """A dataloading body that is no loading configuration at all (upstream: 104)."""
    return GraphScopeError(400, INVALID_IMPORT_FILE, message)


def permission_denied(message: str) -> GraphScopeError:
    return GraphScopeError(403, PERMISSION_DENIED, message)


def anonymous_access_off() -> GraphScopeError:
    return permission_denied(
        "authentication required: send a token (X-Auth-Token), or enable anonymous access for "
        "one project with JOBCENTER_GRAPHSCOPE_ANONYMOUS_PROJECT"
    )


def anonymous_project_missing(name: str) -> GraphScopeError:
    return permission_denied(
        f"JOBCENTER_GRAPHSCOPE_ANONYMOUS_PROJECT names project {name!r}, which does not exist"
    )


def unknown_endpoint(method: str, path: str) -> GraphScopeError:
    return GraphScopeError(404, UNIMPLEMENTED, f"{method} {path} is not implemented")


def cancel_finished(job: Job) -> GraphScopeError:
    """Cancelling a job that has ended: upstream says 200 "Job already SUCCESS: <id>"; we say
    the same text as an error (the SDK sees BAD_REQUEST) and leave the job as it is."""
    return GraphScopeError(400, ILLEGAL_OPERATION, f"Job already {STATUS[job.status]}: {job.pk}")


def cancelled_text(job: Job) -> str:
    return f"Successfully cancel job: {job.pk}"


def graph_deleted_text(graph: Graph, job: Job) -> str:
    return f"Successfully delete graph {graph.pk} (deletion job {job.pk})"


# --- jobs ---------------------------------------------------------------------------------


def job_type(job: Job) -> str:
    if job.type == JobType.GRAPH_OPERATION and job.name:
        return _upper_snake(job.name)
    return JOB_TYPE.get(job.type, job.type.upper())


def _upper_snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and not name[i - 1].isupper():
            out.append("_")
        out.append(ch.upper())
    return "".join(out)


def job_status(
    job: Job,
    *,
    files: Sequence[JobFile],
    events: Sequence[JobEvent],
    failed: Iterable[FailedLine] = (),
    failed_more: int = 0,
) -> dict[str, Any]:
    """A JobStatus. ``log`` is the job's own log text: its timeline, one line per file and the
    rejected lines given in ``failed`` (``failed_more`` says how many were left out)."""
    failed_lines = sum(f.failed_lines for f in files)
    counts: dict[str, Any] = {}
    if kind_of(job.type).loads_files:
        # what passed validation, and what is in the graph (null while the job is active: an
        # import commits at its end, or not at all)
        totals = selectors.import_line_totals(job, files)
        counts = {
            "successful_lines": totals.successful_lines,
            "committed_lines": totals.committed_lines,
        }
    detail: dict[str, Any] = {
        "graph_id": job.graph_id,
        "graph_name": job.graph_name,
        "project": job.project.name,
        "job_status": job.status,  # our own, finer status (e.g. partially_failed, cancelling)
        "progress": round(job.progress, 1),
        "lines_done": job.lines_done,
        "lines_total": job.lines_total,
        "failed_lines": failed_lines,
        **counts,
        "cancellable": job.cancellable and job.is_active,
    }
    if job.fail_reason:
        detail["fail_reason"] = job.fail_reason
    if job.dry_run:  # ``detail`` is free-form on the wire: the one place a dry run can show
        detail["dry_run"] = True
    return {
        "id": str(job.pk),
        "type": job_type(job),
        "status": STATUS[job.status],
        "start_time": epoch_ms(job.created_at),
        # upstream sends 0 while a job runs
        "end_time": epoch_ms(job.finished_at) if job.finished_at else 0,
        "log": job_log(job, files=files, events=events, failed=failed, failed_more=failed_more),
        "detail": detail,
        # not in the spec (the SDK ignores unknown keys); handy for other clients
        "progress": round(job.progress, 1),
    }


def job_log(
    job: Job,
    *,
    files: Sequence[JobFile],
    events: Sequence[JobEvent],
    failed: Iterable[FailedLine] = (),
    failed_more: int = 0,
) -> str:
    lines = []
    for event in events:
        actor = f" by {event.actor.get_username()}" if event.actor_id and event.actor else ""
        message = f": {event.message}" if event.message else ""
        lines.append(f"{utc_text(event.at, sep=' ')} {event.kind}{actor}{message}")
    if job.fail_reason:
        lines.append(f"reason: {job.fail_reason}")
    for f in files:
        cause = f" ({f.cause})" if f.cause else ""
        committed = selectors.file_committed_lines(job, f)
        stored = "committed at the end" if committed is None else f"{committed} committed"
        lines.append(
            f"{f.role} file {f.path}: {selectors.file_status(job, f) or 'pending'}, "
            f"{f.total_lines} lines: {f.successful_lines} valid, {f.failed_lines} failed, "
            f"{stored}{cause}"
        )
    paths = {f.pk: f.path for f in files}
    for line in failed:
        lines.append(
            f"{paths.get(line.file_id, '?')}:{line.line_number}: {line.reason}: {line.message}"
        )
    if failed_more:
        lines.append(f"... {failed_more} more failed lines")
    return "\n".join(lines) + "\n" if lines else ""


# --- graphs -------------------------------------------------------------------------------


def graph_response(graph: Graph) -> dict[str, Any]:
    """A GetGraphResponse: the graph definition in GraphScope's form plus our metadata."""
    from jobcenter.graphs.formats.graphscope import graph_definition
    from jobcenter.graphs.schema import GraphSchema

    definition = graph_definition(
        GraphSchema.from_dict(graph.schema), name=graph.name, description=graph.description
    )
    return {
        **definition,
        "id": str(graph.pk),
        "name": graph.name,
        "description": graph.description,
        "store_type": "mutable_csr",  # the only value the SDK accepts
        "creation_time": epoch_ms(graph.created_at),
        "data_update_time": epoch_ms(graph.data_updated_at or graph.created_at),
        "stored_procedures": [],
    }


def graph_created(graph: Graph) -> dict[str, str]:
    return {"graph_id": str(graph.pk)}


def job_created(job: Job) -> dict[str, str]:
    return {"job_id": str(job.pk)}


def service_status(*, port: int) -> dict[str, Any]:
    """ServiceStatus. The SDK reads ``hqps_port`` to build its query endpoint; we point it
    back at ourselves (we serve no queries, but the admin calls then work)."""
    return {"status": "Running", "hqps_port": port, "statistics_enabled": False}


def upload_created(path: str) -> dict[str, str]:
    return {"file_path": path}
