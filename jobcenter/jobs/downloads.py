"""CSV downloads of a job list, of a job's failed lines and of its result: one format each,
whichever face (the API or the dashboard) serves it. All stream: rows are written as they are
read, so a download of a million jobs holds one chunk in memory."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from jobcenter.core.times import utc_iso
from jobcenter.jobs.models import FailedLine, Job
from jobcenter.jobs.results import ResultReader

JOBS_HEADER = [
    "id",
    "type",
    "name",
    "project",
    "graph",
    "status",
    "progress",
    "created_at",
    "started_at",
    "finished_at",
    "duration_seconds",
    "submitted_by",
    "cancel_requested_by",
    "lines_total",
    "lines_done",
    "fail_reason",
    "retry_of",
]
FAILED_LINES_HEADER = ["file", "role", "path", "line_number", "reason", "message", "raw"]


class _Echo:
    """A file whose ``write`` hands the text back, so ``csv.writer`` yields lines."""

    def write(self, value: str) -> str:
        return value


def failed_lines_csv(lines: QuerySet[FailedLine]) -> Iterator[str]:
    """The failed lines (with their files selected) as CSV lines, header first."""
    writer = csv.writer(_Echo())
    yield writer.writerow(FAILED_LINES_HEADER)
    for line in lines.iterator(chunk_size=2000):
        file = line.file
        yield writer.writerow(
            [
                file.index,
                file.role,
                file.path,
                line.line_number,
                line.reason,
                line.message,
                line.raw,
            ]
        )


def failed_lines_filename(
    job_id: str, file_index: int | None = None, *, kept: int = 0, failed: int = 0
) -> str:
    """``job-<id>[-file-<n>]-failed-lines.csv``; when not every failed line was kept (the
    cap per file), the name says how many it holds: ``...-failed-lines-first-10-of-15.csv``."""
    part = "" if file_index is None else f"-file-{file_index}"
    some = f"-first-{kept}-of-{failed}" if failed > kept else ""
    return f"job-{job_id}{part}-failed-lines{some}.csv"


def result_csv(reader: ResultReader) -> Iterator[str]:
    """A job's result as CSV lines, its columns first; closes the reader when done."""
    writer = csv.writer(_Echo())
    try:
        yield writer.writerow(reader.columns)
        for row in reader.iter_rows():
            yield writer.writerow(row)
    finally:
        reader.close()


def result_filename(job_id: str) -> str:
    return f"job-{job_id}-result.csv"


def jobs_csv(jobs: QuerySet[Job]) -> Iterator[str]:
    """Every job of ``jobs`` (filtered and ordered as the list is) as CSV lines, header
    first; times in UTC ISO 8601, a running job's duration so far left empty."""
    writer = csv.writer(_Echo())
    yield writer.writerow(JOBS_HEADER)
    rows = jobs.values_list(
        "id",
        "type",
        "name",
        "project__name",
        "graph_name",
        "status",
        "progress",
        "created_at",
        "started_at",
        "finished_at",
        "submitted_by__username",
        "cancel_requested_by__username",
        "lines_total",
        "lines_done",
        "fail_reason",
        "retry_of_id",
    )
    for row in rows.iterator(chunk_size=2000):
        (pk, kind, name, project, graph, status, progress, created, started, finished) = row[:10]
        duration = f"{(finished - started).total_seconds():.3f}" if started and finished else ""
        yield writer.writerow(
            [
                pk,
                kind,
                name,
                project,
                graph,
                status,
                f"{progress:g}",
                utc_iso(created) or "",
                utc_iso(started) or "",
                utc_iso(finished) or "",
                duration,
                row[10] or "",
                row[11] or "",
                row[12],
                row[13],
                row[14],
                row[15] or "",
            ]
        )


def jobs_filename(now: datetime) -> str:
    return f"jobs-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.csv"


def csv_download(lines: Iterator[str], filename: str) -> StreamingHttpResponse:
    """A streamed CSV attachment (the one response every face's CSV download is)."""
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
