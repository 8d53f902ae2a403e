"""GES's wire for both planes: statuses, job objects, file accounting, paging, error shapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated

from jobcenter.compat.ges import wire
from jobcenter.core.errors import InvalidInput, InvalidState, NotFound, PermissionDenied
from jobcenter.graphs.algorithms import ALGORITHMS as OUR_ALGORITHMS
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import Job, JobFile
from jobcenter.jobs.results import ResultPage
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
    job = make_job(
        JobStatus.PARTIALLY_FAILED, fail_reason="4 of 23 lines failed", result={"files": []}
    )  # committed: the job keeps the import's summary
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


def test_an_import_that_did_not_commit_claims_no_line_imported_on_either_plane():
    """Issue 13: a cancelled import whose vertex file was read to the end: nothing was stored,
    so every entry is failed with 0 successful lines; what passed validation is kept in the
    added ``validated_lines``; the file never finished says why it was not imported."""
    job = make_job(JobStatus.CANCELLED, cancel_requested_by=User(username="oscar"))
    schema, vertex, edge = (wire.mgmt_file_entry(job, f) for f in import_files())
    assert (schema["status"], schema["successful_lines"], schema["validated_lines"]) == (
        "failed",
        0,
        4,
    )
    assert schema["cause"] == "not imported: cancelled by oscar"
    assert vertex == {
        "path": "ges/vertex.csv",
        "log": None,
        "status": "failed",
        "cause": "4 lines failed; not imported: cancelled by oscar",
        "total_lines": 10,
        "failed_lines": 4,
        "successful_lines": 0,
        "validated_lines": 6,
    }
    assert (edge["status"], edge["cause"]) == ("failed", "not imported: cancelled by oscar")
    edges, vertices, schemas = wire.service_files(job, import_files())
    entry = vertices["vertexFiles"][0]
    assert (entry["status"], entry["successfulLines"], entry["validatedLines"]) == (
        "failed",
        0,
        6,
    )
    assert schemas["schemaFiles"][0]["successfulLabels"] == 0
    assert edges["edgeFiles"][0]["status"] == "failed"


def test_the_file_an_abort_happened_in_keeps_its_own_cause():
    reason = "import aborted: 6 failed lines exceed the error threshold of 5"
    job = make_job(JobStatus.FAILED, fail_reason=reason)
    aborted = JobFile(index=1, role="vertex", path="v.csv", status="failed", cause=reason,
                      total_lines=6, successful_lines=0, failed_lines=6)  # fmt: skip
    entry = wire.mgmt_file_entry(job, aborted)
    assert (entry["status"], entry["cause"], entry["successful_lines"]) == ("failed", reason, 0)


def test_while_an_import_runs_its_counts_are_the_lines_accepted_so_far():
    job = make_job(JobStatus.RUNNING)
    vertex = wire.mgmt_file_entry(job, import_files()[1])
    assert (vertex["status"], vertex["successful_lines"], vertex["validated_lines"]) == (
        "partFailed",
        6,
        6,
    )
    assert wire.mgmt_file_entry(job, import_files()[2])["status"] is None  # not finished yet


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
    body = wire.service_job_status(job, files=[], page=None)
    assert (body["status"], body["result"]) == (shown, result)
    assert ("failReason" in body) is (result == "failed")


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
    failed = wire.service_job(make_job(JobStatus.FAILED, fail_reason="worker lost"), files=[])
    assert failed["failReason"] == "worker lost" and failed["canStop"] is False
    delete = make_job(JobStatus.WAITING, JobType.GRAPH_OPERATION, name="DeleteGraph")
    assert wire.service_job(delete, files=[])["canStop"] is False
    assert "files" not in wire.service_job(delete, files=[])


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
    body = wire.service_job_status(job, files=[], page=page)
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
    running = wire.service_job_status(make_job(JobStatus.RUNNING), files=[], page=None)
    assert running == {"status": "running", "result": "success", "progress": "37"}
    done = wire.service_job_status(
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
    assert wire.service_job_status(index, files=[], page=None)["data"] == {
        "outputs": {"index": "lp_x", "label": "user", "property": "Age", "rows": 3}
    }


def algorithm_page(algorithm: str, columns: list[str], rows: list[tuple], outputs: dict) -> dict:
    job = make_job(
        JobStatus.SUCCEEDED,
        JobType.ALGORITHM,
        name="Algorithm",
        params={"algorithm": algorithm, "parameters": {}},
    )
    page = ResultPage(
        kind="rows" if algorithm == "shortest_path" else "vertices",
        columns=columns,
        outputs=outputs,
        total=len(rows),
        offset=0,
        limit=100,
        rows=[dict(zip(columns, row, strict=True)) for row in rows],
    )
    return wire.service_job_status(job, files=[], page=page)["data"]["outputs"]


def test_algorithm_results_in_ges_shape():
    out = algorithm_page(
        "pagerank", ["id", "label", "pagerank"], [("a", "n", 0.5)], {"vertices": 1}
    )
    assert out["pagerank"] == [{"a": 0.5}] and out["vertices"] == 1
    out = algorithm_page(
        "connected_components",
        ["id", "label", "component"],
        [("a", "n", 0), ("b", "n", 1)],
        {"components": 2, "largest": 1},
    )
    assert out["community"] == [{"a": "0"}, {"b": "1"}]
    assert (out["community_num"], out["Max_WCC_size"]) == (2, 1)
    out = algorithm_page(
        "louvain",
        ["id", "label", "community"],
        [("a", "n", 3)],
        {"communities": 1, "modularity": 0},
    )
    assert out["community"] == [{"a": "3"}] and out["community_num"] == 1
    out = algorithm_page(
        "shortest_path",
        ["step", "id", "label", "distance"],
        [(0, "a", "n", 0.0), (1, "b", "n", 1.0)],
        {"found": True, "hops": 1},
    )
    assert out["path"] == ["a", "b"] and out["hops"] == 1
    out = algorithm_page(
        "degree_statistics",
        ["id", "label", "in_degree", "out_degree", "degree"],
        [("a", "n", 1, 2, 3)],
        {},
    )
    assert out["degree"] == [{"a": {"in_degree": 1, "out_degree": 2, "degree": 3}}]
    out = algorithm_page("triangle_count", ["id", "label", "triangles"], [("a", "n", 2)],
                         {"triangles": 4})  # fmt: skip
    assert out["triangles"] == [{"a": 2}] and out["triangle_count"] == 4


def test_every_algorithm_of_ours_has_a_ges_name():
    assert set(wire.ALGORITHM_RESULTS) == set(OUR_ALGORITHMS)
    for name, spec in wire.ALGORITHMS.items():
        assert spec.algorithm in OUR_ALGORITHMS, name
        # a GES-only parameter never shadows one of ours
        assert not set(spec.ges_only) & set(OUR_ALGORITHMS[spec.algorithm].params), name


def test_algorithm_requests_in_our_terms():
    call = wire.algorithm_request(
        {"algorithmName": "personalrank", "parameters": {"source": "a", "convergence": 0.01}}
    )
    assert (call.ges_name, call.algorithm, call.parameters) == (
        "personalrank",
        "personalized_pagerank",
        {"source": "a"},
    )
    call = wire.algorithm_request({"algorithmName": "sssp", "executionMode": "async"})
    assert (call.algorithm, call.parameters) == ("single_source_shortest_paths", {})

    def code(body: dict) -> str:
        with pytest.raises(wire.GesError) as info:
            wire.algorithm_request(body)
        return info.value.code

    assert code({}) == code({"algorithmName": 3}) == "GES.8401"
    assert code({"algorithmName": "betweenness"}) == "GES.8402"
    assert code({"algorithmName": "pagerank", "executionMode": "sync"}) == "GES.8404"
    assert code({"algorithmName": "pagerank", "executionMode": 1}) == "GES.8404"
    assert code({"algorithmName": "louvain", "parameters": {"max_iterations": True}}) == "GES.8402"
    assert code({"algorithmName": "louvain", "parameters": {"weight": "w"}}) == "GES.8402"
    refused = wire.algorithm_refused("sssp")(
        InvalidInput("parameter [source] is invalid! it is required", field="parameters.source")
    )
    assert (refused.code, refused.message) == (
        "GES.8402",
        "Running algorithm [sssp] error: parameter [source] is invalid! it is required",
    )
    assert isinstance(wire.algorithm_refused("x")(PermissionDenied("viewer")), PermissionDenied)
    deleting = wire.algorithm_refused("x")(
        InvalidState("graph 'g' is being deleted", field="graph")
    )
    assert deleting.code == "GES.8000"


def test_query_requests_in_our_terms():
    query = wire.query_request(
        {
            "labels": "user",
            "vertexFilters": [
                {"propertyName": "Tags", "predicate": "has", "values": ["x"], "type": "and"},
                {"propertyName": "Age", "predicate": "range", "values": [1, 2]},
            ],
            "sorts": [{"key": "label"}, {"propertyName": "Age", "orderValue": "decr"}],
            "offset": "5",
        },
        "vertices",
    )
    assert query == {
        "target": "vertices",
        "labels": ["user"],
        "filters": [
            {"property": "Tags", "predicate": "contains", "values": ["x"]},
            {"property": "Age", "predicate": "range", "values": [1, 2]},
        ],
        "sort": [{"property": "label", "order": "asc"}, {"property": "Age", "order": "desc"}],
        "offset": 5,
        "limit": 10,
    }
    edges = wire.query_request({"labels": ["rate"], "sorts": [{"key": "target"}]}, "edges")
    assert edges["sort"] == [{"property": "target", "order": "asc"}]
    refused = wire.query_refused("edges")(
        InvalidInput("parameter [filters.0.property] is invalid! no", field="filters.0.property")
    )
    assert (refused.code, refused.message) == (
        "GES.8101",
        "parameter [edgeFilters.0.propertyName] is invalid! no",
    )
    sort = wire.query_refused("vertices")(
        InvalidInput("parameter [sort.1.order]", field="sort.1.order")
    )
    assert (sort.code, sort.message) == ("GES.8205", "parameter [sorts.1.orderValue]")


def test_index_requests_in_our_terms():
    labels = {("vertices", "name"): ["person", "company"], ("vertices", "age"): ["person"]}

    def call(**body: Any) -> Any:
        return wire.index_request(body, labels_with=lambda t, p: labels.get((t, p), []))

    assert call(indexName="a", indexType="GlobalCompositeVertexIndex", indexProperty="age") == (
        wire.IndexCall("a", "vertices", "person", "age")
    )
    local = call(indexName="b", indexType="CompositeEdgeIndex", labelName="rate",
                 indexProperty=["score"], hasLabel=True)  # fmt: skip
    assert local == wire.IndexCall("b", "edges", "rate", "score")
    with pytest.raises(wire.GesError, match="person, company") as info:
        call(indexName="c", indexType="GlobalCompositeVertexIndex", indexProperty=["name"])
    assert info.value.code == "GES.8603"


def test_export_requests_keep_no_secret():
    path, kept = wire.export_result_request(
        {"exportPath": "out/", "fileName": "r.csv", "obsParameters": {"secretKey": "S"}}, "j1"
    )
    assert (path, kept) == ("out/r.csv", {"exportPath": "out/", "fileName": "r.csv"})
    assert wire.export_result_request({"exportPath": "out"}, "j1")[0] == "out/j1.csv"


def test_job_type_rows():
    def kind(job_type: str, name: str) -> tuple:
        job = make_job(JobStatus.RUNNING, job_type, name=name, cancellable=True)
        item = wire.service_job(job, files=[])
        return item["taskType"], item["canStop"], wire.mgmt_job(job, files=[])["job_type"]

    assert kind(JobType.ALGORITHM, "Algorithm") == ("Algorithm", True, "Algorithm")
    assert kind(JobType.QUERY, "EdgeQuery") == ("EdgeQuery", True, "EdgeQuery")
    assert kind(JobType.INDEX, "BuildIndex") == ("AddIndex", True, "AddIndex")
    assert kind(JobType.EXPORT, "ExportGraph") == ("ExportGraph", True, "GraphManagement")
    assert kind(JobType.EXPORT, "ExportResult") == ("ExportResult", False, "ExportResult")
    assert wire.MGMT_EXCLUDED_NAMES == ("ExportResult",)


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
