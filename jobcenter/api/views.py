"""The native REST API: thin adapters from HTTP to services (writes) and selectors (reads).

One view per resource; each validates its input with a serializer, calls the core, and turns
ServiceErrors into the one error shape (see exceptions.py). Permissions: see permissions.py.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.views import redirect_to_login
from django.db import IntegrityError, connection, transaction
from django.http import (
    HttpRequest,
    HttpResponsePermanentRedirect,
    JsonResponse,
)
from django.urls import Resolver404, resolve
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework import exceptions as drf
from rest_framework import status
from rest_framework.authtoken.models import Token
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import SAFE_METHODS, AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobcenter.api import serializers as s
from jobcenter.api.authentication import API_AUTHENTICATION
from jobcenter.api.exceptions import api_exception_handler, error_body
from jobcenter.api.pagination import PAGE_PARAMS, paginate
from jobcenter.api.parsers import ApiJSONParser, ApiMultiPartParser
from jobcenter.api.permissions import IsSiteAdmin, require_role
from jobcenter.api.schema import (
    BLANK_ALLOWED,
    errors,
    filterset_parameters,
    id_parameter,
    ok,
    page_parameters,
)
from jobcenter.core.errors import Conflict, InvalidInput, InvalidState, NotFound
from jobcenter.credentials.throttle import login_lockout
from jobcenter.graphs.filtersets import GraphFilterSet
from jobcenter.graphs.selectors import graph_get_by_id, graph_list
from jobcenter.graphs.services import graph_create, graph_schema_parse
from jobcenter.jobs.downloads import (
    FAILED_LINES_HEADER,
    JOBS_HEADER,
    csv_download,
    failed_lines_csv,
    failed_lines_filename,
    jobs_csv,
    jobs_filename,
)
from jobcenter.jobs.filtersets import JobFilterSet
from jobcenter.jobs.models import Job, JobFile
from jobcenter.jobs.selectors import (
    failed_lines_kept,
    job_failed_lines,
    job_files,
    job_get,
    job_list,
    job_list_filter,
    job_list_filtered,
    job_page,
    job_timeline,
)
from jobcenter.jobs.services import (
    graph_delete_submit,
    job_cancel,
    job_cancel_many,
    job_retry,
    job_retry_many,
    job_submit_import,
    job_submit_import_upload,
)
from jobcenter.projects.choices import Role
from jobcenter.projects.selectors import (
    project_get_for_user,
    project_list_with_role,
    project_members,
    project_role,
    user_get_by_username,
)
from jobcenter.projects.services import (
    membership_remove,
    membership_set,
    project_create,
    project_update,
)

audit = logging.getLogger("jobcenter.audit")
logger = logging.getLogger("jobcenter.api")

_REF = re.compile(r"[0-9A-Za-z_-]{1,64}")
_USERNAME = re.compile(r"[\w.@+-]{1,150}")
_INDEX = re.compile(r"[0-9]{1,9}")


def _ref(value: str, what: str, field: str, pattern: re.Pattern = _REF) -> str:
    """A path parameter that cannot name anything is simply not found (never a 500)."""
    if not pattern.fullmatch(value):
        raise NotFound(f"{what} {value[:80]!r} does not exist", field=field)
    return value


class ApiErrorsMixin:
    """The one error shape, always rendered as JSON (whatever the endpoint's own format, e.g.
    CSV or the OpenAPI document), and a Server-Timing header with the view's time."""

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self._started = time.perf_counter()
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        started = getattr(self, "_started", None)
        if started is not None:
            response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response


class _NoFormatOverride:
    URL_FORMAT_OVERRIDE = None


class ApiContentNegotiation(DefaultContentNegotiation):
    """Content negotiation by the Accept header only: DRF's ``?format=`` override would turn an
    unknown format into a bare 404 (the parameter is refused as unknown, with a 400)."""

    settings = _NoFormatOverride()


