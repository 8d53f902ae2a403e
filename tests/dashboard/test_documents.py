"""The dashboard's forms read a GraphScope graph definition and a bulk-loading mapping, typed
or uploaded, with the one document reader (jobcenter.core.documents): every hostile document
answers the form again (422) with the reason next to its field, quickly, and writes nothing."""

from __future__ import annotations

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job
from tests.dashboard.conftest import post
from tests.documents import HOSTILE_YAML, quickly
from tests.factories.files import shared_data
from tests.factories.graphs import graphscope_graph

pytestmark = pytest.mark.django_db


def answered(response, field: str, name: str, message: str) -> None:
    page = response.content.decode()
    if name == "huge" and response.status_code == 400:  # over Django's limit for a form field
        return
    assert response.status_code == 422, (response.status_code, page[:300])
    assert f'id="id_{field}_error"' in page
    if name == "huge":
        message = "larger than"
    assert html.escape(message) in page, page[page.find(f'id="id_{field}_error"') :][:400]


@pytest.mark.parametrize("as_file", [False, True], ids=["text", "file"])
@pytest.mark.parametrize("name", list(HOSTILE_YAML))
def test_a_hostile_graph_definition(oscar, project, name, as_file):
    text, message = HOSTILE_YAML[name]
    data = {"name": "modern", "dialect": "graphscope"}
    if as_file:
        data["schema_file"] = SimpleUploadedFile("graph.yaml", text.encode())
    else:
        data["schema_text"] = text
    with quickly():
        response = post(oscar, "/graphs/new/", data, htmx=True)
    answered(response, "schema_file" if as_file else "schema_text", name, message)
    if as_file and name != "huge":
        assert "graph definition file &#x27;graph.yaml&#x27;" in response.content.decode()
    assert not Graph.objects.exists()


@pytest.mark.parametrize("as_file", [False, True], ids=["text", "file"])
@pytest.mark.parametrize("name", list(HOSTILE_YAML))
def test_a_hostile_mapping(oscar, project, name, as_file):
    graph = graphscope_graph(project)
    text, message = HOSTILE_YAML[name]
    data = {
        "graph": graph.pk,
        "format": "graphscope",
        "source": "server",
        "parallel_edge": "allow",
        "location": str(shared_data("modern_graph")),
    }
    if as_file:
        data["mapping_file"] = SimpleUploadedFile("bulk_load.yaml", text.encode())
    else:
        data["mapping_text"] = text
    with quickly():
        response = post(oscar, "/imports/new/", data, htmx=True)
    answered(response, "mapping_file" if as_file else "mapping_text", name, message)
    assert not Job.objects.exists()
