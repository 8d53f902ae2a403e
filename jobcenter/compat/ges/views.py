"""Huawei GES's job APIs over the core's services and selectors: the service plane
(``/ges/v1.0/{project_id}/graphs/{graph_name}/...``) and the management plane v2
(``/v2/{project_id}/graphs/...``). Names, statuses and errors come from ``wire``.

``project_id`` is a jobcenter project's name. A project the caller does not belong to answers
exactly as one that does not exist. Callers authenticate with ``X-Auth-Token: <token>`` (our
API tokens) or with an SDK-HMAC-SHA256 signature made with one of their access keys.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Q, QuerySet
from django.http import QueryDict
from rest_framework.exceptions import ParseError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.compat.common import (
    DialectView,
    HeaderTokenAuthentication,
    XAuthTokenAuthentication,
)
from jobcenter.compat.ges import wire
from jobcenter.compat.ges.auth import SdkHmacAuthentication
from jobcenter.core.errors import InvalidState, NotFound
from jobcenter.graphs.models import Graph
from jobcenter.graphs.selectors import graph_get, graph_list
from jobcenter.jobs.choices import TERMINAL_STATUSES, JobDialect
from jobcenter.jobs.filtersets import JobFilterSet
from jobcenter.jobs.models import Job
from jobcenter.jobs.selectors import job_files, job_list
from jobcenter.jobs.services import job_cancel, job_submit_import
from jobcenter.projects.models import Project
from jobcenter.projects.selectors import project_get_for_user

DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


class GesView(DialectView):
    authentication_classes = [
        XAuthTokenAuthentication,
        SdkHmacAuthentication,
        HeaderTokenAuthentication,
    ]
    permission_classes = [IsAuthenticated]
    # the code answering "no such project" (also for projects the caller is not in)
    project_code: str

    def project(self, project_id: str) -> Project:
        try:
            return project_get_for_user(user=self.request.user, name=project_id)
        except NotFound:
            raise wire.bad_request(
                self.project_code, f"project {project_id} does not exist"
            ) from None

    def body(self, code: str) -> dict[str, Any]:
        try:
            data = self.request.data
        except ParseError as exc:
            raise wire.bad_request(code, f"the body is not valid JSON: {exc.detail}") from None
        if not isinstance(data, dict):
            raise wire.bad_request(code, "the body must be a JSON object")
        return data

    def int_param(self, name: str, *, default: int, minimum: int, maximum: int, code: str) -> int:
        raw = self.request.query_params.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise wire.bad_request(code, f"{name} must be an integer, not {raw!r}") from None
        if not minimum <= value <= maximum:
            raise wire.bad_request(code, f"{name} must be between {minimum} and {maximum}")
        return value


# --- service plane ------------------------------------------------------------------------


class ServicePlaneView(GesView):
    error_response = staticmethod(wire.service_error_response)
    project_code = wire.GES_PROJECT_ACCESS

    def graph(self, project: Project, graph_name: str) -> Graph:
        try:
            return graph_get(user=self.request.user, project=project, ref=graph_name)
        except NotFound:
            raise wire.graph_not_exist(graph_name) from None

    def graph_jobs(self, project_id: str, graph_name: str) -> tuple[Graph, QuerySet[Job]]:
        project = self.project(project_id)
        graph = self.graph(project, graph_name)
        return graph, job_list(user=self.request.user).filter(project=project, graph=graph)


class ServiceJobListView(ServicePlaneView):
    """``GET .../graphs/{graph_name}/jobs/status?limit&offset``: the graph's jobs, newest
    first."""

    def get(self, request: Request, project_id: str, graph_name: str) -> Response:
        _, jobs = self.graph_jobs(project_id, graph_name)
        code = wire.GES_BAD_PARAMETER
        offset = self.int_param("offset", default=0, minimum=0, maximum=2**31, code=code)
        limit = self.int_param(
            "limit",
            default=wire.SERVICE_DEFAULT_LIMIT,
            minimum=1,
            maximum=wire.SERVICE_MAX_LIMIT,
            code=code,
        )
        total = jobs.count()
        page = list(jobs.prefetch_related("files")[offset : offset + limit])
        return Response(wire.service_job_list(page, total=total))


class ServiceJobView(ServicePlaneView):
    """``GET .../jobs/{job_id}/status`` (status and paged result data) and
    ``DELETE .../jobs/{job_id}`` (cancel)."""

    def get(self, request: Request, project_id: str, graph_name: str, job_id: str) -> Response:
        _, jobs = self.graph_jobs(project_id, graph_name)
        job = jobs.filter(pk=job_id).first()
        if job is None:
            raise wire.job_not_found(job_id)
        code = wire.GES_BAD_PARAMETER
        offset = self.int_param("offset", default=0, minimum=0, maximum=2**31, code=code)
        limit = self.int_param(
            "limit",
            default=wire.SERVICE_DEFAULT_LIMIT,
            minimum=1,
            maximum=wire.SERVICE_MAX_LIMIT,
            code=code,
        )
        return Response(
            wire.service_job_status(job, files=list(job_files(job=job)), offset=offset, limit=limit)
        )

    def delete(self, request: Request, project_id: str, graph_name: str, job_id: str) -> Response:
        _, jobs = self.graph_jobs(project_id, graph_name)
        job = jobs.filter(pk=job_id).first()
        if job is None:
            raise wire.cancel_not_found(job_id)
        if job.type not in wire.SERVICE_CANCELLABLE_TYPES:
            raise wire.cancel_unsupported(job)
        try:
            job_cancel(job=job, user=request.user)
        except InvalidState as exc:
            job.refresh_from_db()
            if job.status in TERMINAL_STATUSES:
                raise wire.cancel_finished(job) from None
            raise wire.bad_request(wire.GES_CANCEL_FAILED, exc.message) from None
        return Response({})


class ServiceGraphActionView(ServicePlaneView):
    """``POST .../graphs/{graph_name}/action?action_id=import-graph`` (camelCase body)."""

    def post(self, request: Request, project_id: str, graph_name: str) -> Response:
        project = self.project(project_id)
        graph = self.graph(project, graph_name)
        action = request.query_params.get("action_id", "")
        if action != "import-graph":
            raise wire.bad_request(wire.GES_BAD_PARAMETER, f"action_id {action!r} is not supported")
        body = self.body(wire.GES_BAD_PARAMETER)
        from jobcenter.graphs.formats.ges import normalise_request

        job = job_submit_import(
            graph=graph,
            params={"format": "ges", "request": normalise_request(body)},
            request=body,
            dialect=JobDialect.GES,
            user=request.user,
        )
        return Response(wire.service_job_created(job))


class ServiceUnknownView(ServicePlaneView):
    def dispatch_any(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise wire.bad_request(
            wire.GES_BAD_PARAMETER, f"{request.method} {request.path} is not supported"
        )

    get = post = put = patch = delete = dispatch_any


# --- management plane v2 ------------------------------------------------------------------


class MgmtView(GesView):
    error_response = staticmethod(wire.mgmt_error_response)
    project_code = wire.GES_RESOURCE_NOT_FOUND


class MgmtJobListView(MgmtView):
    """``GET /v2/{project_id}/graphs/jobs``: the job center, with every documented filter."""

    def get(self, request: Request, project_id: str) -> Response:
        project = self.project(project_id)
        code = wire.GES_INVALID_PARAMETER
        offset = self.int_param("offset", default=0, minimum=0, maximum=2**31, code=code)
        limit = self.int_param(
            "limit",
            default=wire.MGMT_DEFAULT_LIMIT,
            minimum=0,
            maximum=wire.MGMT_MAX_LIMIT,
            code=code,
        )
        filters = self.filters(request.query_params)
        jobs = job_list(user=request.user).filter(project=project, type__in=wire.MGMT_JOB_TYPES)
        filterset = JobFilterSet(filters, queryset=jobs)
        if not filterset.is_valid():
            raise wire.bad_request(code, f"invalid filter: {filterset.errors.as_text()}")
        qs = filterset.qs
        total = qs.count()
        page = list(qs.prefetch_related("files")[offset : offset + limit])
        return Response(wire.mgmt_job_list(page, total=total))

    def filters(self, params: QueryDict) -> QueryDict:
        """ListJobs2's query parameters in the shared JobFilterSet's terms."""
        data = QueryDict(mutable=True)
        status = params.get("status")
        if status:
            if status not in wire.MGMT_STATUS_FILTER:
                raise wire.bad_request(
                    wire.GES_INVALID_PARAMETER,
                    f"status must be one of {', '.join(wire.MGMT_STATUS_FILTER)}",
                )
            data.setlist("status", list(wire.MGMT_STATUS_FILTER[status]))
        if params.get("graph_name"):
            data["graph"] = params["graph_name"]
        # start_time: jobs begun on or after that day; end_time: jobs ended on or before it.
        for name, target in (("start_time", "created_after"), ("end_time", "finished_before")):
            value = params.get(name)
            if not value:
                continue
            if not re.match(DATE_PATTERN, value):
                raise wire.bad_request(
                    wire.GES_INVALID_PARAMETER, f"{name} must be a date yyyy-MM-dd, not {value!r}"
                )
            data[target] = value
        return data


class MgmtJobShowView(MgmtView):
    """``GET /v2/{project_id}/graphs/{graph_id}/jobs/{job_id}/status`` (graph id or name)."""

    def get(self, request: Request, project_id: str, graph_id: str, job_id: str) -> Response:
        project = self.project(project_id)
        jobs = job_list(user=request.user).filter(project=project)
        job = jobs.filter(pk=job_id).filter(Q(graph_id=graph_id) | Q(graph_name=graph_id)).first()
        if job is None:
            graph_known = (
                graph_list(user=request.user, project=project)
                .filter(Q(pk=graph_id) | Q(name=graph_id))
                .exists()
                or jobs.filter(graph_name=graph_id).exists()
            )
            if not graph_known:
                raise wire.bad_request(wire.GES_GRAPH_NOT_FOUND, f"graph {graph_id} does not exist")
            raise wire.bad_request(wire.GES_MGMT_JOB_NOT_FOUND, f"job {job_id} does not exist")
        return Response(wire.mgmt_job(job, files=list(job_files(job=job))))


class MgmtImportGraphView(MgmtView):
    """``POST /v2/{project_id}/graphs/{graph_id}/import-graph`` (snake_case body)."""

    def post(self, request: Request, project_id: str, graph_id: str) -> Response:
        project = self.project(project_id)
        try:
            graph = graph_get(user=request.user, project=project, ref=graph_id)
        except NotFound:
            raise wire.bad_request(
                wire.GES_GRAPH_NOT_FOUND, f"graph {graph_id} does not exist"
            ) from None
        body = self.body(wire.GES_INVALID_BODY)
        job = job_submit_import(
            graph=graph,
            params={"format": "ges", "request": body},
            request=body,
            dialect=JobDialect.GES,
            user=request.user,
        )
        return Response(wire.mgmt_job_created(job))


class MgmtUnknownView(MgmtView):
    def dispatch_any(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise wire.bad_request(
            wire.GES_INVALID_PARAMETER, f"{request.method} {request.path} is not supported"
        )

    get = post = put = patch = delete = dispatch_any
