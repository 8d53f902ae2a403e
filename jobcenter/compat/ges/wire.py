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
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
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
from jobcenter.jobs import selectors
from jobcenter.jobs.choices import FILE_SKIPPED, JobStatus, JobType
from jobcenter.jobs.models import Job, JobFile
from jobcenter.jobs.results import ResultPage

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

# Import file entries: success | failed | partFailed (our JobFile statuses already are these;
# a file the job did not finish, "skipped" natively, is "failed": see file_status).
FILE_SUCCESS, FILE_FAILED = "success", "failed"

# The service plane's ``result`` beside a job's status: "failed" exactly when the job did not
# do its work (status failed or cancelled, ``failReason`` saying why), else "success".
SERVICE_RESULT_FAILED_STATUSES = ("failed", "cancelled")

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
    # a whole graph's export; the export of a job's result has its own row in JOB_NAMES
    JobType.EXPORT: GesJobType("ExportGraph", "ExportGraph", in_job_center=True, stoppable=True),
    JobType.GRAPH_OPERATION: GesJobType(None, None, in_job_center=True),  # e.g. DeleteGraph
    JobType.ALGORITHM: GesJobType("Algorithm", stoppable=True),
    # the job's own name, VertexQuery or EdgeQuery (GES's own taskType for a vertex query)
    JobType.QUERY: GesJobType(None, stoppable=True),
    JobType.INDEX: GesJobType("AddIndex", stoppable=True),
}
# The core's name for the export of a job's result (jobs.services.job_submit_export).
RESULT_EXPORT_NAME = "ExportResult"
# Rows for jobs whose name refines their type's row.
JOB_NAMES: dict[str, GesJobType] = {
    # export-result writes a finished job's result to a file: an engine job, listed on the
    # service plane only, and not among the jobs GES's cancel accepts
    RESULT_EXPORT_NAME: GesJobType("ExportResult"),
}
# A job type missing from JOB_TYPES: listed on the service plane under its own name only.
_UNMAPPED = GesJobType(None)

MGMT_JOB_TYPE = "GraphManagement"
# The job center's rows: jobs of these types, less those of the names below.
MGMT_JOB_TYPES = tuple(t for t, spec in JOB_TYPES.items() if spec.in_job_center)
MGMT_EXCLUDED_NAMES = tuple(n for n, spec in JOB_NAMES.items() if not spec.in_job_center)


def _job_type(job: Job) -> GesJobType:
    return JOB_NAMES.get(job.name) or JOB_TYPES.get(job.type, _UNMAPPED)


def task_type(job: Job) -> str:
    return _job_type(job).task_type or job.name or job.type


def job_name(job: Job) -> str:
    return _job_type(job).job_name or job.name or job.type


def stoppable(job: Job) -> bool:
    """Whether the service plane's cancel accepts jobs of this kind at all."""
    return _job_type(job).stoppable


# --- service plane actions (``?action_id=``) --------------------------------------------------

