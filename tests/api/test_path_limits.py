"""Every native API operation that takes a server path, with names of 200 to 5000 bytes
(multi-byte UTF-8): a name the file system takes is accepted and its job then succeeds in the
worker (whose temporary names are derived from it); a longer one is a 400 naming the field.
Never a 500, never a job that fails later because of its name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from tests.api.conftest import assert_error
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.names import FITS, SIZES, deep_path, name_of

pytestmark = pytest.mark.django_db(transaction=True)

MOVIE = shared_data("ges_movie")


@pytest.fixture
def movies(project):
    graph = ges_graph(project, "movies")
    execute_job(job_id=ges_movie_import(graph).pk)
    return graph


@pytest.fixture
def degrees(api, movies) -> Job:
    url = f"/api/v1/graphs/{movies.pk}/algorithms/"
    return finished(api.post(url, {"algorithm": "pagerank"}, "json"))


def finished(response, status: JobStatus = JobStatus.SUCCEEDED) -> Job:
    assert response.status_code in (201, 202), response.content
    execute_job(job_id=response.json()["id"])
    job = Job.objects.get(pk=response.json()["id"])
    assert job.status == status, job.fail_reason
    return job


def refused(response, field: str, size: int) -> None:
    body = assert_error(response, 400, "invalid", field)
    # the bytes the name has, or (5000 bytes) the characters the field takes
    assert f"{size} bytes" in body["message"] or "1024 characters" in body["message"], body
    for root in (*settings.JOBCENTER_EXPORT_ROOTS, *settings.JOBCENTER_IMPORT_ROOTS):
        assert str(root) not in body["message"]
    assert len(body["message"]) < 600


def exported(name: str) -> Path:
    return Path(settings.JOBCENTER_EXPORT_ROOTS[0]) / name


@pytest.mark.parametrize("size", SIZES)
def test_result_export(api, degrees, size):
    name = name_of(size, suffix=".csv")
    response = api.post(f"/api/v1/jobs/{degrees.pk}/result/export/", {"path": name}, "json")
    if size not in FITS:
        return refused(response, "path", size)
    job = finished(response)
    assert exported(name).read_text().startswith("id,label,")
    assert job.result["path"] == name  # relative to the export root, not a server path
    assert [p.name for p in exported(name).parent.iterdir() if p.name.endswith(".part")] == []


@pytest.mark.parametrize("size", SIZES)
def test_graph_export(api, movies, size):
    name = name_of(size)
    response = api.post(f"/api/v1/graphs/{movies.pk}/export/", {"path": f"g/{name}"}, "json")
    if size not in FITS:
        return refused(response, "path", size)
    finished(response)
    assert sorted(p.name for p in exported(f"g/{name}").iterdir()) == [
        "edge.csv",
        "schema.xml",
        "vertex.csv",
    ]


@pytest.mark.parametrize("size", SIZES)
def test_backup_and_restore(api, movies, size):
    name = name_of(size, suffix=".db")
    url = f"/api/v1/graphs/{movies.pk}/operations/"
    backup = api.post(url, {"operation": "backup", "path": name}, "json")
    restore = api.post(url, {"operation": "restore", "path": name}, "json")
    if size not in FITS:
        refused(backup, "path", size)
        return refused(restore, "path", size)
    assert restore.status_code == 400  # no such backup yet: refused before the job
    job = finished(backup)
    assert job.result["path"] == name
    restored = finished(api.post(url, {"operation": "restore", "path": name}, "json"))
    assert (restored.result["vertices"], restored.result["path"]) == (job.result["vertices"], name)


@pytest.mark.parametrize("size", SIZES)
def test_import_of_server_side_files(api, project, imports_dir, size):
    name = name_of(size, suffix=".csv")
    graph = ges_graph(project, f"g{size}")
    request = {"schema_path": str(MOVIE / "schema.xml"), "vertexset_path": name}
    if size in FITS:
        (imports_dir / name).write_bytes((MOVIE / "vertex.csv").read_bytes())
    response = api.post(
        f"/api/v1/graphs/{graph.pk}/import/", {"format": "ges", "request": request}, "json"
    )
    if size not in FITS:
        return refused(response, "vertexset_path", size)
    assert response.json()["files"][1]["path"] == name
    job = finished(response, JobStatus.PARTIALLY_FAILED)  # the file has 4 bad lines
    assert (job.files.get(index=1).successful_lines, job.files.get(index=1).failed_lines) == (6, 4)


def test_import_of_a_deep_path_of_long_names(api, project, imports_dir):
    """A path longer than the column that shows a job's file path (1024 characters)."""
    relative = "/".join(f"{i}{'d' * 240}" for i in range(6))  # 1451 characters
    folder = imports_dir / relative
    os.makedirs(folder)
    (folder / "vertex.csv").write_bytes((MOVIE / "vertex.csv").read_bytes())
    graph = ges_graph(project, "deep")
    request = {"schema_path": str(MOVIE / "schema.xml"), "vertexset_path": f"{relative}/vertex.csv"}
    response = api.post(
        f"/api/v1/graphs/{graph.pk}/import/", {"format": "ges", "request": request}, "json"
    )
    shown = response.json()["files"][1]["path"]
    assert len(shown) <= 1024 and shown.endswith("/vertex.csv") and "…" in shown
    job = finished(response, JobStatus.PARTIALLY_FAILED)
    assert job.files.get(index=1).successful_lines == 6
    too_deep = {**request, "vertexset_path": deep_path(4200)}
    response = api.post(
        f"/api/v1/graphs/{graph.pk}/import/", {"format": "ges", "request": too_deep}, "json"
    )
    body = assert_error(response, 400, "invalid", "vertexset_path")
    assert "a path may have at most 4095 bytes" in body["message"]
