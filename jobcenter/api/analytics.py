"""Native API for the analytics jobs (issue 6): submit algorithms, filtered queries, index
builds, exports and graph operations on a graph, and read a job's result page by page or as a
CSV download. Views and serializers of this part of the API live together here; they are thin
adapters over jobcenter.jobs.services (writes) and jobcenter.jobs.selectors (reads).

Permissions as everywhere: viewers read results, operators submit (the services check it).
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.pagination import MAX_OFFSET, int_param
from jobcenter.api.schema import errors, id_parameter, ok
from jobcenter.api.serializers import JobSerializer, ObjectField, TextField, WholeNumberField
from jobcenter.api.views import NO_FORMAT, ApiView, CsvRenderer, _created, _job_url, _ref
from jobcenter.graphs.algorithms import ALGORITHMS
from jobcenter.graphs.selectors import graph_get_by_id, graph_index_list
from jobcenter.jobs.downloads import csv_download, result_csv, result_filename
from jobcenter.jobs.results import ResultReader
from jobcenter.jobs.selectors import job_get, job_result_reader
from jobcenter.jobs.services import (
    GRAPH_OPERATIONS,
    job_submit_algorithm,
    job_submit_export,
    job_submit_graph_operation,
    job_submit_index,
    job_submit_query,
)

RESULT_MAX_LIMIT = 100_000  # GES pages job results by at most 100000 rows
RESULT_DEFAULT_LIMIT = 100

# --- serializers --------------------------------------------------------------------------------


class AlgorithmInputSerializer(serializers.Serializer):
    algorithm = serializers.ChoiceField(choices=list(ALGORITHMS))
    parameters = ObjectField(required=False, default=dict)


class QueryInputSerializer(serializers.Serializer):
    """A filtered query; the fields are checked against the graph's schema by the service."""

    target = serializers.ChoiceField(choices=["vertices", "edges"], default="vertices")
    labels = serializers.ListField(child=TextField(), required=False, default=list)
    filters = serializers.ListField(child=ObjectField(), required=False, default=list)
    sort = serializers.ListField(child=ObjectField(), required=False, default=list)
    offset = WholeNumberField(required=False, default=0)
    limit = WholeNumberField(required=False, allow_null=True, default=None)


class IndexInputSerializer(serializers.Serializer):
    target = serializers.ChoiceField(choices=["vertices", "edges"], default="vertices")
    label = TextField(max_length=256)
    property = TextField(max_length=256)


class GraphExportInputSerializer(serializers.Serializer):
    path = TextField(max_length=1024, help_text="Under the export root.")
    format = serializers.ChoiceField(choices=["ges"], default="ges")


class ResultExportInputSerializer(serializers.Serializer):
    path = TextField(max_length=1024, help_text="CSV file under the export root.")


