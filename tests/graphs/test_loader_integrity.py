"""The loader's core guarantee: an edge is stored only if both its endpoints are, and a vertex
id is taken only by a line that is stored (issue 12, section 1), for both dialects and for both
kinds of key index (in memory, and looked up in the store beyond ``index_capacity``)."""

from __future__ import annotations

import pytest

from jobcenter.graphs.formats import graphscope
from tests.graphs.invariants import check_store

# index_capacity: None is the in-memory key index, 0 forces the store-backed one.
INDEXES = pytest.mark.parametrize("capacity", [None, 0], ids=["memory", "stored"])


def options(capacity: int | None) -> dict:
    return {} if capacity is None else {"index_capacity": capacity}


# -- GES ---------------------------------------------------------------------------------------


@INDEXES
def test_ges_a_vertex_failing_on_a_value_takes_no_id(workspace, small_graph, capacity):
    run = workspace.run(
        small_graph(
            vertices="a1,user,Ann,notanint\na1,user,Ann,31\nb1,user,Bob,40\n",
            edges="a1,b1,friends\nb1,a1,friends\n",
        ),
        **options(capacity),
    )
    assert run.failed() == [(1, 1, "bad_type")]  # the valid a1 of line 2 is not a duplicate
    assert [v[:4] for v in workspace.store.vertices()] == [
        ("a1", "user", "Ann", 31),
        ("b1", "user", "Bob", 40),
    ]
    assert [e[:3] for e in workspace.store.edges()] == [
        ("a1", "b1", "friends"),
        ("b1", "a1", "friends"),
    ]
    check_store(workspace.store.path)


@INDEXES
def test_ges_an_edge_to_a_vertex_that_failed_on_a_value_is_a_missing_vertex(
    workspace, small_graph, capacity
):
    run = workspace.run(
        small_graph(
            vertices="a1,user,Ann,notanint\nb1,user,Bob,40\n",
            edges="a1,b1,friends\nb1,a1,friends\nb1,b1,friends\n",
        ),
        **options(capacity),
    )
    assert run.failed() == [(1, 1, "bad_type"), (2, 1, "missing_vertex"), (2, 2, "missing_vertex")]
    assert run.messages()[2] == "target vertex 'a1' does not exist"
    assert [e[:3] for e in workspace.store.edges()] == [("b1", "b1", "friends")]
    assert run.summary.vertices_added == 1 and run.summary.edges_added == 1
    check_store(workspace.store.path)


@INDEXES
def test_ges_a_duplicate_with_a_bad_value_is_reported_as_a_duplicate(
    workspace, small_graph, capacity
):
    """Which reason wins when a line has both: the id is judged before the values (a line
    whose id is taken cannot be loaded whatever its values), in both dialects."""
    run = workspace.run(
        small_graph(vertices="a1,user,Ann,31\na1,user,Ann,notanint\n"), **options(capacity)
    )
    assert run.failed() == [(1, 2, "duplicate_id")]
    assert run.messages()[2] == "vertex id 'a1' already exists"


# -- GraphScope --------------------------------------------------------------------------------

DEFINITION = {
    "vertex_types": [
        {
            "type_name": "p",
            "primary_keys": ["id"],
            "properties": [
                {"property_name": "id", "property_type": {"primitive_type": "DT_SIGNED_INT64"}},
                {"property_name": "age", "property_type": {"primitive_type": "DT_SIGNED_INT32"}},
            ],
        }
    ],
    "edge_types": [
        {
            "type_name": "k",
            "vertex_type_pair_relations": [{"source_vertex": "p", "destination_vertex": "p"}],
            "properties": [
                {"property_name": "w", "property_type": {"primitive_type": "DT_DOUBLE"}}
            ],
        }
    ],
}


def graphscope_run(workspace, vertices: str, edges: str, **run_options):
    """A GraphScope init import of one vertex file and one edge file (no header, ``,``)."""
    workspace.schema = graphscope.parse_graph_definition({"schema": DEFINITION})
    workspace.write("p.csv", vertices)
    workspace.write("k.csv", edges)
    mapping = {
        "loading_config": {
            "data_source": {"location": str(workspace.root)},
            "import_option": "init",
            "format": {"metadata": {"delimiter": ",", "header_row": False}},
        },
        "vertex_mappings": [{"type_name": "p", "inputs": ["p.csv"]}],
        "edge_mappings": [
            {
                "type_triplet": {"edge": "k", "source_vertex": "p", "destination_vertex": "p"},
                "inputs": ["k.csv"],
            }
        ],
    }
    return workspace.run(workspace.graphscope_plan(mapping), **run_options)


@INDEXES
def test_graphscope_a_vertex_failing_on_a_value_takes_no_key(workspace, capacity):
    run = graphscope_run(
        workspace,
        vertices="1,notanint\n1,30\n2,40\n3,old\n",
        edges="1,2,0.5\n2,3,1.5\n3,1,2.5\n2,1,3.5\n",
        **options(capacity),
    )
    assert run.failed() == [
        (0, 1, "bad_type"),
        (0, 4, "bad_type"),
        (1, 2, "missing_vertex"),
        (1, 3, "missing_vertex"),
    ]
    assert run.messages()[3] == "source vertex p '3' does not exist"
    assert [v[:3] for v in workspace.store.vertices()] == [("1", "p", 1), ("2", "p", 2)]
    assert [e[:4] for e in workspace.store.edges()] == [("1", "2", "k", 0.5), ("2", "1", "k", 3.5)]
    assert run.summary.vertices_added == 2 and run.summary.edges_added == 2
    check_store(workspace.store.path)


@INDEXES
def test_graphscope_a_duplicate_with_a_bad_value_is_reported_as_a_duplicate(workspace, capacity):
    run = graphscope_run(workspace, vertices="1,30\n01,notanint\n", edges="", **options(capacity))
    assert run.failed() == [(0, 2, "duplicate_id")]
    assert run.messages()[2] == "p with primary key '1' already exists"
