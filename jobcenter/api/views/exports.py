"""Exports (jobs): a whole graph in GES format, or a job's result as a CSV file, written under
the export root."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.serializers.exports import (
    GraphExportInputSerializer,
    ResultExportInputSerializer,
)
from jobcenter.api.views.base import GRAPH_ID, JOB_ID, ApiView, path_ref, validated
from jobcenter.api.views.jobs import SUBMITTED, submitted
from jobcenter.api.views.submit import GraphJobSubmitView, submit_waiting
from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job
from jobcenter.jobs.selectors import job_get
from jobcenter.jobs.services import job_submit_export


@extend_schema_view(
    post=extend_schema(
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
)
class GraphExportView(GraphJobSubmitView):
    input_serializer = GraphExportInputSerializer

    def submit(self, *, graph: Graph, data: dict[str, Any], user: Any) -> Job:
        return job_submit_export(graph=graph, path=data["path"], format=data["format"], user=user)


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
        source = job_get(user=request.user, job_id=path_ref(job_id, "job", "job_id"))
        data = validated(ResultExportInputSerializer, request.data)
        job = submit_waiting(
            project=source.project,
            data=data,
            submit=lambda: job_submit_export(
                source_job=source, path=data["path"], user=request.user
            ),
        )
        return submitted(job)
