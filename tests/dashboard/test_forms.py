"""The dashboard's forms: they check and shape input; the services decide."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from jobcenter.core.errors import InvalidInput
from jobcenter.dashboard.forms.common import parse_document
from jobcenter.dashboard.forms.graphs import GraphForm
from jobcenter.dashboard.forms.imports import ImportForm
from tests.factories.files import shared_data

pytestmark = pytest.mark.django_db


def test_parse_document_accepts_yaml_and_json_objects_only():
    assert parse_document("a: 1", what="mapping") == {"a": 1}
    assert parse_document('{"a": [1]}', what="mapping") == {"a": [1]}
    for text, message in (("", "empty"), ("- 1", "must be a mapping"), ("{a", "neither")):
        with pytest.raises(Exception, match=message):
            parse_document(text, what="mapping")


def test_import_form_ges_server_needs_a_file(graph):
    form = ImportForm(
        {"graph": graph.pk, "format": "ges", "source": "server", "parallel_edge": "allow"},
        graphs=[graph],
    )
    assert not form.is_valid()
    assert "Name at least one file" in form.errors["vertexset_path"][0]


def test_import_form_graphscope_location_goes_into_the_mapping(graph):
    form = ImportForm(
        {
            "graph": graph.pk,
            "format": "graphscope",
            "source": "server",
            "parallel_edge": "allow",
            "mapping_text": "vertex_mappings: []",
            "location": "/data/x",
        },
        graphs=[graph],
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["mapping"]["loading_config"]["data_source"] == {
        "scheme": "file",
        "location": "/data/x",
    }


def test_service_errors_land_on_the_field_they_name(graph):
    form = ImportForm(
        {"graph": graph.pk, "format": "ges", "source": "upload", "parallel_edge": "allow"},
        {"vertex_files": SimpleUploadedFile("v.csv", b"1,user\n")},
        graphs=[graph],
    )
    assert form.is_valid(), form.errors
    form.add_service_error(InvalidInput("bad path", field="vertexset_path"))
    assert form.errors["vertex_files"] == ["bad path"]  # an upload: the upload field
    form.add_service_error(InvalidInput("no field"))
    assert form.non_field_errors() == ["no field"]


def test_graph_form_reads_a_schema_file_or_text():
    xml = shared_data("ges_movie", "schema.xml").read_bytes()
    form = GraphForm(
        {"name": "m", "dialect": "ges"}, {"schema_file": SimpleUploadedFile("schema.xml", xml)}
    )
    assert form.is_valid() and form.cleaned_data["schema_source"] == xml
    gs = GraphForm({"name": "g", "dialect": "graphscope", "schema_text": "- not a mapping"})
    assert not gs.is_valid() and "must be a mapping" in gs.errors["schema_text"][0]
