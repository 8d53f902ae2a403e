"""Huawei GES's job APIs over the core's services and selectors: the service plane
(``/ges/v1.0/{project_id}/graphs/{graph_name}/...``) and the management plane v2
(``/v2/{project_id}/graphs/...``). Names, statuses and errors come from the ``wire`` package.

``project_id`` is a jobcenter project's name. A project the caller does not belong to answers
exactly as one that does not exist. Callers authenticate with ``X-Auth-Token: <token>`` (our
API tokens) or with an SDK-HMAC-SHA256 signature made with one of their access keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet
from rest_framework.exceptions import ParseError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.compat.common import (
    DialectView,
    HeaderTokenAuthentication,
    XAuthTokenAuthentication,
)
from jobcenter.compat.ges.auth import SdkHmacAuthentication
from jobcenter.compat.ges.wire import errors, job_types, management, requests, service, statuses
from jobcenter.core.errors import InvalidState, NotFound
from jobcenter.graphs.formats.ges import GesImportRequest
from jobcenter.graphs.models import Graph
from jobcenter.graphs.selectors import graph_get, graph_labels_with_property, graph_list
from jobcenter.jobs.choices import TERMINAL_STATUSES, JobDialect
from jobcenter.jobs.filtersets import JobFilterSet
from jobcenter.jobs.kinds.close_graph import job_submit_close_graph
from jobcenter.jobs.kinds.start_graph import job_submit_start_graph
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import kind_of
from jobcenter.jobs.selectors import job_files, job_list, job_result_page
from jobcenter.jobs.services import (
    job_cancel,
    job_submit_algorithm,
    job_submit_export,
    job_submit_import_request,
    job_submit_index,
    job_submit_query,
)
from jobcenter.projects.models import Project
from jobcenter.projects.selectors import project_get_for_user

# offsets beyond this are refused rather than handed to the database
MAX_OFFSET = 2**31


class GesView(DialectView):
    authentication_classes = [
        XAuthTokenAuthentication,
        SdkHmacAuthentication,
        HeaderTokenAuthentication,
    ]
    permission_classes = [IsAuthenticated]
    # each plane's answers to "no such project" (also for projects the caller is not in) and
    # to a bad query parameter
    project_not_found: Callable[[str], errors.GesError]
    bad_parameter: Callable[[str], errors.GesError]

    def project(self, project_id: str) -> Project:
        try:
            return project_get_for_user(user=self.request.user, name=project_id)
        except NotFound:
            raise type(self).project_not_found(project_id) from None

    def body(self, error: Callable[[str], errors.GesError]) -> dict[str, Any]:
        try:
            data = self.request.data
        except ParseError as exc:
            raise error(f"the body is not valid JSON: {exc.detail}") from None
        if not isinstance(data, dict):
            raise error("the body must be a JSON object")
        return data

    def int_param(self, name: str, *, default: int, minimum: int, maximum: int) -> int:
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return default
        bad = type(self).bad_parameter
        try:
            value = int(raw)
        except ValueError:
            raise bad(f"{name} must be an integer, not {raw[:50]!r}") from None
        if not minimum <= value <= maximum:
            raise bad(f"{name} must be between {minimum} and {maximum}")
        return value

    def page(self, *, default_limit: int, max_limit: int, min_limit: int = 1) -> tuple[int, int]:
        """``offset`` and ``limit`` from the query."""
        offset = self.int_param("offset", default=0, minimum=0, maximum=MAX_OFFSET)
        limit = self.int_param("limit", default=default_limit, minimum=min_limit, maximum=max_limit)
        return offset, limit


# --- service plane ------------------------------------------------------------------------


class ServicePlaneView(GesView):
    error_response = staticmethod(errors.service_error_response)
    project_not_found = staticmethod(errors.service_project_not_found)
    bad_parameter = staticmethod(errors.service_bad_parameter)

    def graph(self, project: Project, graph_name: str) -> Graph:
        try:
            return graph_get(user=self.request.user, project=project, ref=graph_name)
        except NotFound:
            raise errors.graph_not_exist(graph_name) from None

    def graph_jobs(self, project_id: str, graph_name: str) -> QuerySet[Job]:
        project = self.project(project_id)
        graph = self.graph(project, graph_name)
        return job_list(user=self.request.user).filter(project=project, graph=graph)


class ServiceJobListView(ServicePlaneView):
    """``GET .../graphs/{graph_name}/jobs/status?limit&offset``: the graph's jobs, newest
    first."""

    def get(self, request: Request, project_id: str, graph_name: str) -> Response:
        jobs = self.graph_jobs(project_id, graph_name)
        offset, limit = self.page(
            default_limit=service.SERVICE_DEFAULT_LIMIT, max_limit=service.SERVICE_MAX_LIMIT
        )
        total = jobs.count()
        page = list(jobs.prefetch_related("files")[offset : offset + limit])
        return Response(service.service_job_list(page, total=total))


class ServiceJobStatusView(ServicePlaneView):
    """``GET .../jobs/{job_id}/status?offset&limit``: status and the paged result data."""

    def get(self, request: Request, project_id: str, graph_name: str, job_id: str) -> Response:
        job = self.graph_jobs(project_id, graph_name).filter(pk=job_id).first()
        if job is None:
            raise errors.job_not_found(job_id)
        offset, limit = self.page(
            default_limit=service.SERVICE_DEFAULT_LIMIT, max_limit=service.SERVICE_MAX_LIMIT
        )
        # Only a successful job's status carries data: its result page, an import's files.
        data = statuses.SERVICE_STATUS[job.status] == "success"
        page = job_result_page(job=job, offset=offset, limit=limit) if data else None
        files = list(job_files(job=job)) if data and kind_of(job.type).loads_files else []
        return Response(service.service_job_status(job, files=files, page=page))


class ServiceJobCancelView(ServicePlaneView):
    """``DELETE .../jobs/{job_id}``: cancel a job of a stoppable type."""

    def delete(self, request: Request, project_id: str, graph_name: str, job_id: str) -> Response:
        job = self.graph_jobs(project_id, graph_name).filter(pk=job_id).first()
        if job is None:
            raise errors.cancel_not_found(job_id)
        if not job_types.stoppable(job):
            raise errors.cancel_unsupported(job)
        try:
            job_cancel(job=job, user=request.user)
        except InvalidState as exc:
            job.refresh_from_db()
            if job.status in TERMINAL_STATUSES:
                raise errors.cancel_finished(job) from None
            raise errors.cancel_refused(exc.message) from None
        return Response({})


class ServiceGraphActionView(ServicePlaneView):
    """``POST .../graphs/{graph_name}/action?action_id=import-graph | execute-algorithm``."""

    def post(self, request: Request, project_id: str, graph_name: str) -> Response:
        project = self.project(project_id)
        graph = self.graph(project, graph_name)
        action = request.query_params.get("action_id", "")
        if action == service.ACTION_IMPORT_GRAPH:
            job = self.import_graph(graph)
        elif action == service.ACTION_EXECUTE_ALGORITHM:
            job = self.execute_algorithm(graph)
        elif action == service.ACTION_FILTERED_QUERY:
            raise errors.filtered_query_unsupported()
        else:
            raise errors.service_unknown_action(action[:100])
        return Response(service.service_job_created(job))

    def import_graph(self, graph: Graph) -> Job:
        """The camelCase import body."""
        body = self.body(errors.service_bad_parameter)
        return job_submit_import_request(
            graph=graph,
            request=GesImportRequest.from_service_plane(body),
            wire=body,
            dialect=JobDialect.GES,
            user=self.request.user,
        )

    def execute_algorithm(self, graph: Graph) -> Job:
        body = self.body(errors.service_bad_parameter)
        call = requests.algorithm_request(body)
        with errors.translating(requests.algorithm_refused(call.ges_name)):
            return job_submit_algorithm(
                graph=graph,
                algorithm=call.algorithm,
                parameters=call.parameters,
                user=self.request.user,
                dialect=JobDialect.GES,
                request=body,
            )


class ServiceQueryView(ServicePlaneView):
    """``POST .../graphs/{graph_name}/vertices/action?action_id=query`` (and ``edges/``): a
    filtered query as a job; its rows are read through the job status."""

    target = "vertices"  # set per route

    def post(self, request: Request, project_id: str, graph_name: str) -> Response:
        project = self.project(project_id)
        graph = self.graph(project, graph_name)
        action = request.query_params.get("action_id", "")
        if action != service.ACTION_QUERY:
            raise errors.service_unknown_action(action[:100])
        body = self.body(errors.service_bad_parameter)
        query = requests.query_request(body, self.target)
        with errors.translating(requests.query_refused(self.target)):
            job = job_submit_query(
                graph=graph, query=query, user=request.user, dialect=JobDialect.GES, request=body
            )
        return Response(service.service_job_created(job))


class ServiceIndexView(ServicePlaneView):
    """``POST .../graphs/{graph_name}/indices``: build an index (a job)."""

    def post(self, request: Request, project_id: str, graph_name: str) -> Response:
        project = self.project(project_id)
        graph = self.graph(project, graph_name)
        body = self.body(errors.service_bad_parameter)
        call = requests.index_request(
            body,
            labels_with=lambda target, prop: graph_labels_with_property(
                graph=graph, target=target, property=prop
            ),
        )
        with errors.translating(requests.index_refused):
            job = job_submit_index(
                graph=graph,
                target=call.target,
                label=call.label,
                property=call.property,
                user=request.user,
                dialect=JobDialect.GES,
                request=body,
            )
        return Response(service.service_job_created(job))


class ServiceJobActionView(ServicePlaneView):
    """``POST .../jobs/{job_id}/action?action_id=export-result``: write a finished job's result
    to a file under the export roots (a job)."""

    def post(self, request: Request, project_id: str, graph_name: str, job_id: str) -> Response:
        project = self.project(project_id)
        action = request.query_params.get("action_id", "")
        if action != service.ACTION_EXPORT_RESULT:
            raise errors.service_unknown_action(action[:100])
        try:
            graph = graph_get(user=request.user, project=project, ref=graph_name)
        except NotFound:
            raise errors.export_graph_not_found(graph_name) from None
        source = job_list(user=request.user).filter(project=project, graph=graph, pk=job_id).first()
        if source is None:
            raise errors.export_job_not_found(job_id)
        body = self.body(errors.service_bad_parameter)
        path, kept = requests.export_result_request(body, source.pk)
        with errors.translating(requests.export_refused):
            job = job_submit_export(
                source_job=source,
                path=path,
                user=request.user,
                dialect=JobDialect.GES,
                request=kept,
            )
        return Response(service.service_job_created(job))


class ServiceUnknownView(ServicePlaneView):
    def dispatch_any(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise errors.service_unknown_endpoint(request.method or "", request.path[:200])

    get = post = put = patch = delete = dispatch_any


# --- management plane v2 ------------------------------------------------------------------


class MgmtView(GesView):
    error_response = staticmethod(errors.mgmt_error_response)
    project_not_found = staticmethod(errors.mgmt_project_not_found)
    bad_parameter = staticmethod(errors.mgmt_bad_parameter)


class MgmtJobListView(MgmtView):
    """``GET /v2/{project_id}/graphs/jobs``: the job center, with every documented filter."""

    def get(self, request: Request, project_id: str) -> Response:
        project = self.project(project_id)
        offset, limit = self.page(
            default_limit=management.MGMT_DEFAULT_LIMIT,
            max_limit=management.MGMT_MAX_LIMIT,
            min_limit=0,
        )
        jobs = (
            job_list(user=request.user)
            .filter(project=project, type__in=job_types.MGMT_JOB_TYPES)
            .exclude(name__in=job_types.MGMT_EXCLUDED_NAMES)
        )
        filterset = JobFilterSet(management.mgmt_list_filters(request.query_params), queryset=jobs)
        if not filterset.is_valid():
            raise errors.mgmt_bad_parameter(f"invalid filter: {filterset.errors.as_text()}")
        qs = filterset.qs
        total = qs.count()
        page = list(qs.prefetch_related("files")[offset : offset + limit])
        return Response(management.mgmt_job_list(page, total=total))


class MgmtJobShowView(MgmtView):
    """``GET /v2/{project_id}/graphs/{graph_id}/jobs/{job_id}/status`` (graph id or name)."""

    def get(self, request: Request, project_id: str, graph_id: str, job_id: str) -> Response:
        project = self.project(project_id)
        jobs = job_list(user=request.user).filter(project=project)
        job = jobs.filter(pk=job_id).filter(Q(graph_id=graph_id) | Q(graph_name=graph_id)).first()
        if job is None:
            # a deleted graph is still known by the jobs that name it
            graph_known = (
                graph_list(user=request.user, project=project)
                .filter(Q(pk=graph_id) | Q(name=graph_id))
                .exists()
                or jobs.filter(graph_name=graph_id).exists()
            )
            if not graph_known:
                raise errors.mgmt_graph_not_found(graph_id)
            raise errors.mgmt_job_not_found(job_id)
        return Response(management.mgmt_job(job, files=list(job_files(job=job))))


class MgmtImportGraphView(MgmtView):
    """``POST /v2/{project_id}/graphs/{graph_id}/import-graph`` (snake_case body)."""

    def post(self, request: Request, project_id: str, graph_id: str) -> Response:
        project = self.project(project_id)
        try:
            graph = graph_get(user=request.user, project=project, ref=graph_id)
        except NotFound:
            raise errors.mgmt_graph_not_found(graph_id) from None
        body = self.body(errors.mgmt_invalid_body)
        job = job_submit_import_request(
            graph=graph,
            request=GesImportRequest(request=body),
            wire=body,
            dialect=JobDialect.GES,
            user=request.user,
        )
        return Response(management.mgmt_job_created(job))


class MgmtGraphView(MgmtView):
    """A management-plane action on one graph (by id or name)."""

    def graph(self, project: Project, graph_id: str) -> Graph:
        try:
            return graph_get(user=self.request.user, project=project, ref=graph_id)
        except NotFound:
            raise errors.mgmt_graph_not_found(graph_id) from None


class MgmtStartGraphView(MgmtGraphView):
    """``POST /v2/{project_id}/graphs/{graph_id}/start`` (SDK ``StartGraph2``): a start graph
    job, loading the graph into the workers' memory. Starting from a backup is not supported."""

    def post(self, request: Request, project_id: str, graph_id: str) -> Response:
        project = self.project(project_id)
        graph = self.graph(project, graph_id)
        body = self.body(errors.mgmt_invalid_body)
        management.mgmt_start_options(body)
        job = job_submit_start_graph(
            graph=graph, request=body, dialect=JobDialect.GES, user=request.user
        )
        return Response(management.mgmt_job_created(job))


class MgmtStopGraphView(MgmtGraphView):
    """``POST /v2/{project_id}/graphs/{graph_id}/stop`` (SDK ``StopGraph2``, "close graph"): a
    close graph job, releasing the graph from every worker's memory."""

    def post(self, request: Request, project_id: str, graph_id: str) -> Response:
        project = self.project(project_id)
        graph = self.graph(project, graph_id)
        job = job_submit_close_graph(graph=graph, dialect=JobDialect.GES, user=request.user)
        return Response(management.mgmt_job_created(job))


class MgmtUnknownView(MgmtView):
    def dispatch_any(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise errors.mgmt_unknown_endpoint(request.method or "", request.path[:200])

    get = post = put = patch = delete = dispatch_any
