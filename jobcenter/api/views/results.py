"""A job's result (an algorithm's, a query's): a page of its rows, or all of them as CSV."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.pagination import MAX_OFFSET, int_param
from jobcenter.api.schema import errors, ok
from jobcenter.api.serializers.results import ResultPageSerializer
from jobcenter.api.views.base import JOB_ID, NO_FORMAT, ApiView, CsvRenderer, path_ref
from jobcenter.jobs.downloads import csv_download, result_csv, result_filename
from jobcenter.jobs.results import ResultReader
from jobcenter.jobs.selectors import job_get, job_result_reader

RESULT_MAX_LIMIT = 100_000  # GES pages job results by at most 100000 rows
RESULT_DEFAULT_LIMIT = 100


def _reader(request: Request, job_id: str) -> tuple[Any, ResultReader]:
    job = job_get(user=request.user, job_id=path_ref(job_id, "job", "job_id"))
    return job, job_result_reader(job=job)


class JobResultView(ApiView):
    query_params = frozenset({"offset", "limit"})

    @extend_schema(
        tags=["analytics"],
        operation_id="jobs_result",
        summary="A page of a job's result",
        description=(
            "`offset` (default 0) and `limit` (default 100, at most 100000) page the rows; "
            "`total` is the size of the whole result. 404 while the job has no result."
        ),
        parameters=[
            JOB_ID,
            OpenApiParameter(
                "offset",
                {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
                description="Rows to skip (default 0).",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": RESULT_MAX_LIMIT},
                description=f"Rows to return, 1 to {RESULT_MAX_LIMIT} (default 100).",
            ),
        ],
        responses={
            200: ok(ResultPageSerializer, "One page of the job's result."),
            **errors(400, 401, 404),
        },
    )
    def get(self, request: Request, job_id: str) -> Response:
        offset = int_param(request, "offset", 0, 0, MAX_OFFSET)
        limit = int_param(request, "limit", RESULT_DEFAULT_LIMIT, 1, RESULT_MAX_LIMIT)
        job, reader = _reader(request, job_id)
        with reader:
            page = reader.page(offset=offset, limit=limit)
        return Response(
            {
                "job": job.pk,
                "kind": page.kind,
                "columns": page.columns,
                "outputs": page.outputs,
                "total": page.total,
                "offset": page.offset,
                "limit": page.limit,
                "rows": page.rows,
            }
        )


class JobResultCsvView(ApiView):
    renderer_classes = [*ApiView.renderer_classes, CsvRenderer]

    @extend_schema(
        tags=["analytics"],
        operation_id="jobs_result_csv",
        summary="A job's whole result as a CSV download",
        parameters=[JOB_ID, NO_FORMAT],
        responses={
            (200, "text/csv"): OpenApiResponse(
                {"type": "string"}, description="A header row with the columns, then every row."
            ),
            **errors(401, 404),
        },
    )
    def get(self, request: Request, job_id: str) -> Any:
        job, reader = _reader(request, job_id)
        return csv_download(result_csv(reader), result_filename(job.pk))