class ApiView(ApiErrorsMixin, APIView):
    # Base of every native API view (no docstring: it would become every operation's text).

    content_negotiation_class = ApiContentNegotiation
    authentication_classes = API_AUTHENTICATION
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    parser_classes = [ApiJSONParser]
    throttle_classes: list = []
    # Query parameters this endpoint understands; any other one is a 400, not silently ignored
    # (None: anything goes).
    query_params: frozenset[str] | None = frozenset()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        method = request.method.lower()
        if self.query_params is None or not hasattr(self, method):
            return  # anything goes, or a 405 follows
        unknown = sorted(set(request.query_params) - self.query_params)
        if unknown:
            known = ", ".join(sorted(self.query_params)) or "none"
            raise InvalidInput(
                f"unknown query parameter {unknown[0][:50]!r} (known: {known})",
                field=unknown[0][:50],
            )
        # An empty (or blank) value is refused too, rather than read as "not given": what the
        # schema says, and a client's bug (an unset variable in a URL) surfaces instead of
        # widening a filter. Exempt: an empty cursor (the first page in cursor mode) and a
        # blank search text.
        for name, values in request.query_params.lists():
            if name not in BLANK_ALLOWED and any(value.strip() == "" for value in values):
                raise InvalidInput(
                    f"query parameter {name!r} is empty: give a value or leave it out",
                    field=name,
                )

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in SAFE_METHODS:
            user = getattr(request, "user", None)
            audit.info(
                "%s %s by %s -> %s",
                request.method,
                request.path,
                user.get_username() if user and user.is_authenticated else "anonymous",
                response.status_code,
            )
        return response


def _created(data: Any, location: str, code: int = status.HTTP_201_CREATED) -> Response:
    return Response(data, status=code, headers={"Location": location})


def _job_url(job: Job) -> str:
    return f"/api/v1/jobs/{job.pk}/"


def _job_detail(job: Job) -> dict[str, Any]:
    job.file_rows = list(job_files(job=job))  # type: ignore[attr-defined]
    return s.JobDetailSerializer(job).data


# --- health and tokens -----------------------------------------------------------------------


class HealthView(ApiView):
    """For load balancers: no authentication, no data."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    query_params = None  # a probe's cache-busting parameters are not an error

    @extend_schema(
        tags=["health"],
        operation_id="health",
        summary="Is the service up?",
        description="200 when the web server can reach its database, 503 otherwise.",
        auth=[],
        responses={
            200: ok(s.HealthSerializer, "Up."),
            503: OpenApiResponse(s.HealthSerializer, description="The database is unreachable."),
        },
    )
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # any database failure means "not healthy", never a 500
            logging.getLogger("jobcenter.api").exception("health check failed")
            return Response({"status": "unavailable"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"status": "ok"})


class TokenView(ApiView):
    """Exchange a username and password for the user's API token (created on first use)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_token",
        summary="Get your API token",
        auth=[],
        request=s.TokenInputSerializer,
        responses={
            200: ok(s.TokenSerializer, "Your token (the same one on every call)."),
            **errors(400, 415, 429),
        },
    )
    def post(self, request: Request) -> Response:
        data = s.TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            raise login_lockout(request._request) or InvalidInput(
                "username or password is wrong", field="password"
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "username": user.get_username()})


# --- the OpenAPI schema and its two readers ---------------------------------------------------


class SchemaView(ApiErrorsMixin, SpectacularAPIView):
    """The OpenAPI 3 schema (YAML, or JSON with ``?format=json`` / ``Accept``); signed-in only."""

    authentication_classes = API_AUTHENTICATION
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "head"]


class _SignedInPage(ApiErrorsMixin):
    """Swagger UI and ReDoc pages: anonymous browsers are sent to the login page first."""

    authentication_classes = API_AUTHENTICATION
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "head"]

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)  # type: ignore[misc]

    def permission_denied(self, request: Request, message: Any = None, code: Any = None) -> None:
        if not request.successful_authenticator:
            return  # handled in get(): a redirect, not a 401 page
        super().permission_denied(request, message, code)  # type: ignore[misc]


class SwaggerView(_SignedInPage, SpectacularSwaggerSplitView):
    """Its script comes from the same URL with ``?script`` (not inline: the CSP allows none)."""

    template_name = "api/swagger_ui.html"


class RedocView(_SignedInPage, SpectacularRedocView):
    template_name = "api/redoc.html"


# --- jobs ------------------------------------------------------------------------------------

JOB_ID = id_parameter("job_id", "job")
FILE_INDEX = OpenApiParameter(
    "index",
    {"type": "integer", "minimum": 0, "maximum": 10**9 - 1},
    OpenApiParameter.PATH,
    description="The file's index in the job (from 0).",
)


