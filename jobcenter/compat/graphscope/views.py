"""GraphScope Interactive's admin API (job management, graph management, bulk loading) over
the core's services and selectors. Field names, statuses and errors come from ``wire``.

Who is asking: a request with a token (``X-Auth-Token: <token>`` or ``Authorization: Token
<token>``) acts as that user, in the projects the user belongs to (``X-Project-Id: <project>``
narrows to one). The official SDK sends no credentials: such requests act in the project named
by JOBCENTER_GRAPHSCOPE_ANONYMOUS_PROJECT, with an operator's rights, or are refused when that
setting is empty (the default).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ParseError
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.compat.common import (
    DialectView,
    HeaderTokenAuthentication,
    XAuthTokenAuthentication,
)
from jobcenter.compat.graphscope import wire
from jobcenter.core.errors import InvalidState
from jobcenter.core.uploads import uploads_store
from jobcenter.graphs.choices import GraphDialect, GraphStatus
from jobcenter.graphs.formats.graphscope import GraphScopeImportRequest
from jobcenter.graphs.models import Graph
from jobcenter.graphs.selectors import graph_list, graph_list_in_project
from jobcenter.graphs.services import graph_create, graph_schema_parse
from jobcenter.jobs.choices import TERMINAL_STATUSES, JobDialect
from jobcenter.jobs.models import Job
from jobcenter.jobs.selectors import job_failed_lines, job_files, job_list, job_timeline
from jobcenter.jobs.services import graph_delete_submit, job_cancel, job_submit_import_request
from jobcenter.projects.choices import Role
from jobcenter.projects.models import Project
from jobcenter.projects.selectors import project_list_for_user, user_has_role

# Failed lines written into one job's ``log`` (all are counted in ``detail``).
LOG_FAILED_LINES = 1000


@dataclass(frozen=True)
class Scope:
    """What a request may see and where it writes."""

    user: Any  # None: anonymous access to the configured project
    projects: QuerySet[Project]
    project: Project | None  # where new graphs go; None: the caller must name one

    def graphs(self) -> QuerySet[Graph]:
        if self.user is None:
            assert self.project is not None
            qs = graph_list_in_project(project=self.project)
        else:
            qs = graph_list(user=self.user).filter(project__in=self.projects)
        # GES graphs stay out: their schemas (dates, enums, sets) break the SDK's strict
        # models, and one bad graph fails the whole list.
        return qs.filter(dialect=GraphDialect.GRAPHSCOPE, status=GraphStatus.READY)

    def jobs(self) -> QuerySet[Job]:
        if self.user is None:
            qs = job_list(user=None).filter(project=self.project)
        else:
            qs = job_list(user=self.user).filter(project__in=self.projects)
        return qs.filter(
            Q(graph__dialect=GraphDialect.GRAPHSCOPE)
            | Q(graph__isnull=True, dialect=JobDialect.GRAPHSCOPE)
        )


def resolve_scope(request: Request) -> Scope:
    named = request.META.get("HTTP_X_PROJECT_ID", "").strip()
    user = request.user if request.user and request.user.is_authenticated else None
    if user is None:
        name = settings.JOBCENTER_GRAPHSCOPE_ANONYMOUS_PROJECT
        if not name:
            raise wire.anonymous_access_off()
        project = Project.objects.filter(name=name).first()
        if project is None:
            raise wire.anonymous_project_missing(name)
        if named and named != project.name:
            raise wire.not_found("project", named)
        return Scope(user=None, projects=Project.objects.filter(pk=project.pk), project=project)
    visible = project_list_for_user(user=user)
    if named:
        project = visible.filter(name=named).first()
        if project is None:
            raise wire.not_found("project", named)
        return Scope(user=user, projects=visible.filter(pk=project.pk), project=project)
    return Scope(user=user, projects=visible, project=None)


def target_project(scope: Scope, purpose: str) -> Project:
    """The one project the request writes to (the caller's only project, or the one named by
    X-Project-Id), where the caller is an operator."""
    project = scope.project
    if project is None:
        candidates = list(scope.projects[:2])
        if len(candidates) != 1:
            raise wire.invalid_argument(
                f"name the project to {purpose} with the X-Project-Id header"
            )
        project = candidates[0]
    if scope.user is not None and not user_has_role(
        user=scope.user, project=project, role=Role.OPERATOR
    ):
        raise wire.permission_denied(f"you need the operator role in project {project.name}")
    return project


class GraphScopeView(DialectView):
    authentication_classes = [XAuthTokenAuthentication, HeaderTokenAuthentication]
    permission_classes: list = []  # resolve_scope decides
    error_response = staticmethod(wire.error_response)

    def scope(self) -> Scope:
        return resolve_scope(self.request)

    def body(self) -> dict[str, Any]:
        try:
            data = self.request.data
        except ParseError as exc:
            raise wire.invalid_argument(f"the body is not valid JSON: {exc.detail}") from None
        if not isinstance(data, dict):
            raise wire.invalid_argument("the body must be an object")
        return data

    def graph(self, scope: Scope, graph_id: str) -> Graph:
        graph = scope.graphs().filter(pk=graph_id).first()
        if graph is None:
            raise wire.not_found("graph", graph_id)
        return graph

    def job(self, scope: Scope, job_id: str) -> Job:
        job = scope.jobs().filter(pk=job_id).first()
        if job is None:
            raise wire.not_found("job", job_id)
        return job


class ServiceStatusView(GraphScopeView):
    """``GET /v1/service/status``: the SDK's session asks this first."""

    def get(self, request: Request) -> Response:
        self.scope()
        port = request.get_port()
        return Response(wire.service_status(port=int(port) if port.isdigit() else 0))


