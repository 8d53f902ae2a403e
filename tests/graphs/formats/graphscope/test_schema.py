"""GraphScope Interactive's graph definitions."""

from __future__ import annotations

import copy

import pytest
import yaml

from jobcenter.graphs.formats.graphscope.schema import graph_definition, parse_graph_definition
from jobcenter.graphs.plan import PlanError
from tests.factories.files import shared_data


def modern_definition() -> dict:
    return yaml.safe_load(shared_data("modern_graph", "graph.yaml").read_text())


def modern_mapping() -> dict:
    mapping = yaml.safe_load(shared_data("modern_graph", "bulk_load.yaml").read_text())
    mapping.pop("graph")
    mapping["loading_config"]["data_source"]["location"] = str(shared_data("modern_graph"))
    return mapping


def test_modern_graph_in_the_normalised_form():
    parsed = parse_graph_definition(modern_definition())
    assert parsed.id_scope == "label"
    person = parsed.label("person")
    assert (person.kind, person.primary_key) == ("vertex", "id")
    assert [(p.name, p.describe()) for p in person.properties] == [
        ("id", "long"),
        ("name", "string(128)"),
        ("age", "int"),
    ]
    created = parsed.label("created")
    assert created.kind == "edge"
    assert [(r.source, r.target, r.relation) for r in created.relations] == [
        ("person", "software", "MANY_TO_MANY")
    ]


def test_definition_is_given_back_as_graphscope_writes_it():
    parsed = parse_graph_definition(modern_definition())
    given = graph_definition(parsed, name="modern", description="d")
    assert given["name"] == "modern" and given["description"] == "d"
    vertex = given["schema"]["vertex_types"][1]
    assert vertex["type_id"] == 1 and vertex["type_name"] == "software"
    assert vertex["primary_keys"] == ["id"]
    assert vertex["properties"][1] == {
        "property_id": 1,
        "property_name": "name",
        "property_type": {"string": {"long_text": ""}},  # YAML's bare key is null upstream too
    }
    knows = given["schema"]["edge_types"][0]
    assert knows["vertex_type_pair_relations"][0]["x_csr_params"] == {"sort_on_compaction": True}
    again = parse_graph_definition(given)
    assert all(a.same_definition(b) for a, b in zip(parsed.labels, again.labels, strict=True))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["schema"].update(vertex_types=[]), "at least one vertex type"),
        (lambda d: d["schema"]["vertex_types"][0].update(primary_keys=["id", "name"]), "exactly one"),
        (lambda d: d["schema"]["vertex_types"][0].update(primary_keys=["nope"]), "not a property"),
        (lambda d: d["schema"]["vertex_types"][0]["properties"][0].update(property_type={"primitive_type": "DT_INT128"}), "DT_INT128"),
        (lambda d: d["schema"]["vertex_types"][0]["properties"][2].update(property_type={"temporal": {"year": ""}}), "timestamp or date32"),
        (lambda d: d["schema"]["vertex_types"][0]["properties"][2].update(property_type={"primitive_type": ["DT_DOUBLE"]}), "must be one of DT_SIGNED_INT32"),
        (lambda d: d["schema"]["edge_types"][0]["vertex_type_pair_relations"][0].update(relation={"a": 1}), "relation must be a string"),
        (lambda d: d["schema"]["edge_types"][0]["vertex_type_pair_relations"][0].update(source_vertex="ghost"), "'ghost' is not a vertex label"),
        (lambda d: d["schema"]["edge_types"][0].update(vertex_type_pair_relations=[]), "at least one pair"),
        (lambda d: d["schema"]["vertex_types"].append(copy.deepcopy(d["schema"]["vertex_types"][0])), "defined twice"),
    ],
)  # fmt: skip
def test_bad_definitions_are_refused_with_the_reason(change, message):
    definition = modern_definition()
    change(definition)
    with pytest.raises(PlanError, match=message):
        parse_graph_definition(definition)


def test_temporal_types_are_understood():
    definition = modern_definition()
    props = definition["schema"]["vertex_types"][0]["properties"]
    props.append({"property_name": "born", "property_type": {"temporal": {"date32": ""}}})
    props.append({"property_name": "seen", "property_type": {"temporal": {"timestamp": ""}}})
    person = parse_graph_definition(definition).label("person")
    assert [p.type for p in person.properties[-2:]] == ["date", "datetime"]
