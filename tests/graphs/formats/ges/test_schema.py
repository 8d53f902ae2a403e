"""GES metadata: schema.xml read and written back."""

from __future__ import annotations

import pytest

from jobcenter.graphs.formats.ges.schema import parse_schema_xml, schema_xml
from jobcenter.graphs.plan import PlanError
from tests.factories.files import shared_data


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
