"""Algorithms on small stored graphs with known answers, and their parameter checks."""

from __future__ import annotations

import pytest

from jobcenter.graphs.algorithms import ALGORITHMS, parse_algorithm, run_algorithm
from jobcenter.graphs.build import find_vertices, load_graph, warm_graph
from jobcenter.graphs.compute import AlgorithmFailed, Control
from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.query import snapshot, stored_schema
from jobcenter.graphs.resident import RESIDENT, ResidentGraph, ResidentGraphs
from tests.graphs.conftest import both_stores

# Every test here runs on both graph store backends.
store_backend = both_stores

SCHEMA = """<?xml version="1.0"?><PMML version="3.0"><labels>
<label name="n"><properties><property name="v" cardinality="single" dataType="int"/></properties></label>
<label name="e"><properties><property name="w" cardinality="single" dataType="double"/></properties></label>
<label name="tag"><properties><property name="t" cardinality="single" dataType="string"/></properties></label>
</labels></PMML>"""


@pytest.fixture
def graph_of(workspace):
    """``graph_of(edges, vertices=None)``: a GES graph in the workspace store; edges are
    ``(source, target[, weight])``; vertices default to every endpoint."""

    def make(edges, vertices=None):
        RESIDENT.clear()
        names = vertices or sorted({x for e in edges for x in e[:2]})
        vtext = "".join(f"{name},n,{i}\n" for i, name in enumerate(names))
        etext = "".join(f"{e[0]},{e[1]},e,{e[2] if len(e) > 2 else 1.0}\n" for e in edges)
        plan = workspace.ges_plan(
            schema_path=workspace.write("s.xml", SCHEMA),
            vertexset_path=workspace.write(f"v{workspace.runs}.csv", vtext),
            edgeset_path=workspace.write(f"e{workspace.runs}.csv", etext),
        )
        workspace.run(plan)
        return workspace.store

    return make


def run(store, name, **params):
    name, params = parse_algorithm(
        name, params, schema=stored_schema(store), find=lambda key: find_vertices(store, key)
    )
    result = run_algorithm(store, name, params, Control())
    return result, list(result.rows)


def by_id(rows, column=-1):
    return {row[0]: row[column] for row in rows}


TRIANGLE_AND_TAIL = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "f")]


def test_pagerank_two_vertices_closed_form(graph_of):
    store = graph_of([("a", "b")])
    result, rows = run(store, "pagerank", alpha=0.85)
    assert result.columns == ["id", "label", "pagerank"]
    ranks = by_id(rows)
    # dangling b spreads uniformly: a = .075 + .425 b, b = .075 + .85 a + .425 b
    assert ranks["a"] == pytest.approx(0.350877, abs=1e-5)
    assert ranks["b"] == pytest.approx(0.649123, abs=1e-5)


def test_pagerank_cycle_is_uniform_and_sums_to_one(graph_of):
    store = graph_of([("a", "b"), ("b", "c"), ("c", "a")])
    _, rows = run(store, "pagerank")
    assert [r[2] for r in rows] == pytest.approx([1 / 3] * 3)


def test_personalized_pagerank_favours_the_source(graph_of):
    store = graph_of([("a", "b"), ("b", "a"), ("c", "d"), ("d", "c")])
    result, rows = run(store, "personalized_pagerank", source="a")
    ranks = by_id(rows)
    assert ranks["c"] == ranks["d"] == 0
    assert ranks["a"] + ranks["b"] == pytest.approx(1.0)
    assert ranks["a"] > ranks["b"]
    assert result.outputs["source"] == "a"


def test_connected_components(graph_of):
    store = graph_of(TRIANGLE_AND_TAIL)
    result, rows = run(store, "connected_components")
    comp = by_id(rows)
    assert comp["a"] == comp["b"] == comp["c"] == comp["d"] != comp["e"] == comp["f"]
    assert result.outputs == {"components": 2, "largest": 4}


def test_shortest_path_hops_and_weights(graph_of):
    store = graph_of([("a", "b", 1), ("b", "d", 1), ("a", "c", 0.5), ("c", "d", 0.25)])
    result, rows = run(store, "shortest_path", source="a", target="d")
    assert result.outputs["hops"] == 2 and result.outputs["found"]
    result, rows = run(store, "shortest_path", source="a", target="d", weight="w")
    assert [(r[0], r[1], r[3]) for r in rows] == [(0, "a", 0.0), (1, "c", 0.5), (2, "d", 0.75)]
    assert result.outputs["distance"] == pytest.approx(0.75)
    result, rows = run(store, "shortest_path", source="d", target="a")
    assert result.outputs["found"] is False and rows == []
    result, rows = run(store, "shortest_path", source="d", target="a", directed=False)
    assert result.outputs["found"] is True and len(rows) == 3


