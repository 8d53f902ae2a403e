"""A job's files (with their line counts and logs) and the lines it rejected, for the whole job
or one file, as pages or as a CSV download."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.pagination import PAGE_PARAMS, paginate
from jobcenter.api.schema import errors, ok, page_parameters
from jobcenter.api.serializers.common import paginated
from jobcenter.api.serializers.jobs import (
    FailedLineSerializer,
    JobFileDetailSerializer,
    JobFileSerializer,
)
from jobcenter.api.views.base import JOB_ID, NO_FORMAT, ApiView, CsvRenderer, path_ref
from jobcenter.core.errors import NotFound
from jobcenter.jobs.downloads import (
    FAILED_LINES_HEADER,
    csv_download,
    failed_lines_csv,
    failed_lines_filename,
)
from jobcenter.jobs.models import Job, JobFile
from jobcenter.jobs.selectors import failed_lines_kept, job_failed_lines, job_files, job_get

_INDEX = re.compile(r"[0-9]{1,9}")

FILE_INDEX = OpenApiParameter(
    "index",
    {"type": "integer", "minimum": 0, "maximum": 10**9 - 1},
    OpenApiParameter.PATH,
    description="The file's index in the job (from 0).",
)


class JobFileListView(ApiView):
    query_params = PAGE_PARAMS

    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_files_list",
        summary="The files of a job, with their line counts",
        parameters=[JOB_ID, *page_parameters()],
        responses={
            200: ok(paginated(JobFileSerializer), "One page of files, in job order."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, job_id: str) -> Response:
        job = job_get(user=request.user, job_id=path_ref(job_id, "job", "job_id"))
        page = paginate(request, job_files(job=job))
        return Response(page.envelope(JobFileSerializer(page.results, many=True).data))


def _job_file(request: Request, job_id: str, index: str) -> tuple[Job, JobFile]:
    job = job_get(user=request.user, job_id=path_ref(job_id, "job", "job_id"))
    number = int(path_ref(index, "file", "index", _INDEX))
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
        responses={200: ok(JobFileDetailSerializer, "The file."), **errors(401, 404)},
    )
    def get(self, request: Request, job_id: str, index: str) -> Response:
        _, file = _job_file(request, job_id, index)
        return Response(JobFileDetailSerializer(file).data)


class JobFailedLinesView(ApiView):
    query_params = PAGE_PARAMS

    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_failed_lines_list",
        summary="Lines a job rejected (all files)",
        description="Ordered by file and line number. Also as CSV: `failed-lines.csv`.",
        parameters=[JOB_ID, *page_parameters()],
        responses={
            200: ok(paginated(FailedLineSerializer), "One page of failed lines."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, job_id: str, index: str | None = None) -> Response:
        if index is None:
            job = job_get(user=request.user, job_id=path_ref(job_id, "job", "job_id"))
            rows = job_failed_lines(job=job)
        else:
            job, file = _job_file(request, job_id, index)
            rows = job_failed_lines(job=job, file_index=file.index)
        page = paginate(request, rows)
        return Response(page.envelope(FailedLineSerializer(page.results, many=True).data))


class JobFileFailedLinesView(JobFailedLinesView):
    @extend_schema(
        tags=["jobs"],
        operation_id="jobs_files_failed_lines_list",
        summary="Lines a job rejected in one file",
        parameters=[JOB_ID, FILE_INDEX, *page_parameters()],
        responses={
            200: ok(paginated(FailedLineSerializer), "One page of failed lines."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, job_id: str, index: str | None = None) -> Response:
        return super().get(request, job_id, index)


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
            job = job_get(user=request.user, job_id=path_ref(job_id, "job", "job_id"))
            number = None
        else:
            job, file = _job_file(request, job_id, index)
            number = file.index
        rows = job_failed_lines(job=job, file_index=number)
        kept, failed = failed_lines_kept(job=job, file_index=number)
        name = failed_lines_filename(job.pk, number, kept=kept, failed=failed)
        return csv_download(failed_lines_csv(rows), name)


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
