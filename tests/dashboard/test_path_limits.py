"""The dashboard's forms that take server paths (import from server files, graph export, backup
and restore, a result's export) and its file browser, with names of 200 to 5000 bytes
(multi-byte UTF-8): a name the file system takes works to the end of its job, a longer one is
an error next to the field (422). Never a 500, never a server path on the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_submit_algorithm
from tests.dashboard.conftest import post
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.names import FITS, SIZES, name_of

pytestmark = pytest.mark.django_db(transaction=True)

MOVIE = shared_data("ges_movie")


@pytest.fixture
def movies(project):
    graph = ges_graph(project, "movies")
    execute_job(job_id=ges_movie_import(graph).pk)
    return graph


def run(response) -> Job:
    assert response.status_code == 200 and "HX-Redirect" in response, response.status_code
    job_id = re.search(r"/jobs/([0-9a-f]{32})/", response["HX-Redirect"]).group(1)
    execute_job(job_id=job_id)
    return Job.objects.get(pk=job_id)


def refused_next_to(response, field_id: str, size: int) -> None:
    assert response.status_code == 422, response.status_code
    body = response.content.decode()
    error = re.search(rf'id="{field_id}_error">(.*?)</div>', body, re.S)
    assert error, body[:2000]
    assert f"{size} bytes" in error.group(1) or "1024 characters" in error.group(1)
    for root in (*settings.JOBCENTER_EXPORT_ROOTS, *settings.JOBCENTER_IMPORT_ROOTS):
        assert str(root) not in body


@pytest.mark.parametrize("size", SIZES)
def test_graph_operations(oscar, movies, size):
    url = f"/graphs/{movies.pk}/operation/"
    name = name_of(size, suffix=".db")
    cases = {
        "export": {"operation": "export", "export-path": f"ui/{name}"},
        "backup": {"operation": "backup", "backup-path": name},
        "restore": {"operation": "restore", "restore-path": name},
    }
    for operation, data in cases.items():
        response = post(oscar, url, data, htmx=True)
        if size not in FITS:
            refused_next_to(response, f"id_{operation}-path", size)
            continue
        job = run(response)
        assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    if size in FITS:
        assert (Path(settings.JOBCENTER_EXPORT_ROOTS[0]) / name).is_file()


@pytest.mark.parametrize("size", SIZES)
def test_result_export(oscar, movies, size):
    source = job_submit_algorithm(graph=movies, algorithm="pagerank")
    execute_job(job_id=source.pk)
    name = name_of(size, suffix=".csv")
    response = post(oscar, f"/jobs/{source.pk}/result/export/", {"result-path": name}, htmx=True)
    if size not in FITS:
        return refused_next_to(response, "id_result-path", size)
    job = run(response)
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    assert (Path(settings.JOBCENTER_EXPORT_ROOTS[0]) / name).is_file()
    page = oscar.get(f"/jobs/{job.pk}/").content.decode()
    assert str(settings.JOBCENTER_EXPORT_ROOTS[0]) not in page


@pytest.mark.parametrize("size", SIZES)
def test_import_from_server_files(oscar, project, imports_dir, size):
    graph = ges_graph(project, f"g{size}")
    name = name_of(size, suffix=".csv")
    if size in FITS:
        (imports_dir / name).write_bytes((MOVIE / "vertex.csv").read_bytes())
    data = {
        "graph": graph.pk,
        "format": "ges",
        "source": "server",
        "delimiter": ",",
        "trim_quote": '"',
        "parallel_edge": "allow",
        "schema_path": "ges_movie/schema.xml",
        "vertexset_path": name,
    }
    response = post(oscar, "/imports/new/", data, htmx=True)
    if size not in FITS:
        return refused_next_to(response, "id_vertexset_path", size)
    job = run(response)
    assert job.status == JobStatus.PARTIALLY_FAILED, job.fail_reason  # 4 bad lines
    assert job.files.get(index=1).path == name
    page = oscar.get(f"/jobs/{job.pk}/").content.decode()
    assert str(imports_dir) not in page and str(shared_data()) not in page


@pytest.mark.parametrize("size", SIZES)
def test_file_browser(oscar, imports_dir, size):
    name = name_of(size)
    if size in FITS:
        (imports_dir / name).mkdir()
        (imports_dir / name / "v.csv").write_text("a,user\n")
    response = oscar.get("/files/", {"target": "id_vertexset_path", "path": name})
    assert response.status_code == 200
    body = response.content.decode()
    assert str(imports_dir) not in body
    if size in FITS:
        assert f'data-pick="{name}/v.csv"' in body
    else:
        assert 'role="alert"' in body and f"{size} bytes" in body
