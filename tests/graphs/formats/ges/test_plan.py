"""GES import-graph requests checked into a plan."""

from __future__ import annotations

import pytest

from jobcenter.graphs.formats.ges.schema import parse_schema_xml
from jobcenter.graphs.plan import PlanError
from tests.graphs.conftest import MOVIE_SCHEMA
from tests.graphs.formats.ges.test_schema import schema


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
