"""Running an algorithm on a graph (a job); its result is read through results."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.serializers.algorithms import AlgorithmInputSerializer
from jobcenter.api.views.base import GRAPH_ID, ApiView, validated
from jobcenter.api.views.graphs import graph_for
from jobcenter.api.views.jobs import SUBMITTED, submitted
from jobcenter.graphs.algorithms import ALGORITHMS
from jobcenter.jobs.services import job_submit_algorithm


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
        graph = graph_for(request, graph_id)
        data = validated(AlgorithmInputSerializer, request.data)
        job = job_submit_algorithm(
            graph=graph,
            algorithm=data["algorithm"],
            parameters=data["parameters"],
            user=request.user,
            # As submitted (before defaults), but only what was read: the body's other keys
            # are ignored, and may not even be storable (a NUL character in PostgreSQL's jsonb).
            request={"algorithm": data["algorithm"], "parameters": data["parameters"]},
        )
        return submitted(job)
