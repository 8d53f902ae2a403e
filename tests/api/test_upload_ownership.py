"""Uploads belong to the project that made them: its imports read them (by the path shown, or
the absolute one), to any other project such a path "does not exist", word for word as a path
that exists nowhere. Paths in answers are relative to an import root, never server paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from jobcenter.graphs.services import graph_create
from jobcenter.jobs.models import Job
from tests.api.conftest import assert_error
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph

pytestmark = pytest.mark.django_db

MOVIE = shared_data("ges_movie")


def upload_movies(api, graph) -> dict:
    response = api.post(
        f"/api/v1/graphs/{graph.pk}/import/",
        {
            "format": "ges",
            "schema": SimpleUploadedFile("schema.xml", (MOVIE / "schema.xml").read_bytes()),
            "vertices": [SimpleUploadedFile("vertex.csv", (MOVIE / "vertex.csv").read_bytes())],
            "options": '{"delimiter": ","}',
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    return response.json()


def import_vertices(api, graph, path: str):
    request = {"schema_path": str(MOVIE / "schema.xml"), "vertexset_path": path}
    return api.post(
        f"/api/v1/graphs/{graph.pk}/import/", {"format": "ges", "request": request}, "json"
    )


def newest_upload(suffix: str) -> Path:
    files = Path(settings.JOBCENTER_UPLOAD_DIR).rglob(f"*{suffix}")
    return max(files, key=lambda p: p.stat().st_mtime_ns)


def test_another_project_cannot_read_an_upload(api, client_for, project, other):
    mine = upload_movies(api, ges_graph(project))
    stored = newest_upload("vertices-vertex.csv")
    upload_id = stored.parent.name

    # beta (bob, an operator there) gets what a path that exists nowhere gets
    bob = client_for(other["project"].members.get(username="bob"))
    theirs = graph_create(project=other["project"], name="theirs", dialect="ges")
    for path in (str(stored), str(stored.parent), f"{upload_id}/{stored.name}"):
        body = assert_error(import_vertices(bob, theirs, path), 400, "invalid", "vertexset_path")
        missing = import_vertices(bob, theirs, path.replace(upload_id, "f" * 32))
        assert body["message"] == assert_error(missing, 400)["message"].replace("f" * 32, upload_id)
        assert body["message"].endswith("does not exist in the import roots")

    # the project itself: the upload is shown relative to its upload folder (an import root
    # of this project only), and read again by the path shown or by the server path
    shown = mine["files"][1]["path"]
    assert shown == f"{upload_id}/vertices-vertex.csv"
    assert mine["request"]["request"]["vertexset_path"] == shown
    assert str(settings.JOBCENTER_UPLOAD_DIR) not in str(mine)
    assert import_vertices(api, ges_graph(project, "again"), shown).status_code == 201
    assert import_vertices(api, ges_graph(project, "abs"), str(stored)).status_code == 201
    # the uploads it reads (schema and vertices: one folder each)
    job = Job.objects.get(pk=mine["id"])
    assert upload_id in job.params["uploads"] and len(job.params["uploads"]) == 2


def test_a_relative_path_that_exists_nowhere_is_named_as_written(api, project):
    body = assert_error(
        import_vertices(api, ges_graph(project), "ges_movie/vertices.csv"),
        400,
        "invalid",
        "vertexset_path",
    )
    assert body["message"] == (
        "vertexset_path: file 'ges_movie/vertices.csv' does not exist in the import roots"
    )
    # an absolute path inside a root is shown relative to it
    inside = Path(settings.JOBCENTER_IMPORT_ROOTS[1]) / "ges_movie" / "vertices.csv"
    body = assert_error(import_vertices(api, ges_graph(project, "b"), str(inside)), 400)
    assert body["message"] == (
        "vertexset_path: file 'ges_movie/vertices.csv' does not exist in the import roots"
    )