class GraphOperationInputSerializer(serializers.Serializer):
    operation = serializers.ChoiceField(choices=list(GRAPH_OPERATIONS))
    path = TextField(
        max_length=1024,
        required=False,
        help_text="backup: target file; restore: source file (required); others: none.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        needs_path = attrs["operation"] in ("backup", "restore")
        if needs_path and "path" not in attrs:
            raise serializers.ValidationError({"path": [f"required for {attrs['operation']}"]})
        if not needs_path and "path" in attrs:
            raise serializers.ValidationError({"path": [f"not used by {attrs['operation']}"]})
        return attrs


class ResultPageSerializer(serializers.Serializer):
    """One page of a job's result. ``kind`` says what the rows are (``vertices``, ``edges``,
    or other ``rows``), ``columns`` their keys; ``outputs`` holds the summary figures."""

    job = serializers.CharField()
    kind = serializers.ChoiceField(choices=["vertices", "edges", "rows"])
    columns = serializers.ListField(child=serializers.CharField())
    outputs = serializers.DictField()
    total = serializers.IntegerField(help_text="Rows in the whole result.")
    offset = serializers.IntegerField()
    limit = serializers.IntegerField()
    rows = serializers.ListField(child=serializers.DictField())


# --- helpers ------------------------------------------------------------------------------------

GRAPH_ID = id_parameter("graph_id", "graph")
JOB_ID = id_parameter("job_id", "job")
SUBMITTED = {
    201: ok(JobSerializer, "The job, waiting for a worker; its URL is in the Location header."),
    **errors(400, 401, 403, 404, 409),
}


def _graph(request: Request, graph_id: str) -> Any:
    return graph_get_by_id(user=request.user, graph_id=_ref(graph_id, "graph", "graph_id"))


def _valid(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _submitted(job: Any, code: int = 201) -> Response:
    return _created(JobSerializer(job).data, _job_url(job), code)


def _reader(request: Request, job_id: str) -> tuple[Any, ResultReader]:
    job = job_get(user=request.user, job_id=_ref(job_id, "job", "job_id"))
    return job, job_result_reader(job=job)


# --- submission ---------------------------------------------------------------------------------


class GraphAlgorithmView(ApiView):
    @extend_schema(
        tags=["analytics"],
        operation_id="graphs_algorithm",
        summary="Run an algorithm on a graph (a job)",
        description=(
            "Algorithms: "
            + "; ".join(f"`{d.name}`: {d.description}" for d in ALGORITHMS.values())
            + " Parameters are checked before the job is queued; a bad one is named "
            "(`parameter [source] is invalid! ...`). Needs the operator role."
        ),
        parameters=[GRAPH_ID],
        request=AlgorithmInputSerializer,
        responses=SUBMITTED,
    )
    def post(self, request: Request, graph_id: str) -> Response:
        graph = _graph(request, graph_id)
        data = _valid(AlgorithmInputSerializer, request.data)
        job = job_submit_algorithm(
            graph=graph,
            algorithm=data["algorithm"],
            parameters=data["parameters"],
            user=request.user,
            # As submitted (before defaults), but only what was read: the body's other keys
            # are ignored, and may not even be storable (a NUL character in PostgreSQL's jsonb).
            request={"algorithm": data["algorithm"], "parameters": data["parameters"]},
        )
        return _submitted(job)


class GraphQueryView(ApiView):
    @extend_schema(
        tags=["analytics"],
        operation_id="graphs_query",
        summary="Filtered vertex or edge query (a job)",
        description=(
            "Filters: `{property, predicate, values}` with predicate one of = != < <= > >= "
            "in range contains; `property` may also be `id`/`label` (vertices) or `source`/"
            "`target`/`label` (edges). `sort`: `[{property, order: asc|desc}]`. The matching "
            "rows (after `offset`, at most `limit`) are the job's result. Needs the operator role."
        ),
        parameters=[GRAPH_ID],
        request=QueryInputSerializer,
        responses=SUBMITTED,
    )
    def post(self, request: Request, graph_id: str) -> Response:
        graph = _graph(request, graph_id)
        data = _valid(QueryInputSerializer, request.data)
        job = job_submit_query(graph=graph, query=data, user=request.user)
        return _submitted(job)


class IndexSerializer(serializers.Serializer):
    name = serializers.CharField()
    target = serializers.ChoiceField(choices=["vertices", "edges"])
    label = serializers.CharField()
    property = serializers.CharField(allow_null=True)


class GraphIndexView(ApiView):
    @extend_schema(
        tags=["analytics"],
        operation_id="graphs_index_list",
        summary="Indexes built on a graph",
        parameters=[GRAPH_ID],
        responses={
            200: ok(IndexSerializer(many=True), "The graph's property indexes."),
            **errors(401, 404),
        },
    )
    def get(self, request: Request, graph_id: str) -> Response:
        graph = _graph(request, graph_id)
        return Response(IndexSerializer(graph_index_list(graph=graph), many=True).data)

    @extend_schema(
        tags=["analytics"],
        operation_id="graphs_index",
        summary="Build an index on a label property (a job)",
        description="Later queries filtering or sorting on it use it. Needs the operator role.",
        parameters=[GRAPH_ID],
        request=IndexInputSerializer,
        responses=SUBMITTED,
    )
    def post(self, request: Request, graph_id: str) -> Response:
        graph = _graph(request, graph_id)
        data = _valid(IndexInputSerializer, request.data)
        job = job_submit_index(
            graph=graph,
            target=data["target"],
            label=data["label"],
            property=data["property"],
            user=request.user,
        )
        return _submitted(job)


class GraphExportView(ApiView):
    @extend_schema(
        tags=["analytics"],
        operation_id="graphs_export",
        summary="Export a whole graph in GES format (a job)",
        description=(
            "Writes a folder with schema.xml, vertex.csv and edge.csv at `path` under the "
            "export root (it must not exist). Importing them again gives the same graph."
        ),
        parameters=[GRAPH_ID],
        request=GraphExportInputSerializer,
        responses=SUBMITTED,
    )
    def post(self, request: Request, graph_id: str) -> Response:
        graph = _graph(request, graph_id)
        data = _valid(GraphExportInputSerializer, request.data)
        job = job_submit_export(
            graph=graph, path=data["path"], format=data["format"], user=request.user
        )
        return _submitted(job)


class GraphOperationView(ApiView):
    @extend_schema(
        tags=["analytics"],
        operation_id="graphs_operation",
        summary="Clear, back up, restore or delete a graph (a job)",
        description=(
            "`clear` removes every vertex and edge (the schema stays); `backup` copies the "
            "graph to `path` under the export root; `restore` replaces the graph by a backup "
            "(`path` under the export or import roots); `delete` as DELETE on the graph. "
            "These jobs cannot be cancelled once running. Needs the operator role."
        ),
        parameters=[GRAPH_ID],
        request=GraphOperationInputSerializer,
        responses={
            202: ok(JobSerializer, "The operation's job, waiting for a worker."),
            **errors(400, 401, 403, 404, 409),
        },
    )
    def post(self, request: Request, graph_id: str) -> Response:
        graph = _graph(request, graph_id)
        data = _valid(GraphOperationInputSerializer, request.data)
        job = job_submit_graph_operation(
            graph=graph, operation=data["operation"], path=data.get("path"), user=request.user
        )
        return _submitted(job, 202)


class JobResultExportView(ApiView):
    @extend_schema(
        tags=["analytics"],
        operation_id="jobs_result_export",
        summary="Export a job's result to a CSV file (a job)",
        parameters=[JOB_ID],
        request=ResultExportInputSerializer,
        responses=SUBMITTED,
    )
    def post(self, request: Request, job_id: str) -> Response:
        source = job_get(user=request.user, job_id=_ref(job_id, "job", "job_id"))
        data = _valid(ResultExportInputSerializer, request.data)
        job = job_submit_export(source_job=source, path=data["path"], user=request.user)
        return _submitted(job)


# --- results ------------------------------------------------------------------------------------


class JobResultView(ApiView):
    query_params = frozenset({"offset", "limit"})

    @extend_schema(
        tags=["analytics"],
        operation_id="jobs_result",
        summary="A page of a job's result",
        description=(
            "`offset` (default 0) and `limit` (default 100, at most 100000) page the rows; "
            "`total` is the size of the whole result. 404 while the job has no result."
        ),
        parameters=[
            JOB_ID,
            OpenApiParameter(
                "offset",
                {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
                description="Rows to skip (default 0).",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": RESULT_MAX_LIMIT},
                description=f"Rows to return, 1 to {RESULT_MAX_LIMIT} (default 100).",
            ),
        ],
        responses={
            200: ok(ResultPageSerializer, "One page of the job's result."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, job_id: str) -> Response:
        offset = int_param(request, "offset", 0, 0, MAX_OFFSET)
        limit = int_param(request, "limit", RESULT_DEFAULT_LIMIT, 1, RESULT_MAX_LIMIT)
        job, reader = _reader(request, job_id)
        with reader:
            page = reader.page(offset=offset, limit=limit)
        return Response(
            {
                "job": job.pk,
                "kind": page.kind,
                "columns": page.columns,
                "outputs": page.outputs,
                "total": page.total,
                "offset": page.offset,
                "limit": page.limit,
                "rows": page.rows,
            }
        )


class JobResultCsvView(ApiView):
    renderer_classes = [*ApiView.renderer_classes, CsvRenderer]

    @extend_schema(
        tags=["analytics"],
        operation_id="jobs_result_csv",
        summary="A job's whole result as a CSV download",
        parameters=[JOB_ID, NO_FORMAT],
        responses={
            (200, "text/csv"): OpenApiResponse(
                {"type": "string"}, description="A header row with the columns, then every row."
            ),
            **errors(401, 404),
        },
    )
    def get(self, request: Request, job_id: str) -> Any:
        job, reader = _reader(request, job_id)
        return csv_download(result_csv(reader), result_filename(job.pk))


# Included by jobcenter.api.urls (before the generic job and graph routes).
urlpatterns = [
    path("jobs/<str:job_id>/result/", JobResultView.as_view(), name="job-result"),
    path("jobs/<str:job_id>/result.csv", JobResultCsvView.as_view(), name="job-result-csv"),
    path(
        "jobs/<str:job_id>/result/export/",
        JobResultExportView.as_view(),
        name="job-result-export",
    ),
    path("graphs/<str:graph_id>/algorithms/", GraphAlgorithmView.as_view(), name="graph-algorithm"),
    path("graphs/<str:graph_id>/query/", GraphQueryView.as_view(), name="graph-query"),
    path("graphs/<str:graph_id>/indexes/", GraphIndexView.as_view(), name="graph-index"),
    path("graphs/<str:graph_id>/export/", GraphExportView.as_view(), name="graph-export"),
    path("graphs/<str:graph_id>/operations/", GraphOperationView.as_view(), name="graph-operation"),
]
