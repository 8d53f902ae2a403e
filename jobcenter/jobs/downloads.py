"""CSV downloads of a job's failed lines and of its result: one format, whichever face (the
API or the dashboard) serves it. Both stream: rows are written as they are read."""

from __future__ import annotations

import csv
from collections.abc import Iterator

from django.db.models import QuerySet

from jobcenter.jobs.models import FailedLine
from jobcenter.jobs.results import ResultReader

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


def failed_lines_filename(job_id: str, file_index: int | None = None) -> str:
    part = "" if file_index is None else f"-file-{file_index}"
    return f"job-{job_id}{part}-failed-lines.csv"


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
