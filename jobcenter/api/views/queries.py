"""A filtered vertex or edge query on a graph (a job); the matching rows are its result."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.serializers.queries import QueryInputSerializer
from jobcenter.api.views.base import GRAPH_ID, ApiView, validated
from jobcenter.api.views.graphs import graph_for
from jobcenter.api.views.jobs import SUBMITTED, submitted
from jobcenter.jobs.services import job_submit_query


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
        graph = graph_for(request, graph_id)
        data = validated(QueryInputSerializer, request.data)
        job = job_submit_query(graph=graph, query=data, user=request.user)
        return submitted(job)
