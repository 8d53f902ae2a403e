"""``manage.py jobs show`` says how many failed lines there are and how many it shows;
``manage.py jobs failed-lines`` writes every kept one (as the API's failed-lines.csv with
--csv), streamed. Real imports, run to their end by the real runner, on both databases."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.test import APIClient

from jobcenter.jobs.downloads import FAILED_LINES_HEADER
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.factories.projects import user_create

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parents[2]
MOVIE = shared_data("ges_movie")
CAP = 25  # failed lines kept per file in these tests (JOBCENTER_MAX_FAILED_RECORDS)


def jobs_cli(*args: str, stdout: Any = None) -> str:
    out = stdout if stdout is not None else io.StringIO()
    call_command("jobs", *args, stdout=out)
    return out.getvalue() if stdout is None else ""


def many_failures(directory: Path, *, vertices: int = 60) -> dict[str, str]:
    """A GES request: of ``vertices`` lines, every odd one a bad Age (bad_type), every fourth
    an unknown label, the rest good; 5 edges from vertices that do not exist."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(vertices):
        if i % 2:
            lines.append(f"u{i},user,U {i},F,not-a-number,12345,\n")
        elif i % 4 == 0:
            lines.append(f"u{i},spaceship,U {i},1979\n")
        else:
            lines.append(f"u{i},user,U {i},F,30,12345,\n")
    (directory / "vertex.csv").write_text("".join(lines))
    (directory / "edge.csv").write_text("".join(f"ghost{i},u2,friends\n" for i in range(5)))
    return {
        "schema_path": str(MOVIE / "schema.xml"),
        "vertexset_path": str(directory / "vertex.csv"),
        "edgeset_path": str(directory / "edge.csv"),
    }


@pytest.fixture
def api() -> APIClient:
    client = APIClient()
    client.force_authenticate(user_create("root", superuser=True))
    return client


@pytest.fixture
def capped(settings, project, imports_dir, api) -> Job:
    """An import with 50 failed lines: 45 in the vertex file (25 kept), 5 in the edge file."""
    settings.JOBCENTER_MAX_FAILED_RECORDS = CAP
    graph = ges_graph(project, "many")
    job = ges_movie_import(graph, **many_failures(imports_dir / "many"))
    execute_job(job_id=job.pk)
    job = Job.objects.get(pk=job.pk)
    assert job.status == "partially_failed", job.fail_reason
    assert [f.failed_lines for f in job.files.order_by("index")] == [0, 45, 5]
    assert job.failed_lines.count() == CAP + 5
    return job


def download(api: APIClient, url: str) -> str:
    response = api.get(url)
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content).decode()


def test_show_says_how_many_there_are_and_how_many_it_shows(capped):
    text = jobs_cli("show", capped.pk)
    assert text.rstrip().endswith(
        "showing 20 of 50 failed lines, 30 of them kept (JOBCENTER_MAX_FAILED_RECORDS per "
        f"file); `jobs failed-lines {capped.pk}` lists the kept ones (--csv for a CSV)"
    )
    assert sum(1 for line in text.splitlines() if line.startswith("    many/vertex.csv:")) == 20
    data = json.loads(jobs_cli("show", capped.pk, "--json"))
    assert (data["failed_lines_total"], data["failed_lines_kept"]) == (50, 30)
    assert len(data["failed_lines"]) == 20


def test_show_when_every_failed_line_is_shown_and_kept(project, api):
    job = ges_movie_import(ges_graph(project, "movies"))
    execute_job(job_id=job.pk)
    text = jobs_cli("show", job.pk)
    assert text.rstrip().endswith(
        f"showing 8 of 8 failed lines; `jobs failed-lines {job.pk}` lists them all "
        "(--csv for a CSV)"
    )
    clean = ges_movie_import(ges_graph(project, "clean"), vertexset_path=None, edgeset_path=None)
    execute_job(job_id=clean.pk)
    assert "failed lines" not in jobs_cli("show", clean.pk)  # none: nothing to say


