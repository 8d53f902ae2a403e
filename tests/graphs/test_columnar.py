"""The columnar path (jobcenter/graphs/columnar.py, chunks.py) against the per-line path: the
same files give the same summaries, file counts and logs, failed lines (number, reason, message,
raw) and stored graph. Files are random mixes of ordinary lines (some with quoted fields) and
every kind of line the columnar path must hand back (bad and borderline values, quotes around
part of a field or with a delimiter inside, multi-line records, CRs, NUL,
undecodable bytes, blank lines, wrong column counts, unknown labels, duplicates), read in tiny
chunks and batches so that chunk and batch boundaries fall everywhere, for both dialects and
both kinds of key index."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobcenter.graphs import chunks, columnar, loader
from jobcenter.graphs.formats import graphscope
from jobcenter.graphs.plan import ImportAborted
from tests.graphs.conftest import Run, Workspace, drop_store

RANDOM = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)

SCHEMA = """<?xml version="1.0"?>
<PMML version="3.0" xmlns="http://www.dmg.org/PMML-3-0"><labels>
  <label name="n"><properties>
    <property name="i" cardinality="single" dataType="int"/>
    <property name="l" cardinality="single" dataType="long"/>
    <property name="d" cardinality="single" dataType="double"/>
    <property name="b" cardinality="single" dataType="bool"/>
    <property name="c" cardinality="single" dataType="char"/>
    <property name="a" cardinality="single" dataType="char array" maxDataSize="3"/>
    <property name="e" cardinality="single" dataType="enum" typeNameCount="2"
      typeName1="A" typeName2="B"/>
    <property name="t" cardinality="single" dataType="date"/>
    <property name="s" cardinality="single" dataType="string"/>
    <property name="li" cardinality="list" dataType="int"/>
  </properties></label>
  <label name="m"><properties>
    <property name="f" cardinality="single" dataType="float"/>
  </properties></label>
  <label name="k"></label>
