"""A graph in the workers' memory (jobs): start it (loaded and kept by every worker, so that
algorithm jobs find it held) and close it (released everywhere)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema, extend_schema_view

from jobcenter.api.serializers.chains import DependsOnSerializer
from jobcenter.api.views.base import GRAPH_ID
from jobcenter.api.views.jobs import SUBMITTED
from jobcenter.api.views.submit import GraphJobSubmitView
from jobcenter.graphs.models import Graph
from jobcenter.jobs.kinds.close_graph import job_submit_close_graph
from jobcenter.jobs.kinds.start_graph import job_submit_start_graph
from jobcenter.jobs.models import Job


@extend_schema_view(
    post=extend_schema(
        tags=["analytics"],
        operation_id="graphs_start",
        summary="Start a graph: load it into the workers' memory (a job)",
        description=(
            "The job loads the graph (its phase and progress show how far) and every worker "
            "keeps it, so algorithm jobs find it held (`graph_loaded_from: memory`). It can "
            "be cancelled while it loads. A graph without data is a 409; one that does not fit "
            "`JOBCENTER_GRAPH_MEMORY_MB` fails its job with the reason. Needs the operator role."
        ),
        parameters=[GRAPH_ID],
        request=DependsOnSerializer,
        responses=SUBMITTED,
    )
)
class GraphStartView(GraphJobSubmitView):
    takes_keys = False

    def submit(self, *, graph: Graph, data: dict[str, Any], user: Any) -> Job:
        return job_submit_start_graph(graph=graph, user=user)


@extend_schema_view(
    post=extend_schema(
        tags=["analytics"],
        operation_id="graphs_close",
        summary="Close a graph: release it from the workers' memory (a job)",
        description=(
            "Every worker drops the graph before its next job; a later algorithm job loads it "
            "again from the store. Closing a graph no worker holds succeeds and its result says "
            "there was nothing to release. Needs the operator role."
        ),
        parameters=[GRAPH_ID],
        request=DependsOnSerializer,
        responses=SUBMITTED,
    )
)
class GraphCloseView(GraphJobSubmitView):
    takes_keys = False

    def submit(self, *, graph: Graph, data: dict[str, Any], user: Any) -> Job:
        return job_submit_close_graph(graph=graph, user=user)
