"""Jobs: the list (a page, or every match as CSV), one job, its timeline, cancel and retry of one
job or of every job matching a filter. Also what every view that submits a job answers."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions as drf
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.pagination import PAGE_PARAMS, paginate
from jobcenter.api.schema import errors, filterset_parameters, ok, page_parameters
from jobcenter.api.serializers.common import paginated
from jobcenter.api.serializers.jobs import (
    BulkCancelInputSerializer,
    BulkCancelResultSerializer,
    BulkRetryInputSerializer,
    BulkRetryResultSerializer,
    JobDetailSerializer,
    JobEventSerializer,
    JobSerializer,
)
from jobcenter.api.views.base import JOB_ID, NO_FORMAT, ApiView, CsvRenderer, created, path_ref
from jobcenter.core.errors import InvalidInput, InvalidState
from jobcenter.jobs.downloads import JOBS_HEADER, csv_download, jobs_csv, jobs_filename
from jobcenter.jobs.filtersets import JobFilterSet
from jobcenter.jobs.listing import job_page
from jobcenter.jobs.models import Job
from jobcenter.jobs.selectors import (
    job_files,
    job_get,
    job_list,
    job_list_filter,
    job_list_filtered,
    job_timeline,
)
from jobcenter.jobs.services import job_cancel, job_cancel_many, job_retry, job_retry_many


def job_url(job: Job) -> str:
    return f"/api/v1/jobs/{job.pk}/"


def job_detail_data(job: Job) -> dict[str, Any]:
    job.file_rows = list(job_files(job=job))  # type: ignore[attr-defined]
    return JobDetailSerializer(job).data


def submitted(job: Job, code: int = 201) -> Response:
    """The answer to a submission: the job, and its URL in the Location header."""
    return created(JobSerializer(job).data, job_url(job), code)


SUBMITTED = {
    201: ok(JobSerializer, "The job, waiting for a worker; its URL is in the Location header."),
    **errors(400, 401, 403, 404, 409),
}


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
        responses={200: ok(paginated(JobSerializer), "One page of jobs."), **errors(400, 401)},
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
        return Response(page.envelope(JobSerializer(page.results, many=True).data))


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
        request=BulkCancelInputSerializer,
        responses={
            200: ok(BulkCancelResultSerializer, "What was cancelled, and what not and why."),
            **errors(400, 401, 415),
        },
    )
    def post(self, request: Request) -> Response:
        jobs = _jobs_matching_body(request, BulkCancelInputSerializer)
        return Response(job_cancel_many(jobs=jobs, user=request.user).summary())


def _jobs_matching_body(request: Request, serializer: type[BulkCancelInputSerializer]) -> Any:
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
        request=BulkRetryInputSerializer,
        responses={
            200: ok(BulkRetryResultSerializer, "What was retried, and what not and why."),
            **errors(400, 401, 415),
        },
    )
    def post(self, request: Request) -> Response:
        jobs = _jobs_matching_body(request, BulkRetryInputSerializer)
        return Response(job_retry_many(jobs=jobs, user=request.user).summary())


class JobDetailView(ApiView):
    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_retrieve",
        summary="One job, with its request and files",
        parameters=[JOB_ID],
        responses={200: ok(JobDetailSerializer, "The job."), **errors(401, 404)},
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = job_get(user=request.user, job_id=path_ref(job_id, "job", "job_id"))
        return Response(job_detail_data(job))


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
            200: ok(JobSerializer, "The job as it is now (cancelled, or cancelling)."),
            **errors(401, 403, 404, 409),
        },
    )
    def post(self, request: Request, job_id: str) -> Response:
        job = job_get(user=request.user, job_id=path_ref(job_id, "job", "job_id"))
        job = job_cancel(job=job, user=request.user)
        return Response(JobSerializer(job).data)


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
            201: ok(JobSerializer, "The new job; `Location` is its URL."),
            **errors(400, 401, 403, 404, 409),
        },
    )
    def post(self, request: Request, job_id: str) -> Response:
        job = job_get(user=request.user, job_id=path_ref(job_id, "job", "job_id"))
        try:
            new = job_retry(job=job, user=request.user)
        except InvalidInput as exc:
            # The request this call retries is the job's, checked again (its files may be gone,
            # its export target taken): the job's state is at fault, not this call, so 409.
            raise InvalidState(
                f"job {job.pk} cannot be retried: {exc.message}", errors=exc.errors
            ) from None
        return created(JobSerializer(new).data, job_url(new))


class JobTimelineView(ApiView):
    query_params = PAGE_PARAMS

    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_timeline",
        summary="What happened to a job, and who did it",
        description="Submitted, started, cancel requested (by whom), finished..., oldest first.",
        parameters=[JOB_ID, *page_parameters()],
        responses={
            200: ok(paginated(JobEventSerializer), "One page of events, oldest first."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = job_get(user=request.user, job_id=path_ref(job_id, "job", "job_id"))
        page = paginate(request, job_timeline(job=job))
        return Response(page.envelope(JobEventSerializer(page.results, many=True).data))


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
