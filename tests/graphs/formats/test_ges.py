"""GES input: schema.xml and import-graph requests."""

from __future__ import annotations

import pytest

from jobcenter.graphs.formats.ges import normalise_request, parse_schema_xml, schema_xml
from jobcenter.graphs.plan import PlanError
from tests.factories.files import shared_data
from tests.graphs.conftest import MOVIE_SCHEMA


def schema(labels: str) -> bytes:
    return f'<?xml version="1.0"?><PMML version="3.0"><labels>{labels}</labels></PMML>'.encode()


def label(name: str, *properties: str) -> str:
    """A <label> whose <property> elements have the given attributes."""
    props = "".join(f"<property {attrs}/>" for attrs in properties)
    return f'<label name="{name}"><properties>{props}</properties></label>'


def test_movie_schema_in_the_normalised_form():
    parsed = parse_schema_xml(shared_data("ges_movie", "schema.xml").read_bytes())
    assert parsed.id_scope == "global"
    assert parsed.label_names == ("user", "movie", "rate", "friends")
    user = parsed.label("user")
    assert [(p.name, p.describe()) for p in user.properties] == [
        ("Name", "string"),
        ("Gender", "enum(F, M)"),
        ("Age", "int"),
        ("Zip", "char_array(5)"),
        ("Tags", "set<string>"),
    ]
    assert parsed.label("friends").properties == ()
    assert parsed.label("movie").property("Genres").cardinality == "list"


def test_schema_xml_round_trips():
    parsed = parse_schema_xml(shared_data("ges_movie", "schema.xml").read_bytes())
    again = parse_schema_xml(schema_xml(parsed).encode())
    assert all(a.same_definition(b) for a, b in zip(parsed.labels, again.labels, strict=True))


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"<PMML><labels>", "not well-formed XML"),
        (b"<PMML></PMML>", "no <labels> element"),
        (schema(""), "defines no labels"),
        (schema('<label name="a"/><label name="a"/>'), "label 'a' is defined twice"),
        (schema('<label><properties/></label>'), "has no name"),
        (schema(label("a", 'name="x" dataType="blob"')), "unknown dataType 'blob'"),
        (schema(label("a", 'name="x" dataType="char array"')), "a char array needs maxDataSize"),
        (
            schema(label("a", 'name="x" dataType="enum" typeNameCount="2" typeName1="F"')),
            "typeName2 is missing",
        ),
        (
            schema(label("a", 'name="x" dataType="int" cardinality="bag"')),
            "cardinality must be single, list or set",
        ),
        (
            schema(label("a", 'name="x" dataType="int"', 'name="x" dataType="int"')),
            "property 'x' is defined twice",
        ),
        (
            schema(label("a", 'name="x" dataType="int"') + label("b", 'name="x" dataType="string"')),
            "same data type and cardinality in every label",
        ),
    ],
)  # fmt: skip
def test_bad_schemas_are_refused_with_the_reason(document, message):
    with pytest.raises(PlanError, match=message):
        parse_schema_xml(document)


def test_entity_expansion_and_external_entities_are_refused():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">'
        b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        b'<PMML><labels><label name="&b;"/></labels></PMML>'
    )
    with pytest.raises(PlanError, match="forbidden XML features"):
        parse_schema_xml(bomb)
    external = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b'<PMML><labels><label name="&x;"/></labels></PMML>'
    )
    with pytest.raises(PlanError, match="forbidden XML features"):
        parse_schema_xml(external)


def test_oversized_schema_is_refused():
    with pytest.raises(PlanError, match="larger than 10 MB"):
        parse_schema_xml(b" " * (10 * 1024 * 1024 + 1))


def test_service_plane_camel_case_is_normalised():
    body = {
        "schemaPath": "s.xml",
        "edgesetPath": "e/",
        "vertexsetFormat": "csv",
        "parallelEdge": {"action": "ignore", "ignoreLabel": False},
        "trimQuote": "'",
        "offline": True,
    }
    assert normalise_request(body) == {
        "schema_path": "s.xml",
        "edgeset_path": "e/",
        "vertexset_format": "csv",
        "parallel_edge": {"action": "ignore", "ignore_label": False},
        "trim_quote": "'",
        "offline": True,
    }
    assert normalise_request({"parallelEdge": "override"}) == {
        "parallel_edge": {"action": "override"}
    }
    assert normalise_request(["not", "an", "object"]) == ["not", "an", "object"]


