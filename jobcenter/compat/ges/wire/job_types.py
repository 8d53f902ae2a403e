"""How each of our job types appears in GES: its ``taskType`` and ``job_name``, whether the
management plane's job center lists it, and whether the service plane's cancel accepts it."""

from __future__ import annotations

from dataclasses import dataclass

from jobcenter.jobs.choices import JobType
from jobcenter.jobs.models import Job


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
    # the management plane's start and stop (SDK StartGraph2, StopGraph2: "close graph")
    JobType.START_GRAPH: GesJobType("StartGraph", "StartGraph", in_job_center=True),
    JobType.CLOSE_GRAPH: GesJobType("CloseGraph", "CloseGraph", in_job_center=True),
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


def _row(job: Job) -> GesJobType:
    return JOB_NAMES.get(job.name) or JOB_TYPES.get(job.type, _UNMAPPED)


def in_job_center(job: Job) -> bool:
    """Whether the management plane's job center lists the job (as ``GraphManagement``)."""
    return _row(job).in_job_center


def task_type(job: Job) -> str:
    return _row(job).task_type or job.name or job.type


def job_name(job: Job) -> str:
    return _row(job).job_name or job.name or job.type


def stoppable(job: Job) -> bool:
    """Whether the service plane's cancel accepts jobs of this kind at all."""
    return _row(job).stoppable