class JobListView(GraphScopeView):
    """``GET /v1/job``: jobs on GraphScope graphs, newest first."""

    def get(self, request: Request) -> Response:
        jobs = (
            self.scope()
            .jobs()
            .prefetch_related("files", "events__actor")[: settings.JOBCENTER_GRAPHSCOPE_MAX_JOBS]
        )
        return Response(
            [
                wire.job_status(job, files=list(job.files.all()), events=list(job.events.all()))
                for job in jobs
            ]
        )


class JobDetailView(GraphScopeView):
    """``GET /v1/job/{job_id}`` and ``DELETE /v1/job/{job_id}`` (cancel)."""

    def get(self, request: Request, job_id: str) -> Response:
        job = self.job(self.scope(), job_id)
        failed = job_failed_lines(job=job)
        shown = list(failed[:LOG_FAILED_LINES])
        more = failed.count() - len(shown) if len(shown) == LOG_FAILED_LINES else 0
        return Response(
            wire.job_status(
                job,
                files=list(job_files(job=job)),
                events=list(job_timeline(job=job)),
                failed=shown,
                failed_more=more,
            )
        )

    def delete(self, request: Request, job_id: str) -> Response:
        scope = self.scope()
        job = self.job(scope, job_id)
        try:
            job = job_cancel(job=job, user=scope.user)
        except InvalidState:
            job.refresh_from_db()
            if job.status in TERMINAL_STATUSES:
                raise wire.cancel_finished(job) from None
            raise
        return Response(wire.cancelled_text(job))


class GraphListView(GraphScopeView):
    """``GET /v1/graph`` and ``POST /v1/graph`` (CreateGraphRequest)."""

    def get(self, request: Request) -> Response:
        return Response([wire.graph_response(g) for g in self.scope().graphs()])

    def post(self, request: Request) -> Response:
        scope = self.scope()
        body = self.body()
        project = target_project(scope, "create the graph in")
        schema = graph_schema_parse(dialect=GraphDialect.GRAPHSCOPE, source=body)
        graph = graph_create(
            project=project,
            name=body.get("name") if isinstance(body.get("name"), str) else "",
            dialect=GraphDialect.GRAPHSCOPE,
            schema=schema,
            description=str(body.get("description") or ""),
            user=scope.user,
        )
        return Response(wire.graph_created(graph))


class GraphDetailView(GraphScopeView):
    """``GET /v1/graph/{graph_id}`` and ``DELETE /v1/graph/{graph_id}``."""

    def get(self, request: Request, graph_id: str) -> Response:
        return Response(wire.graph_response(self.graph(self.scope(), graph_id)))

    def delete(self, request: Request, graph_id: str) -> Response:
        scope = self.scope()
        graph = self.graph(scope, graph_id)
        job = graph_delete_submit(graph=graph, user=scope.user, dialect=JobDialect.GRAPHSCOPE)
        return Response(wire.graph_deleted_text(graph, job))


class DataloadingView(GraphScopeView):
    """``POST /v1/graph/{graph_id}/dataloading`` (SchemaMapping): a real import job."""

    def post(self, request: Request, graph_id: str) -> Response:
        scope = self.scope()
        graph = self.graph(scope, graph_id)
        try:
            body = self.body()
        except wire.GraphScopeError as exc:  # as upstream: an unparsable loading config is 104
            raise wire.invalid_import_file(exc.message) from None
        job = job_submit_import_request(
            graph=graph,
            request=GraphScopeImportRequest(mapping=body),
            wire=body,
            dialect=JobDialect.GRAPHSCOPE,
            user=scope.user,
        )
        return Response(wire.job_created(job))


class FileUploadView(GraphScopeView):
    """``POST /v1/file/upload`` (multipart ``filestorage``): the SDK uploads ``@/local/path``
    inputs here and loads from the returned server path. The upload belongs to the request's
    project (other projects cannot read it); the path is absolute, as the SDK needs it to be
    whatever ``data_source.location`` its loading configuration names."""

    parser_classes = [MultiPartParser]

    def post(self, request: Request) -> Response:
        project = target_project(self.scope(), "upload to")
        upload = request.FILES.get("filestorage")
        if upload is None:
            raise wire.invalid_argument("send the file in the multipart field 'filestorage'")
        stored = uploads_store({"filestorage": upload}, project_id=project.pk)
        return Response(wire.upload_created(str(stored["filestorage"])))


class UnknownEndpointView(GraphScopeView):
    """Anything else under /v1/: an error in the dialect's shape, not an HTML page."""

    def dispatch_any(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise wire.unknown_endpoint(request.method or "", request.path[:200])

    get = post = put = patch = delete = dispatch_any