def test_failed_lines_csv_is_the_apis_download(capped, api):
    base = f"/api/v1/jobs/{capped.pk}"
    every = jobs_cli("failed-lines", capped.pk, "--csv")
    assert every == download(api, f"{base}/failed-lines.csv")
    rows = list(csv.reader(io.StringIO(every)))
    assert rows[0] == FAILED_LINES_HEADER and len(rows) == 1 + 30
    for index in (0, 1, 2):
        assert jobs_cli("failed-lines", capped.pk, "--file", str(index), "--csv") == download(
            api, f"{base}/files/{index}/failed-lines.csv"
        )
    bad_type = jobs_cli("failed-lines", capped.pk, "--reason", "bad_type", "--csv")
    assert list(csv.reader(io.StringIO(bad_type))) == [rows[0]] + [
        row for row in rows[1:] if row[4] == "bad_type"
    ]
    assert len(bad_type.splitlines()) == 1 + 16  # kept: lines 1-33, 2 in 3 failed a bad Age
    missing = jobs_cli("failed-lines", capped.pk, "--file", "1", "--reason", "missing_vertex")
    assert missing == "no failed lines match\n"


def test_failed_lines_as_text_and_json(capped):
    text = jobs_cli("failed-lines", capped.pk, "--file", "2").splitlines()
    assert text[:2] == [
        "many/edge.csv:1 missing_vertex: source vertex 'ghost0' does not exist",
        "    ghost0,u2,friends",
    ]
    assert len(text) == 2 * 5
    data = json.loads(jobs_cli("failed-lines", capped.pk, "--json"))
    assert len(data) == 30
    assert data[0] == {
        "file": "many/vertex.csv",
        "line": 1,
        "reason": "unknown_label",
        "message": "label 'spaceship' is not a vertex label of the schema",
        "raw": "u0,spaceship,U 0,1979",
    }
    assert json.loads(jobs_cli("failed-lines", capped.pk, "--json", "--reason", "encoding")) == []


def test_failed_lines_are_written_as_they_are_read(capped):
    class Writes(io.StringIO):
        sizes: list[int] = []

        def write(self, text: str) -> int:
            self.sizes.append(len(text))
            return super().write(text)

    out = Writes()
    jobs_cli("failed-lines", capped.pk, "--csv", stdout=out)
    assert len(out.sizes) == 1 + 30 and max(out.sizes) < 200  # a line each, not one block


def test_what_cannot_be_listed_is_said(capped):
    with pytest.raises(CommandError, match="job 'nope' does not exist"):
        jobs_cli("failed-lines", "nope")
    with pytest.raises(CommandError, match=f"job {capped.pk} has no file 3"):
        jobs_cli("failed-lines", capped.pk, "--file", "3")
    with pytest.raises(CommandError, match="argument --reason: invalid choice: 'typo'"):
        jobs_cli("failed-lines", capped.pk, "--reason", "typo")


def test_a_reader_that_stops_early_is_no_error(project, imports_dir):
    """``jobs failed-lines ID | head -1`` (a real process, output beyond the pipe's buffer):
    exit 0 and nothing on stderr, not a BrokenPipeError traceback."""
    graph = ges_graph(project, "big")
    job = ges_movie_import(graph, **many_failures(imports_dir / "big", vertices=8000))
    execute_job(job_id=job.pk)
    assert Job.objects.get(pk=job.pk).failed_lines.count() > 5000
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "JOBCENTER_TEST_WORKER": "1",  # the test database
        "JOBCENTER_DATA_DIR": str(django_settings.DATA_DIR),
    }
    for output in ("", "--csv", "--json"):
        done = subprocess.run(
            [
                "bash",
                "-c",
                f'set -o pipefail; "$0" manage.py jobs failed-lines {job.pk} {output} | head -1',
                sys.executable,
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (done.returncode, done.stderr) == (0, ""), output
        assert done.stdout.count("\n") == 1