class JobListView(ApiView):
    query_params = frozenset(JobFilterSet.base_filters) | PAGE_PARAMS

    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_list",
        summary="List jobs",
        description=(
            "Jobs of your projects, newest first unless `ordering` says otherwise. Filters "
            "combine with AND; a filter given several values matches any of them."
        ),
        parameters=[*filterset_parameters(JobFilterSet), *page_parameters()],
        responses={200: ok(s.paginated(s.JobSerializer), "One page of jobs."), **errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        scope = job_list(user=request.user)
        jobs = job_list_filter(scope, data=request.query_params)

        def reader(window: Any, where: Any, offset: int, limit: int) -> tuple[list, int]:
            # A page with bounded work at millions of jobs, counted up to 10,000.
            cursor = "cursor" in request.query_params  # cursor pages show no count
            narrowed = scope if where is None else scope.filter(where)
            found = job_page(
                scope=narrowed, filtered=window, offset=offset, limit=limit, with_count=not cursor
            )
            return found.rows, found.count

        page = paginate(request, jobs, reader=reader)
        return Response(page.envelope(s.JobSerializer(page.results, many=True).data))


class JobBulkCancelView(ApiView):
    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_cancel_matching",
        summary="Cancel every job matching a filter",
        description=(
            "One request for all active jobs (waiting, running) that match; finished ones are "
            "left alone. Jobs in projects where you are only a viewer are reported in "
            "`not_cancelled` with the reason."
        ),
        request=s.BulkCancelInputSerializer,
        responses={
            200: ok(s.BulkCancelResultSerializer, "What was cancelled, and what not and why."),
            **errors(400, 401, 415),
        },
    )
    def post(self, request: Request) -> Response:
        jobs = _jobs_matching_body(request, s.BulkCancelInputSerializer)
        return Response(job_cancel_many(jobs=jobs, user=request.user).summary())


def _jobs_matching_body(request: Request, serializer: type[s.BulkCancelInputSerializer]) -> Any:
    """The user's jobs that the body's ``{"filter": {...}}`` selects (a bulk action's input)."""
    data = serializer(data=request.data)
    data.is_valid(raise_exception=True)
    try:
        return job_list_filtered(user=request.user, data=data.validated_data["filter"])
    except InvalidInput as exc:  # name the filter inside the body: filter.<name>
        raise drf.ValidationError({"filter": exc.errors}) from None


class JobBulkRetryView(ApiView):
    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_retry_matching",
        summary="Retry every failed job matching a filter",
        description=(
            "One request for all jobs that match and ended failed, partially failed or "
            "cancelled: each gets a new job with the same request, linked to it (as "
            "`POST /api/v1/jobs/{id}/retry/`). A job is retried once: one that already has a "
            "retry is reported in `not_retried`, so sending the same request twice starts "
            "nothing twice. Needs the operator role in the jobs' projects."
        ),
        request=s.BulkRetryInputSerializer,
        responses={
            200: ok(s.BulkRetryResultSerializer, "What was retried, and what not and why."),
            **errors(400, 401, 415),
        },
    )
    def post(self, request: Request) -> Response:
        jobs = _jobs_matching_body(request, s.BulkRetryInputSerializer)
        return Response(job_retry_many(jobs=jobs, user=request.user).summary())


class JobDetailView(ApiView):
    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_retrieve",
        summary="One job, with its request and files",
        parameters=[JOB_ID],
        responses={200: ok(s.JobDetailSerializer, "The job."), **errors(401, 404)},
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = job_get(user=request.user, job_id=_ref(job_id, "job", "job_id"))
        return Response(_job_detail(job))


class JobCancelView(ApiView):
    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_cancel",
        summary="Cancel a job",
        description=(
            "A waiting job is cancelled at once; a running one becomes `cancelling` and its "
            "worker stops it within about a second, rolling its changes back. Asking again "
            "while it is cancelling is harmless. Needs the operator role."
        ),
        parameters=[JOB_ID],
        request=None,
        responses={
            200: ok(s.JobSerializer, "The job as it is now (cancelled, or cancelling)."),
            **errors(401, 403, 404, 409),
        },
    )
    def post(self, request: Request, job_id: str) -> Response:
        job = job_get(user=request.user, job_id=_ref(job_id, "job", "job_id"))
        job = job_cancel(job=job, user=request.user)
        return Response(s.JobSerializer(job).data)


