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