@pytest.mark.parametrize(
    ("request_", "field", "message"),
    [
        ({}, "edgeset_path", "at least one of schema_path"),
        ({"edgeSetPath": "x"}, "edgeSetPath", "unknown field 'edgeSetPath'"),
        ({"edgeset_path": 7}, "edgeset_path", "edgeset_path must be a string"),
        ({"edgeset_path": "e.csv", "delimiter": ";;"}, "delimiter", "single character"),
        ({"edgeset_path": "e.csv", "delimiter": "\n"}, "delimiter", "line break"),
        ({"edgeset_path": "e.csv", "trim_quote": ","}, "trim_quote", "must differ"),
        ({"edgeset_path": "e.csv", "encoding": "klingon"}, "encoding", "unknown encoding"),
        ({"edgeset_path": "e.csv", "edgeset_format": "parquet"}, "edgeset_format", "csv or txt"),
        ({"edgeset_path": "e.csv", "offline": "yes"}, "offline", "true or false"),
        ({"edgeset_path": "e.csv", "parallel_edge": {"action": "merge"}}, "parallel_edge", "allow, ignore or override"),
        ({"edgeset_path": "e.csv", "parallel_edge": {"sort_key_column": "lastColumn"}}, "parallel_edge", "not supported"),
        ({"edgeset_path": "e.csv", "error_threshold": {"max_count": -1}}, "error_threshold", "non-negative"),
        ({"edgeset_path": "e.csv", "max_failed_records": "many"}, "max_failed_records", "integer"),
    ],
)  # fmt: skip
def test_bad_requests_name_the_field(workspace, request_, field, message):
    workspace.write("e.csv", "")
    workspace.schema = parse_schema_xml(MOVIE_SCHEMA.encode())
    request_ = {
        k: (str(workspace.root / v) if k == "edgeset_path" and v == "e.csv" else v)
        for k, v in request_.items()
    }
    with pytest.raises(PlanError, match=message) as info:
        workspace.ges_plan(**request_)
    assert info.value.field == field


def test_paths_outside_the_roots_or_missing_are_refused(workspace):
    workspace.schema = parse_schema_xml(MOVIE_SCHEMA.encode())
    with pytest.raises(PlanError, match="does not exist in the import roots") as info:
        workspace.ges_plan(edgeset_path="/etc/passwd")
    assert info.value.field == "edgeset_path"
    with pytest.raises(PlanError, match="does not exist"):
        workspace.ges_plan(vertexset_path=str(workspace.root / "nope.csv"))


def test_a_graph_without_schema_needs_one(workspace):
    with pytest.raises(PlanError, match="no schema yet: give schema_path") as info:
        workspace.ges_plan(edgeset_path=workspace.write("e.csv", ""))
    assert info.value.field == "schema_path"


def test_a_schema_that_contradicts_the_graph_is_refused(workspace):
    workspace.schema = parse_schema_xml(MOVIE_SCHEMA.encode())
    other = schema('<label name="user"><properties><property name="Name" dataType="int"/>'
                   "</properties></label>")  # fmt: skip
    with pytest.raises(PlanError, match="does not fit the graph's schema: label 'user'"):
        workspace.ges_plan(schema_path=workspace.write("s.xml", other))


def test_directories_expand_to_their_files_in_name_order(workspace):
    workspace.schema = parse_schema_xml(MOVIE_SCHEMA.encode())
    workspace.write("edges/b.csv", "")
    workspace.write("edges/a.csv", "")
    workspace.write("edges/.hidden", "")
    plan = workspace.ges_plan(edgeset_path=str(workspace.root / "edges"))
    assert [f.path.name for f in plan.files] == ["a.csv", "b.csv"]
    assert plan.files[0].display_path.endswith("edges/a.csv")
    assert plan.schema is workspace.schema and plan.parallel_edge == "allow"


def test_new_labels_merge_into_the_graphs_schema(workspace):
    workspace.schema = parse_schema_xml(MOVIE_SCHEMA.encode())
    extra = schema('<label name="tag"><properties><property name="Name" dataType="string"/>'
                   "</properties></label>")  # fmt: skip
    plan = workspace.ges_plan(schema_path=workspace.write("s.xml", extra))
    assert plan.schema.label_names == ("user", "rate", "friends", "tag")
    assert plan.files[0].role == "schema" and plan.files[0].schema_labels == ("tag",)