def test_single_source_shortest_paths(graph_of):
    store = graph_of(TRIANGLE_AND_TAIL)
    result, rows = run(store, "single_source_shortest_paths", source="a")
    assert by_id(rows) == {"a": 0, "b": 1, "c": 2, "d": 3}
    assert result.outputs["reached"] == 4


def test_negative_weight_fails_clearly(graph_of):
    store = graph_of([("a", "b", -1), ("b", "a", -1)])
    with pytest.raises(AlgorithmFailed):
        run(store, "single_source_shortest_paths", source="a", weight="w")


def test_k_core_and_triangles(graph_of):
    store = graph_of(TRIANGLE_AND_TAIL)
    result, rows = run(store, "k_core", k=2)
    assert by_id(rows) == {"a": 2, "b": 2, "c": 2}
    assert result.outputs["max_core"] == 2
    result, rows = run(store, "triangle_count")
    assert by_id(rows) == {"a": 1, "b": 1, "c": 1, "d": 0, "e": 0, "f": 0}
    assert result.outputs["triangles"] == 1


def two_cliques():
    left = [(a, b) for a in "abcd" for b in "abcd" if a < b]
    right = [(a, b) for a in "wxyz" for b in "wxyz" if a < b]
    return [*left, *right, ("d", "w")]


@pytest.mark.parametrize("name", ["louvain", "label_propagation"])
def test_communities_find_the_two_cliques(graph_of, name):
    store = graph_of(two_cliques())
    result, rows = run(store, name, seed=7)
    community = by_id(rows)
    assert len({community[v] for v in "abcd"}) == 1
    assert len({community[v] for v in "wxyz"}) == 1
    assert community["a"] != community["z"]
    assert result.outputs["communities"] == 2


def test_louvain_reports_modularity(graph_of):
    store = graph_of(two_cliques())
    result, _ = run(store, "louvain")
    # two K4 joined by one edge: m = 13, Q = 2 * (6/13 - (13/26)^2)
    assert result.outputs["modularity"] == pytest.approx(2 * (6 / 13 - 0.25), abs=1e-9)


def test_degree_statistics(graph_of):
    store = graph_of(TRIANGLE_AND_TAIL)
    result, rows = run(store, "degree_statistics")
    assert {r[0]: r[2:] for r in rows}["c"] == (1, 2, 3)
    assert result.outputs["edges"] == 5 and result.outputs["vertices"] == 6
    assert result.outputs["degree"]["max"] == 3
    assert result.outputs["out_degree"]["mean"] == pytest.approx(5 / 6)


def test_isolated_vertices_are_counted(graph_of):
    store = graph_of([("a", "b")], vertices=["a", "b", "lonely"])
    result, rows = run(store, "connected_components")
    assert result.outputs["components"] == 2 and len(rows) == 3


def test_empty_graph(workspace):
    RESIDENT.clear()
    result, rows = run(workspace.store, "pagerank")
    assert rows == [] and result.outputs == {"vertices": 0}


def test_graph_is_cached_until_its_data_changes(graph_of):
    store = graph_of([("a", "b")])
    first = load_graph(store, weight=None, control=Control())
    second = load_graph(store, weight=None, control=Control())
    assert not first.cached and second.cached
    graph_of([("x", "y")])  # another import: a new data version
    third = load_graph(store, weight=None, control=Control())
    assert not third.cached and third.graph.vcount() == 4  # appended


