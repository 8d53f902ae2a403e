"""``compat.ges.wire.management``: the management plane v2's job objects."""

from __future__ import annotations

from django.contrib.auth.models import User

from jobcenter.compat.ges.wire import management
from jobcenter.jobs.choices import JobStatus, JobType
from tests.compat.ges.wire.conftest import import_files, make_job


def test_mgmt_import_job_has_detail_entries_with_line_counts():
    job = make_job(
        JobStatus.PARTIALLY_FAILED, fail_reason="4 of 23 lines failed", result={"files": []}
    )  # committed: the job keeps the import's summary
    data = management.mgmt_job(job, files=import_files())
    assert data == {
        "job_id": "ff80808167f09aaa0167f19b35ec0305",
        "status": "partiallyFailed",
        "job_type": "GraphManagement",
        "job_name": "ImportGraph",
        "related_graph": "GES_UI_AUTO",
        "begin_time": "2018-11-27T21:39:00",
        "end_time": "2018-11-27T21:39:56",
        "job_progress": 100.0,
        "fail_reason": "4 of 23 lines failed",
        "job_detail": {
            "schema_path": [
                {"path": "ges/schema.xml", "log": None, "status": "success", "cause": None,
                 "total_lines": 4, "failed_lines": 0, "successful_lines": 4,
                 "validated_lines": 4},
            ],
            "edgeset_path": [
                {"path": "ges/edge.csv", "log": None, "status": "failed", "cause": None,
                 "total_lines": 9, "failed_lines": 0, "successful_lines": 0,
                 "validated_lines": 0},
            ],
            "vertexset_path": [
                {"path": "ges/vertex.csv", "log": None, "status": "partFailed",
                 "cause": "4 lines failed", "total_lines": 10, "failed_lines": 4,
                 "successful_lines": 6, "validated_lines": 6},
            ],
        },
    }  # fmt: skip


def test_mgmt_running_and_cancelled_jobs():
    running = management.mgmt_job(make_job(JobStatus.RUNNING), files=import_files())
    assert running["status"] == "running" and running["end_time"] is None
    assert running["fail_reason"] is None  # every documented field, null when not failed
    assert running["job_detail"]["edgeset_path"][0]["status"] is None  # not finished yet
    job = make_job(JobStatus.CANCELLED, cancel_requested_by=User(username="oscar"))
    cancelled = management.mgmt_job(job, files=[])
    assert cancelled["status"] == "failed" and cancelled["fail_reason"] == "cancelled by oscar"
    assert cancelled["job_detail"] == {
        "schema_path": None,
        "edgeset_path": None,
        "vertexset_path": None,
    }
    delete = management.mgmt_job(
        make_job(JobStatus.SUCCEEDED, JobType.GRAPH_OPERATION, name="DeleteGraph"), files=[]
    )
    assert (delete["job_type"], delete["job_name"]) == ("GraphManagement", "DeleteGraph")
    assert "job_detail" not in delete
