"""Failed lines of a job or of one of its files: paged JSON and CSV downloads."""

from __future__ import annotations

import csv
import io

import pytest

from jobcenter.jobs.models import FailedLine, Job, JobFile
from jobcenter.jobs.runner import execute_job
from tests.api.conftest import assert_error
from tests.factories.jobs import DATA_ONLY, ges_movie_import, make_job

pytestmark = pytest.mark.django_db

LINE_KEYS = {"file", "path", "line_number", "reason", "message", "raw"}


@pytest.fixture
def lines(project, graph) -> Job:
    """A job with failures in both files, written out of order, some awkward for CSV."""
    job = make_job(project, graph, files=DATA_ONLY)
    vertex, edge = JobFile.objects.filter(job=job).order_by("index")
    rows = [
        (edge, 7, "bad_type", "Score: 'four' is not a double", 'Ada,Heat,rate,"four"'),
        (vertex, 12, "too_long", "Zip: too long", 'Dora,user,Zoë, "Z"\n,123456'),
        (vertex, 3, "not_in_enum", "Gender: 'X'", "Bob,user,Bob K,X"),
        (edge, 2, "missing_vertex", "source vertex 'Ghost' does not exist", "=1+1,Heat"),
    ]
    FailedLine.objects.bulk_create(
        FailedLine(job=job, file=f, line_number=n, reason=r, message=m, raw=raw)
        for f, n, r, m, raw in rows
    )
    return job


def test_failed_lines_are_paged_by_file_then_line(viewer_api, lines):
    response = viewer_api.get(f"/api/v1/jobs/{lines.pk}/failed-lines/", {"limit": 3})
    page = response.json()
    assert page["count"] == 4
    got = [(r["file"], r["line_number"]) for r in page["results"]]
    assert got == [(0, 3), (0, 12), (1, 2)]
    assert all(set(r) == LINE_KEYS for r in page["results"])
    assert page["results"][0] == {
        "file": 0,
        "path": "vertex.csv",
        "line_number": 3,
        "reason": "not_in_enum",
        "message": "Gender: 'X'",
        "raw": "Bob,user,Bob K,X",
    }
    rest = viewer_api.get(page["next"]).json()
    assert [(r["file"], r["line_number"]) for r in rest["results"]] == [(1, 7)]


def test_failed_lines_of_one_file(api, lines):
    page = api.get(f"/api/v1/jobs/{lines.pk}/files/1/failed-lines/").json()
    assert [r["line_number"] for r in page["results"]] == [2, 7]
    assert {r["path"] for r in page["results"]} == {"edge.csv"}
    cursor = api.get(f"/api/v1/jobs/{lines.pk}/files/1/failed-lines/?cursor=&limit=1").json()
    assert [r["line_number"] for r in cursor["results"]] == [2]
    assert [r["line_number"] for r in api.get(cursor["next"]).json()["results"]] == [7]


def parse_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(text)))


def test_csv_download_of_a_job(api, lines):
    response = api.get(f"/api/v1/jobs/{lines.pk}/failed-lines.csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="job-{lines.pk}-failed-lines.csv"'
    )
    rows = parse_csv(response)
    assert rows[0] == ["file", "role", "path", "line_number", "reason", "message", "raw"]
    assert [(r[0], r[3]) for r in rows[1:]] == [("0", "3"), ("0", "12"), ("1", "2"), ("1", "7")]
    assert rows[2][6] == 'Dora,user,Zoë, "Z"\n,123456'  # commas, quotes, newline, UTF-8
    assert rows[3][6] == "=1+1,Heat"


def test_csv_download_of_one_file(api, lines):
    response = api.get(f"/api/v1/jobs/{lines.pk}/files/0/failed-lines.csv")
    assert response["Content-Disposition"].endswith(f'"job-{lines.pk}-file-0-failed-lines.csv"')
    assert [r[3] for r in parse_csv(response)[1:]] == ["3", "12"]