</labels></PMML>
"""
VALUES = {
    "i": ["", "1", "-7", "007", "+5", " 5", "1_0", "2147483647", "2147483648", "x", "\u0665"],
    "l": ["", "9223372036854775807", "9223372036854775808", "123456789012345678", "-0"],
    "d": ["", "1.5", "2", "-0.5", "1e5", "1E-3", "1e999", "inf", "nan", "1_0.5", " 1.5", "1."],
    "f": [".5", "0x10", "12345678901234567890123.5", "1e-99", "3.25"],
    "b": ["", "1", "0", "true", "False", "TRUE", "yes"],
    "c": ["", "a", "ab", "\u00e9"],
    "a": ["", "abc", "abcd", "\u00e9\u00e9"],
    "e": ["", "A", "B", "C"],
    "t": ["", "2020-01-31", "2020-13-01", "2020-1-1", "2020-02-30"],
    "s": ["", "x", "a b", "\u00fc"],
    "li": ["", "1;2", "1;x", "5"],
}
PROPS = {"n": ["i", "l", "d", "b", "c", "a", "e", "t", "s", "li"], "m": ["f"], "k": []}
IDS = ["v1", "v2", "v3", "v4", "v5", "007", "7", ""]
# Whole lines that only the per-line path can read, and byte-level damage.
SPECIAL_LINES = [
    b'v9,n,1,2,3.5,1,a,abc,A,2020-01-01,"x,y",1',
    b'v8,n,1,2,3.5,1,a,abc,A,2020-01-01,"multi\nline",1',
    b'v7,"m",1.5',
    b"v6,m,1.5\r",
    b"v6,m\r,1.5",
    b"v5,m,\x001.5",
    b"v4,m,1\xff.5",
    b'"unterminated,m,1.5',
    b"",
    b'""',
    b' "v2",m,1.5',
    b'"v3"x,m,1.5',
    b'"v""4",m,1.5',
]


def _field(prop: str):
    return st.sampled_from(VALUES[prop] + (VALUES["d"] if prop == "f" else []))


@st.composite
def vertex_line(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(SPECIAL_LINES))
    label = draw(st.sampled_from(["n", "n", "m", "m", "k", "zz"]))
    fields = [draw(st.sampled_from(IDS)), label]
    fields += [draw(_field(p)) for p in PROPS.get(label, [])]
    if draw(st.integers(0, 12)) == 0:
        fields = fields[:-1] if draw(st.booleans()) else [*fields, "extra"]
    return ",".join(_some_quoted(draw, fields)).encode()


@st.composite
def edge_line(draw) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(SPECIAL_LINES)).replace(b"v", b"v1,v")
    label = draw(st.sampled_from(["m", "m", "k", "k", "n", "zz"]))
    fields = [draw(st.sampled_from([*IDS, "nope"])), draw(st.sampled_from([*IDS, "nope"])), label]
    fields += [draw(_field(p)) for p in PROPS.get(label, [])]
    if draw(st.integers(0, 12)) == 0:
        fields = fields[:2]
    return ",".join(_some_quoted(draw, fields)).encode()


def _some_quoted(draw, fields: list[str]) -> list[str]:
    """In a line of four, fields wrapped in quotes at random (read in the run)."""
    if draw(st.integers(0, 3)):
        return fields
    return [f'"{f}"' if draw(st.booleans()) else f for f in fields]


def _file(lines: list[bytes], ending: bytes) -> bytes:
    return b"".join(line + ending for line in lines)


def observe(run: Run, error: BaseException | None, workspace: Workspace) -> str:
    timing = re.compile(r"lines in [0-9.]+s")
    files = [
        (
            f.status,
            f.cause,
            f.total_lines,
            f.successful_lines,
            f.failed_lines,
            f.ignored_lines,
            timing.sub("", f.log),
            sorted(f.reasons.items()),
        )
        for f in run.files
    ]
    seen = (
        run.summary.to_dict() if run.summary else None,
        str(error) if error else None,
        files,
        [dataclasses.astuple(f) for f in run.progress.failed],
        workspace.store.vertices(),
        workspace.store.edges(),
    )
    return repr(seen).replace(str(workspace.root), "ROOT")


def import_both(
    tmp: Path, make_plan, options: dict, *, chunk_bytes: int, batch: int, backend: str = "sqlite"
) -> tuple:
    """The same plan through the columnar and the per-line path, each into a store of its own
    (of ``backend``)."""
    seen = []
    kept = loader.COLUMNAR, loader.BATCH_ROWS, chunks.CHUNK_BYTES
    try:
        for columnar in (True, False):
            loader.COLUMNAR, loader.BATCH_ROWS, chunks.CHUNK_BYTES = columnar, batch, chunk_bytes
            workspace = Workspace(Path(tempfile.mkdtemp(dir=tmp)), backend)
            try:
                plan = make_plan(workspace)
                run = Run(plan)
                error = None
                try:
                    run.summary = loader.run_import(
                        plan, workspace.store, job_id="j", progress=run.progress, **options
                    )
                except ImportAborted as exc:
                    error = exc
                seen.append(observe(run, error, workspace))
            finally:
                drop_store(workspace.store)
    finally:
        loader.COLUMNAR, loader.BATCH_ROWS, chunks.CHUNK_BYTES = kept
    return seen[0], seen[1]


@st.composite
def run_options(draw) -> tuple[dict, dict]:
    options = {}
    if draw(st.booleans()):
        options["index_capacity"] = 0  # the key index in the store: batched look-ups
    request = {}
    action = draw(st.sampled_from([None, "ignore", "override"]))
    if action:
        request["parallel_edge"] = {"action": action, "ignore_label": draw(st.booleans())}
    if draw(st.integers(0, 4)) == 0:
        request["error_threshold"] = draw(
            st.sampled_from([{"max_count": 3}, {"max_count": 10}, {"max_percent": 20}])
        )
    return options, request


@RANDOM
@given(
    vertices=st.lists(vertex_line(), max_size=30),
    edges=st.lists(edge_line(), max_size=30),
    ending=st.sampled_from([b"\n", b"\n", b"\r\n"]),
    chunk_bytes=st.sampled_from([1, 40, 200, 1 << 20]),
    batch=st.sampled_from([1, 3, 20_000]),
    setup=run_options(),
)
def test_ges_files_give_the_same_result_through_both_paths(
    tmp_path_factory, vertices, edges, ending, chunk_bytes, batch, setup
):
    options, request = setup
    vfile, efile = _file(vertices, ending), _file(edges, ending)
    if vertices and draw_no_final_lf(vfile):
        vfile = vfile[: -len(ending)]

    def make_plan(workspace: Workspace):
        return workspace.ges_plan(
            schema_path=workspace.write("schema.xml", SCHEMA),
            vertexset_path=workspace.write("v.csv", vfile),
            edgeset_path=workspace.write("e.csv", efile),
            **request,
        )

    tmp = tmp_path_factory.mktemp("columnar")
    fast, reference = import_both(tmp, make_plan, options, chunk_bytes=chunk_bytes, batch=batch)
    assert fast == reference


@settings(RANDOM, max_examples=15)
@given(
    vertices=st.lists(vertex_line(), max_size=30),
    edges=st.lists(edge_line(), max_size=30),
    chunk_bytes=st.sampled_from([1, 40, 1 << 20]),
    batch=st.sampled_from([1, 3, 20_000]),
    setup=run_options(),
)
def test_ges_files_give_the_same_stored_graph_on_the_postgresql_store(
    tmp_path_factory, vertices, edges, chunk_bytes, batch, setup
):
    """The PostgreSQL store writes the columnar path's Arrow columns as they are: the stored
    graph is the one the per-line path's Python rows give."""
    options, request = setup

    def make_plan(workspace: Workspace):
        return workspace.ges_plan(
            schema_path=workspace.write("schema.xml", SCHEMA),
            vertexset_path=workspace.write("v.csv", _file(vertices, b"\n")),
            edgeset_path=workspace.write("e.csv", _file(edges, b"\n")),
            **request,
        )

    tmp = tmp_path_factory.mktemp("columnar")
    fast, reference = import_both(
        tmp, make_plan, options, chunk_bytes=chunk_bytes, batch=batch, backend="postgresql"
    )
    assert fast == reference