class JobRetryView(ApiView):
    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_retry",
        summary="Retry a finished job",
        description=(
            "Submits a new job with the same request; its `retry_of` names the original. "
            "The request is checked again: one that no longer holds (e.g. its files are gone) "
            "is a 409, as is a job still active. Needs the operator role."
        ),
        parameters=[JOB_ID],
        request=None,
        responses={
            201: ok(s.JobSerializer, "The new job; `Location` is its URL."),
            **errors(400, 401, 403, 404, 409),
        },
    )
    def post(self, request: Request, job_id: str) -> Response:
        job = job_get(user=request.user, job_id=_ref(job_id, "job", "job_id"))
        try:
            new = job_retry(job=job, user=request.user)
        except InvalidInput as exc:
            # The request this call retries is the job's, checked again (its files may be gone,
            # its export target taken): the job's state is at fault, not this call, so 409.
            raise InvalidState(
                f"job {job.pk} cannot be retried: {exc.message}", errors=exc.errors
            ) from None
        return _created(s.JobSerializer(new).data, _job_url(new))


class JobTimelineView(ApiView):
    query_params = PAGE_PARAMS

    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_timeline",
        summary="What happened to a job, and who did it",
        description="Submitted, started, cancel requested (by whom), finished..., oldest first.",
        parameters=[JOB_ID, *page_parameters()],
        responses={
            200: ok(s.paginated(s.JobEventSerializer), "One page of events, oldest first."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = job_get(user=request.user, job_id=_ref(job_id, "job", "job_id"))
        page = paginate(request, job_timeline(job=job))
        return Response(page.envelope(s.JobEventSerializer(page.results, many=True).data))


class JobFileListView(ApiView):
    query_params = PAGE_PARAMS

    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_files_list",
        summary="The files of a job, with their line counts",
        parameters=[JOB_ID, *page_parameters()],
        responses={
            200: ok(s.paginated(s.JobFileSerializer), "One page of files, in job order."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = job_get(user=request.user, job_id=_ref(job_id, "job", "job_id"))
        page = paginate(request, job_files(job=job))
        return Response(page.envelope(s.JobFileSerializer(page.results, many=True).data))


def _job_file(request: Request, job_id: str, index: str) -> tuple[Job, JobFile]:
    job = job_get(user=request.user, job_id=_ref(job_id, "job", "job_id"))
    number = int(_ref(index, "file", "index", _INDEX))
    file = job_files(job=job).filter(index=number).first()
    if file is None:
        raise NotFound(f"job {job.pk} has no file {number}", field="index")
    return job, file


class JobFileDetailView(ApiView):
    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_files_retrieve",
        summary="One file of a job, with its log",
        parameters=[JOB_ID, FILE_INDEX],
        responses={200: ok(s.JobFileDetailSerializer, "The file."), **errors(401, 404)},
    )
    def get(self, request: Request, job_id: str, index: str) -> Response:
        _, file = _job_file(request, job_id, index)
        return Response(s.JobFileDetailSerializer(file).data)


class JobFailedLinesView(ApiView):
    query_params = PAGE_PARAMS

    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_failed_lines_list",
        summary="Lines a job rejected (all files)",
        description="Ordered by file and line number. Also as CSV: `failed-lines.csv`.",
        parameters=[JOB_ID, *page_parameters()],
        responses={
            200: ok(s.paginated(s.FailedLineSerializer), "One page of failed lines."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, job_id: str, index: str | None = None) -> Response:
        if index is None:
            job = job_get(user=request.user, job_id=_ref(job_id, "job", "job_id"))
            rows = job_failed_lines(job=job)
        else:
            job, file = _job_file(request, job_id, index)
            rows = job_failed_lines(job=job, file_index=file.index)
        page = paginate(request, rows)
        return Response(page.envelope(s.FailedLineSerializer(page.results, many=True).data))


class JobFileFailedLinesView(JobFailedLinesView):
    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_files_failed_lines_list",
        summary="Lines a job rejected in one file",
        parameters=[JOB_ID, FILE_INDEX, *page_parameters()],
        responses={
            200: ok(s.paginated(s.FailedLineSerializer), "One page of failed lines."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, job_id: str, index: str | None = None) -> Response:
        return super().get(request, job_id, index)


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return data


# Content is chosen by the Accept header only (see ApiContentNegotiation): no ?format=.
NO_FORMAT = OpenApiParameter("format", exclude=True)

CSV_RESPONSE = OpenApiResponse(
    {"type": "string"},
    description=(
        "CSV with a header row: " + ",".join(FAILED_LINES_HEADER) + ". The failed lines kept "
        "(`failed_lines_kept`), in file order; when some were not kept, the file name says so "
        "(`job-<id>-failed-lines-first-10000-of-15000.csv`)."
    ),
)


class JobFailedLinesCsvView(ApiView):
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_failed_lines_csv",
        summary="Lines a job rejected, as a CSV download",
        parameters=[JOB_ID, NO_FORMAT],
        responses={(200, "text/csv"): CSV_RESPONSE, **errors(401, 404)},
    )
    def get(self, request: Request, job_id: str, index: str | None = None) -> Any:
        if index is None:
            job = job_get(user=request.user, job_id=_ref(job_id, "job", "job_id"))
            number = None
        else:
            job, file = _job_file(request, job_id, index)
            number = file.index
        rows = job_failed_lines(job=job, file_index=number)
        kept, failed = failed_lines_kept(job=job, file_index=number)
        name = failed_lines_filename(job.pk, number, kept=kept, failed=failed)
        return csv_download(failed_lines_csv(rows), name)


class JobListCsvView(ApiView):
    query_params = frozenset(JobFilterSet.base_filters)
    renderer_classes = [JSONRenderer, CsvRenderer]

    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_list_csv",
        summary="Every job matching the filters, as a CSV download",
        description=(
            "The whole result of the job list's filters and ordering (not one page), "
            "streamed. Times are UTC ISO 8601."
        ),
        parameters=[*filterset_parameters(JobFilterSet), NO_FORMAT],
        responses={
            (200, "text/csv"): OpenApiResponse(
                {"type": "string"},
                description="CSV with a header row: " + ",".join(JOBS_HEADER),
            ),
            **errors(400, 401),
        },
    )
    def get(self, request: Request) -> Any:
        jobs = job_list_filtered(user=request.user, data=request.query_params)
        return csv_download(jobs_csv(jobs), jobs_filename(timezone.now()))


class JobFileFailedLinesCsvView(JobFailedLinesCsvView):
    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_files_failed_lines_csv",
        summary="Lines a job rejected in one file, as a CSV download",
        parameters=[JOB_ID, FILE_INDEX, NO_FORMAT],
        responses={(200, "text/csv"): CSV_RESPONSE, **errors(401, 404)},
    )
    def get(self, request: Request, job_id: str, index: str | None = None) -> Any:
        return super().get(request, job_id, index)


# --- graphs and imports ----------------------------------------------------------------------

GRAPH_ID = id_parameter("graph_id", "graph")


class GraphListView(ApiView):
    query_params = frozenset(GraphFilterSet.base_filters) | PAGE_PARAMS

    @extend_schema(
        tags=["graphs"],
        operation_id="graphs_list",
        summary="List graphs",
        parameters=[*filterset_parameters(GraphFilterSet), *page_parameters()],
        responses={
            200: ok(s.paginated(s.GraphSerializer), "One page of graphs."),
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
        return Response(page.envelope(s.GraphSerializer(page.results, many=True).data))

    @extend_schema(
        tags=["graphs"],
        operation_id="graphs_create",
        summary="Create a graph",
        description=(
            "With a schema in the GES form (schema.xml text; optional, an import can bring "
            "it) or the GraphScope form (graph definition object; required). Needs the "
            "operator role in the project."
        ),
        request=s.GraphCreateSerializer,
        responses={
            201: ok(s.GraphDetailSerializer, "The new graph; `Location` is its URL."),
            **errors(400, 401, 403, 409, 415),
        },
    )
    def post(self, request: Request) -> Response:
        data = s.GraphCreateSerializer(data=request.data)
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
        return _created(s.GraphDetailSerializer(graph).data, f"/api/v1/graphs/{graph.pk}/")


class GraphDetailView(ApiView):
    @extend_schema(
        tags=["graphs"],
        operation_id="graphs_retrieve",
        summary="One graph, with its schema",
        parameters=[GRAPH_ID],
        responses={200: ok(s.GraphDetailSerializer, "The graph."), **errors(401, 404)},
    )
    def get(self, request: Request, graph_id: str) -> Response:
        graph = graph_get_by_id(user=request.user, graph_id=_ref(graph_id, "graph", "graph_id"))
        return Response(s.GraphDetailSerializer(graph).data)

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
            202: ok(s.JobSerializer, "The deletion job; `Location` is its URL."),
            **errors(401, 403, 404, 409),
        },
    )
    def delete(self, request: Request, graph_id: str) -> Response:
        graph = graph_get_by_id(user=request.user, graph_id=_ref(graph_id, "graph", "graph_id"))
        job = graph_delete_submit(graph=graph, user=request.user)
        return _created(s.JobSerializer(job).data, _job_url(job), status.HTTP_202_ACCEPTED)


class GraphImportView(ApiView):
    parser_classes = [ApiJSONParser, ApiMultiPartParser]

    @extend_schema(
        tags=["imports"],
        operation_id="graphs_import",
        summary="Import data into a graph (a job)",
        description=(
            "JSON: name files on the server, under the import roots (GES `request` or "
            "GraphScope `mapping`). multipart/form-data: upload the files (GES `schema`, "
            "`vertices`, `edges`, `options`; GraphScope `files` and `mapping`). The whole "
            "request is checked (paths, schema, mappings) before the job is queued. Needs the "
            "operator role."
        ),
        parameters=[GRAPH_ID],
        request={
            "application/json": s.ImportInputSerializer,
            "multipart/form-data": s.ImportUploadSerializer,
        },
        responses={
            201: ok(s.JobDetailSerializer, "The import job, queued; `Location` is its URL."),
            **errors(400, 401, 403, 404, 409, 415),
        },
    )
    def post(self, request: Request, graph_id: str) -> Response:
        graph = graph_get_by_id(user=request.user, graph_id=_ref(graph_id, "graph", "graph_id"))
        if request.content_type.startswith("multipart/"):
            upload = s.ImportUploadSerializer(data=request.data)
            upload.is_valid(raise_exception=True)
            job = job_submit_import_upload(
                graph=graph,
                fmt=upload.validated_data["format"],
                uploads=upload.uploads(),
                options=upload.validated_data["options"],
                user=request.user,
                name=upload.validated_data["name"],
            )
        else:
            data = s.ImportInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            job = job_submit_import(
                graph=graph,
                params=data.params(),
                user=request.user,
                name=data.validated_data["name"],
            )
        return _created(_job_detail(job), _job_url(job))


# --- projects and members --------------------------------------------------------------------

PROJECT = OpenApiParameter(
    "project",
    {"type": "string", "pattern": f"^{_REF.pattern}$"},
    OpenApiParameter.PATH,
    description="Project name.",
)
USERNAME = OpenApiParameter("username", OpenApiTypes.STR, OpenApiParameter.PATH)


def _project(request: Request, name: str) -> Any:
    return project_get_for_user(user=request.user, name=_ref(name, "project", "project"))


class ProjectListView(ApiView):
    query_params = PAGE_PARAMS

    @extend_schema(
        tags=["projects"],
        operation_id="projects_list",
        summary="Your projects, with your role in each",
        parameters=page_parameters(),
        responses={
            200: ok(s.paginated(s.ProjectSerializer), "One page of projects."),
            **errors(400, 401),
        },
    )
    def get(self, request: Request) -> Response:
        page = paginate(request, project_list_with_role(user=request.user))
        return Response(page.envelope(s.ProjectSerializer(page.results, many=True).data))

    @extend_schema(
        tags=["projects"],
        operation_id="projects_create",
        summary="Create a project (site administrators)",
        description="You become its admin.",
        request=s.ProjectCreateSerializer,
        responses={
            201: ok(s.ProjectSerializer, "The new project; `Location` is its URL."),
            **errors(400, 401, 403, 409, 415),
        },
    )
    def post(self, request: Request) -> Response:
        if not IsSiteAdmin().has_permission(request, self):
            raise drf.PermissionDenied(IsSiteAdmin.message)
        data = s.ProjectCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                project = project_create(
                    name=data.validated_data["name"],
                    description=data.validated_data.get("description", ""),
                    admin=request.user,
                )
        except IntegrityError:
            raise Conflict(
                f"project {data.validated_data['name']!r} already exists", field="name"
            ) from None
        project.role = Role.ADMIN  # type: ignore[attr-defined]
        return _created(s.ProjectSerializer(project).data, f"/api/v1/projects/{project.name}/")


class ProjectDetailView(ApiView):
    @extend_schema(
        tags=["projects"],
        operation_id="projects_retrieve",
        summary="One of your projects",
        parameters=[PROJECT],
        responses={200: ok(s.ProjectSerializer, "The project."), **errors(401, 404)},
    )
    def get(self, request: Request, project: str) -> Response:
        obj = _project(request, project)
        obj.role = project_role(user=request.user, project=obj)
        return Response(s.ProjectSerializer(obj).data)

    @extend_schema(
        tags=["projects"],
        operation_id="projects_partial_update",
        summary="Change a project's description or result retention",
        description="Needs the admin role in the project.",
        parameters=[PROJECT],
        request=s.ProjectUpdateSerializer,
        responses={
            200: ok(s.ProjectSerializer, "The project as it is now."),
            **errors(401, 403, 404),
        },
    )
    def patch(self, request: Request, project: str) -> Response:
        obj = _project(request, project)
        data = s.ProjectUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        obj = project_update(project=obj, user=request.user, **data.validated_data)
        obj.role = project_role(user=request.user, project=obj)
        return Response(s.ProjectSerializer(obj).data)


class MemberListView(ApiView):
    query_params = PAGE_PARAMS

    @extend_schema(
        tags=["projects"],
        operation_id="projects_members_list",
        summary="Members of a project and their roles",
        parameters=[PROJECT, *page_parameters()],
        responses={
            200: ok(s.paginated(s.MemberSerializer), "One page of members."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, project: str) -> Response:
        page = paginate(request, project_members(project=_project(request, project)))
        return Response(page.envelope(s.MemberSerializer(page.results, many=True).data))

    @extend_schema(
        tags=["projects"],
        operation_id="projects_members_set",
        summary="Add a user to a project, or change their role (project admins)",
        parameters=[PROJECT],
        request=s.MemberInputSerializer,
        responses={
            200: ok(s.MemberSerializer, "The membership as it is now."),
            **errors(400, 401, 403, 404, 415),
        },
    )
    def post(self, request: Request, project: str) -> Response:
        obj = _project(request, project)
        require_role(user=request.user, project=obj, role=Role.ADMIN)
        data = s.MemberInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            user = user_get_by_username(username=data.validated_data["username"])
        except NotFound as exc:
            raise InvalidInput(exc.message, field="username") from None
        membership = membership_set(project=obj, user=user, role=Role(data.validated_data["role"]))
        return Response(s.MemberSerializer(membership).data)


class MemberDetailView(ApiView):
    @extend_schema(
        tags=["projects"],
        operation_id="projects_members_remove",
        summary="Remove a user from a project (project admins)",
        parameters=[PROJECT, USERNAME],
        responses={204: OpenApiResponse(description="Removed."), **errors(401, 403, 404)},
    )
    def delete(self, request: Request, project: str, username: str) -> Response:
        obj = _project(request, project)
        require_role(user=request.user, project=obj, role=Role.ADMIN)
        user = user_get_by_username(username=_ref(username, "user", "username", _USERNAME))
        if not membership_remove(project=obj, user=user):
            raise NotFound(f"user {username!r} is not a member of {obj.name}", field="username")
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- anything else under /api/ -----------------------------------------------------------------


def not_found(request: HttpRequest, path: str = "") -> Any:
    """Unknown API URLs get the JSON error shape; a missing trailing slash is redirected
    (308 keeps the method and body)."""
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            target = request.path + "/"
            if request.META.get("QUERY_STRING"):
                target += "?" + request.META["QUERY_STRING"]
            return HttpResponsePermanentRedirect(target, status=308)
    return JsonResponse(
        error_body("not_found", f"no API endpoint at {request.path[:200]}"), status=404
    )
