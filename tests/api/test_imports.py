"""POST /api/v1/graphs/{id}/import/: JSON naming server-side files, or a multipart upload, in
the GES and the GraphScope Interactive formats; and the import actually run by a worker."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from jobcenter.core.uploads import upload_root
from jobcenter.jobs.choices import TERMINAL_STATUSES
from jobcenter.jobs.models import Job, JobFile
from jobcenter.jobs.services import graph_delete_submit
from tests.api.conftest import assert_error
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph, graphscope_graph
from tests.factories.waiting import wait_for

MOVIE = shared_data("ges_movie")
MODERN = shared_data("modern_graph")


def url(graph) -> str:
    return f"/api/v1/graphs/{graph.pk}/import/"


def movie_request(folder: Path = MOVIE) -> dict[str, str]:
    return {
        "schema_path": str(folder / "schema.xml"),
        "vertexset_path": str(folder / "vertex.csv"),
        "edgeset_path": str(folder / "edge.csv"),
    }


def modern_mapping(location: Path | None = MODERN) -> dict:
    mapping = yaml.safe_load((MODERN / "bulk_load.yaml").read_text())
    if location is not None:
        mapping["loading_config"]["data_source"]["location"] = str(location)
    return mapping


def uploads() -> list[Path]:
    root = Path(settings.JOBCENTER_UPLOAD_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def nothing_written() -> None:
    assert Job.objects.count() == 0 and JobFile.objects.count() == 0


# --- JSON: files on the server ---------------------------------------------------------------


@pytest.mark.django_db
def test_ges_import_of_server_side_files(api, project):
    graph = ges_graph(project)
    response = api.post(
        url(graph), {"format": "ges", "request": movie_request(), "name": "Movies"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["Location"] == f"/api/v1/jobs/{body['id']}/"
    assert (body["status"], body["name"], body["graph"], body["dialect"]) == (
        "waiting",
        "Movies",
        graph.pk,
        "native",
    )
    assert [(f["role"], Path(f["path"]).name) for f in body["files"]] == [
        ("schema", "schema.xml"),
        ("vertex", "vertex.csv"),
        ("edge", "edge.csv"),
    ]
    assert body["request"] == {"format": "ges", "request": movie_request()}
    assert Job.objects.get(pk=body["id"]).task_id


@pytest.mark.django_db
def test_paths_relative_to_the_first_import_root(api, project, imports_dir):
    (imports_dir / "movie").mkdir()
    for name in ("schema.xml", "vertex.csv"):
        (imports_dir / "movie" / name).write_bytes((MOVIE / name).read_bytes())
    request = {"schema_path": "movie/schema.xml", "vertexset_path": "movie/vertex.csv"}
    response = api.post(
        url(ges_graph(project)), {"format": "ges", "request": request}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["files"][1]["path"] == "movie/vertex.csv"  # as given


@pytest.mark.django_db
def test_graphscope_import_of_server_side_files(api, project):
    graph = graphscope_graph(project)
    response = api.post(
        url(graph), {"format": "graphscope", "mapping": modern_mapping()}, format="json"
    )
    assert response.status_code == 201, response.content
    files = response.json()["files"]
    assert sorted(Path(f["path"]).name for f in files) == [
        "person.csv",
        "person_created_software.csv",
        "person_knows_person.csv",
        "software.csv",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"format": "ges"}, "request"),
        ({"format": "graphscope"}, "mapping"),
        ({"format": "ges", "request": {}, "mapping": {}}, "mapping"),
        ({"format": "neo4j", "request": {}}, "format"),
        ({"format": "ges", "request": []}, "request"),
        ({"format": "ges", "request": movie_request(), "name": 7}, "name"),
        ({"format": "ges", "request": movie_request(), "name": ""}, "name"),
        ({"format": "ges", "request": {"vertexset_path": 5}}, None),
        ({"format": "ges", "request": {"vertexset_path": "nope/missing.csv"}}, None),
        ({"format": "ges", "request": {**movie_request(), "vertexset_path": "/etc/passwd"}}, None),
        (
            {"format": "ges", "request": {**movie_request(), "edgeset_path": "../../../../etc"}},
            None,
        ),
        ({"format": "ges", "request": {**movie_request(), "delimiter": "ab"}}, None),
        ({"format": "graphscope", "mapping": modern_mapping(Path("/etc"))}, None),
        ({"format": "graphscope", "mapping": {"vertex_mappings": "x"}}, None),
    ],
)
def test_bad_json_imports_are_400_and_write_nothing(api, project, payload, field):
    graph = ges_graph(project) if payload["format"] != "graphscope" else graphscope_graph(project)
    body = assert_error(api.post(url(graph), payload, format="json"), 400, "invalid", field)
    if "/etc" in json.dumps(payload):
        assert "does not exist in the import roots" in body["message"]
    nothing_written()


@pytest.mark.django_db
def test_a_symlink_out_of_the_roots_is_refused(api, project, imports_dir, tmp_path):
    secret = tmp_path / "secret.csv"
    secret.write_text("a,user\n")
    os.symlink(secret, imports_dir / "innocent.csv")
    request = {"schema_path": str(MOVIE / "schema.xml"), "vertexset_path": "innocent.csv"}
    body = assert_error(
        api.post(url(ges_graph(project)), {"format": "ges", "request": request}, format="json"),
        400,
        "invalid",
    )
    assert "does not exist in the import roots" in body["message"]
    nothing_written()


@pytest.mark.django_db
def test_who_may_import(viewer_api, client_for, project, other):
    graph = ges_graph(project)
    payload = {"format": "ges", "request": movie_request()}
    assert_error(viewer_api.post(url(graph), payload, format="json"), 403, "permission_denied")
    assert_error(viewer_api.post(url(other["graph"]), payload, format="json"), 404, "not_found")
    assert_error(client_for(None).post(url(graph), payload, format="json"), 401)
    nothing_written_but_other = Job.objects.exclude(pk=other["job"].pk)
    assert not nothing_written_but_other.exists()


@pytest.mark.django_db
def test_a_graph_being_deleted_takes_no_import(api, project, operator):
    graph = ges_graph(project)
    graph_delete_submit(graph=graph, user=operator)
    payload = {"format": "ges", "request": movie_request()}
    assert_error(api.post(url(graph), payload, format="json"), 409, "invalid_state", "graph")


# --- multipart: files uploaded with the request ------------------------------------------------


def upload(path: Path, name: str | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name or path.name, path.read_bytes())


@pytest.mark.django_db
def test_ges_upload(api, project):
    graph = ges_graph(project)
    response = api.post(
        url(graph),
        {
            "format": "ges",
            "schema": upload(MOVIE / "schema.xml"),
            "vertices": [upload(MOVIE / "vertex.csv")],
            "edges": [upload(MOVIE / "edge.csv")],
            "options": json.dumps({"delimiter": ","}),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    files = response.json()["files"]
    assert [f["role"] for f in files] == ["schema", "vertex", "edge"]
    # shown relative to the project's upload folder (one of its import roots)
    assert not any(Path(f["path"]).is_absolute() for f in files)
    stored = [upload_root(project.pk) / f["path"] for f in files]
    assert all(p.is_file() for p in stored)
    assert stored[1].read_bytes() == (MOVIE / "vertex.csv").read_bytes()
    assert response.json()["request"]["request"]["delimiter"] == ","


@pytest.mark.django_db
def test_ges_upload_of_several_vertex_files_and_options_as_a_file(api, project, tmp_path):
    graph = ges_graph(project)
    options = tmp_path / "options.json"
    options.write_text('{"delimiter": ","}')
    lines = (MOVIE / "vertex.csv").read_text().splitlines(keepends=True)
    response = api.post(
        url(graph),
        {
            "format": "ges",
            "schema": upload(MOVIE / "schema.xml"),
            "vertices": [
                SimpleUploadedFile("a.csv", "".join(lines[:5]).encode()),
                SimpleUploadedFile("b.csv", "".join(lines[5:]).encode()),
            ],
            "options": upload(options),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    assert [f["role"] for f in response.json()["files"]] == ["schema", "vertex", "vertex"]


@pytest.mark.django_db
@pytest.mark.parametrize("mapping_as", ["text", "file"])
def test_graphscope_upload_with_the_mapping_as_text_or_file(api, project, mapping_as):
    graph = graphscope_graph(project)
    text = (MODERN / "bulk_load.yaml").read_text()
    mapping = text if mapping_as == "text" else upload(MODERN / "bulk_load.yaml")
    names = ["person.csv", "software.csv", "person_knows_person.csv", "person_created_software.csv"]
    response = api.post(
        url(graph),
        {"format": "graphscope", "mapping": mapping, "files": [upload(MODERN / n) for n in names]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    paths = [upload_root(project.pk) / f["path"] for f in response.json()["files"]]
    assert sorted(p.name.split("-", 1)[1] for p in paths) == sorted(names)
    assert all(p.is_file() for p in paths)


@pytest.mark.django_db
def test_a_refused_upload_leaves_no_file_behind(api, project):
    graph = graphscope_graph(project)
    before = uploads()
    response = api.post(
        url(graph),
        {
            "format": "graphscope",
            "mapping": (MODERN / "bulk_load.yaml").read_text(),
            "files": [upload(MODERN / "person.csv")],  # the mapping names three more
        },
        format="multipart",
    )
    body = assert_error(response, 400, "invalid", "mapping")
    assert "not among the uploaded files" in body["message"]
    assert uploads() == before
    nothing_written()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"format": "ges"}, None),
        ({"format": "graphscope"}, "mapping"),
        ({"format": "ges", "mapping": "{}"}, "mapping"),
        ({"format": "graphscope", "mapping": "[1, 2]"}, "mapping"),
        ({"format": "graphscope", "mapping": "a: [b"}, "mapping"),
        ({"format": "graphscope", "mapping": "a: &x [1]\nb: *x"}, "mapping"),
        ({"format": "ges", "options": "not json: ["}, "options"),
        ({"format": "ges", "vertices": "not a file"}, "vertices.0"),
        # A part a format does not use is refused when given at all, even empty, and a part
        # no format knows is named (a misspelt one used to be dropped without a word).
        ({"format": "ges", "mapping": ""}, "mapping"),
        ({"format": "ges", "vertexes": "x"}, "vertexes"),
    ],
)
def test_bad_uploads_are_400(api, project, payload, field):
    graph = graphscope_graph(project) if payload["format"] == "graphscope" else ges_graph(project)
    assert_error(api.post(url(graph), payload, format="multipart"), 400, "invalid", field)
    nothing_written()


@pytest.mark.django_db
@override_settings(JOBCENTER_MAX_UPLOAD_BYTES=100)
def test_an_oversized_upload_is_400_and_not_kept(api, project):
    graph = ges_graph(project)
    before = uploads()
    response = api.post(
        url(graph),
        {
            "format": "ges",
            "schema": upload(MOVIE / "schema.xml"),  # 1219 bytes
            "vertices": [upload(MOVIE / "vertex.csv")],
        },
        format="multipart",
    )
    body = assert_error(response, 400, "too_large", "schema")
    assert "100 bytes" in body["message"]
    assert uploads() == before
    nothing_written()


@pytest.mark.django_db
@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=2_000)
def test_an_oversized_json_body_is_400(api, project):
    payload = {"format": "ges", "request": {**movie_request(), "pad": "x" * 5_000}}
    assert_error(api.post(url(ges_graph(project)), payload, format="json"), 400, "too_large")
    nothing_written()


# --- for real: a worker runs what the API queued ----------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.slow
def test_imports_run_by_a_worker_report_exact_counts(client_for, project, operator, worker_factory):
    api = client_for(operator)
    movies, modern = ges_graph(project), graphscope_graph(project)
    ges_job = api.post(url(movies), {"format": "ges", "request": movie_request()}, format="json")
    names = ["person.csv", "software.csv", "person_knows_person.csv", "person_created_software.csv"]
    gs_job = api.post(
        url(modern),
        {
            "format": "graphscope",
            "mapping": upload(MODERN / "bulk_load.yaml"),
            "files": [upload(MODERN / n) for n in names],
        },
        format="multipart",
    )
    assert (ges_job.status_code, gs_job.status_code) == (201, 201), gs_job.content
    worker_factory()
    ids = [ges_job.json()["id"], gs_job.json()["id"]]
    wait_for(
        lambda: all(Job.objects.get(pk=i).status in TERMINAL_STATUSES for i in ids), timeout=60
    )
    ges = api.get(f"/api/v1/jobs/{ids[0]}/").json()
    assert ges["status"] == "partially_failed" and ges["progress"] == 100.0
    counts = [
        (f["role"], f["total_lines"], f["successful_lines"], f["failed_lines"])
        for f in ges["files"]
    ]
    assert counts == [("schema", 4, 4, 0), ("vertex", 10, 6, 4), ("edge", 9, 5, 4)]
    assert ges["lines_done"] > 0
    failed = api.get(f"/api/v1/jobs/{ids[0]}/failed-lines/").json()
    assert failed["count"] == 8
    assert [(r["file"], r["line_number"], r["reason"]) for r in failed["results"][:2]] == [
        (1, 4, "not_in_enum"),
        (1, 5, "bad_type"),
    ]
    gs = api.get(f"/api/v1/jobs/{ids[1]}/").json()
    assert gs["status"] == "succeeded", gs["fail_reason"]
    assert gs["result"]["vertices_added"] == 6 and gs["result"]["edges_added"] == 6
    assert api.get(f"/api/v1/graphs/{modern.pk}/").json()["data_updated_at"] is not None