def draw_no_final_lf(data: bytes) -> bool:
    return len(data) % 3 == 0  # some files end without a line ending


DEFINITION = {
    "vertex_types": [
        {
            "type_name": "p",
            "primary_keys": ["id"],
            "properties": [
                {"property_name": "id", "property_type": {"primitive_type": "DT_SIGNED_INT64"}},
                {"property_name": "age", "property_type": {"primitive_type": "DT_SIGNED_INT32"}},
                {"property_name": "name", "property_type": {"string": {"long_text": {}}}},
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
KEYS = ["1", "2", "3", "007", "7", "-0", "0", "", "x", "+3", "99999999999999999999"]


@st.composite
def gs_line(draw, columns: int) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(SPECIAL_LINES))
    fields = [draw(st.sampled_from(KEYS))]
    if columns == 3:
        fields += [draw(st.sampled_from(VALUES["i"])), draw(st.sampled_from(VALUES["s"]))]
    else:
        fields += [draw(st.sampled_from(KEYS)), draw(st.sampled_from(VALUES["d"]))]
    if draw(st.integers(0, 8)) == 0:
        fields = fields[:-2] if draw(st.booleans()) else [*fields, "extra"]
    return ",".join(fields).encode()


@RANDOM
@given(
    vertices=st.lists(gs_line(3), max_size=30),
    edges=st.lists(gs_line(2), max_size=30),
    header=st.booleans(),
    chunk_bytes=st.sampled_from([1, 40, 1 << 20]),
    batch=st.sampled_from([1, 3, 20_000]),
    setup=run_options(),
)
def test_graphscope_files_give_the_same_result_through_both_paths(
    tmp_path_factory, vertices, edges, header, chunk_bytes, batch, setup
):
    options, _request = setup
    head = [b"id,age,name"] if header else []

    def make_plan(workspace: Workspace):
        workspace.schema = graphscope.parse_graph_definition({"schema": DEFINITION})
        workspace.write("p.csv", _file(head + vertices, b"\n"))
        workspace.write("k.csv", _file(head + edges, b"\n"))
        mapping = {
            "loading_config": {
                "data_source": {"location": str(workspace.root)},
                "import_option": "init",
                "format": {"metadata": {"delimiter": ",", "header_row": header}},
            },
            "vertex_mappings": [{"type_name": "p", "inputs": ["p.csv"]}],
            "edge_mappings": [
                {
                    "type_triplet": {"edge": "k", "source_vertex": "p", "destination_vertex": "p"},
                    "inputs": ["k.csv"],
                }
            ],
        }
        return workspace.graphscope_plan(mapping)

    tmp = tmp_path_factory.mktemp("columnar")
    fast, reference = import_both(tmp, make_plan, options, chunk_bytes=chunk_bytes, batch=batch)
    assert fast == reference


@pytest.mark.parametrize("capacity", [None, 0], ids=["memory", "stored"])
def test_a_big_clean_file_takes_the_columnar_path(workspace, small_graph, capacity, monkeypatch):
    """Lines of a clean file are built by the columnar path (not one by one), and CR-damaged
    lines among them still go through csv.reader, with their exact reasons (a field in quotes
    is read in the run)."""
    built: list[int] = []
    original = columnar.Rows.run

    def counting(self, lines, *args):
        built.append(len(lines))
        return original(self, lines, *args)

    monkeypatch.setattr(columnar.Rows, "run", counting)
    vertices = "".join(f"u{i},user,N{i},{i}\n" for i in range(3000))
    edges = "".join(f"u{i % 3000},u{(i * 7) % 3000},rate,{i % 10}.5\n" for i in range(5000))
    edges += 'u1,"u2",rate,1.5\nu1,u2,rate,1\r5\nu1,nobody,rate,1\n'
    run = workspace.run(
        small_graph(vertices=vertices, edges=edges),
        **({} if capacity is None else {"index_capacity": capacity}),
    )
    assert built == [3000, 5003]  # one chunk per file; the quoted and CR lines via csv.reader
    assert run.failed() == [(2, 5002, "malformed"), (2, 5003, "missing_vertex")]
    assert run.summary.edges_added == 5001 and run.summary.vertices_added == 3000


# A valid line of each label, for one value at a time to be changed.
GOOD = {
    "n": ["5", "5", "1.5", "1", "a", "abc", "A", "2020-01-31", "x", "1;2"],
    "m": ["1.5"],
}


@pytest.mark.parametrize("capacity", [None, 0], ids=["memory", "stored"])
def test_every_borderline_value_gives_the_same_result_through_both_paths(tmp_path, capacity):
    """Each value of VALUES in an otherwise valid line: the columnar path recognises only
    what the per-line converters accept, and reads it as they do."""
    lines = []
    for label, good in GOOD.items():
        for position, prop in enumerate(PROPS[label]):
            for value in VALUES[prop] + (VALUES["d"] if prop == "f" else []):
                fields = list(good)
                fields[position] = value
                lines.append(",".join([f"v{len(lines)}", label, *fields]))
    vertices = "\n".join(lines).encode() + b"\n"
    edges = "".join(f"v{i},v{i + 1},m,{line.split(',')[2]}\n" for i, line in enumerate(lines))

    def make_plan(workspace: Workspace):
        return workspace.ges_plan(
            schema_path=workspace.write("schema.xml", SCHEMA),
            vertexset_path=workspace.write("v.csv", vertices),
            edgeset_path=workspace.write("e.csv", edges.encode()),
        )

    options = {} if capacity is None else {"index_capacity": capacity}
    fast, reference = import_both(tmp_path, make_plan, options, chunk_bytes=1 << 20, batch=7)
    assert fast == reference


def test_beyond_the_key_index_capacity_keys_are_looked_up_in_batches(
    workspace, small_graph, monkeypatch
):
    """Past ``index_capacity`` the keys are in the store: a run's keys are looked up with one
    statement (``find_vids``), not line by line (``find_vid``, left to the lines the columnar
    path hands back)."""
    from jobcenter.graphs.stores.sqlite import SqliteStore

    calls: Counter = Counter()
    original = SqliteStore.find_vid

    def counting(self, scope, key):
        calls[key] += 1
        return original(self, scope, key)

    monkeypatch.setattr(SqliteStore, "find_vid", counting)
    vertices = "".join(f"u{i},user,N{i},{i}\n" for i in range(2000))
    vertices += "u5,user,Again,1\n"  # a duplicate id: handed back, looked up alone
    edges = "".join(f"u{i % 2000},u{(i * 7) % 2000},rate,{i % 10}.5\n" for i in range(6000))
    edges += "u1,nobody,rate,1\n"
    run = workspace.run(small_graph(vertices=vertices, edges=edges), index_capacity=100)
    assert run.failed() == [(1, 2001, "duplicate_id"), (2, 6001, "missing_vertex")]
    assert run.summary.vertices_added == 2000 and run.summary.edges_added == 6000
    assert sum(calls.values()) <= 3, calls  # u5; u1 and nobody
    assert workspace.store.edges()[-1][:4] == ("u1999", "u1993", "rate", 9.5)


@pytest.mark.parametrize("delimiter", ["|", "\t", "§"])
def test_quoted_fields_under_other_delimiters_give_the_same_result(tmp_path, delimiter):
    # Quotes that wrap whole fields are read in the run (ASCII delimiters); a delimiter inside
    # quotes sends the line to csv.reader; a non-ASCII delimiter sends every quoted line there.
    d = delimiter
    vertices = [
        f'"v1"{d}m{d}"1.5"',
        f'v2{d}"m"{d}2.5',
        f'"v{d}3"{d}m{d}1.5',
        f'"v4"{d}"m"{d}x',
        f'"v1"{d}m{d}3.5',
        '""',
        f'"é"{d}k',
    ] * 3
    edges = [f'"v1"{d}"v2"{d}k', f'v2{d}"v{d}3"{d}k', f'"v4"{d}v1{d}k', f'"é"{d}"v1"{d}"k"']

    def make_plan(workspace: Workspace):
        return workspace.ges_plan(
            schema_path=workspace.write("schema.xml", SCHEMA),
            vertexset_path=workspace.write("v.csv", "".join(f"{v}\n" for v in vertices)),
            edgeset_path=workspace.write("e.csv", "".join(f"{e}\r\n" for e in edges)),
            delimiter=d,
        )

    fast, reference = import_both(tmp_path, make_plan, {}, chunk_bytes=1 << 20, batch=20_000)
    assert fast == reference
    assert repr(f"v{d}3") in fast and repr("é") in fast  # stored, with their delimiter


def test_long_failed_lines_are_shown_alike_through_both_paths(tmp_path):
    # An ordinary line that fails is shown from its text (the columnar path) as the per-line
    # path shows it from its bytes: its first 1,000 characters, multibyte ones whole.
    wide = "é日" * 1500
    vertices = ["v1,m,1.5", f"v2,m,{wide}", f"v3,m,{'x' * 999}", "v4,m,2.5"]
    edges = [f"v1,v4,k,{wide}", "v1,nobody,k", "v4,v1,k"]

    def make_plan(workspace: Workspace):
        return workspace.ges_plan(
            schema_path=workspace.write("schema.xml", SCHEMA),
            vertexset_path=workspace.write("v.csv", "".join(f"{v}\n" for v in vertices)),
            edgeset_path=workspace.write("e.csv", "".join(f"{e}\r\n" for e in edges)),
        )

    fast, reference = import_both(tmp_path, make_plan, {}, chunk_bytes=1 << 20, batch=20_000)
    assert fast == reference
    assert repr(f"v2,m,{wide}"[:1000]) in fast and repr(f"v2,m,{wide}"[:1001]) not in fast
    assert repr("v1,nobody,k") in fast


TWO_TYPES = {
    "vertex_types": [
        {
            "type_name": name,
            "primary_keys": ["id"],
            "properties": [
                {"property_name": "id", "property_type": {"primitive_type": "DT_SIGNED_INT64"}}
            ],
        }
        for name in ("person", "movie")
    ],
    "edge_types": [
        {
            "type_name": "saw",
            "vertex_type_pair_relations": [
                {"source_vertex": "person", "destination_vertex": "movie"}
            ],
            "properties": [
                {"property_name": "w", "property_type": {"primitive_type": "DT_DOUBLE"}}
            ],
        }
    ],
}


@pytest.mark.parametrize("capacity", [None, 0], ids=["memory", "stored"])
def test_ends_of_two_vertex_types_are_judged_alike_through_both_paths(tmp_path, capacity):
    """Edge lines that fail next to a run (a bad value, a missing end of either type, both)
    are judged by the per-line builder with the ends the run looked up: each end in its own
    type (person 1 and movie 2 exist, not person 2 nor movie 1)."""
    edges = [b"1,2,0.5", b"1,2,x", b"2,2,0.5", b"1,1,0.5", b"2,1,x", b"007,2,y", b"1,002,z"]

    def make_plan(workspace: Workspace):
        workspace.schema = graphscope.parse_graph_definition({"schema": TWO_TYPES})
        workspace.write("person.csv", b"1\n3\n")
        workspace.write("movie.csv", b"2\n4\n")
        workspace.write("saw.csv", _file(edges * 50, b"\n"))
        triplet = {"edge": "saw", "source_vertex": "person", "destination_vertex": "movie"}
        return workspace.graphscope_plan(
            {
                "loading_config": {
                    "data_source": {"location": str(workspace.root)},
                    "import_option": "init",
                    "format": {"metadata": {"delimiter": ",", "header_row": False}},
                },
                "vertex_mappings": [
                    {"type_name": "person", "inputs": ["person.csv"]},
                    {"type_name": "movie", "inputs": ["movie.csv"]},
                ],
                "edge_mappings": [{"type_triplet": triplet, "inputs": ["saw.csv"]}],
            }
        )

    options = {} if capacity is None else {"index_capacity": capacity}
    fast, reference = import_both(tmp_path, make_plan, options, chunk_bytes=1 << 20, batch=64)
    assert fast == reference
    assert "target vertex movie '1' does not exist" in fast
    assert "source vertex person '2' does not exist" in fast
