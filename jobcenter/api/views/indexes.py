"""A graph's property indexes: the list, and building one (a job)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.schema import errors, ok
from jobcenter.api.serializers.indexes import IndexInputSerializer, IndexSerializer
from jobcenter.api.views.base import GRAPH_ID
from jobcenter.api.views.graphs import graph_for
from jobcenter.api.views.jobs import SUBMITTED
from jobcenter.api.views.submit import GraphJobSubmitView
from jobcenter.graphs.models import Graph
from jobcenter.graphs.selectors import graph_index_list
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import job_submit_index


@extend_schema_view(
    post=extend_schema(
        tags=["analytics"],
        operation_id="graphs_index",
        summary="Build an index on a label property (a job)",
        description="Later queries filtering or sorting on it use it. Needs the operator role.",
        parameters=[GRAPH_ID],
        request=IndexInputSerializer,
        responses=SUBMITTED,
    )
)
class GraphIndexView(GraphJobSubmitView):
    input_serializer = IndexInputSerializer

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
        graph = graph_for(request, graph_id)
        return Response(IndexSerializer(graph_index_list(graph=graph), many=True).data)

    def submit(self, *, graph: Graph, data: dict[str, Any], user: Any) -> Job:
        return job_submit_index(
            graph=graph,
            target=data["target"],
            label=data["label"],
            property=data["property"],
            user=user,
        )
