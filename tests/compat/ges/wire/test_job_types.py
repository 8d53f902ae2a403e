"""``compat.ges.wire.job_types``: how each job type appears on both planes."""

from __future__ import annotations

from jobcenter.compat.ges.wire import job_types, management, service
from jobcenter.jobs.choices import JobStatus, JobType
from tests.compat.ges.wire.conftest import make_job


def test_job_type_rows():
    def kind(job_type: str, name: str) -> tuple:
        job = make_job(JobStatus.RUNNING, job_type, name=name, cancellable=True)
        item = service.service_job(job, files=[])
        return item["taskType"], item["canStop"], management.mgmt_job(job, files=[])["job_type"]

    assert kind(JobType.ALGORITHM, "Algorithm") == ("Algorithm", True, "Algorithm")
    assert kind(JobType.QUERY, "EdgeQuery") == ("EdgeQuery", True, "EdgeQuery")
    assert kind(JobType.INDEX, "BuildIndex") == ("AddIndex", True, "AddIndex")
    assert kind(JobType.EXPORT, "ExportGraph") == ("ExportGraph", True, "GraphManagement")
    assert kind(JobType.EXPORT, "ExportResult") == ("ExportResult", False, "ExportResult")
    assert job_types.MGMT_EXCLUDED_NAMES == ("ExportResult",)


def test_start_and_close_graph_are_graph_management_jobs():
    for job_type, name in (
        (JobType.START_GRAPH, "StartGraph"),
        (JobType.CLOSE_GRAPH, "CloseGraph"),
    ):
        job = make_job(JobStatus.RUNNING, job_type, name=name, cancellable=True)
        item = service.service_job(job, files=[])
        assert (item["taskType"], item["canStop"]) == (name, False)
        mgmt = management.mgmt_job(job, files=[])
        assert (mgmt["job_type"], mgmt["job_name"]) == ("GraphManagement", name)
        assert "job_detail" not in mgmt
        assert job_type in job_types.MGMT_JOB_TYPES
