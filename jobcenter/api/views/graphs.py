"""Graphs: the list, creating one (with its schema), one graph, and deleting it (a job). What is
done to a graph's data has a module of its own: imports, algorithms, queries, indexes,
exports, operations."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions as drf
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.pagination import PAGE_PARAMS, paginate
from jobcenter.api.permissions import require_role
from jobcenter.api.schema import errors, filterset_parameters, ok, page_parameters
from jobcenter.api.serializers.common import paginated
from jobcenter.api.serializers.graphs import (
    GraphCreateSerializer,
    GraphDetailSerializer,
    GraphSerializer,
)
from jobcenter.api.serializers.jobs import JobSerializer
from jobcenter.api.views.base import GRAPH_ID, ApiView, created, path_ref
from jobcenter.api.views.jobs import submitted
from jobcenter.core.errors import InvalidInput, NotFound
from jobcenter.graphs.filtersets import GraphFilterSet
from jobcenter.graphs.selectors import graph_get_by_id, graph_list
from jobcenter.graphs.services import graph_create, graph_schema_parse
from jobcenter.jobs.services import graph_delete_submit
from jobcenter.projects.choices import Role
from jobcenter.projects.selectors import project_get_for_user


def graph_for(request: Request, graph_id: str) -> Any:
    """The graph named by the path, if the user may see it (404 otherwise)."""
    return graph_get_by_id(user=request.user, graph_id=path_ref(graph_id, "graph", "graph_id"))


class GraphListView(ApiView):
    query_params = frozenset(GraphFilterSet.base_filters) | PAGE_PARAMS

    @extend_schema(
        tags=["graphs"],
        operation_id="graphs_list",
        summary="List graphs",
        parameters=[*filterset_parameters(GraphFilterSet), *page_parameters()],
        responses={
            200: ok(paginated(GraphSerializer), "One page of graphs."),
            **errors(400, 401),
        },
    )
    def get(self, request: Request) -> Response:
        filterset = GraphFilterSet(
            data=request.query_params,
            queryset=graph_list(user=request.user).select_related("created_by"),
        )
        if not filterset.is_valid():
            raise drf.ValidationError(filterset.errors)
        page = paginate(request, filterset.qs.order_by("project__name", "name", "id"))
        return Response(page.envelope(GraphSerializer(page.results, many=True).data))

    @extend_schema(
        tags=["graphs"],
        operation_id="graphs_create",
        summary="Create a graph",
        description=(
            "With a schema in the GES form (schema.xml text; optional, an import can bring "
            "it) or the GraphScope form (graph definition object; required). Needs the "
            "operator role in the project."
        ),
        request=GraphCreateSerializer,
        responses={
            201: ok(GraphDetailSerializer, "The new graph; `Location` is its URL."),
            **errors(400, 401, 403, 409, 415),
        },
    )
    def post(self, request: Request) -> Response:
        data = GraphCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            project = project_get_for_user(user=request.user, name=values["project"])
        except NotFound as exc:
            raise InvalidInput(exc.message, field="project") from None
        require_role(user=request.user, project=project, role=Role.OPERATOR)
        schema = graph_schema_parse(dialect=values["dialect"], source=values["schema_source"])
        graph = graph_create(
            project=project,
            name=values["name"],
            dialect=values["dialect"],
            schema=schema,
            description=values.get("description", ""),
            user=request.user,
        )
        return created(GraphDetailSerializer(graph).data, f"/api/v1/graphs/{graph.pk}/")


class GraphDetailView(ApiView):
    @extend_schema(
        tags=["graphs"],
        operation_id="graphs_retrieve",
        summary="One graph, with its schema",
        parameters=[GRAPH_ID],
        responses={200: ok(GraphDetailSerializer, "The graph."), **errors(401, 404)},
    )
    def get(self, request: Request, graph_id: str) -> Response:
        graph = graph_for(request, graph_id)
        return Response(GraphDetailSerializer(graph).data)

    @extend_schema(
        tags=["graphs"],
        operation_id="graphs_delete",
        summary="Delete a graph (a job)",
        description=(
            "Deleting a graph is a job: the graph stops accepting work at once, the job waits "
            "for a running write to finish, then removes the graph and its data. Returns the "
            "job (202). Needs the operator role."
        ),
        parameters=[GRAPH_ID],
        responses={
            202: ok(JobSerializer, "The deletion job; `Location` is its URL."),
            **errors(401, 403, 404, 409),
        },
    )
    def delete(self, request: Request, graph_id: str) -> Response:
        graph = graph_for(request, graph_id)
        job = graph_delete_submit(graph=graph, user=request.user)
        return submitted(job, status.HTTP_202_ACCEPTED)
