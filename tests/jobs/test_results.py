"""Result files refuse what JSON cannot hold (NaN, Infinity), naming where it is, and leave
nothing behind when refused."""

from __future__ import annotations

import math

import pytest

from jobcenter.jobs.results import InvalidResult, ResultWriter, check_json, result_path


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_summary_figures_must_be_finite(db, bad):
    writer = ResultWriter("a" * 32, kind="rows", columns=["x"])
    writer.add([(1,)])
    with pytest.raises(InvalidResult) as info:
        writer.finish({"communities": 2, "nested": {"modularity": bad}})
    assert str(info.value) == (
        f"the result cannot be stored: outputs.nested.modularity is {bad!r}, not a finite number"
    )
    writer.discard()
    assert not result_path("a" * 32).exists()


def test_vertex_values_must_be_finite(db):
    large = ResultWriter("b" * 32, kind="vertices", columns=["id", "label", "v"])
    large.add_vertex_values(names_key="k", values=[1e308, 1e308], indices=None)  # sum overflows
    assert large.finish()["total"] == 2
    large.discard()
    writer = ResultWriter("c" * 32, kind="vertices", columns=["id", "label", "v"])
    with pytest.raises(InvalidResult) as info:
        writer.add_vertex_values(names_key="k", values=[0.5, math.nan, 1.0], indices=None)
    assert "vertex index 1 is nan" in str(info.value)
    writer.discard()


def test_check_json_names_the_place():
    check_json({"a": [1, 2.5, None, "x", {"b": True}]}, "result")
    with pytest.raises(InvalidResult, match=r"result\.a\.1 is inf"):
        check_json({"a": [1, math.inf]}, "result")
    with pytest.raises(InvalidResult, match="not plain JSON"):
        check_json({"a": {1, 2}}, "result")


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_vertex_values_as_a_computation_returns_them_must_be_finite_too(db, bad):
    """An array of doubles (what ``Control.compute(..., vector="d")`` returns) is stored as it
    is, checked as a list is; an empty one is a result of no vertices."""
    from array import array

    writer = ResultWriter("d" * 32, kind="vertices", columns=["id", "label", "v"])
    with pytest.raises(InvalidResult) as info:
        writer.add_vertex_values(names_key="k", values=array("d", [0.5, 1.0, bad]), indices=None)
    assert f"vertex index 2 is {bad!r}" in str(info.value)
    writer.discard()
    empty = ResultWriter("e" * 32, kind="vertices", columns=["id", "label", "v"])
    empty.add_vertex_values(names_key="k", values=array("d"), indices=array("q"))
    assert empty.finish()["total"] == 0
    empty.discard()