ACTION_IMPORT_GRAPH = "import-graph"  # POST .../graphs/{graph_name}/action
ACTION_EXECUTE_ALGORITHM = "execute-algorithm"  # POST .../graphs/{graph_name}/action
ACTION_FILTERED_QUERY = "filtered-query"  # POST .../graphs/{graph_name}/action (refused)
ACTION_QUERY = "query"  # POST .../graphs/{graph_name}/vertices/action, .../edges/action
ACTION_EXPORT_RESULT = "export-result"  # POST .../jobs/{job_id}/action

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
GES_EXPORT_FAILED = "GES.8011"  # failed to export (export-result)
GES_IMPORT_FAILED = "GES.8013"  # failed to incrementally import data
GES_EDGE_FILTER = "GES.8101"  # edge filter criteria invalid
GES_EDGE_FILTER_LABEL = "GES.8102"  # edge filter label invalid
GES_EDGE_FILTER_EMPTY = "GES.8103"  # edge filter criteria and labels both empty
GES_EDGE_FILTER_SORT = "GES.8104"  # edge filter sort invalid
GES_VERTEX_FILTER_LABEL = "GES.8201"  # vertex filter label invalid
GES_VERTEX_FILTER = "GES.8202"  # vertex filter criteria invalid
GES_VERTEX_FILTER_EMPTY = "GES.8203"  # vertex filter criteria and labels both empty
GES_VERTEX_FILTER_SORT = "GES.8205"  # vertex filter sort invalid
GES_JOB_NOT_FOUND = "GES.8301"  # failed to query a job
GES_CANCEL_FAILED = "GES.8303"  # failed to terminate a job
GES_ALGORITHM_NAME_EMPTY = "GES.8401"  # algorithm name (or graph name) empty
GES_ALGORITHM_FAILED = "GES.8402"  # algorithm execution failed (also: refused parameters)
GES_ALGORITHM_MODE = "GES.8404"  # algorithm execution mode invalid
GES_INDEX_CREATE_FAILED = "GES.8603"  # failed to create an index
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
    """A file entry's status: GES's entry says what was imported. The native status
    (jobs.selectors.file_status) where it is one of GES's; ``failed`` for a file the job did
    not finish (natively ``skipped``) and for every file of an import that ended without
    committing (nothing of it was imported); none while the job is active and the file is not
    finished."""
    native = selectors.file_status(job, f)
    if native is None:
        return None
    if native == FILE_SKIPPED or selectors.import_committed(job) is False:
        return FILE_FAILED
    return native


def file_cause(job: Job, f: JobFile) -> str | None:
    """The file's own cause; for an import that ended without committing, also that nothing
    of the file was imported, and why (unless the file's own failure says it)."""
    if selectors.import_committed(job) is not False:
        return f.cause or None
    if f.cause and f.status == FILE_FAILED:
        return f.cause  # e.g. the error threshold crossed in this file, or an unreadable file
    why = f"not imported: {fail_reason(job) or 'the job ended'}"
    return f"{f.cause}; {why}" if f.cause else why


def imported_lines(job: Job, f: JobFile) -> int:
    """GES's successful count, the lines imported: once the job ended, what it committed (0
    when it did not commit); while it runs, the lines accepted so far (which commit together
    at its end, or not at all). The lines that passed validation are ``validated_lines``."""
    committed = selectors.file_committed_lines(job, f)
    return f.successful_lines if committed is None else committed


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
        "successful_lines": imported_lines(job, f),
        # not in GES's model (its SDK ignores unknown keys): the lines that passed validation
        "validated_lines": f.successful_lines,
    }


