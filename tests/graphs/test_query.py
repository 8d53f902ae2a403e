"""Filtered vertex and edge queries on ges_movie, their validation, and label-property indexes."""

from __future__ import annotations

import json

import pytest

from jobcenter.graphs.indexes import create_index, list_indexes, resolve_index
from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.query import explain, parse_query, run_query, stored_schema
from jobcenter.graphs.stores.sqlite import SqliteStore
from tests.factories.files import shared_data
from tests.graphs.conftest import Workspace, both_stores, drop_store

# Every test here runs on both graph store backends.
store_backend = both_stores


@pytest.fixture
def movie(workspace):
    workspace.ges_movie()
    return workspace.store


def q(store, **raw):
    spec = parse_query(raw, stored_schema(store), max_limit=1000)
    return [row for chunk in run_query(store, spec, chunk=2) for row in chunk]


def ids(rows):
    return [r[0] for r in rows]


def flt(prop, predicate, *values):
    return {"property": prop, "predicate": predicate, "values": list(values)}


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([flt("Age", ">", 20)], ["Vivian", "Ada"]),
        ([flt("Age", ">=", 31)], ["Vivian", "Ada"]),
        ([flt("Age", "<", 31)], ["Eric"]),
        ([flt("Age", "<=", 31)], ["Vivian", "Eric"]),
        ([flt("Age", "=", "19")], ["Eric"]),  # text converted to the property's type
        ([flt("Gender", "!=", "F")], ["Eric"]),
        ([flt("Gender", "=", "F"), flt("Age", ">", 33)], ["Ada"]),
        ([flt("Name", "in", "Ada L", "Eric M", "Nobody")], ["Eric", "Ada"]),
        ([flt("Age", "range", 19, 31)], ["Vivian", "Eric"]),
        ([flt("Tags", "contains", "painter")], ["Vivian"]),
        ([flt("Name", "contains", "ic")], ["Eric"]),
        ([flt("id", "=", "Ada")], ["Ada"]),
    ],
)
def test_vertex_predicates(movie, filters, expected):
    assert ids(q(movie, labels=["user"], filters=filters)) == expected


def test_rows_carry_typed_properties(movie):
    (row,) = q(movie, labels=["user"], filters=[flt("id", "=", "Vivian")])
    assert row[:2] == ("Vivian", "user")
    assert json.loads(row[2]) == {
        "Name": "Vivian W",
        "Gender": "F",
        "Age": 31,
        "Zip": "98133",
        "Tags": ["artist", "painter"],
    }


def test_sort_offset_limit(movie):
    rows = q(movie, labels=["user"], sort=[{"property": "Age", "order": "desc"}])
    assert ids(rows) == ["Ada", "Vivian", "Eric"]
    rows = q(movie, labels=["user"], sort=[{"property": "Age"}], offset=1, limit=1)
    assert ids(rows) == ["Vivian"]


def test_property_over_several_labels(movie):
    # no labels: every vertex; Year exists only in movie, so the filter keeps movies only
    assert ids(q(movie, filters=[flt("Year", ">", 1990)])) == ["Heat", "Up"]
    everything = q(movie, sort=[{"property": "label"}, {"property": "id"}])
    assert ids(everything) == ["Heat", "Lethal Weapon", "Up", "Ada", "Eric", "Vivian"]


def test_list_property_contains_element(movie):
    assert ids(q(movie, labels=["movie"], filters=[flt("Genres", "contains", "Drama")])) == ["Heat"]


