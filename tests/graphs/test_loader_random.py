"""Randomized imports against an independent model (issue 12, section 1).

Small graphs of random lines (good ones, bad values, duplicates, missing endpoints, wrong column
counts, unknown labels, empty ids, blank lines), two imports in a row into one store, for the GES
and the GraphScope dialects, with the in-memory and the store-backed key index and with batches
of a few lines. The model below is written from the documented rules (the loader's docstring:
which check comes first), not from the loader's code; it predicts every file's counts, each
failed line's number and reason, and the stored vertices and edges. The store invariants are
checked after every import (tests/graphs/invariants.py).
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobcenter.graphs import loader
from jobcenter.graphs.formats import graphscope
from tests.graphs.conftest import Run, Workspace
from tests.graphs.invariants import check_store

RANDOM = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

# The values lines are made of, by whether each type accepts them ("" is NULL for every type).
INT32_OK = ["", "1", "-7", "007", "2147483647"]
INT32_BAD = ["x", "2147483648", "1.5", "Ann"]
DOUBLE_OK = ["", "1.5", "2", "-0.5"]
DOUBLE_BAD = ["x", "inf", "nan", "Ann"]
VALID = {"int": set(INT32_OK), "double": set(DOUBLE_OK)}
VOCABULARY = {
    "int": INT32_OK + INT32_BAD,
    "double": DOUBLE_OK + DOUBLE_BAD,
    "string": ["", "Ann", "B b", "1"],
}
# Mostly good values, so that enough lines load for duplicates and parallel edges to happen.
MOSTLY_GOOD = {
    "int": INT32_OK * 4 + INT32_BAD,
    "double": DOUBLE_OK * 4 + DOUBLE_BAD,
    "string": VOCABULARY["string"],
}


def valid(kind: str, text: str) -> bool:
    if kind == "string":
        return True
    assert text in VOCABULARY[kind], text  # the model knows only its vocabulary
    return text in VALID[kind]


@dataclass
class Expected:
    """What one file should give."""

    total: int = 0
    successful: int = 0
    reasons: dict[int, str] = field(default_factory=dict)  # line number -> reason

    def fail(self, line: int, reason: str) -> None:
        self.total += 1
        self.reasons[line] = reason

    def ok(self) -> None:
        self.total += 1
        self.successful += 1


def observed(run: Run, index: int) -> tuple:
    f = run.files[index]
    failed = {x.line_number: str(x.reason) for x in run.progress.failed if x.file_index == index}
    return (f.total_lines, f.successful_lines, f.failed_lines, failed)


def expected(e: Expected) -> tuple:
    return (e.total, e.successful, e.total - e.successful, e.reasons)


def counts_by_reason(e: Expected) -> Counter:
    return Counter(e.reasons.values())


def numbered(lines: list[str]):
    """(line number, fields) of each data line; blank lines are numbered but not data."""
    for number, line in enumerate(lines, start=1):
        if line:
            yield number, line.split(",")


def file_text(lines: list[str]) -> str:
    return "".join(f"{line}\n" for line in lines)


@st.composite
def lines_of(draw, make: Callable) -> list[str]:
    """3 to 20 lines made by ``make``, now and then a blank one."""
    lines = draw(st.lists(make(), min_size=3, max_size=20))
    return [line if draw(st.integers(0, 7)) else "" for line in lines]


def mutate(draw, fields: list[str]) -> list[str]:
    """Now and then a column too many or too few."""
    choice = draw(st.integers(0, 9))
    if choice == 0:
        return fields[:-1]
    if choice == 1:
        return [*fields, "extra"]
    return fields


def run_options(draw) -> dict:
    capacity = draw(st.sampled_from([None, 0]))  # in memory, or looked up in the store
    return {} if capacity is None else {"index_capacity": capacity}


class SmallBatches:
    """Batches of ``rows`` lines (the loader's BATCH_ROWS), so that batch boundaries fall
    inside these small files."""

    def __init__(self, rows: int) -> None:
        self.rows = rows

    def __enter__(self) -> None:
        self.kept = loader.BATCH_ROWS
        loader.BATCH_ROWS = self.rows

    def __exit__(self, *exc: object) -> None:
        loader.BATCH_ROWS = self.kept


def workspace_in(tmp: Path) -> Workspace:
    return Workspace(Path(tempfile.mkdtemp(dir=tmp)))


# -- GES -----------------------------------------------------------------------------------------

GES_SCHEMA = """<?xml version="1.0"?>
<PMML version="3.0"><labels>
  <label name="user"><properties>
    <property name="Name" cardinality="single" dataType="string"/>
    <property name="Age" cardinality="single" dataType="int"/>
  </properties></label>
  <label name="movie"><properties>
    <property name="Year" cardinality="single" dataType="int"/>
  </properties></label>
  <label name="rate"><properties>
    <property name="Score" cardinality="single" dataType="double"/>
  </properties></label>
  <label name="friends"></label>
</labels></PMML>
"""
GES_VERTEX = {"user": ("string", "int"), "movie": ("int",)}
GES_EDGE = {"rate": ("double",), "friends": ()}
GES_IDS = ["a", "b", "c", "d"] * 2 + [""]
GES_ENDPOINTS = ["a", "b", "c", "d"] * 3 + ["zz", ""]


@st.composite
def ges_vertex(draw) -> str:
    if draw(st.integers(0, 12)) == 0:
        return draw(st.sampled_from(["a", "a,"]))  # fewer than 2 columns / an empty label
    label = draw(st.sampled_from(["user", "user", "movie", "movie", "spaceship"]))
    kinds = GES_VERTEX.get(label, ("string",))
    values = [draw(st.sampled_from(MOSTLY_GOOD[k])) for k in kinds]
    return ",".join(mutate(draw, [draw(st.sampled_from(GES_IDS)), label, *values]))


@st.composite
def ges_edge(draw) -> str:
    if draw(st.integers(0, 12)) == 0:
        return "a,b"  # fewer than 3 columns
    label = draw(st.sampled_from(["rate", "rate", "friends", "friends", "likes"]))
    kinds = GES_EDGE.get(label, ())
    values = [draw(st.sampled_from(MOSTLY_GOOD[k])) for k in kinds]
    src, dst = draw(st.sampled_from(GES_ENDPOINTS)), draw(st.sampled_from(GES_ENDPOINTS))
    return ",".join(mutate(draw, [src, dst, label, *values]))


@dataclass
class Graph:
    vertices: list[tuple[str, str]] = field(default_factory=list)  # (key, label), stored order
    edges: list[tuple] = field(default_factory=list)  # (src, dst, label[, first property])

    def ids(self, label: str | None = None) -> set[str]:
        return {k for k, lbl in self.vertices if label is None or lbl == label}


def ges_vertices(graph: Graph, lines: list[str]) -> Expected:
    out = Expected()
    for number, fields in numbered(lines):
        if len(fields) < 2:
            out.fail(number, "column_count")
        elif fields[1] not in GES_VERTEX:
            out.fail(number, "unknown_label")
        elif len(fields) != 2 + len(GES_VERTEX[fields[1]]):
            out.fail(number, "column_count")
        elif fields[0] == "":
            out.fail(number, "empty_id")
        elif fields[0] in graph.ids():
            out.fail(number, "duplicate_id")
        elif not all(valid(k, v) for k, v in zip(GES_VERTEX[fields[1]], fields[2:], strict=True)):
            out.fail(number, "bad_type")
        else:
            graph.vertices.append((fields[0], fields[1]))
            out.ok()
    return out


@dataclass(frozen=True)
class ParallelEdges:
    """GES's parallel_edge: what an edge line does to the edges already there with its
    identity (<src, dst>, or <src, dst, label> when the label counts)."""

    action: str = "allow"
    ignore_label: bool = True

    def identity(self, edge: tuple) -> tuple:
        return edge[:2] if self.ignore_label else edge[:3]

    def request(self) -> dict:
        return {"parallel_edge": {"action": self.action, "ignore_label": self.ignore_label}}


def ges_edges(graph: Graph, lines: list[str], parallel: ParallelEdges) -> tuple[Expected, int]:
    """The edge file's outcome, and its duplicate edges ignored (``ignore``) or replaced
    (``override``: the edges a line removes, whether stored before or earlier in the file)."""
    out = Expected()
    duplicates = 0
    keys = graph.ids()
    for number, fields in numbered(lines):
        if len(fields) < 3:
            out.fail(number, "column_count")
        elif fields[2] not in GES_EDGE:
            out.fail(number, "unknown_label")
        elif len(fields) != 3 + len(GES_EDGE[fields[2]]):
            out.fail(number, "column_count")
        elif fields[0] not in keys or fields[1] not in keys:
            out.fail(number, "missing_vertex")
        elif not all(valid(k, v) for k, v in zip(GES_EDGE[fields[2]], fields[3:], strict=True)):
            out.fail(number, "bad_type")
        else:
            out.ok()
            value = float(fields[3]) if fields[3:] and fields[3] else None
            edge = (fields[0], fields[1], fields[2], value)
            same = [e for e in graph.edges if parallel.identity(e) == parallel.identity(edge)]
            if parallel.action == "ignore" and same:
                duplicates += 1
                continue
            if parallel.action == "override":
                duplicates += len(same)
                graph.edges = [e for e in graph.edges if e not in same]
            graph.edges.append(edge)
    return out, duplicates


def ordered(edges: list[tuple]) -> list[tuple]:
    return sorted(edges, key=repr)


@RANDOM
@given(data=st.data())
def test_ges_imports_match_the_model(tmp_path_factory, data):
    tmp = tmp_path_factory.getbasetemp()
    space = workspace_in(tmp)
    graph = Graph()
    batch = data.draw(st.sampled_from([1, 2, 3, 20_000]), label="batch")
    try:
        with SmallBatches(batch):
            for _ in range(2):  # a second import appends to the first one's graph
                vertices = data.draw(lines_of(ges_vertex), label="vertices")
                edges = data.draw(lines_of(ges_edge), label="edges")
                parallel = ParallelEdges(
                    data.draw(st.sampled_from(["allow", "ignore", "override"]), label="action"),
                    data.draw(st.booleans(), label="ignore_label"),
                )
                plan = space.ges_plan(
                    schema_path=space.write("schema.xml", GES_SCHEMA),
                    vertexset_path=space.write("v.csv", file_text(vertices)),
                    edgeset_path=space.write("e.csv", file_text(edges)),
                    **parallel.request(),
                )
                edges_before = len(graph.edges)
                run = space.run(plan, **run_options(data.draw))
                want_v = ges_vertices(graph, vertices)
                want_e, duplicates = ges_edges(graph, edges, parallel)
                assert observed(run, 1) == expected(want_v)
                assert observed(run, 2) == expected(want_e)
                assert counts_by_reason(want_v) + counts_by_reason(want_e) == Counter(
                    str(f.reason) for f in run.progress.failed
                )
                assert run.files[2].ignored_lines == duplicates
                assert [v[:2] for v in space.store.vertices()] == graph.vertices
                # (under override, where a replacing edge lands in the table depends on batches)
                assert ordered([e[:4] for e in space.store.edges()]) == ordered(graph.edges)
                summary = run.summary
                assert summary.vertices_added == want_v.successful
                assert summary.edges_added - summary.edges_removed == (
                    len(graph.edges) - edges_before
                )
                check_store(space.store.path)
    finally:
        space.store.close()


# -- GraphScope ----------------------------------------------------------------------------------

DEFINITION = {
    "vertex_types": [
        {
            "type_name": "p",
            "primary_keys": ["id"],
            "properties": [
                {"property_name": "id", "property_type": {"primitive_type": "DT_SIGNED_INT64"}},
                {"property_name": "age", "property_type": {"primitive_type": "DT_SIGNED_INT32"}},
            ],
        },
        {
            "type_name": "q",
            "primary_keys": ["name"],
            "properties": [
                {"property_name": "name", "property_type": {"string": {"long_text": ""}}},
                {"property_name": "score", "property_type": {"primitive_type": "DT_DOUBLE"}},
            ],
        },
    ],
    "edge_types": [
        {
            "type_name": "k",
            "vertex_type_pair_relations": [{"source_vertex": "p", "destination_vertex": "p"}],
            "properties": [
                {"property_name": "w", "property_type": {"primitive_type": "DT_DOUBLE"}}
            ],
        },
        {
            "type_name": "r",
            "vertex_type_pair_relations": [{"source_vertex": "p", "destination_vertex": "q"}],
            "properties": [],
        },
    ],
}
# int64 primary keys: "007" is the key "7"; these are not int64 values at all.
P_KEYS = {"1": "1", "2": "2", "3": "3", "007": "7", "02": "2", "9": "9"}
P_KEYS_BAD = ["x", "1.5", "9223372036854775808"]
Q_KEYS = ["ann", "bob", "1", ""]


@st.composite
def p_vertex(draw) -> str:
    key = draw(st.sampled_from([*P_KEYS, *P_KEYS_BAD, ""]))
    return ",".join(mutate(draw, [key, draw(st.sampled_from(MOSTLY_GOOD["int"]))]))


@st.composite
def q_vertex(draw) -> str:
    key = draw(st.sampled_from(Q_KEYS))
    return ",".join(mutate(draw, [key, draw(st.sampled_from(MOSTLY_GOOD["double"]))]))


@st.composite
def k_edge(draw) -> str:
    ends = [*P_KEYS, "x", ""]
    src, dst = draw(st.sampled_from(ends)), draw(st.sampled_from(ends))
    return ",".join(mutate(draw, [src, dst, draw(st.sampled_from(MOSTLY_GOOD["double"]))]))


@st.composite
def r_edge(draw) -> str:
    src = draw(st.sampled_from([*P_KEYS, "x", ""]))
    return ",".join(mutate(draw, [src, draw(st.sampled_from([*Q_KEYS, "zed"]))]))


def p_key(text: str) -> str | None:
    """The canonical key of an int64 primary key's text; None: not an int64."""
    return P_KEYS.get(text)


def gs_vertices(graph: Graph, lines: list[str], label: str) -> Expected:
    """p: ``id,age`` (int64 key, int32); q: ``name,score`` (string key, double). Columns after
    the mapped ones are not read."""
    out = Expected()
    for number, fields in numbered(lines):
        if len(fields) < 2:
            out.fail(number, "column_count")
        elif fields[0] == "":
            out.fail(number, "empty_id")
        elif label == "p" and p_key(fields[0]) is None:
            out.fail(number, "bad_type")
        else:
            key = p_key(fields[0]) if label == "p" else fields[0]
            if key in graph.ids(label):
                out.fail(number, "duplicate_id")
            elif not valid("int" if label == "p" else "double", fields[1]):
                out.fail(number, "bad_type")
            else:
                graph.vertices.append((key, label))
                out.ok()
    return out


def gs_edges(graph: Graph, lines: list[str], label: str) -> Expected:
    """k: ``src,dst,w`` (p -> p, double); r: ``src,dst`` (p -> q)."""
    out = Expected()
    need = 3 if label == "k" else 2
    target = "p" if label == "k" else "q"
    for number, fields in numbered(lines):
        if len(fields) < need:
            out.fail(number, "column_count")
            continue
        src = p_key(fields[0])
        dst = p_key(fields[1]) if target == "p" else fields[1]
        if src is None:
            out.fail(number, "bad_type")
        elif src not in graph.ids("p"):
            out.fail(number, "missing_vertex")
        elif dst is None:
            out.fail(number, "bad_type")
        elif dst not in graph.ids(target):
            out.fail(number, "missing_vertex")
        elif label == "k" and not valid("double", fields[2]):
            out.fail(number, "bad_type")
        else:
            graph.edges.append((src, dst, label))
            out.ok()
    return out


HEADERS = {0: [], 1: ["h1,h2,h3"], 2: ["", "h1,h2"]}  # lines before the data (a header row)


@RANDOM
@given(data=st.data())
def test_graphscope_imports_match_the_model(tmp_path_factory, data):
    tmp = tmp_path_factory.getbasetemp()
    space = workspace_in(tmp)
    space.schema = graphscope.parse_graph_definition({"schema": DEFINITION})
    graph = Graph()
    batch = data.draw(st.sampled_from([1, 2, 3, 20_000]), label="batch")
    try:
        with SmallBatches(batch):
            for round_no in range(2):
                before = data.draw(st.sampled_from(sorted(HEADERS)), label="header lines")
                files = {
                    "p": data.draw(lines_of(p_vertex), label="p"),
                    "q": data.draw(lines_of(q_vertex), label="q"),
                    "k": data.draw(lines_of(k_edge), label="k"),
                    "r": data.draw(lines_of(r_edge), label="r"),
                }
                for name, lines in files.items():
                    space.write(f"{name}.csv", file_text(HEADERS[before] + lines))
                option = "init" if round_no == 0 else data.draw(st.sampled_from(["over", "add"]))
                mapping = {
                    "loading_config": {
                        "data_source": {"location": str(space.root)},
                        "import_option": "init" if option == "init" else "overwrite",
                        "format": {"metadata": {"delimiter": ",", "header_row": bool(before)}},
                    },
                    "vertex_mappings": [
                        {"type_name": t, "inputs": [f"{t}.csv"]} for t in ("p", "q")
                    ],
                    "edge_mappings": [
                        {
                            "type_triplet": {"edge": e, "source_vertex": "p", "destination_vertex": t},
                            "inputs": [f"{e}.csv"],
                        }
                        for e, t in (("k", "p"), ("r", "q"))
                    ],
                }  # fmt: skip
                plan = space.graphscope_plan(mapping)
                if option == "add":
                    plan = dataclasses.replace(plan, mode="append")
                else:
                    graph = Graph()  # init and overwrite start from an empty graph
                run = space.run(plan, **run_options(data.draw))
                wants = [
                    gs_vertices(graph, files["p"], "p"),
                    gs_vertices(graph, files["q"], "q"),
                    gs_edges(graph, files["k"], "k"),
                    gs_edges(graph, files["r"], "r"),
                ]
                for index, want in enumerate(wants):  # numbers count the header's lines
                    assert observed(run, index) == expected(shifted(want, before)), index
                assert [v[:2] for v in space.store.vertices()] == graph.vertices
                assert [e[:3] for e in space.store.edges()] == graph.edges
                check_store(space.store.path)
    finally:
        space.store.close()


def shifted(e: Expected, by: int) -> Expected:
    return Expected(e.total, e.successful, {n + by: r for n, r in e.reasons.items()})
