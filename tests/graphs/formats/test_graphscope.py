"""GraphScope Interactive input: graph definitions and bulk-loading configurations."""

from __future__ import annotations

import copy

import pytest
import yaml

from jobcenter.graphs.formats.graphscope import graph_definition, parse_graph_definition
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


@pytest.fixture
def modern(workspace):
    workspace.schema = parse_graph_definition(modern_definition())
    return workspace


def test_modern_mapping_becomes_one_file_per_input(modern):
    plan = modern.graphscope_plan(modern_mapping())
    assert [(f.role, f.label, f.path.name) for f in plan.files] == [
        ("vertex", "person", "person.csv"),
        ("vertex", "software", "software.csv"),
        ("edge", "knows", "person_knows_person.csv"),
        ("edge", "created", "person_created_software.csv"),
    ]
    created = plan.files[3]
    assert (created.source_label, created.target_label) == ("person", "software")
    assert (created.source_column, created.target_column) == (0, 1)
    assert created.csv.delimiter == "|" and created.csv.header_row
    assert created.csv.quotechar is None  # quoting: false
    assert plan.mode == "init"


def _set(mapping: dict, path: str, value) -> None:
    target = mapping
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    target[keys[-1]] = value


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("vertex_mappings.0.type_name", "ghost", "'ghost' is not a vertex type"),
        ("vertex_mappings.0.type_name", "knows", "'knows' is not a vertex type"),
        ("vertex_mappings.0.inputs", [], "non-empty list"),
        ("vertex_mappings.0.inputs", ["no-such-file.csv"], "no-such-file.csv"),
        ("vertex_mappings.0.inputs", ["/etc/passwd"], "does not exist in the import roots"),
        ("vertex_mappings.0.column_mappings", [{"column": {"index": 1}, "property": "name"}], "primary key 'id' of person is not mapped"),
        ("vertex_mappings.0.column_mappings", [{"column": {"index": 0}, "property": "nick"}], "'nick' is not a property of person"),
        ("vertex_mappings.0.column_mappings", [{"column": {"index": -1}, "property": "id"}], "non-negative integer"),
        ("vertex_mappings.0.column_mappings", [{"column": {"name": "nope"}, "property": "id"}], "'nope' is not in the header row"),
        ("edge_mappings.0.type_triplet", {"edge": "knows", "source_vertex": "person", "destination_vertex": "software"}, "does not connect 'person' to 'software'"),
        ("edge_mappings.0.type_triplet", {"edge": "ghost", "source_vertex": "person", "destination_vertex": "person"}, "not an edge type"),
        ("loading_config.data_source.scheme", "odps", "only file"),
        ("loading_config.format.type", "arrow", "only csv"),
        ("loading_config.import_option", "merge", "init or overwrite"),
        ("loading_config.format.metadata.delimiter", "||", "single character"),
        ("loading_config.format.metadata.header_row", "maybe", "true or false"),
    ],
)  # fmt: skip
def test_bad_mappings_are_refused_with_the_reason(modern, path, value, message):
    mapping = modern_mapping()
    _set(mapping, path, value)
    with pytest.raises(PlanError, match=message):
        modern.graphscope_plan(mapping)


def test_uploaded_at_paths_and_unknown_keys(modern):
    mapping = modern_mapping()
    location = mapping["loading_config"]["data_source"]["location"]
    mapping["loading_config"]["data_source"]["location"] = "@" + location
    mapping["vertex_mappings"][0]["inputs"] = ["@person.csv"]
    plan = modern.graphscope_plan(mapping)
    assert plan.files[0].path.name == "person.csv"
    mapping["loading_thread_num"] = 4
    with pytest.raises(PlanError, match="unknown field 'loading_thread_num'"):
        modern.graphscope_plan(mapping)
