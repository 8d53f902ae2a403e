"""Importing data into a graph (a job): files named on the server (JSON) or uploaded with the
request (multipart/form-data)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.parsers import ApiJSONParser, ApiMultiPartParser
from jobcenter.api.schema import errors, ok
from jobcenter.api.serializers.imports import ImportInputSerializer, ImportUploadSerializer
from jobcenter.api.serializers.jobs import JobDetailSerializer
from jobcenter.api.views.base import GRAPH_ID, ApiView, created
from jobcenter.api.views.graphs import graph_for
from jobcenter.api.views.jobs import job_detail_data, job_url
from jobcenter.api.views.submit import submit_waiting
from jobcenter.jobs.services import job_submit_import_request


class GraphImportView(ApiView):
    parser_classes = [ApiJSONParser, ApiMultiPartParser]

    @extend_schema(
        tags=["imports"],
        operation_id="graphs_import",
        summary="Import data into a graph (a job)",
        description=(
            "JSON: name files on the server, under the import roots (GES `request` or "
            "GraphScope `mapping`). multipart/form-data: upload the files (GES `schema`, "
            "`vertices`, `edges`, `options`; GraphScope `files` and `mapping`). The whole "
            "request is checked (paths, schema, mappings) before the job is queued. "
            "`dry_run`: every line is validated and nothing is written to the graph. "
            "`depends_on`: jobs this import waits for. Needs the operator role."
        ),
        parameters=[GRAPH_ID],
        request={
            "application/json": ImportInputSerializer,
            "multipart/form-data": ImportUploadSerializer,
        },
        responses={
            201: ok(JobDetailSerializer, "The import job, queued; `Location` is its URL."),
            **errors(400, 401, 403, 404, 409, 415),
        },
    )
    def post(self, request: Request, graph_id: str) -> Response:
        graph = graph_for(request, graph_id)
        serializer_class = (
            ImportUploadSerializer
            if request.content_type.startswith("multipart/")
            else ImportInputSerializer
        )
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        job = submit_waiting(
            project=graph.project,
            data=dict(data.validated_data),
            submit=lambda: job_submit_import_request(
                graph=graph,
                request=data.import_request(),
                user=request.user,
                name=data.validated_data["name"],
                dry_run=data.validated_data["dry_run"],
            ),
        )
        return created(job_detail_data(job), job_url(job))
