"""What the views that submit a job on a graph share: the graph named by the path (404 when
the user may not see it), the body checked by the view's input serializer (a 400 naming the
field), the job submitted by the kind's service, and the answer (the job, its URL in
``Location``). A view names its serializer (none: the body is only ``depends_on``) and says
how its service is called; its OpenAPI description stays on it (``extend_schema_view(post=...)``).
Every body may name jobs the new one waits for (``depends_on``, ``accept_partial``:
:func:`submit_waiting`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.serializers.chains import DependsOnSerializer, dependency_fields
from jobcenter.api.views.base import ApiView, validated
from jobcenter.api.views.graphs import graph_for
from jobcenter.api.views.jobs import submitted
from jobcenter.graphs.models import Graph
from jobcenter.jobs.chains import dependencies_resolve, waiting_for
from jobcenter.jobs.models import Job


def submit_waiting(*, project: Any, data: dict[str, Any], submit: Callable[[], Job]) -> Job:
    """``submit()`` the job, waiting for the jobs the body's ``depends_on`` names (taken out
    of ``data``, so that the service sees its own keys only)."""
    ids, accept_partial = dependency_fields(data)
    deps = (
        dependencies_resolve(project=project, ids=ids, accept_partial=accept_partial)
        if ids
        else None
    )
    with waiting_for(deps):
        return submit()


class GraphJobSubmitView(ApiView):
    # No docstring: it would become every operation's text.

    # A kind whose body is only the jobs it waits for keeps this one.
    input_serializer: type[serializers.Serializer] = DependsOnSerializer
    submitted_status = 201

    def submit(self, *, graph: Graph, data: dict[str, Any], user: Any) -> Job:
        raise NotImplementedError

    def post(self, request: Request, graph_id: str) -> Response:
        graph = graph_for(request, graph_id)
        data = validated(self.input_serializer, request.data)
        job = submit_waiting(
            project=graph.project,
            data=data,
            submit=lambda: self.submit(graph=graph, data=data, user=request.user),
        )
        return submitted(job, self.submitted_status)
