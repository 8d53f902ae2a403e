"""``compat.ges.wire.service``: the service plane's job objects and job status bodies."""

from __future__ import annotations

import json

import pytest

from jobcenter.compat.ges.wire import service
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.results import ResultPage
from tests.compat.ges.wire.conftest import import_files, make_job


@pytest.mark.parametrize(
    ("status", "shown", "result"),
    [
        (JobStatus.WAITING, "pending", "success"),
        (JobStatus.RUNNING, "running", "success"),
        (JobStatus.CANCELLING, "running", "success"),
        (JobStatus.SUCCEEDED, "success", "success"),
        (JobStatus.PARTIALLY_FAILED, "success", "success"),
        (JobStatus.FAILED, "failed", "failed"),
        (JobStatus.CANCELLED, "cancelled", "failed"),
    ],
)
def test_the_status_querys_result_is_failed_exactly_when_the_job_failed(status, shown, result):
    job = make_job(
        status, result={"files": []} if status in ("succeeded", "partially_failed") else None
    )
    body = service.service_job_status(job, files=[], page=None)
    assert (body["status"], body["result"]) == (shown, result)
    assert ("failReason" in body) is (result == "failed")


def test_service_plane_job_item():
    job = make_job(JobStatus.RUNNING, cancellable=True)
    item = service.service_job(job, files=import_files())
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
                "validatedLines": 6,
                "status": "partFailed",
                "startTime": 1543354740250000,
                "endTime": 1543354796000000,
                "cause": "4 lines failed",
            }
        ]
    }
    assert schema["schemaFiles"][0]["totalLabels"] == 4
    assert edge["edgeFiles"][0]["status"] == "pending"
    failed = service.service_job(make_job(JobStatus.FAILED, fail_reason="worker lost"), files=[])
    assert failed["failReason"] == "worker lost" and failed["canStop"] is False
    delete = make_job(JobStatus.WAITING, JobType.GRAPH_OPERATION, name="DeleteGraph")
    assert service.service_job(delete, files=[])["canStop"] is False
    assert "files" not in service.service_job(delete, files=[])


def test_service_plane_status_pages_result_rows():
    job = make_job(JobStatus.SUCCEEDED, JobType.QUERY, name="VertexQuery")
    page = ResultPage(
        kind="vertices",
        columns=["id", "label", "properties"],
        outputs={"returned": 5, "offset": 0},
        total=5,
        offset=1,
        limit=2,
        rows=[
            {"id": "1", "label": "user", "properties": {"Age": 3, "Tags": ["a", "b"]}},
            {"id": "2", "label": "user", "properties": {}},
        ],
    )
    body = service.service_job_status(job, files=[], page=page)
    counts = {"data_return_size": 2, "data_offset": 1, "data_total_size": 5}
    assert body == {
        "status": "success",
        "result": "success",
        "data": {
            "outputs": {
                "vertices": [
                    {"id": "1", "label": "user", "properties": {"Age": [3], "Tags": ["a", "b"]}},
                    {"id": "2", "label": "user", "properties": {}},
                ],
                **counts,
            },
            **counts,
        },
    }
    running = service.service_job_status(make_job(JobStatus.RUNNING), files=[], page=None)
    assert running == {"status": "running", "result": "success", "progress": "37"}
    done = service.service_job_status(
        make_job(JobStatus.PARTIALLY_FAILED, result={"vertices_added": 6, "files": []}),
        files=import_files(),
        page=None,
    )
    outputs = done["data"]["outputs"]
    assert outputs["vertices_added"] == 6 and outputs["failedLines"] == 4
    assert outputs["totalLines"] == 19 and len(outputs["files"]) == 3
    index = make_job(
        JobStatus.SUCCEEDED,
        JobType.INDEX,
        name="AddIndex",
        result={"index": "lp_x", "label": "user", "property": "Age", "rows": 3},
    )
    assert service.service_job_status(index, files=[], page=None)["data"] == {
        "outputs": {"index": "lp_x", "label": "user", "property": "Age", "rows": 3}
    }
