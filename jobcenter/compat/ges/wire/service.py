"""GES's service plane (``/ges/v1.0/...``, camelCase): its job list items, the "query job
status" body with the job's result data, its actions and paging, and the body of a created job."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from jobcenter.compat.common import epoch_us, utc_text
from jobcenter.compat.ges.wire.job_types import stoppable, task_type
from jobcenter.compat.ges.wire.results import result_outputs
from jobcenter.compat.ges.wire.statuses import (
    SERVICE_RESULT_FAILED_STATUSES,
    SERVICE_STATUS,
    fail_reason,
    file_cause,
    file_status,
    files_with_role,
    imported_lines,
)
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job, JobFile
from jobcenter.jobs.registry import kind_of
from jobcenter.jobs.results import ResultPage

# --- service plane actions (``?action_id=``) --------------------------------------------------

ACTION_IMPORT_GRAPH = "import-graph"  # POST .../graphs/{graph_name}/action
ACTION_EXECUTE_ALGORITHM = "execute-algorithm"  # POST .../graphs/{graph_name}/action
ACTION_FILTERED_QUERY = "filtered-query"  # POST .../graphs/{graph_name}/action (refused)
ACTION_QUERY = "query"  # POST .../graphs/{graph_name}/vertices/action, .../edges/action
ACTION_EXPORT_RESULT = "export-result"  # POST .../jobs/{job_id}/action

# --- list paging -------------------------------------------------------------------------

SERVICE_DEFAULT_LIMIT = 100_000  # documented default and maximum
SERVICE_MAX_LIMIT = 100_000

# --- job objects ---------------------------------------------------------------------------


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
        {"edgeFiles": [_service_file(job, f) for f in files_with_role(files, "edge")]},
        {"vertexFiles": [_service_file(job, f) for f in files_with_role(files, "vertex")]},
        {"schemaFiles": [_service_file(job, f) for f in files_with_role(files, "schema")]},
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
    if kind_of(job.type).loads_files:
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
    (queries, algorithms) give one page of it in GES's shape (see :func:`results.result_outputs`)
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
    if kind_of(job.type).loads_files:
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