def test_csv_of_a_job_without_failures_is_just_the_header(api, jobs):
    rows = parse_csv(api.get(f"/api/v1/jobs/{jobs['succeeded'].pk}/failed-lines.csv"))
    assert rows == [["file", "role", "path", "line_number", "reason", "message", "raw"]]


def test_csv_streams_every_line_not_one_page(api, project, graph):
    job = make_job(project, graph)
    file = job.files.get(index=0)
    FailedLine.objects.bulk_create(
        (
            FailedLine(job=job, file=file, line_number=n, reason="bad", message="m", raw=f"r{n}")
            for n in range(1, 5001)
        ),
        batch_size=1000,
    )
    rows = parse_csv(api.get(f"/api/v1/jobs/{job.pk}/failed-lines.csv"))
    assert len(rows) == 5001 and rows[-1][3] == "5000"


def test_errors_stay_json_on_csv_urls(api, client_for, lines, other):
    assert_error(api.get("/api/v1/jobs/" + "a" * 32 + "/failed-lines.csv"), 404, "not_found")
    assert_error(api.get(f"/api/v1/jobs/{lines.pk}/files/9/failed-lines.csv"), 404, "not_found")
    assert_error(api.get(f"/api/v1/jobs/{other['job'].pk}/failed-lines.csv"), 404, "not_found")
    assert_error(api.get(f"/api/v1/jobs/{lines.pk}/failed-lines.csv", {"page": "2"}), 400)
    assert_error(client_for(None).get(f"/api/v1/jobs/{lines.pk}/failed-lines.csv"), 401)


@pytest.mark.django_db(transaction=True)  # the worker's code runs here
def test_above_the_cap_the_api_and_the_csv_say_how_many_failed_lines_were_kept(
    api, graph, operator
):
    """Issue 13: every failed line is counted, at most ``max_failed_records`` per file kept; the
    files and the job say how many (``failed_lines_kept``), the CSV's name too."""
    job = ges_movie_import(graph, user=operator, max_failed_records=2)
    execute_job(job_id=job.pk)
    body = api.get(f"/api/v1/jobs/{job.pk}/").json()
    assert (body["failed_lines"], body["failed_lines_kept"]) == (8, 4)
    assert [(f["failed_lines"], f["failed_lines_kept"]) for f in body["files"]] == [
        (0, 0),
        (4, 2),
        (4, 2),
    ]
    whole = api.get(f"/api/v1/jobs/{job.pk}/failed-lines.csv")
    assert whole["Content-Disposition"] == (
        f'attachment; filename="job-{job.pk}-failed-lines-first-4-of-8.csv"'
    )
    assert len(parse_csv(whole)) == 1 + 4
    one = api.get(f"/api/v1/jobs/{job.pk}/files/2/failed-lines.csv")
    assert one["Content-Disposition"].endswith(
        f'"job-{job.pk}-file-2-failed-lines-first-2-of-4.csv"'
    )
    assert [r[3] for r in parse_csv(one)[1:]] == ["6", "7"]  # the first ones, in file order
    schema = api.get(f"/api/v1/jobs/{job.pk}/files/0/failed-lines.csv")
    assert schema["Content-Disposition"].endswith(f'"job-{job.pk}-file-0-failed-lines.csv"')


@pytest.mark.django_db(transaction=True)
def test_every_failed_line_kept_keeps_the_plain_csv_name(api, graph, operator):
    job = ges_movie_import(graph, user=operator)
    execute_job(job_id=job.pk)
    assert api.get(f"/api/v1/jobs/{job.pk}/").json()["failed_lines_kept"] == 8
    response = api.get(f"/api/v1/jobs/{job.pk}/failed-lines.csv")
    assert response["Content-Disposition"].endswith(f'"job-{job.pk}-failed-lines.csv"')
    raws = [r[6] for r in parse_csv(response)[1:]]
    assert raws[0] == "Bob,user,Bob K,X,44,94110,"  # the line as it is in the file
