"""GES's management plane v2 (``/v2/...``, snake_case): its job objects (ListJobs2 items,
ShowJob2), ListJobs2's filters and paging, and the body of a created job."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.http import QueryDict

from jobcenter.compat.common import utc_text
from jobcenter.compat.ges.wire.errors import mgmt_bad_parameter
from jobcenter.compat.ges.wire.job_types import MGMT_JOB_TYPE, in_job_center, job_name, task_type
from jobcenter.compat.ges.wire.statuses import (
    MGMT_STATUS,
    MGMT_STATUS_FILTER,
    fail_reason,
    file_cause,
    file_status,
    files_with_role,
    imported_lines,
)
from jobcenter.jobs.models import Job, JobFile
from jobcenter.jobs.registry import kind_of

# --- list paging and filters -------------------------------------------------------------

MGMT_DEFAULT_LIMIT = 10
MGMT_MAX_LIMIT = 1000

# ListJobs2's date filters (yyyy-MM-dd, UTC days) -> the shared JobFilterSet's bounds:
# start_time selects jobs begun on or after that day, end_time jobs ended on or before it.
MGMT_DATE_FILTERS: dict[str, str] = {"start_time": "created_after", "end_time": "finished_before"}
MGMT_DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}\Z")


# --- job objects ---------------------------------------------------------------------------


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
        "job_type": MGMT_JOB_TYPE if in_job_center(job) else task_type(job),
        "job_name": job_name(job),
        "related_graph": job.graph_name,
        "begin_time": utc_text(job.created_at),
        "end_time": utc_text(job.finished_at),
        "job_progress": round(job.progress, 1),
        # every documented field is present; null when the job has not failed
        "fail_reason": fail_reason(job),
    }
    if kind_of(job.type).loads_files:
        detail = {}
        for key, role in (
            ("schema_path", "schema"),
            ("edgeset_path", "edge"),
            ("vertexset_path", "vertex"),
        ):
            entries = [mgmt_file_entry(job, f) for f in files_with_role(files, role)]
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


def mgmt_start_options(body: dict[str, Any]) -> None:
    """StartGraph2's body (``StartGraphReq``): ``graph_backup_id`` starts from a backup, which
    this server does not do (its backups are files: restore one with a graph operation)."""
    if body.get("graph_backup_id"):
        raise mgmt_bad_parameter(
            "graph_backup_id is not supported: restore the backup, then start the graph"
        )