def test_edge_queries(movie):
    rows = q(movie, target="edges", labels=["rate"], filters=[flt("Score", ">=", 4)])
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("Eric", "Lethal Weapon", "rate"),
        ("Vivian", "Heat", "rate"),
    ]
    assert json.loads(rows[1][3]) == {"Score": 5.0, "Datetime": "2001-02-03"}
    rows = q(movie, target="edges", filters=[flt("source", "=", "Eric")])
    assert [(r[1], r[2]) for r in rows] == [("Lethal Weapon", "rate"), ("Ada", "friends")]
    rows = q(movie, target="edges", filters=[flt("Datetime", "<", "2001-01-01")])
    assert [r[0] for r in rows] == ["Eric"]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"target": "nodes"}, "target"),
        ({"labels": ["spaceship"]}, "labels"),
        ({"labels": "user"}, "labels"),
        ({"filters": [flt("Nope", "=", 1)]}, "filters.0.property"),
        ({"filters": [flt("Age", "like", 1)]}, "filters.0.predicate"),
        ({"filters": [flt("Age", "=", "old")]}, "filters.0.values.0"),
        ({"filters": [flt("Age", "range", 1)]}, "filters.0.values"),
        ({"filters": [flt("Age", "=", 1, 2)]}, "filters.0.values"),
        ({"filters": [flt("Gender", "=", "X")]}, "filters.0.values.0"),
        ({"filters": [flt("Age", "=", None)]}, "filters.0.values.0"),
        ({"filters": [{"property": "Age"}]}, "filters.0.predicate"),
        ({"sort": [{"property": "Age", "order": "up"}]}, "sort.0.order"),
        ({"limit": 0}, "limit"),
        ({"limit": 5000}, "limit"),
        ({"offset": -1}, "offset"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_queries_name_the_field(movie, raw, field):
    with pytest.raises(PlanError) as info:
        parse_query({"labels": ["user"], **raw}, stored_schema(movie), max_limit=1000)
    assert info.value.field == field
    assert "is invalid!" in info.value.message


def test_index_is_used_by_later_queries(movie):
    spec = parse_query(
        {"labels": ["user"], "filters": [flt("Age", ">", 20)], "sort": [{"property": "Age"}]},
        stored_schema(movie),
        max_limit=100,
    )
    sqlite = isinstance(movie, SqliteStore)
    if not sqlite:  # six rows: PostgreSQL would scan them all without looking at an index
        movie.conn.execute("SET enable_seqscan = off")
    assert "lp_vertex_" not in explain(movie, spec)
    column = resolve_index(stored_schema(movie), "vertices", "user", "Age")
    name = create_index(movie, "vertices", "user", column)
    plan = explain(movie, spec)
    assert name in plan, plan
    if sqlite:
        assert "TEMP B-TREE" not in plan  # the index gives the order too
    assert [r[0] for chunk in run_query(movie, spec) for r in chunk] == ["Vivian", "Ada"]
    assert list_indexes(movie) == [
        {"name": name, "target": "vertices", "label": "user", "column": column}
    ]


def test_resolve_index_names_the_parameter(movie):
    with pytest.raises(PlanError) as info:
        resolve_index(stored_schema(movie), "vertices", "user", "Height")
    assert info.value.field == "property"
    with pytest.raises(PlanError) as info:
        resolve_index(stored_schema(movie), "vertices", "alien", "Age")
    assert info.value.field == "label"


# Label names that PostgreSQL's statement templates and quoting must not trip over.
ODD = {"movie": "mo{vie}", "rate": "ra%t'e}"}


def weighted_edges(store, label: str) -> list[tuple]:
    stream = store.edge_stream(base=None, weights={label: 0}, chunk=10)
    return [row for rows in stream.chunks() for row in rows]


@pytest.fixture
def odd_movie(workspace, tmp_path, store_backend):
    """ges_movie with label names full of template and quoting characters, and movie's Title
    named Name (so a sort on Name spans two labels); also the plain ges_movie's weighted edges
    (rate's Score)."""
    movie = shared_data("ges_movie")
    schema = (movie / "schema.xml").read_text()
    schema = schema.replace('name="Title"', 'name="Name"')
    vertices = (movie / "vertex.csv").read_text()
    edges = (movie / "edge.csv").read_text()
    for old, new in ODD.items():
        schema = schema.replace(f'<label name="{old}">', f'<label name="{new}">')
        vertices = vertices.replace(f",{old},", f",{new},")
        edges = edges.replace(f",{old},", f",{new},")
    plan = workspace.ges_plan(
        schema_path=workspace.write("schema.xml", schema),
        vertexset_path=workspace.write("v.csv", vertices),
        edgeset_path=workspace.write("e.csv", edges),
    )
    run = workspace.run(plan)
    plain = Workspace(tmp_path / "plain", store_backend)  # ges_movie's own bad lines, no more
    try:
        assert run.failed() == plain.ges_movie().failed()
        assert workspace.store.count_rows() == plain.store.count_rows()
        return workspace.store, weighted_edges(plain.store, "rate")
    finally:
        drop_store(plain.store)


def test_label_names_with_braces_quotes_and_percent(odd_movie):
    store, plain_weighted = odd_movie
    names = ids(q(store, sort=[{"property": "Name"}, {"property": "id"}]))
    # one sort over both labels: "Ada L", "Eric M", "Heat", "Lethal Weapon", "Up", "Vivian W"
    assert names == ["Ada", "Eric", "Heat", "Lethal Weapon", "Up", "Vivian"]
    column = resolve_index(stored_schema(store), "vertices", ODD["movie"], "Year")
    name = create_index(store, "vertices", ODD["movie"], column)
    assert list_indexes(store) == [
        {"name": name, "target": "vertices", "label": ODD["movie"], "column": column}
    ]
    assert weighted_edges(store, ODD["rate"]) == plain_weighted
    assert any(w != 1.0 for *_, w in plain_weighted)
