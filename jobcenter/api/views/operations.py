"""Operations on a whole graph (jobs): clear, back up, restore, delete."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view

from jobcenter.api.schema import errors, ok
from jobcenter.api.serializers.jobs import JobSerializer
from jobcenter.api.serializers.operations import GraphOperationInputSerializer
from jobcenter.api.views.base import GRAPH_ID
from jobcenter.api.views.submit import GraphJobSubmitView
from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import job_submit_graph_operation


@extend_schema_view(
    post=extend_schema(
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
)
class GraphOperationView(GraphJobSubmitView):
    input_serializer = GraphOperationInputSerializer
    submitted_status = 202

    def submit(self, *, graph: Graph, data: dict[str, Any], user: Any) -> Job:
        return job_submit_graph_operation(
            graph=graph, operation=data["operation"], path=data.get("path"), user=user
        )
