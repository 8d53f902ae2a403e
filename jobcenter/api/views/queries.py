"""A filtered vertex or edge query on a graph (a job); the matching rows are its result."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view

from jobcenter.api.serializers.queries import QueryInputSerializer
from jobcenter.api.views.base import GRAPH_ID
from jobcenter.api.views.jobs import SUBMITTED
from jobcenter.api.views.submit import GraphJobSubmitView
from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import job_submit_query


@extend_schema_view(
    post=extend_schema(
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
)
class GraphQueryView(GraphJobSubmitView):
    input_serializer = QueryInputSerializer

    def submit(self, *, graph: Graph, data: dict[str, Any], user: Any) -> Job:
        return job_submit_query(graph=graph, query=data, user=user)
