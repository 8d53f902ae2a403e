"""Results read in another order than their own (ResultReader.order and page(sort=...)): the
whole result is sorted, not a page; empty values last both ways; ties in the result's own
order; compact one-value-per-vertex results as well as row tables."""

from __future__ import annotations

import os

import pytest

from jobcenter.core.ids import new_id
from jobcenter.jobs.results import (
    ORDERS,
    ResultReader,
    ResultWriter,
    names_snapshot,
    result_delete,
)

NAMES = [("Ada", "user"), ("Up", "movie"), ("Eric", "user"), ("Heat", "movie"), ("Bo", "user")]


def compact(job_id: str, values: list, indices: list[int] | None = None) -> ResultReader:
    names_snapshot("names-v1", NAMES)
    writer = ResultWriter(job_id, kind="vertices", columns=["id", "label", "pagerank"])
    writer.add_vertex_values(names_key="names-v1", values=values, indices=indices)
    writer.finish({"vertices": len(NAMES)})
    writer.publish()
    return ResultReader(job_id)


def table(job_id: str, rows: list[tuple]) -> ResultReader:
    writer = ResultWriter(job_id, kind="vertices", columns=["id", "label", "properties"])
    writer.add(rows)
    writer.finish({"returned": len(rows)})
    writer.publish()
    return ResultReader(job_id)


def ids(reader: ResultReader, **sort) -> list:
    pages = [reader.page(offset=o, limit=2, **sort).rows for o in range(0, reader.total, 2)]
    return [row["id"] for page in pages for row in page]


@pytest.fixture(autouse=True)
def _fresh_orders():
    ORDERS.clear()
    yield
    ORDERS.clear()


@pytest.fixture
def ids_of():
    """``ids_of("a")``: a fresh job id per name for this test; their results go afterwards
    (the result folder is shared by the tests)."""
    made: dict[str, str] = {}
    yield lambda name: made.setdefault(name, new_id())
    for job_id in made.values():
        result_delete(job_id)


def test_a_compact_result_sorted_by_value_id_and_label_across_pages(db, ids_of):
    reader = compact(ids_of("a"), [0.1, 0.4, 0.2, 0.4, 0.05])
    with reader:
        assert ids(reader) == ["Ada", "Up", "Eric", "Heat", "Bo"]  # its own order
        assert ids(reader, sort="pagerank", descending=True) == ["Up", "Heat", "Eric", "Ada", "Bo"]
        assert ids(reader, sort="pagerank") == ["Bo", "Ada", "Eric", "Up", "Heat"]  # ties kept
        assert ids(reader, sort="id") == ["Ada", "Bo", "Eric", "Heat", "Up"]
        assert ids(reader, sort="id", descending=True) == ["Up", "Heat", "Eric", "Bo", "Ada"]
        assert ids(reader, sort="label") == ["Up", "Heat", "Ada", "Eric", "Bo"]
        page = reader.page(offset=1, limit=2, sort="pagerank", descending=True)
        assert page.rows == [
            {"id": "Heat", "label": "movie", "pagerank": 0.4},
            {"id": "Eric", "label": "user", "pagerank": 0.2},
        ]
        assert page.total == 5 and page.offset == 1
        assert reader.page(offset=10, limit=2, sort="id").rows == []


def test_a_compact_result_of_some_vertices_sorted(db, ids_of):
    # distances of the vertices reached only (indices 0, 2 and 3)
    with compact(ids_of("b"), [2.0, 0.0, 1.0], indices=[0, 2, 3]) as reader:
        assert ids(reader) == ["Ada", "Eric", "Heat"]
        assert ids(reader, sort="pagerank") == ["Eric", "Heat", "Ada"]
        assert ids(reader, sort="id", descending=True) == ["Heat", "Eric", "Ada"]
        assert ids(reader, sort="label") == ["Heat", "Ada", "Eric"]


def test_a_row_table_sorted_by_a_column_and_by_a_property_empty_last(db, ids_of):
    rows = [
        ("v1", "user", '{"age": 31, "name": "Vivian"}'),
        ("v2", "user", '{"age": 7, "a.b": "x"}'),
        ("v3", "movie", '{"title": "Up"}'),
        ("v4", "user", '{"age": 31, "a.b": "w"}'),
        ("v5", "user", '{"age": null}'),
    ]
    with table(ids_of("c"), rows) as reader:
        assert ids(reader, sort="properties.age") == ["v2", "v1", "v4", "v3", "v5"]
        assert ids(reader, sort="properties.age", descending=True) == [
            "v1",
            "v4",
            "v2",
            "v3",
            "v5",
        ]
        assert ids(reader, sort="properties.a.b")[:2] == ["v4", "v2"]  # a name with a dot
        assert ids(reader, sort="label", descending=True) == ["v1", "v2", "v4", "v5", "v3"]
        assert ids(reader, sort="properties.nothing") == ["v1", "v2", "v3", "v4", "v5"]
        row = reader.page(offset=0, limit=1, sort="properties.age").rows[0]
        assert row == {"id": "v2", "label": "user", "properties": {"age": 7, "a.b": "x"}}


@pytest.mark.parametrize(
    "column", ["properties", "nope", "", "properties.", 'properties.a"b', "properties.a\\b"]
)
def test_what_cannot_be_sorted_on_is_refused(db, ids_of, column):
    with table(ids_of("d"), [("v1", "user", "{}")]) as reader:
        assert not reader.sortable(column)
        with pytest.raises(ValueError, match="cannot be sorted by"):
            reader.page(offset=0, limit=5, sort=column)
    with compact(ids_of("e"), [1.0] * 5) as reader:
        assert not reader.sortable("properties.age")


def test_an_order_is_computed_once_per_file(db, ids_of):
    reader = compact(ids_of("f"), [0.1, 0.4, 0.2, 0.4, 0.05])
    with reader:
        first = reader.order("pagerank", descending=True)
        assert reader.order("pagerank", descending=True) is first
        assert reader.order("pagerank") is not first
    # the same job's result published again (a new file): sorted again
    stat = reader.path.stat()
    os.utime(reader.path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1000))
    with ResultReader(ids_of("f")) as again:
        assert again.order("pagerank", descending=True) is not first