def mgmt_job(job: Job, *, files: Sequence[JobFile]) -> dict[str, Any]:
    """A ListJobs2 item / ShowJob2 body."""
    data: dict[str, Any] = {
        "job_id": str(job.pk),
        "status": MGMT_STATUS[job.status],
        "job_type": MGMT_JOB_TYPE if _job_type(job).in_job_center else task_type(job),
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
            successfulLabels=imported_lines(job, f),
            failedLabels=f.failed_lines,
        )
    else:
        entry.update(
            totalLines=f.total_lines,
            successfulLines=imported_lines(job, f),
            failedLines=f.failed_lines,
            validatedLines=f.successful_lines,  # not in GES's examples: passed validation
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
        stoppable(job) and job.cancellable and job.status in (JobStatus.WAITING, JobStatus.RUNNING)
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


# Bookkeeping keys of ``Job.result`` (the result rows live in the job's result file).
RESULT_META_KEYS = frozenset({"files", "kind", "columns", "total"})


def service_job_status(job: Job, *, files: Sequence[JobFile], page: ResultPage | None) -> dict:
    """The service plane's "query job status" body: status plus the job's result data.

    Import jobs report their per-file accounting in ``data.outputs``. Jobs with a result
    (queries, algorithms) give one page of it in GES's shape (see :func:`result_outputs`)
    with ``data_offset``, ``data_return_size`` and ``data_total_size``: inside
    ``data.outputs``, where GES's examples put them, and in ``data``, where its tables do.
    Other jobs (index builds, exports) give their summary. Active jobs answer ``progress``.
    """
    status = SERVICE_STATUS[job.status]
    failed = status in SERVICE_RESULT_FAILED_STATUSES
    body: dict[str, Any] = {"status": status, "result": "failed" if failed else "success"}
    if failed:
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
    if page is not None:
        outputs.update(result_outputs(job, page))
        counts = {
            "data_return_size": len(page.rows),
            "data_offset": page.offset,
            "data_total_size": page.total,
        }
        outputs.update(counts)
        body["data"] = {"outputs": outputs, **counts}
        return body
    result = job.result if isinstance(job.result, dict) else {}
    outputs.update({k: v for k, v in result.items() if k not in RESULT_META_KEYS})
    body["data"] = {"outputs": outputs}
    return body


def service_job_created(job: Job) -> dict[str, str]:
    return {"jobId": str(job.pk)}


# --- analytics: GES requests in the core's terms ------------------------------------------------
# Each GES producer body is translated into what the core's services take (GES's algorithm and
# parameter names, vertexFilters, sorts, indexType...), or refused with the GES code of the
# situation. What the services refuse afterwards (a parameter out of range, a label the graph
# does not have, a path outside the export roots) goes through the *_refused functions, which
# give it the same codes. The views run the service calls inside ``translating(...)``.


@contextmanager
def translating(refused: Callable[[ServiceError], Exception]) -> Iterator[None]:
    """A ServiceError raised inside comes out as ``refused(error)``."""
    try:
        yield
    except ServiceError as exc:
        raise refused(exc) from None


def _refusal(exc: ServiceError, code: str, message: str) -> Exception:
    if isinstance(exc, PermissionDenied):
        return exc  # 403 with the plane's forbidden code
    if isinstance(exc, InvalidState) and exc.field == "graph":
        # the graph is being deleted: answered as a missing graph is
        return bad_request(GES_BAD_PARAMETER, exc.message)
    return bad_request(code, message)


def filtered_query_unsupported() -> GesError:
    """GES's filtered-query is a k-hop traversal with a filter per hop; the core has no
    traversal, only label and property queries (vertices/edges action=query)."""
    return bad_request(
        GES_BAD_PARAMETER,
        "action_id filtered-query (a k-hop traversal) is not supported; filter vertices or "
        "edges by label and property with vertices/action?action_id=query or "
        "edges/action?action_id=query",
    )


# algorithms (POST .../graphs/{graph_name}/action?action_id=execute-algorithm)


def _fraction(value: Any) -> str | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1
    return None if ok else "expected a number in (0, 1)"


def _iterations(value: Any) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**31 - 1
    return None if ok else "expected a whole number from 1 to 2147483647"


def _unweighted(value: Any) -> str | None:
    return None if value in (None, "") else "edge weights are not supported by this algorithm here"


def _by_id(row: dict[str, Any]) -> dict[str, Any]:
    vertex, _label, value = row.values()
    return {vertex: value}


def _community(row: dict[str, Any]) -> dict[str, str]:
    vertex, _label, value = row.values()
    return {vertex: str(value)}  # GES's community ids are strings


def _degrees(row: dict[str, Any]) -> dict[str, Any]:
    return {row["id"]: {k: row[k] for k in ("in_degree", "out_degree", "degree")}}


def _path_step(row: dict[str, Any]) -> Any:
    return row["id"]


# GES's convergence parameters: the library's solvers run to their own convergence (PRPACK
# solves pagerank exactly), so these are checked against GES's ranges and not passed on.
_ITERATIVE: dict[str, Callable[[Any], str | None]] = {
    "convergence": _fraction,
    "max_iterations": _iterations,
}


@dataclass(frozen=True)
class GesAlgorithm:
    """One GES algorithm name: our algorithm, the ``data.outputs`` key of its per-row results,
    how a result row becomes one of GES's entries, GES's names of its summary figures, and
    GES parameters that are checked but not passed on (anything else goes to our algorithm,
    whose parameter names GES's match)."""

    algorithm: str
    output: str
    entry: Callable[[dict[str, Any]], Any]
    summary: dict[str, str] = field(default_factory=dict)  # our output name -> GES's
    ges_only: dict[str, Callable[[Any], str | None]] = field(default_factory=dict)


_PAGERANK = GesAlgorithm("pagerank", "pagerank", _by_id, ges_only=_ITERATIVE)
_PERSONALRANK = GesAlgorithm("personalized_pagerank", "personalrank", _by_id, ges_only=_ITERATIVE)
_SHORTEST_PATH = GesAlgorithm("shortest_path", "path", _path_step)
_SSSP = GesAlgorithm("single_source_shortest_paths", "distance", _by_id)
_COMPONENTS = GesAlgorithm(
    "connected_components",
    "community",
    _community,
    {"components": "community_num", "largest": "Max_WCC_size"},
)
_KCORE = GesAlgorithm("k_core", "kcore", _by_id)
_LABEL_PROPAGATION = GesAlgorithm(
    "label_propagation",
    "community",
    _community,
    {"communities": "community_num"},
    ges_only=_ITERATIVE,
)
_LOUVAIN = GesAlgorithm(
    "louvain",
    "community",
    _community,
    {"communities": "community_num"},
    ges_only={**_ITERATIVE, "weight": _unweighted},
)
_TRIANGLES = GesAlgorithm("triangle_count", "triangles", _by_id, {"triangles": "triangle_count"})
_DEGREE = GesAlgorithm("degree_statistics", "degree", _degrees)

# GES's algorithmName -> ours. GES's own names first; our names are accepted as well.
ALGORITHMS: dict[str, GesAlgorithm] = {
    "pagerank": _PAGERANK,
    "personalrank": _PERSONALRANK,
    "personalized_pagerank": _PERSONALRANK,
    "shortest_path": _SHORTEST_PATH,
    "sssp": _SSSP,
    "single_source_shortest_path": _SSSP,
    "single_source_shortest_paths": _SSSP,
    "connected_component": _COMPONENTS,
    "connected_components": _COMPONENTS,
    "kcore": _KCORE,
    "k_core": _KCORE,
    "label_propagation": _LABEL_PROPAGATION,
    "louvain": _LOUVAIN,
    "triangle_count": _TRIANGLES,
    "degree": _DEGREE,
    "degree_statistics": _DEGREE,
}
# By our algorithm name: a job's result is shaped by it, whichever face submitted the job.
ALGORITHM_RESULTS: dict[str, GesAlgorithm] = {a.algorithm: a for a in ALGORITHMS.values()}
# GES's executionMode: every algorithm runs as a job, so only async is possible.
EXECUTION_MODES = ("async",)


@dataclass(frozen=True)
class AlgorithmCall:
    ges_name: str
    algorithm: str
    parameters: dict[str, Any]


def _algorithm_error(name: str, message: str) -> str:
    return f"Running algorithm [{name}] error: {message}"  # as GES words its failReason


def algorithm_request(body: dict[str, Any]) -> AlgorithmCall:
    """``{"algorithmName", "parameters", "executionMode"}`` in our terms (other keys, such as
    a sync call's offset and limit, are ignored as GES ignores what it does not use)."""
    from jobcenter.graphs.algorithms import ALGORITHMS as OURS

    name = body.get("algorithmName")
    if not isinstance(name, str) or not name.strip():
        raise bad_request(GES_ALGORITHM_NAME_EMPTY, "algorithmName must not be empty")
    spec = ALGORITHMS.get(name)
    if spec is None:
        raise bad_request(
            GES_ALGORITHM_FAILED,
            f"algorithm [{name[:100]}] is not supported (supported: {', '.join(ALGORITHMS)})",
        )
    mode = body.get("executionMode")
    if mode is not None and mode not in EXECUTION_MODES:
        raise bad_request(
            GES_ALGORITHM_MODE,
            f"executionMode {str(mode)[:20]!r} is not supported: every algorithm runs as a job "
            "(async); read its result with the job status API",
        )
    parameters = body.get("parameters")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise bad_request(
            GES_ALGORITHM_FAILED,
            _algorithm_error(name, "parameter [parameters] is invalid! expected an object"),
        )
    known = [*OURS[spec.algorithm].params, *spec.ges_only]
    ours: dict[str, Any] = {}
    for key, value in parameters.items():
        if key in spec.ges_only:
            why = spec.ges_only[key](value)
        elif key in OURS[spec.algorithm].params:
            ours[key], why = value, None
        else:
            why = f"{name} takes no such parameter (known: {', '.join(known) or 'none'})"
        if why:
            raise bad_request(
                GES_ALGORITHM_FAILED,
                _algorithm_error(name, f"parameter [{key[:100]}] is invalid! {why}"),
            )
    return AlgorithmCall(name, spec.algorithm, ours)


def algorithm_refused(name: str) -> Callable[[ServiceError], Exception]:
    def refused(exc: ServiceError) -> Exception:
        return _refusal(exc, GES_ALGORITHM_FAILED, _algorithm_error(name, exc.message))

    return refused


# filtered vertex and edge queries (POST .../vertices/action?action_id=query, edges/...)


@dataclass(frozen=True)
class GesQueryTerms:
    """A query target's names and error codes in GES."""

    filters: str  # the body's filter list
    label_code: str
    filter_code: str
    empty_code: str
    sort_code: str
    sort_keys: tuple[str, ...]  # sort ``key`` values besides "property"


QUERY_TERMS: dict[str, GesQueryTerms] = {
    "vertices": GesQueryTerms(
        "vertexFilters",
        GES_VERTEX_FILTER_LABEL,
        GES_VERTEX_FILTER,
        GES_VERTEX_FILTER_EMPTY,
        GES_VERTEX_FILTER_SORT,
        ("id", "label"),
    ),
    "edges": GesQueryTerms(
        "edgeFilters",
        GES_EDGE_FILTER_LABEL,
        GES_EDGE_FILTER,
        GES_EDGE_FILTER_EMPTY,
        GES_EDGE_FILTER_SORT,
        ("source", "target", "label"),
    ),
}
# GES predicate -> ours. "has" is membership in a list/set property (a substring of a text
# one); ours also have != and in. hasNot and the full_text_* predicates have no equivalent.
QUERY_PREDICATES: dict[str, str] = {
    "=": "=",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "range": "range",
    "in": "in",
    "has": "contains",
}
QUERY_ORDERS = {"incr": "asc", "decr": "desc"}
QUERY_DEFAULT_LIMIT = 10  # GES's documented default


def _whole(value: Any) -> Any:
    """A count GES clients may send as digits in a string; anything else as it is (checked by
    the service)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 12:
        return int(value)
    return value


def query_request(body: dict[str, Any], target: str) -> dict[str, Any]:
    """``{"labels", "vertexFilters" | "edgeFilters", "sorts", "offset", "limit"}`` as our
    query (see jobcenter.graphs.query.parse_query, which checks it against the graph)."""
    terms = QUERY_TERMS[target]
    labels = body.get("labels")
    if labels is None or labels == "":
        labels = []
    elif isinstance(labels, str):
        labels = [labels]
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise bad_request(terms.label_code, "labels must be a list of label names")
    raw_filters = body.get(terms.filters)
    if raw_filters is None:
        raw_filters = []
    if not isinstance(raw_filters, list):
        raise bad_request(terms.filter_code, f"{terms.filters} must be a list of filters")
    if not labels and not raw_filters:
        raise bad_request(terms.empty_code, f"labels and {terms.filters} cannot both be empty")
    filters = []
    for i, item in enumerate(raw_filters):
        where = f"{terms.filters}[{i}]"
        if not isinstance(item, dict):
            raise bad_request(terms.filter_code, f"{where} must be an object")
        predicate = item.get("predicate")
        if not isinstance(predicate, str) or predicate not in QUERY_PREDICATES:
            raise bad_request(
                terms.filter_code,
                f"{where}.predicate {str(predicate)[:50]!r} is not supported "
                f"(supported: {' '.join(QUERY_PREDICATES)})",
            )
        logic = item.get("type")
        if logic not in (None, "and", "or"):
            raise bad_request(terms.filter_code, f"{where}.type must be and or or")
        if logic == "or" and len(raw_filters) > 1:
            raise bad_request(
                terms.filter_code,
                f"{where}.type or is not supported: filters are combined with and",
            )
        filters.append(
            {
                "property": item.get("propertyName"),
                "predicate": QUERY_PREDICATES[predicate],
                "values": item.get("values"),
            }
        )
    raw_sorts = body.get("sorts")
    if raw_sorts is None:
        raw_sorts = []
    if not isinstance(raw_sorts, list):
        raise bad_request(terms.sort_code, "sorts must be a list")
    sorts = []
    for i, item in enumerate(raw_sorts):
        where = f"sorts[{i}]"
        if not isinstance(item, dict):
            raise bad_request(terms.sort_code, f"{where} must be an object")
        key = item.get("key")
        if key is None or key == "property":
            name = item.get("propertyName")
        elif key in terms.sort_keys:
            name = key
        else:
            allowed = ", ".join((*terms.sort_keys, "property"))
            raise bad_request(terms.sort_code, f"{where}.key must be one of {allowed}")
        if not isinstance(name, str) or not name:
            raise bad_request(terms.sort_code, f"{where}.propertyName must name a property")
        order = item.get("orderValue", "incr")
        if not isinstance(order, str) or order not in QUERY_ORDERS:
            raise bad_request(terms.sort_code, f"{where}.orderValue must be incr or decr")
        sorts.append({"property": name, "order": QUERY_ORDERS[order]})
    offset, limit = body.get("offset"), body.get("limit")
    return {
        "target": target,
        "labels": labels,
        "filters": filters,
        "sort": sorts,
        "offset": 0 if offset is None else _whole(offset),
        "limit": QUERY_DEFAULT_LIMIT if limit is None else _whole(limit),
    }


def query_refused(target: str) -> Callable[[ServiceError], Exception]:
    """The service's refusal of a query, with GES's code for the part at fault and GES's
    names in the message (``[vertexFilters.0.propertyName]`` rather than ours)."""
    terms = QUERY_TERMS[target]

    def refused(exc: ServiceError) -> Exception:
        where = exc.field or ""
        code = terms.filter_code
        if where == "labels":
            code = terms.label_code
        elif where.startswith("sort"):
            code = terms.sort_code
        message = (
            exc.message.replace("[filters.", f"[{terms.filters}.")
            .replace("[sort.", "[sorts.")
            .replace(".property]", ".propertyName]")
            .replace(".order]", ".orderValue]")
        )
        return _refusal(exc, code, message)

    return refused


# indexes (POST .../graphs/{graph_name}/indices)

# GES's composite index types -> the kind of label they index. Global ones name no label: the
# one label of that kind having the property is meant.
INDEX_TYPES: dict[str, tuple[str, bool]] = {
    "GlobalCompositeVertexIndex": ("vertices", True),
    "GlobalCompositeEdgeIndex": ("edges", True),
    "CompositeVertexIndex": ("vertices", False),
    "CompositeEdgeIndex": ("edges", False),
}
INDEX_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}\Z")  # GES's rule for indexName


@dataclass(frozen=True)
class IndexCall:
    name: str
    target: str
    label: str
    property: str


def _index_error(message: str) -> GesError:
    return bad_request(GES_INDEX_CREATE_FAILED, message)


def index_request(
    body: dict[str, Any], *, labels_with: Callable[[str, str], list[str]]
) -> IndexCall:
    """``{"indexName", "indexType", "hasLabel", "indexProperty", "labelName"}`` as one
    label-property index; ``labels_with(target, property)`` names the labels having a property
    (for a global index, which names none)."""
    name = body.get("indexName")
    if not isinstance(name, str) or not INDEX_NAME.match(name):
        raise _index_error("indexName must be 1 to 63 letters, digits, hyphens or underscores")
    kind = body.get("indexType")
    if not isinstance(kind, str) or kind not in INDEX_TYPES:
        raise _index_error(
            f"indexType {str(kind)[:50]!r} is not supported (supported: {', '.join(INDEX_TYPES)})"
        )
    target, is_global = INDEX_TYPES[kind]
    if body.get("hasLabel") not in (None, True, False, "true", "false"):
        raise _index_error("hasLabel must be true or false")
    props = body.get("indexProperty")
    if isinstance(props, str):
        props = [props]
    if not props:
        raise _index_error("indexProperty must name the property to index")
    if not isinstance(props, list) or not all(isinstance(p, str) and p for p in props):
        raise _index_error("indexProperty must be a list of property names")
    if len(props) > 1:
        raise _index_error("an index over several properties is not supported: one per index")
    prop = props[0]
    label = body.get("labelName")
    if label is None:
        if not is_global:
            raise _index_error(f"{kind} needs labelName, the label to index")
        labels = labels_with(target, prop)
        what = "vertex" if target == "vertices" else "edge"
        if not labels:
            raise _index_error(f"no {what} label has a property {prop[:100]!r}")
        if len(labels) > 1:
            raise _index_error(
                f"{what} labels {', '.join(labels)} all have {prop[:100]!r}: name one with "
                "labelName (an index covers one label here)"
            )
        label = labels[0]
    if not isinstance(label, str) or not label:
        raise _index_error("labelName must be a label name")
    return IndexCall(name, target, label, prop)


def index_refused(exc: ServiceError) -> Exception:
    message = exc.message.replace("[label]", "[labelName]").replace("[property]", "[indexProperty]")
    return _refusal(exc, GES_INDEX_CREATE_FAILED, message)


# export of a job's result (POST .../jobs/{job_id}/action?action_id=export-result)


def export_result_request(body: dict[str, Any], job_id: str) -> tuple[str, dict[str, Any]]:
    """The target path (``exportPath``/``fileName`` under the export roots; ``fileName``
    defaults to ``<job id>.csv``) and the request to keep with the job: without
    ``obsParameters``, whose secret key must not be stored (there is no OBS here)."""
    folder, name = body.get("exportPath"), body.get("fileName")
    if not isinstance(folder, str) or not folder.strip():
        raise bad_request(GES_EXPORT_FAILED, "exportPath must name a folder under the export root")
    if name is None:
        name = f"{job_id}.csv"
    if not isinstance(name, str) or not name.strip() or "/" in name or name in (".", ".."):
        raise bad_request(GES_EXPORT_FAILED, "fileName must be a file name")
    kept = {k: v for k, v in body.items() if k != "obsParameters"}
    return f"{folder.rstrip('/')}/{name}", kept


def export_graph_not_found(name: str) -> GesError:
    return bad_request(GES_EXPORT_FAILED, f"graph [{name}] is not found")


def export_job_not_found(job_id: str) -> GesError:
    return bad_request(GES_EXPORT_FAILED, f"job [{job_id}] is not found")


def export_refused(exc: ServiceError) -> Exception:
    return _refusal(exc, GES_EXPORT_FAILED, exc.message)


# --- analytics: results in GES's shape ------------------------------------------------------


def _ges_properties(properties: dict[str, Any] | None) -> dict[str, list[Any]]:
    """GES gives every property value as an array (list and set properties hold several)."""
    return {k: v if isinstance(v, list) else [v] for k, v in (properties or {}).items()}


def ges_vertex(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "label": row["label"],
        "properties": _ges_properties(row["properties"]),
    }


def ges_edge(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": row["source"],
        "target": row["target"],
        "label": row["label"],
        "properties": _ges_properties(row["properties"]),
    }


def result_outputs(job: Job, page: ResultPage) -> dict[str, Any]:
    """One page of a job's result as GES's ``data.outputs``: a query's ``vertices`` or
    ``edges``; an algorithm's entries under its GES key (``pagerank: [{id: value}]``,
    ``community: [{id: "n"}]``, ``path: [id, ...]``...) with its summary figures."""
    if job.type == JobType.ALGORITHM:
        spec = ALGORITHM_RESULTS.get((job.params or {}).get("algorithm", ""))
        if spec is not None:
            outputs = {spec.summary.get(k, k): v for k, v in page.outputs.items()}
            outputs[spec.output] = [spec.entry(row) for row in page.rows]
            return outputs
    if job.type == JobType.QUERY and page.kind == "vertices":
        return {"vertices": [ges_vertex(row) for row in page.rows]}
    if job.type == JobType.QUERY and page.kind == "edges":
        return {"edges": [ges_edge(row) for row in page.rows]}
    return {**page.outputs, page.kind: page.rows}
