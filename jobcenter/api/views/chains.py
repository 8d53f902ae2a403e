"""Job chains (issue 17): several jobs submitted in one request, each waiting for earlier (or
later) steps and for existing jobs; all or nothing."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions as drf
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.schema import errors, ok
from jobcenter.api.serializers.chains import (
    DEPENDENCY_KEYS,
    ChainInputSerializer,
    ChainRequestSerializer,
    ChainResultSerializer,
    ChainStepSerializer,
)
from jobcenter.api.serializers.exports import ResultExportInputSerializer
from jobcenter.api.serializers.imports import ImportInputSerializer
from jobcenter.api.views.algorithms import GraphAlgorithmView
from jobcenter.api.views.base import ApiView, path_ref, validated
from jobcenter.api.views.exports import GraphExportView
from jobcenter.api.views.indexes import GraphIndexView
from jobcenter.api.views.memory import GraphCloseView, GraphStartView
from jobcenter.api.views.operations import GraphOperationView
from jobcenter.api.views.projects import PROJECT, _project
from jobcenter.api.views.queries import GraphQueryView
from jobcenter.api.views.submit import GraphJobSubmitView
from jobcenter.core.errors import InvalidInput, NotFound
from jobcenter.graphs.models import Graph
from jobcenter.graphs.selectors import graph_list
from jobcenter.jobs.chains import ChainStep, chain_submit
from jobcenter.jobs.models import Job
from jobcenter.jobs.selectors import job_get_in_project
from jobcenter.jobs.services import job_submit_export, job_submit_import_request

# The kinds whose step body is that of a graph's submit view (checked by its serializer).
GRAPH_VIEWS: dict[str, type[GraphJobSubmitView]] = {
    "export": GraphExportView,  # of a whole graph (of a job's result: the step's own path)
    "algorithm": GraphAlgorithmView,
    "query": GraphQueryView,
    "index": GraphIndexView,
    "graph_operation": GraphOperationView,
    "start_graph": GraphStartView,
    "close_graph": GraphCloseView,
}
COMMON_KEYS = set(ChainStepSerializer().fields)

Submit = Callable[[Mapping[int, Job]], Job]

EXAMPLE = {
    "steps": [
        {
            "type": "import",
            "graph": "<graph id>",
            "format": "ges",
            "request": {
                "schema_path": "movies/schema.xml",
                "vertexset_path": "movies/vertex.csv",
                "edgeset_path": "movies/edge.csv",
            },
        },
        {"type": "algorithm", "graph": "<graph id>", "algorithm": "pagerank", "depends_on": [0]},
        {"type": "export", "job": 1, "path": "pagerank.csv"},
    ]
}


def _body(data: dict[str, Any]) -> dict[str, Any]:
    """A step's body as its kind's endpoint checked it, less what the step itself decides."""
    return {k: v for k, v in data.items() if k not in DEPENDENCY_KEYS}


class _Steps:
    """The steps of one request, each checked and turned into a :class:`ChainStep`."""

    def __init__(self, request: Request, project: Any) -> None:
        self.user = request.user
        self.project = project
        self.graphs = graph_list(user=request.user).filter(project=project)

    def graph(self, common: dict[str, Any]) -> Graph:
        graph_id = common.get("graph")
        if graph_id is None:
            raise drf.ValidationError({"graph": ["required for this type of step"]})
        graph = self.graphs.filter(pk=graph_id).first()
        if graph is None:
            raise NotFound(f"graph {graph_id!r} does not exist", field="graph")
        return graph

    def step(self, raw: dict[str, Any]) -> ChainStep:
        checked = ChainStepSerializer(data=raw)
        checked.is_valid(raise_exception=True)
        common = dict(checked.validated_data)
        type = common["type"]
        depends_on = list(common["depends_on"])
        submit = self._submit(type, raw, common, depends_on)
        return ChainStep(
            submit=submit, depends_on=depends_on, accept_partial=common["accept_partial"]
        )

    def _submit(
        self, type: str, raw: dict[str, Any], common: dict[str, Any], depends_on: list
    ) -> Submit:
        user = self.user
        if type == "export" and "job" in common:
            data = _body(validated(ResultExportInputSerializer, _raw_body(raw)))
            if "graph" in common:
                raise drf.ValidationError({"graph": ["not used by the export of a job's result"]})
            source = common["job"]
            if source not in depends_on:
                depends_on.append(source)  # the export waits for the job whose result it writes
            if isinstance(source, str):
                path_ref(source, "job", "job")

            def export_result(created: Mapping[int, Job]) -> Job:
                job = (
                    created[source]
                    if isinstance(source, int)
                    else job_get_in_project(project=self.project, job_id=source)
                )
                return job_submit_export(source_job=job, path=data["path"], user=user)

            return export_result
        if "job" in common:
            raise drf.ValidationError({"job": ["only the export of a job's result takes a job"]})
        graph = self.graph(common)
        if type == "import":
            serializer = ImportInputSerializer(data=_raw_body(raw))
            serializer.is_valid(raise_exception=True)
            values = serializer.validated_data
            return lambda created: job_submit_import_request(
                graph=graph,
                request=serializer.import_request(),
                user=user,
                name=values["name"],
                dry_run=values["dry_run"],
            )
        view = GRAPH_VIEWS[type]()
        data = _body(view.body(_raw_body(raw), unused=f"not used by a {type} step"))
        return lambda created: view.submit(graph=graph, data=data, user=user)


def _raw_body(raw: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in raw.items() if k not in COMMON_KEYS}


class ChainView(ApiView):
    @extend_schema(
        tags=["jobs"],
        operation_id="projects_chain_submit",
        summary="Submit a chain of jobs in one request",
        description=(
            "Each step is a job of any kind (its body as for the kind's own endpoint, plus "
            "`type` and `graph`), which may wait for other steps (`depends_on`: their index, "
            "from 0) and for existing jobs of the project (their id). A step runs once what it "
            "waits for has succeeded (`accept_partial`: also after a partial failure); if one "
            "fails or is cancelled, the step and the steps after it end `cancelled`, naming "
            "it. `export` with `job` writes that step's result. Every step is checked first "
            "and the chain is submitted whole or not at all (an error names the step: "
            "`steps.<index>.<field>`); cycles are refused. Needs the operator role."
        ),
        parameters=[PROJECT],
        request=ChainRequestSerializer,
        responses={
            201: ok(ChainResultSerializer, "The jobs, in step order."),
            **errors(400, 401, 403, 404, 409, 415),
        },
        examples=[OpenApiExample("import, then pagerank, then export", value=EXAMPLE)],
    )
    def post(self, request: Request, project: str) -> Response:
        target = _project(request, project)
        body = ChainInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        reader = _Steps(request, target)
        steps: list[ChainStep] = []
        for index, raw in enumerate(body.validated_data["steps"]):
            try:
                steps.append(reader.step(raw))
            except drf.ValidationError as exc:
                raise drf.ValidationError({"steps": {index: exc.detail}}) from None
            except (NotFound, InvalidInput) as exc:
                field = f"steps.{index}.{exc.field}" if exc.field else f"steps.{index}"
                raise type(exc)(exc.message, field=field) from None
        jobs = chain_submit(project=target, steps=steps)
        return Response(ChainResultSerializer({"jobs": jobs}).data, status=201)
