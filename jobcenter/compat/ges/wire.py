"""Huawei GES's wire: every field name, status, job type and error code of this dialect lives
here, for both of its planes. docs/compat.md explains each mapping.

- The **service plane** (``/ges/v1.0/...``) speaks camelCase, errors ``{"errorCode",
  "errorMessage"}`` with GES.8xxx codes.
- The **management plane v2** (``/v2/...``) speaks snake_case, errors ``{"error_code",
  "error_msg"}`` with GES.7xxx/GES.0xxx codes; the official SDK parses only that shape.

GES answers almost every error, "not found" included, with HTTP 400.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.http import Http404, QueryDict
from rest_framework import exceptions as drf
from rest_framework.response import Response

from jobcenter.compat.common import epoch_us, utc_text
from jobcenter.core.errors import (
    Conflict,
    InvalidInput,
    InvalidState,
    NotFound,
    PermissionDenied,
    ServiceError,
)
from jobcenter.jobs.choices import ACTIVE_STATUSES, JobStatus, JobType
from jobcenter.jobs.models import Job, JobFile

logger = logging.getLogger("jobcenter.compat")

# --- statuses -----------------------------------------------------------------------------

# Service plane: documented values pending, running, success, failed (+ complete).
SERVICE_STATUS: dict[str, str] = {
    JobStatus.WAITING: "pending",
    JobStatus.RUNNING: "running",
    JobStatus.CANCELLING: "running",  # not ended until the rollback is done
    JobStatus.SUCCEEDED: "success",
    # The plane has no partial status; the data was committed, so "success", and the
    # per-file failedLines say what was rejected.
    JobStatus.PARTIALLY_FAILED: "success",
    JobStatus.FAILED: "failed",
    # Cancelling exists only on this plane; the console calls the state "cancelled".
    JobStatus.CANCELLED: "cancelled",
}

# Management plane v2: documented values pending, running, success, partiallyFailed, failed.
MGMT_STATUS: dict[str, str] = {
    JobStatus.WAITING: "pending",
    JobStatus.RUNNING: "running",
    JobStatus.CANCELLING: "running",
    JobStatus.SUCCEEDED: "success",
    JobStatus.PARTIALLY_FAILED: "partiallyFailed",
    JobStatus.FAILED: "failed",
    # The plane knows no cancelled state (it cannot cancel); a cancelled job did not do its
    # work, so "failed", with fail_reason saying who cancelled it.
    JobStatus.CANCELLED: "failed",
}

# ListJobs2 ``status`` filter -> our statuses. "waiting" is the documented filter value for
# what the job object calls "pending"; both are accepted.
MGMT_STATUS_FILTER: dict[str, tuple[str, ...]] = {
    "running": (JobStatus.RUNNING, JobStatus.CANCELLING),
    "waiting": (JobStatus.WAITING,),
    "pending": (JobStatus.WAITING,),
    "success": (JobStatus.SUCCEEDED,),
    "partiallyFailed": (JobStatus.PARTIALLY_FAILED,),
    "failed": (JobStatus.FAILED, JobStatus.CANCELLED),
}

# ListJobs2's date filters (yyyy-MM-dd, UTC days) -> the shared JobFilterSet's bounds:
# start_time selects jobs begun on or after that day, end_time jobs ended on or before it.
MGMT_DATE_FILTERS: dict[str, str] = {"start_time": "created_after", "end_time": "finished_before"}
MGMT_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")

# Import file entries: success | failed | partFailed (our JobFile statuses already are these).
FILE_SUCCESS, FILE_FAILED = "success", "failed"

# --- job types ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GesJobType:
    """How one of our job types appears in GES. A new job type is one row in JOB_TYPES."""

    # the service plane's ``taskType``; None: the job's own name (graph operations)
    task_type: str | None
    # the management plane's ``job_name``; None: the job's own name
    job_name: str | None = None
    # listed by the management plane's job center, as ``job_type`` GraphManagement; GES lists
    # graph management jobs there (create/delete/import/export...), engine jobs (algorithms,
    # queries, indices) only on the service plane
    in_job_center: bool = False
    # the service plane's DELETE may cancel it (GES: queries, algorithms, indices, and in newer
    # versions imports and exports; other types answer "Unsupported Operation")
    stoppable: bool = False


JOB_TYPES: dict[str, GesJobType] = {
    JobType.IMPORT: GesJobType("ImportGraph", "ImportGraph", in_job_center=True, stoppable=True),
    JobType.EXPORT: GesJobType("ExportGraph", "ExportGraph", in_job_center=True, stoppable=True),
    JobType.GRAPH_OPERATION: GesJobType(None, None, in_job_center=True),  # e.g. DeleteGraph
    JobType.ALGORITHM: GesJobType("Algorithm", stoppable=True),
    JobType.QUERY: GesJobType("Query", stoppable=True),
    JobType.INDEX: GesJobType("AddIndex", stoppable=True),
}
# A job type missing from JOB_TYPES: listed on the service plane under its own name only.
_UNMAPPED = GesJobType(None)

MGMT_JOB_TYPE = "GraphManagement"
MGMT_JOB_TYPES = tuple(t for t, spec in JOB_TYPES.items() if spec.in_job_center)
SERVICE_CANCELLABLE_TYPES = tuple(t for t, spec in JOB_TYPES.items() if spec.stoppable)


def _job_type(job: Job) -> GesJobType:
    return JOB_TYPES.get(job.type, _UNMAPPED)


def task_type(job: Job) -> str:
    return _job_type(job).task_type or job.name or job.type


def job_name(job: Job) -> str:
    return _job_type(job).job_name or job.name or job.type


# --- list paging --------------------------------------------------------------------------

MGMT_DEFAULT_LIMIT = 10
MGMT_MAX_LIMIT = 1000
SERVICE_DEFAULT_LIMIT = 100_000  # documented default and maximum
SERVICE_MAX_LIMIT = 100_000

# --- errors -------------------------------------------------------------------------------

# service plane
GES_BAD_PARAMETER = "GES.8000"  # incorrect parameter format; also "graph : X not exist"
GES_PROJECT_ACCESS = "GES.8006"  # invalid resource access (project)
GES_INVALID_TOKEN = "GES.8007"  # noqa: S105 (an error code)
GES_IMPORT_FAILED = "GES.8013"  # failed to incrementally import data
GES_JOB_NOT_FOUND = "GES.8301"  # failed to query a job
GES_CANCEL_FAILED = "GES.8303"  # failed to terminate a job
# management plane v2
GES_INVALID_PARAMETER = "GES.0001"  # project_id / graph_id / query parameter
GES_RESOURCE_NOT_FOUND = "GES.0016"
GES_GRAPH_NOT_FOUND = "GES.7000"  # graph does not exist or has been deleted
GES_MGMT_JOB_NOT_FOUND = "GES.7007"
GES_OPERATION_NOT_SUPPORTED = "GES.7009"
GES_INVALID_FILE_PATH = "GES.7011"
GES_INVALID_BODY = "GES.7016"
GES_METADATA_PARSE = "GES.7070"
# API gateway codes Huawei Cloud answers before the service sees a request
APIGW_AUTH_FAILED = "APIGW.0301"  # incorrect IAM authentication information
APIGW_FORBIDDEN = "APIGW.0302"  # the user is not authorized to access the API
# both planes: anything unexpected (HTTP 500)
GES_INTERNAL = "GES.9999"


class GesError(Exception):
    """An error already in this dialect's terms (rendered in the plane's shape)."""

    def __init__(self, http_status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.http_status, self.code, self.message = http_status, code, message


def bad_request(code: str, message: str) -> GesError:
    return GesError(400, code, message)


def service_error_response(exc: Exception) -> Response:
    status, code, message = _classify_service(exc)
    return Response({"errorCode": code, "errorMessage": message, "result": "failed"}, status=status)


def mgmt_error_response(exc: Exception) -> Response:
    status, code, message = _classify_mgmt(exc)
    return Response({"error_code": code, "error_msg": message}, status=status)


def _common(exc: Exception, *, auth_code: str, forbidden_code: str, bad: str) -> tuple | None:
    if isinstance(exc, GesError):
        return exc.http_status, exc.code, exc.message
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return 401, auth_code, str(exc.detail)
    if isinstance(exc, drf.PermissionDenied):
        return 403, forbidden_code, str(exc.detail)
    if isinstance(exc, PermissionDenied):
        return 403, forbidden_code, exc.message
    if isinstance(exc, drf.ParseError | drf.UnsupportedMediaType):
        return 400, bad, f"invalid request body: {exc.detail}"
    if isinstance(exc, drf.MethodNotAllowed):
        return 405, bad, str(exc.detail)
    if isinstance(exc, drf.APIException):
        return exc.status_code, bad, str(exc.detail)
    return None


def _classify_service(exc: Exception) -> tuple[int, str, str]:
    known = _common(
        exc,
        auth_code=GES_INVALID_TOKEN,
        forbidden_code=GES_PROJECT_ACCESS,
        bad=GES_BAD_PARAMETER,
    )
    if known:
        return known
    if isinstance(exc, NotFound | Http404):
        return 400, GES_BAD_PARAMETER, str(getattr(exc, "message", exc) or "not found")
    if isinstance(exc, InvalidInput):
        return 400, GES_IMPORT_FAILED, exc.message
    if isinstance(exc, ServiceError):
        return 400, GES_BAD_PARAMETER, exc.message
    logger.exception("GES service-plane request failed", exc_info=exc)
    return 500, GES_INTERNAL, f"internal error: {type(exc).__name__}"


def _classify_mgmt(exc: Exception) -> tuple[int, str, str]:
    known = _common(
        exc,
        auth_code=APIGW_AUTH_FAILED,
        forbidden_code=APIGW_FORBIDDEN,
        bad=GES_INVALID_PARAMETER,
    )
    if known:
        return known
    if isinstance(exc, NotFound | Http404):
        field = getattr(exc, "field", None)
        code = GES_GRAPH_NOT_FOUND if field == "graph" else GES_RESOURCE_NOT_FOUND
        if field in ("job", "job_id"):
            code = GES_MGMT_JOB_NOT_FOUND
        return 400, code, str(getattr(exc, "message", exc) or "not found")
    if isinstance(exc, InvalidInput):
        field = exc.field or ""
        if field in PATH_FIELDS:
            return 400, GES_INVALID_FILE_PATH, exc.message
        if field == "schema":
            return 400, GES_METADATA_PARSE, exc.message
        return 400, GES_INVALID_BODY, exc.message
    if isinstance(exc, InvalidState):
        if exc.field == "graph":  # e.g. the graph is being deleted
            return 400, GES_GRAPH_NOT_FOUND, exc.message
        return 400, GES_OPERATION_NOT_SUPPORTED, exc.message
    if isinstance(exc, Conflict | ServiceError):
        return 400, GES_INVALID_BODY, exc.message
    logger.exception("GES management-plane request failed", exc_info=exc)
    return 500, GES_INTERNAL, f"internal error: {type(exc).__name__}"


# Import request fields that name files: a bad one is GES.7011 "invalid file path or name".
PATH_FIELDS = frozenset({"schema_path", "edgeset_path", "vertexset_path", "log_dir"})


# --- the errors views raise, by situation ---------------------------------------------------


def service_bad_parameter(message: str) -> GesError:
    return bad_request(GES_BAD_PARAMETER, message)


def service_project_not_found(name: str) -> GesError:
    """Also for a project the caller does not belong to: the same code and text."""
    return bad_request(GES_PROJECT_ACCESS, f"project {name} does not exist")


def service_unknown_action(action: str) -> GesError:
    return bad_request(GES_BAD_PARAMETER, f"action_id {action!r} is not supported")


def service_unknown_endpoint(method: str, path: str) -> GesError:
    return bad_request(GES_BAD_PARAMETER, f"{method} {path} is not supported")


def mgmt_bad_parameter(message: str) -> GesError:
    return bad_request(GES_INVALID_PARAMETER, message)


def mgmt_invalid_body(message: str) -> GesError:
    return bad_request(GES_INVALID_BODY, message)


def mgmt_project_not_found(name: str) -> GesError:
    """Also for a project the caller does not belong to: the same code and text."""
    return bad_request(GES_RESOURCE_NOT_FOUND, f"project {name} does not exist")


def mgmt_graph_not_found(ref: str) -> GesError:
    return bad_request(GES_GRAPH_NOT_FOUND, f"graph {ref} does not exist")


def mgmt_job_not_found(job_id: str) -> GesError:
    return bad_request(GES_MGMT_JOB_NOT_FOUND, f"job {job_id} does not exist")


def mgmt_unknown_endpoint(method: str, path: str) -> GesError:
    return bad_request(GES_INVALID_PARAMETER, f"{method} {path} is not supported")


# messages GES itself uses
def graph_not_exist(name: str) -> GesError:
    return bad_request(GES_BAD_PARAMETER, f"graph : {name} not exist")


def job_not_found(job_id: str) -> GesError:
    return bad_request(GES_JOB_NOT_FOUND, f"can not find job, jobId is {job_id}")


def cancel_not_found(job_id: str) -> GesError:
    return bad_request(GES_CANCEL_FAILED, f"can not find job to cancel, id is {job_id}")


def cancel_unsupported(job: Job) -> GesError:
    return bad_request(
        GES_CANCEL_FAILED, f"Unsupported Operation: {task_type(job)} jobs cannot be cancelled"
    )


def cancel_refused(message: str) -> GesError:
    """A job that exists and is active but cannot be stopped now (it is committing)."""
    return bad_request(GES_CANCEL_FAILED, message)


def cancel_finished(job: Job) -> GesError:
    return bad_request(
        GES_CANCEL_FAILED,
        f"job {job.pk} has already finished ({SERVICE_STATUS[job.status]}) and cannot be cancelled",
    )


# --- shared pieces ------------------------------------------------------------------------


def fail_reason(job: Job) -> str | None:
    """Why the job did not do its work: its failure reason, or who cancelled it."""
    if job.status == JobStatus.CANCELLED:
        who = job.cancel_requested_by.get_username() if job.cancel_requested_by else None
        text = f"cancelled by {who}" if who else "cancelled"
        return f"{text}: {job.fail_reason}" if job.fail_reason else text
    return job.fail_reason or None


def file_status(job: Job, f: JobFile) -> str | None:
    """A file entry's status; a file the job never finished is failed once the job has ended
    (nothing of it was imported), and has no status yet while the job is active."""
    if f.status:
        return f.status
    return None if job.status in ACTIVE_STATUSES else FILE_FAILED


def file_cause(job: Job, f: JobFile) -> str | None:
    if f.cause:
        return f.cause
    if not f.status and job.status not in ACTIVE_STATUSES:
        return f"not imported: {fail_reason(job) or 'the job ended'}"
    return None


def _by_role(files: Sequence[JobFile], role: str) -> list[JobFile]:
    return [f for f in files if f.role == role]


# --- management plane v2 -------------------------------------------------------------------


def mgmt_file_entry(job: Job, f: JobFile) -> dict[str, Any]:
    return {
        "path": f.path,
        "log": f.log or None,
        "status": file_status(job, f),
        "cause": file_cause(job, f),
        "total_lines": f.total_lines,
        "failed_lines": f.failed_lines,
        "successful_lines": f.successful_lines,
    }


def mgmt_job(job: Job, *, files: Sequence[JobFile]) -> dict[str, Any]:
    """A ListJobs2 item / ShowJob2 body."""
    data: dict[str, Any] = {
        "job_id": str(job.pk),
        "status": MGMT_STATUS[job.status],
        "job_type": MGMT_JOB_TYPE if job.type in MGMT_JOB_TYPES else task_type(job),
        "job_name": job_name(job),
        "related_graph": job.graph_name,
        "begin_time": utc_text(job.created_at),
        "end_time": utc_text(job.finished_at),
        "job_progress": round(job.progress, 1),
        # every documented field is present; null when the job has not failed
        "fail_reason": fail_reason(job),
    }
    if job.type == JobType.IMPORT:
        detail = {}
        for key, role in (
            ("schema_path", "schema"),
            ("edgeset_path", "edge"),
            ("vertexset_path", "vertex"),
        ):
            entries = [mgmt_file_entry(job, f) for f in _by_role(files, role)]
            detail[key] = entries or None
        data["job_detail"] = detail
    return data


def mgmt_list_filters(params: QueryDict) -> QueryDict:
    """ListJobs2's query parameters in the shared JobFilterSet's terms (GES.0001 for a
    status or date it does not define)."""
    data = QueryDict(mutable=True)
    status = params.get("status")
    if status:
        if status not in MGMT_STATUS_FILTER:
            raise mgmt_bad_parameter(f"status must be one of {', '.join(MGMT_STATUS_FILTER)}")
        data.setlist("status", list(MGMT_STATUS_FILTER[status]))
    if params.get("graph_name"):
        data["graph"] = params["graph_name"]
    for name, target in MGMT_DATE_FILTERS.items():
        value = params.get(name)
        if not value:
            continue
        if not MGMT_DATE_PATTERN.match(value):
            raise mgmt_bad_parameter(f"{name} must be a date yyyy-MM-dd, not {value!r}")
        data[target] = value
    return data


def mgmt_job_list(jobs: Sequence[Job], *, total: int) -> dict[str, Any]:
    return {
        "job_count": total,
        "job_list": [mgmt_job(job, files=list(job.files.all())) for job in jobs],
    }


def mgmt_job_created(job: Job) -> dict[str, str]:
    return {"job_id": str(job.pk)}


# --- service plane ------------------------------------------------------------------------


def _service_file(job: Job, f: JobFile) -> dict[str, Any]:
    entry: dict[str, Any] = {"fileName": f.path}
    if f.role == "schema":
        entry.update(
            totalLabels=f.total_lines,
            successfulLabels=f.successful_lines,
            failedLabels=f.failed_lines,
        )
    else:
        entry.update(
            totalLines=f.total_lines,
            successfulLines=f.successful_lines,
            failedLines=f.failed_lines,
        )
    entry.update(
        status=file_status(job, f) or ("running" if f.started_at else "pending"),
        startTime=epoch_us(f.started_at),
        endTime=epoch_us(f.finished_at),
    )
    cause = file_cause(job, f)
    if cause:
        entry["cause"] = cause
    return entry


def service_files(job: Job, files: Sequence[JobFile]) -> list[dict[str, Any]]:
    """The ``files`` of an ImportGraph job, grouped as GES groups them."""
    return [
        {"edgeFiles": [_service_file(job, f) for f in _by_role(files, "edge")]},
        {"vertexFiles": [_service_file(job, f) for f in _by_role(files, "vertex")]},
        {"schemaFiles": [_service_file(job, f) for f in _by_role(files, "schema")]},
    ]


def can_stop(job: Job) -> bool:
    return (
        job.type in SERVICE_CANCELLABLE_TYPES
        and job.cancellable
        and job.status in (JobStatus.WAITING, JobStatus.RUNNING)
    )


def raw_request(job: Job) -> str:
    return json.dumps(job.request, separators=(",", ":"), ensure_ascii=False)


def service_job(job: Job, *, files: Sequence[JobFile]) -> dict[str, Any]:
    """One item of the service plane's job list (the newer, documented "shape B")."""
    status = SERVICE_STATUS[job.status]
    item: dict[str, Any] = {
        "jobId": str(job.pk),
        "rawRequest": raw_request(job),
        "taskType": task_type(job),
        "canStop": can_stop(job),
        "progress": str(int(job.progress)),  # a string, as in GES's own example
        "startTime": utc_text(job.created_at, sep=" "),
        "endTime": utc_text(job.finished_at, sep=" "),
        "status": status,
    }
    if status in ("failed", "cancelled"):
        item["failReason"] = fail_reason(job)
    if job.type == JobType.IMPORT:
        item["files"] = service_files(job, files)
    return item


