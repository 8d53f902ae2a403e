"""GraphScope bulk-loading configurations checked into a plan."""

from __future__ import annotations

import pytest

from jobcenter.graphs.formats.graphscope.schema import parse_graph_definition
from jobcenter.graphs.plan import PlanError
from tests.graphs.formats.graphscope.test_schema import modern_definition, modern_mapping


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
