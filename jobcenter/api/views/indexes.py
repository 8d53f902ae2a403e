"""A graph's property indexes: the list, and building one (a job)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.schema import errors, ok
from jobcenter.api.serializers.indexes import IndexInputSerializer, IndexSerializer
from jobcenter.api.views.base import GRAPH_ID, ApiView, validated
from jobcenter.api.views.graphs import graph_for
from jobcenter.api.views.jobs import SUBMITTED, submitted
from jobcenter.graphs.selectors import graph_index_list
from jobcenter.jobs.services import job_submit_index


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
        graph = graph_for(request, graph_id)
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
        graph = graph_for(request, graph_id)
        data = validated(IndexInputSerializer, request.data)
        job = job_submit_index(
            graph=graph,
            target=data["target"],
            label=data["label"],
            property=data["property"],
            user=request.user,
        )
        return submitted(job)
