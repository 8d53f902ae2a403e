"""Operations on a whole graph (jobs): clear, back up, restore, delete."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.schema import errors, ok
from jobcenter.api.serializers.jobs import JobSerializer
from jobcenter.api.serializers.operations import GraphOperationInputSerializer
from jobcenter.api.views.base import GRAPH_ID, ApiView, validated
from jobcenter.api.views.graphs import graph_for
from jobcenter.api.views.jobs import submitted
from jobcenter.jobs.services import job_submit_graph_operation


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
        graph = graph_for(request, graph_id)
        data = validated(GraphOperationInputSerializer, request.data)
        job = job_submit_graph_operation(
            graph=graph, operation=data["operation"], path=data.get("path"), user=request.user
        )
        return submitted(job, 202)
