"""What the views that submit a job on a graph share: the graph named by the path (404 when
the user may not see it), the body checked by the view's input serializer (a 400 naming the
field), the job submitted by the kind's service, and the answer (the job, its URL in
``Location``). A view names its serializer (none: the body is only ``depends_on``; such a
kind also says it takes no key of its own, ``takes_keys = False``) and says how its service is
called; its OpenAPI description stays on it (``extend_schema_view(post=...)``).
Every body may name jobs the new one waits for (``depends_on``, ``accept_partial``:
:func:`submit_waiting`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from rest_framework import exceptions as drf
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.serializers.chains import (
    DEPENDENCY_KEYS,
    DependsOnSerializer,
    dependency_fields,
)
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
    # Whether the body holds keys of the kind's own (its input serializer's) besides
    # ``depends_on`` and ``accept_partial``. A kind that takes none (start_graph, close_graph)
    # refuses any other key with a 400 naming it, on its endpoint as in a chain step (its
    # schema says so: DependsOnScheme).
    takes_keys = True
    submitted_status = 201

    @classmethod
    def body(cls, data: Any, *, unused: str) -> dict[str, Any]:
        """``data`` checked by the input serializer; ``unused``: the error of a key given to a
        kind that takes none."""
        if not cls.takes_keys and isinstance(data, Mapping):
            extra = sorted(set(data) - DEPENDENCY_KEYS)
            if extra:
                raise drf.ValidationError({extra[0]: [unused]})
        return validated(cls.input_serializer, data)

    def submit(self, *, graph: Graph, data: dict[str, Any], user: Any) -> Job:
        raise NotImplementedError

    def post(self, request: Request, graph_id: str) -> Response:
        graph = graph_for(request, graph_id)
        data = self.body(
            request.data, unused="not used: this body takes only depends_on and accept_partial"
        )
        job = submit_waiting(
            project=graph.project,
            data=data,
            submit=lambda: self.submit(graph=graph, data=data, user=request.user),
        )
        return submitted(job, self.submitted_status)