def service_job_list(jobs: Sequence[Job], *, total: int) -> dict[str, Any]:
    return {
        "result": "success",
        "jobs": [service_job(job, files=list(job.files.all())) for job in jobs],
        "totalCount": total,
        "jobCount": total,  # the name in the older edition's example
    }


# Keys of ``Job.result`` holding result rows (vertices, edges, ...) that the status query
# pages with offset/limit; everything else in ``result`` is returned as it is.
RESULT_ROW_KEYS = ("vertices", "edges", "rows", "paths")


def service_job_status(job: Job, *, files: Sequence[JobFile], offset: int, limit: int) -> dict:
    """The service plane's "query job status" body: status plus the job's result data.

    Import jobs report their per-file accounting in ``data.outputs``; jobs with result rows
    (queries, algorithms) page them: ``data_offset``, ``data_return_size``, ``data_total_size``.
    """
    status = SERVICE_STATUS[job.status]
    body: dict[str, Any] = {"status": status, "result": "success"}
    if status in ("failed", "cancelled"):
        body["failReason"] = fail_reason(job)
        return body
    if status != "success":
        body["progress"] = str(int(job.progress))
        return body
    outputs: dict[str, Any] = {}
    if job.type == JobType.IMPORT:
        outputs["files"] = service_files(job, files)
        outputs["totalLines"] = sum(f.total_lines for f in files if f.role != "schema")
        outputs["failedLines"] = sum(f.failed_lines for f in files if f.role != "schema")
    result = job.result if isinstance(job.result, dict) else {}
    for key, value in result.items():
        if key in RESULT_ROW_KEYS and isinstance(value, list):
            page = value[offset : offset + limit]
            outputs[key] = page
            outputs["data_return_size"] = len(page)
            outputs["data_offset"] = offset
            outputs["data_total_size"] = len(value)
        elif key != "files":
            outputs[key] = value
    body["data"] = {"outputs": outputs}
    return body


def service_job_created(job: Job) -> dict[str, str]:
    return {"jobId": str(job.pk)}