class TestResidentGraphs:
    def entry(self, nbytes: int) -> ResidentGraph:
        return ResidentGraph(graph=None, names=[], arrays=None, nbytes=nbytes)

    def test_least_recently_used_graph_goes_first_when_the_budget_is_full(self, settings):
        settings.JOBCENTER_GRAPH_MEMORY_MB = 1
        resident = ResidentGraphs()
        third = 400 * 1024
        assert resident.put(("/a", (1, "t"), None), self.entry(third))
        assert resident.put(("/b", (1, "t"), None), self.entry(third))
        assert resident.get(("/a", (1, "t"), None)) is not None  # a is now the most recent
        assert resident.put(("/c", (1, "t"), None), self.entry(third))
        assert [k[0] for k in resident.held()] == ["/a", "/c"]
        assert resident.used() == 2 * third
        # larger than the whole budget: not kept, and nothing else is dropped for it
        assert not resident.put(("/d", (1, "t"), None), self.entry(2 * 1024 * 1024))
        assert [k[0] for k in resident.held()] == ["/a", "/c"]

    def test_a_new_data_version_replaces_the_old_copy_and_forget_drops_a_store(self, settings):
        settings.JOBCENTER_GRAPH_MEMORY_MB = 1
        resident = ResidentGraphs()
        resident.put(("/a", (1, "t1"), None), self.entry(10))
        resident.put(("/a", (1, "t1"), "w"), self.entry(10))  # weighted copy of the same data
        resident.put(("/b", (1, "t1"), None), self.entry(10))
        resident.put(("/a", (2, "t2"), None), self.entry(10))
        assert resident.held() == [("/b", (1, "t1"), None), ("/a", (2, "t2"), None)]
        resident.forget("/a")
        assert resident.held() == [("/b", (1, "t1"), None)]

    def test_a_graph_over_the_budget_is_built_for_its_job_but_not_kept(self, graph_of, settings):
        store = graph_of([("a", "b"), ("b", "c")])
        settings.JOBCENTER_GRAPH_MEMORY_MB = 0
        assert warm_graph(store) is None
        first = load_graph(store, weight=None, control=Control())
        second = load_graph(store, weight=None, control=Control())
        assert not first.cached and not second.cached and second.graph.ecount() == 2
        settings.JOBCENTER_GRAPH_MEMORY_MB = 1
        warmed = warm_graph(store)
        assert warmed is not None and not warmed.cached
        with snapshot(store):
            assert load_graph(store, weight=None, control=Control()).cached


class TestParameters:
    @pytest.fixture
    def store(self, graph_of):
        return graph_of(TRIANGLE_AND_TAIL)

    def parse(self, store, name, **params):
        return parse_algorithm(
            name, params, schema=stored_schema(store), find=lambda k: find_vertices(store, k)
        )

    def test_defaults_are_filled_in(self, store):
        assert self.parse(store, "pagerank") == ("pagerank", {"alpha": 0.85, "directed": True})

    @pytest.mark.parametrize(
        ("name", "params", "field"),
        [
            ("pagerank", {"alpha": 1.5}, "alpha"),
            ("pagerank", {"alpha": "x"}, "alpha"),
            ("pagerank", {"alpha": True}, "alpha"),
            ("pagerank", {"directed": "yes"}, "directed"),
            ("pagerank", {"dampling": 0.5}, "dampling"),
            ("personalized_pagerank", {}, "source"),
            ("personalized_pagerank", {"source": "nobody"}, "source"),
            ("shortest_path", {"source": "a"}, "target"),
            ("shortest_path", {"source": "a", "target": "d", "weight": "nope"}, "weight"),
            ("shortest_path", {"source": "a", "target": "d", "weight": "t"}, "weight"),
            ("k_core", {"k": -1}, "k"),
            ("louvain", {"resolution": 0}, "resolution"),
            ("label_propagation", {"seed": 1.5}, "seed"),
            ("single_source_shortest_paths", {"source": ""}, "source"),
            ("personalized_pagerank", {"source": "a", "source_label": "zzz"}, "source_label"),
        ],
    )
    def test_bad_parameter_is_named(self, store, name, params, field):
        with pytest.raises(PlanError) as info:
            self.parse(store, name, **params)
        assert info.value.field == f"parameters.{field}"
        assert info.value.message.startswith(f"parameter [{field}] is invalid!")

    def test_unknown_algorithm(self, store):
        with pytest.raises(PlanError) as info:
            self.parse(store, "pagerankk")
        assert info.value.field == "algorithm"

    def test_parameters_must_be_an_object(self, store):
        with pytest.raises(PlanError):
            parse_algorithm("pagerank", [1], schema=None, find=lambda k: [])

    def test_every_algorithm_has_a_description(self):
        assert len(ALGORITHMS) == 10
        assert all(d.description for d in ALGORITHMS.values())


def test_the_job_sets_the_estimate_from_the_graph_size(graph_of):
    store = graph_of([("a", "b"), ("b", "c")])
    for name, linear in (("connected_components", True), ("louvain", False)):
        control = Control()
        name, params = parse_algorithm(
            name, {}, schema=stored_schema(store), find=lambda key: find_vertices(store, key)
        )
        run_algorithm(store, name, params, control)
        per_element = ALGORITHMS[name].seconds_per_element
        assert (control.expected_seconds is not None) is linear
        if linear:
            assert control.expected_seconds == pytest.approx(per_element * 5)  # 3 + 2
