"""The native API reads every JSON and YAML document with the one reader
(jobcenter.core.documents): request bodies (a graph with its GraphScope definition, an import
with its mapping) and the documents of an upload (a GraphScope mapping as text or file, GES
options). Every hostile document answers a clear 400 quickly and writes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job, JobFile
from tests.api.conftest import assert_error
from tests.documents import ALIAS_BOMB, HOSTILE_JSON, HOSTILE_YAML, quickly
from tests.factories.files import shared_data
from tests.factories.graphs import ges_graph, graphscope_graph

pytestmark = pytest.mark.django_db

MODERN = shared_data("modern_graph")


def uploads() -> list[Path]:
    root = Path(settings.JOBCENTER_UPLOAD_DIR)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def nothing_written(graphs: int) -> None:
    assert Job.objects.count() == 0 and JobFile.objects.count() == 0
    assert Graph.objects.count() == graphs


@pytest.mark.parametrize("mapping_as", ["text", "file"])
@pytest.mark.parametrize("name", list(HOSTILE_YAML))
def test_a_hostile_mapping_upload_is_refused(api, project, name, mapping_as):
    graph = graphscope_graph(project)
    text, message = HOSTILE_YAML[name]
    mapping = text if mapping_as == "text" else SimpleUploadedFile("m.yaml", text.encode())
    before = uploads()
    with quickly():
        response = api.post(
            f"/api/v1/graphs/{graph.pk}/import/",
            {
                "format": "graphscope",
                "mapping": mapping,
                "files": [SimpleUploadedFile("person.csv", (MODERN / "person.csv").read_bytes())],
            },
            format="multipart",
        )
    if name == "huge":  # over the upload field's (or the form field's) own limit
        body = assert_error(response, 400)
        assert "larger than" in body["message"]
    else:
        body = assert_error(response, 400, "invalid", "mapping")
        assert message in body["errors"]["mapping"][0], body
    assert uploads() == before
    nothing_written(graphs=1)


def test_ges_upload_options_use_the_same_reader(api, project):
    graph = ges_graph(project)
    with quickly():
        response = api.post(
            f"/api/v1/graphs/{graph.pk}/import/",
            {
                "format": "ges",
                "vertices": [SimpleUploadedFile("v.csv", b"a,user\n")],
                "options": ALIAS_BOMB,
            },
            format="multipart",
        )
    body = assert_error(response, 400, "invalid", "options")
    assert "YAML anchors (&a) are not accepted (line 1, column 4)" in body["errors"]["options"][0]
    nothing_written(graphs=1)


def post_json(api, url: str, body: bytes):
    with quickly():
        return api.generic("POST", url, body, content_type="application/json")


@pytest.mark.parametrize("name", list(HOSTILE_JSON))
def test_a_hostile_json_body_is_refused(api, project, name):
    graph = graphscope_graph(project)
    body, message = HOSTILE_JSON[name]
    for url in ("/api/v1/graphs/", f"/api/v1/graphs/{graph.pk}/import/"):
        error = assert_error(post_json(api, url, body), 400, "parse_error")
        assert message in error["message"], error
    nothing_written(graphs=1)


def test_a_graph_definition_with_repeated_keys_is_refused(api, project):
    body = (
        b'{"project": "alpha", "name": "modern", "dialect": "graphscope", '
        b'"schema": {"schema": {"vertex_types": [], "vertex_types": []}}}'
    )
    error = assert_error(post_json(api, "/api/v1/graphs/", body), 400, "parse_error")
    assert "key 'vertex_types' appears twice in one object" in error["message"]
    nothing_written(graphs=0)


def test_a_json_body_over_the_size_limit(api, project, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"project": "alpha", "name": "x" * 2000, "dialect": "ges"}).encode()
    assert_error(post_json(api, "/api/v1/graphs/", body), 400, "too_large")
    nothing_written(graphs=0)


def test_a_yaml_definition_sent_as_text_is_not_parsed(api, project):
    body = {"project": "alpha", "name": "modern", "dialect": "graphscope", "schema": ALIAS_BOMB}
    with quickly():
        response = api.post("/api/v1/graphs/", body, format="json")
    error = assert_error(response, 400, "invalid", "schema")
    assert "needs its definition, a JSON object" in error["message"]
    nothing_written(graphs=0)
