"""GES's wire for both planes: statuses, job objects, file accounting, paging, error shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django.contrib.auth.models import User
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

from jobcenter.compat.ges import wire
from jobcenter.core.errors import InvalidInput, InvalidState, NotFound, PermissionDenied
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import Job, JobFile
from jobcenter.projects.models import Project

T0 = datetime(2018, 11, 27, 21, 39, 0, 250000, tzinfo=UTC)
T1 = datetime(2018, 11, 27, 21, 39, 56, tzinfo=UTC)


def make_job(status: str, job_type: str = JobType.IMPORT, **extra: Any) -> Job:
    terminal = status in ("succeeded", "partially_failed", "failed", "cancelled")
    return Job(
        id="ff80808167f09aaa0167f19b35ec0305",
        type=job_type,
        name=extra.pop("name", "ImportGraph"),
        project=Project(name="alpha"),
        graph_name="GES_UI_AUTO",
        status=status,
        created_at=T0,
        finished_at=T1 if terminal else None,
        progress=extra.pop("progress", 100.0 if terminal else 37.9),
        request=extra.pop("request", {"edgesetPath": "e.csv"}),
        **extra,
    )


def import_files() -> list[JobFile]:
    return [
        JobFile(index=0, role="schema", path="ges/schema.xml", status="success", total_lines=4,
                successful_lines=4, failed_lines=0, started_at=T0, finished_at=T0),
        JobFile(index=1, role="vertex", path="ges/vertex.csv", status="partFailed",
                total_lines=10, successful_lines=6, failed_lines=4, cause="4 lines failed",
                started_at=T0, finished_at=T1),
        JobFile(index=2, role="edge", path="ges/edge.csv", status="", total_lines=9),
    ]  # fmt: skip


def test_status_maps_of_both_planes():
    assert {s: wire.MGMT_STATUS[s] for s in JobStatus.values} == {
        "waiting": "pending",
        "running": "running",
        "cancelling": "running",
        "succeeded": "success",
        "partially_failed": "partiallyFailed",
        "failed": "failed",
        "cancelled": "failed",
    }
    assert {s: wire.SERVICE_STATUS[s] for s in JobStatus.values} == {
        "waiting": "pending",
        "running": "running",
        "cancelling": "running",
        "succeeded": "success",
        "partially_failed": "success",
        "failed": "failed",
        "cancelled": "cancelled",
    }
    # every filter value selects exactly the statuses shown with that name (or "pending")
    for value, statuses in wire.MGMT_STATUS_FILTER.items():
        shown = {wire.MGMT_STATUS[s] for s in statuses}
        assert shown == ({"pending"} if value in ("waiting", "pending") else {value})


def test_mgmt_import_job_has_detail_entries_with_line_counts():
    job = make_job(JobStatus.PARTIALLY_FAILED, fail_reason="4 of 23 lines failed")
    data = wire.mgmt_job(job, files=import_files())
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
                 "total_lines": 4, "failed_lines": 0, "successful_lines": 4},
            ],
            "edgeset_path": [
                {"path": "ges/edge.csv", "log": None, "status": "failed",
                 "cause": "not imported: 4 of 23 lines failed",
                 "total_lines": 9, "failed_lines": 0, "successful_lines": 0},
            ],
            "vertexset_path": [
                {"path": "ges/vertex.csv", "log": None, "status": "partFailed",
                 "cause": "4 lines failed", "total_lines": 10, "failed_lines": 4,
                 "successful_lines": 6},
            ],
        },
    }  # fmt: skip


def test_mgmt_running_and_cancelled_jobs():
    running = wire.mgmt_job(make_job(JobStatus.RUNNING), files=import_files())
    assert running["status"] == "running" and running["end_time"] is None
    assert running["fail_reason"] is None  # every documented field, null when not failed
    assert running["job_detail"]["edgeset_path"][0]["status"] is None  # not finished yet
    job = make_job(JobStatus.CANCELLED, cancel_requested_by=User(username="oscar"))
    cancelled = wire.mgmt_job(job, files=[])
    assert cancelled["status"] == "failed" and cancelled["fail_reason"] == "cancelled by oscar"
    assert cancelled["job_detail"] == {
        "schema_path": None,
        "edgeset_path": None,
        "vertexset_path": None,
    }
    delete = wire.mgmt_job(
        make_job(JobStatus.SUCCEEDED, JobType.GRAPH_OPERATION, name="DeleteGraph"), files=[]
    )
    assert (delete["job_type"], delete["job_name"]) == ("GraphManagement", "DeleteGraph")
    assert "job_detail" not in delete


def test_service_plane_job_item():
    job = make_job(JobStatus.RUNNING, cancellable=True)
    item = wire.service_job(job, files=import_files())
    assert item["jobId"] == job.pk
    assert json.loads(item["rawRequest"]) == {"edgesetPath": "e.csv"}
    assert (item["taskType"], item["canStop"], item["progress"]) == ("ImportGraph", True, "37")
    assert (item["startTime"], item["endTime"], item["status"]) == (
        "2018-11-27 21:39:00",
        None,
        "running",
    )
    assert "failReason" not in item
    edge, vertex, schema = item["files"]
    assert vertex == {
        "vertexFiles": [
            {
                "fileName": "ges/vertex.csv",
                "totalLines": 10,
                "successfulLines": 6,
                "failedLines": 4,
                "status": "partFailed",
                "startTime": 1543354740250000,
                "endTime": 1543354796000000,
                "cause": "4 lines failed",
            }
        ]
    }
    assert schema["schemaFiles"][0]["totalLabels"] == 4
    assert edge["edgeFiles"][0]["status"] == "pending"
    failed = wire.service_job(make_job(JobStatus.FAILED, fail_reason="worker lost"), files=[])
    assert failed["failReason"] == "worker lost" and failed["canStop"] is False
    delete = make_job(JobStatus.WAITING, JobType.GRAPH_OPERATION, name="DeleteGraph")
    assert wire.service_job(delete, files=[])["canStop"] is False
    assert "files" not in wire.service_job(delete, files=[])


def test_service_plane_status_pages_result_rows():
    job = make_job(
        JobStatus.SUCCEEDED,
        JobType.QUERY,
        name="VertexQuery",
        result={"vertices": [{"id": str(i)} for i in range(5)], "runtime": 0.5},
    )
    body = wire.service_job_status(job, files=[], offset=1, limit=2)
    assert body == {
        "status": "success",
        "result": "success",
        "data": {
            "outputs": {
                "vertices": [{"id": "1"}, {"id": "2"}],
                "data_return_size": 2,
                "data_offset": 1,
                "data_total_size": 5,
                "runtime": 0.5,
            }
        },
    }
    running = wire.service_job_status(make_job(JobStatus.RUNNING), files=[], offset=0, limit=9)
    assert running == {"status": "running", "result": "success", "progress": "37"}
    done = wire.service_job_status(
        make_job(JobStatus.PARTIALLY_FAILED, result={"vertices_added": 6, "files": []}),
        files=import_files(),
        offset=0,
        limit=10,
    )
    outputs = done["data"]["outputs"]
    assert outputs["vertices_added"] == 6 and outputs["failedLines"] == 4
    assert outputs["totalLines"] == 19 and len(outputs["files"]) == 3


def test_error_shapes_of_both_planes():
    def service(exc: Exception) -> tuple[int, dict]:
        response = wire.service_error_response(exc)
        return response.status_code, response.data

    def mgmt(exc: Exception) -> tuple[int, dict]:
        response = wire.mgmt_error_response(exc)
        return response.status_code, response.data

    assert service(wire.job_not_found("9")) == (
        400,
        {
            "errorCode": "GES.8301",
            "errorMessage": "can not find job, jobId is 9",
            "result": "failed",
        },
    )
    assert service(NotAuthenticated())[0:1] == (401,)
    assert service(NotAuthenticated())[1]["errorCode"] == "GES.8007"
    assert service(InvalidInput("no such file", field="edgeset_path"))[1]["errorCode"] == "GES.8013"
    assert service(PermissionDenied("viewer"))[0] == 403
    assert service(RuntimeError("x"))[0:1] == (500,)
    assert mgmt(AuthenticationFailed("bad signature")) == (
        401,
        {"error_code": "APIGW.0301", "error_msg": "bad signature"},
    )
    assert mgmt(NotFound("graph g does not exist", field="graph"))[1]["error_code"] == "GES.7000"
    assert mgmt(NotFound("job j does not exist", field="job_id"))[1]["error_code"] == "GES.7007"
    assert mgmt(InvalidInput("missing", field="vertexset_path"))[1]["error_code"] == "GES.7011"
    assert mgmt(InvalidInput("bad xml", field="schema"))[1]["error_code"] == "GES.7070"
    assert mgmt(InvalidInput("bad", field="delimiter"))[1]["error_code"] == "GES.7016"
    assert mgmt(InvalidState("being deleted", field="graph"))[1]["error_code"] == "GES.7000"
    assert mgmt(RuntimeError("x")) == (
        500,
        {"error_code": "GES.9999", "error_msg": "internal error: RuntimeError"},
    )
