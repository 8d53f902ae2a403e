"""How many vertices or edges match a query, its offset and limit aside (count_matches): what a
query job reports as its matches."""

from __future__ import annotations

import pytest

from jobcenter.graphs.query import count_matches, parse_query, stored_schema
from tests.graphs.conftest import both_stores

# Every test here runs on both graph store backends.
store_backend = both_stores


@pytest.fixture
def movie(workspace):
    workspace.ges_movie()
    return workspace.store


def matches(store, **raw) -> int:
    return count_matches(store, parse_query(raw, stored_schema(store), max_limit=1000))


def flt(prop, predicate, *values):
    return {"property": prop, "predicate": predicate, "values": list(values)}


def test_matches_ignore_offset_and_limit(movie):
    assert matches(movie, labels=["user"]) == 3
    assert matches(movie, labels=["user"], offset=2, limit=1) == 3
    assert matches(movie, labels=["user"], filters=[flt("Age", ">=", 31)], limit=1) == 2
    assert matches(movie) == 6  # every vertex
    assert matches(movie, labels=["user"], filters=[flt("Age", ">", 99)]) == 0


def test_edge_matches_with_and_without_conditions_on_their_endpoints(movie):
    assert matches(movie, target="edges") == 5
    assert matches(movie, target="edges", labels=["rate"], limit=1) == 3
    assert matches(movie, target="edges", filters=[flt("source", "=", "Eric")], limit=1) == 2
    assert matches(movie, target="edges", filters=[flt("target", "in", "Up", "Heat")]) == 2
