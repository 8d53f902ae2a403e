"""The CSV downloads shared by the API and the dashboard."""

from __future__ import annotations

import csv
import io

import pytest

from jobcenter.jobs.downloads import (
    FAILED_LINES_HEADER,
    failed_lines_csv,
    failed_lines_filename,
    result_filename,
)
from jobcenter.jobs.models import FailedLine
from jobcenter.jobs.selectors import job_failed_lines
from tests.factories.graphs import ges_graph
from tests.factories.jobs import DATA_ONLY, make_job
from tests.factories.projects import project_with_members

pytestmark = pytest.mark.django_db


def test_failed_lines_csv_quotes_raw_lines_and_keeps_their_order():
    project = project_with_members("alpha")
    job = make_job(project, ges_graph(project), files=DATA_ONLY)
    vertex, edge = job.files.get(index=0), job.files.get(index=1)
    FailedLine.objects.bulk_create(
        [
            FailedLine(job=job, file=edge, line_number=2, reason="bad_type", message="m2", raw="a"),
            FailedLine(
                job=job,
                file=vertex,
                line_number=7,
                reason="too_long",
                message='say "x"',
                raw='Zoë,"quoted",\nnext line',
            ),
        ]
    )
    text = "".join(failed_lines_csv(job_failed_lines(job=job)))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows == [
        FAILED_LINES_HEADER,
        ["0", "vertex", "vertex.csv", "7", "too_long", 'say "x"', 'Zoë,"quoted",\nnext line'],
        ["1", "edge", "edge.csv", "2", "bad_type", "m2", "a"],
    ]


def test_filenames_name_the_job_and_the_file():
    assert failed_lines_filename("abc") == "job-abc-failed-lines.csv"
    assert failed_lines_filename("abc", 0) == "job-abc-file-0-failed-lines.csv"
    assert result_filename("abc") == "job-abc-result.csv"
