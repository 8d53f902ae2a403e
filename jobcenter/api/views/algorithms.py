"""Running an algorithm on a graph (a job); its result is read through results."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view

from jobcenter.api.serializers.algorithms import AlgorithmInputSerializer
from jobcenter.api.views.base import GRAPH_ID
from jobcenter.api.views.jobs import SUBMITTED
from jobcenter.api.views.submit import GraphJobSubmitView
from jobcenter.graphs.algorithms import ALGORITHMS
from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import job_submit_algorithm


@extend_schema_view(
    post=extend_schema(
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
)
class GraphAlgorithmView(GraphJobSubmitView):
    input_serializer = AlgorithmInputSerializer

    def submit(self, *, graph: Graph, data: dict[str, Any], user: Any) -> Job:
        return job_submit_algorithm(
            graph=graph,
            algorithm=data["algorithm"],
            parameters=data["parameters"],
            user=user,
            # As submitted (before defaults), but only what was read: the body's other keys
            # are ignored, and may not even be storable (a NUL character in PostgreSQL's jsonb).
            request={"algorithm": data["algorithm"], "parameters": data["parameters"]},
        )
