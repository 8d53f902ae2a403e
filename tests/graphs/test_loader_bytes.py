"""Bytes at the edges of a file (issue 12, section 2): what a line is (LF; CRs before the LF
belong to the ending; any other CR is data inside quotes and malformed outside), byte order
marks, encodings the loader cannot split into lines, and text that no job database can store.
Reproductions first (GES and GraphScope), then the rule's corners."""

from __future__ import annotations

import pytest

from jobcenter.graphs.formats import graphscope
from tests.graphs.conftest import MOVIE_SCHEMA, Workspace, drop_store
from tests.graphs.test_loader_integrity import DEFINITION

BOM_NOTE = "the UTF-8 byte order mark (BOM) at the start of the file was skipped"
CR_MESSAGE = (
    "the line cannot be parsed: a carriage return (CR) that does not end the line, outside "
    "quotes (a line ends with LF or CRLF; a CR in a value must be inside quotes)"
)


def ges(workspace, small_graph, vertices: bytes, edges: bytes | None = None, **request):
    return workspace.run(small_graph(vertices=vertices, edges=edges, **request))


def gs(workspace, vertices: bytes, edges: bytes = b"", *, header: bool = False, names=False):
    """A GraphScope init import of p.csv and k.csv (DEFINITION: p(id int64, age int32),
    k(p->p, w double))."""
    workspace.schema = graphscope.parse_graph_definition({"schema": DEFINITION})
    workspace.write("p.csv", vertices)
    workspace.write("k.csv", edges)
    vertex_mapping: dict = {"type_name": "p", "inputs": ["p.csv"]}
    if names:  # columns found by their names in the header row
        vertex_mapping["column_mappings"] = [
            {"column": {"name": "id"}, "property": "id"},
            {"column": {"name": "age"}, "property": "age"},
        ]
    mapping = {
        "loading_config": {
            "data_source": {"location": str(workspace.root)},
            "import_option": "init",
            "format": {"metadata": {"delimiter": ",", "header_row": header}},
        },
        "vertex_mappings": [vertex_mapping],
        "edge_mappings": [
            {
                "type_triplet": {"edge": "k", "source_vertex": "p", "destination_vertex": "p"},
                "inputs": ["k.csv"],
            }
        ],
    }
    return workspace.run(workspace.graphscope_plan(mapping))


def keys(workspace) -> list[str]:
    return [v[0] for v in workspace.store.vertices()]


# -- the reproductions -------------------------------------------------------------------------


def test_ges_crcrlf_next_to_undecodable_bytes_fails_that_line_only(workspace, small_graph):
    run = ges(workspace, small_graph, b"a1,user,A,1\r\r\nb\xff1,user,B,2\nc1,user,C,3\n")
    assert run.failed() == [(1, 2, "encoding")]
    assert run.progress.failed[0].raw == "b\\xff1,user,B,2"
    assert keys(workspace) == ["a1", "c1"]
    assert (run.files[1].total_lines, run.files[1].successful_lines) == (3, 2)


def test_ges_a_bare_cr_next_to_undecodable_bytes_fails_that_line_only(workspace, small_graph):
    run = ges(workspace, small_graph, b"a1,user,A,1\rb\xff1,user,B,2\nc1,user,C,3\n")
    assert run.failed() == [(1, 1, "malformed")]
    assert run.messages()[1] == CR_MESSAGE
    assert keys(workspace) == ["c1"]
    assert "line 1: malformed: the line cannot be parsed: a carriage return" in run.files[1].log


def test_ges_line_numbers_do_not_drift_after_a_bare_cr(workspace, small_graph):
    run = ges(workspace, small_graph, b"a1,user,A,1\rjunk\nb1,user,B,x\nc1,user,C,y\n")
    assert run.failed() == [(1, 1, "malformed"), (1, 2, "bad_type"), (1, 3, "bad_type")]
    assert {f.line_number: f.raw for f in run.progress.failed} == {
        1: "a1,user,A,1\rjunk",  # the line where parsing failed, as it is in the file
        2: "b1,user,B,x",
        3: "c1,user,C,y",
    }
    assert run.files[1].total_lines == 3


def test_ges_a_utf8_bom_is_skipped_and_said_in_the_log(workspace, small_graph):
    run = ges(workspace, small_graph, b"\xef\xbb\xbfa1,user,A,1\nb1,user,B,2\n", b"a1,b1,friends\n")
    assert run.failed() == []
    assert keys(workspace) == ["a1", "b1"]
    assert workspace.store.edges()[0][:3] == ("a1", "b1", "friends")
    assert run.files[1].log.splitlines()[1] == BOM_NOTE
    assert BOM_NOTE not in run.files[2].log


def test_graphscope_crcrlf_next_to_undecodable_bytes_fails_that_line_only(workspace):
    run = gs(workspace, b"1,30\r\r\n2\xff,40\n3,50\r\n", b"1,3,0.5\r\r\n")
    assert run.failed() == [(0, 2, "encoding")]
    assert keys(workspace) == ["1", "3"] and len(workspace.store.edges()) == 1


def test_graphscope_a_bare_cr_and_line_numbers(workspace):
    run = gs(workspace, b"1,30\r2\xff,40\n3,x\n4,50\n")
    assert run.failed() == [(0, 1, "malformed"), (0, 2, "bad_type")]
    assert keys(workspace) == ["4"]


def test_graphscope_a_utf8_bom_is_skipped(workspace):
    run = gs(workspace, b"\xef\xbb\xbf1,30\n2,40\n", b"\xef\xbb\xbf1,2,0.5\n")
    assert run.failed() == []
    assert keys(workspace) == ["1", "2"] and len(workspace.store.edges()) == 1
    assert BOM_NOTE in run.files[0].log and BOM_NOTE in run.files[1].log


def test_graphscope_a_utf8_bom_before_a_header_row_with_names(workspace):
    run = gs(workspace, b"\xef\xbb\xbfid,age\n1,30\n", header=True, names=True)
    assert run.failed() == [] and keys(workspace) == ["1"]
    assert workspace.store.vertices()[0][2:4] == (1, 30)


# -- the rule's corners ------------------------------------------------------------------------


def test_crlf_and_crs_at_the_end_of_the_file_end_lines(workspace, small_graph):
    run = ges(workspace, small_graph, b"a1,user,A,1\r\n\r\n\r\r\nb1,user,B,2\r\r\nc1,user,C,x\r")
    assert run.failed() == [(1, 5, "bad_type")]
    assert run.files[1].total_lines == 3  # three data lines; the blank ones are not counted
    assert [v[:4] for v in workspace.store.vertices()] == [
        ("a1", "user", "A", 1),
        ("b1", "user", "B", 2),
    ]


def test_a_cr_inside_quotes_is_data_and_numbering_counts_lf_only(workspace, small_graph):
    data = b'a1,user,"A\rB",1\nb1,user,"two\r\nlines",2\nc1,user,C,x\n'
    run = ges(workspace, small_graph, data)
    assert run.failed() == [(1, 4, "bad_type")]  # c1 is on line 4: the quoted LF counts
    assert [v[2] for v in workspace.store.vertices()] == ["A\rB", "two\r\nlines"]


def test_a_file_with_only_cr_line_endings_is_one_malformed_line(workspace, small_graph):
    run = ges(workspace, small_graph, b"a1,user,A,1\rb1,user,B,2\rc1,user,C,3\r")
    assert run.failed() == [(1, 1, "malformed")]
    assert run.files[1].total_lines == 1


def test_a_multiline_record_with_undecodable_bytes_is_reported_at_its_first_line(
    workspace, small_graph
):
    run = ges(workspace, small_graph, b'a1,user,A,1\nb1,user,"x\ny\xff",2\nc1,user,C,3\n')
    assert run.failed() == [(1, 2, "encoding")]
    assert keys(workspace) == ["a1", "c1"]


def test_nul_and_undecodable_bytes_are_stored_escaped(workspace, small_graph):
    run = ges(workspace, small_graph, b"a\x001,user,A,x\nb1,user,B\xff,2\n", trim_quote="")
    failed = {f.line_number: f for f in run.progress.failed}
    assert failed[1].raw == "a\\x001,user,A,x" and failed[1].reason == "bad_type"
    assert failed[2].raw == "b1,user,B\\xff,2" and failed[2].reason == "encoding"


def test_storable_text():
    from jobcenter.graphs.reading import storable_text

    assert storable_text("plain é") == "plain é"
    assert storable_text("plain ascii") == "plain ascii"
    assert storable_text("a\x00b\udcffc\ud800") == "a\\x00b\\xffc\\ud800"
    assert storable_text("ascii \x00 NUL") == "ascii \\x00 NUL"


@pytest.mark.parametrize(
    ("encoding", "supported"),
    [
        ("utf-8", True),
        ("UTF8", True),
        ("utf-8-sig", True),
        ("latin-1", True),
        ("cp1252", True),
        ("gbk", True),
        ("shift_jis", True),
        ("utf-16", False),
        ("utf-32", False),
        ("utf-7", False),
        ("iso2022_jp", False),
        ("cp037", False),
        ("rot13", False),
        ("hex", False),
    ],
)
def test_encodings_must_keep_ascii_as_it_is(encoding, supported):
    from jobcenter.graphs.reading import encoding_problem

    assert (encoding_problem(encoding) == "") is supported


def test_a_file_in_an_unsupported_encoding_fails_as_a_file(workspace, small_graph):
    run = ges(
        workspace,
        small_graph,
        "a1,user,A,1\n".encode("utf-16"),
        b"a1,a1,friends\n",
        encoding="utf-16",
    )
    for file in run.files[1:]:
        assert (file.status, file.total_lines, file.failed_lines) == ("failed", 0, 0)
        assert file.cause.startswith("encoding utf-16 is not supported for data files")
    assert run.failed() == [] and run.summary.lines_total == 0


def test_a_utf16_file_named_as_utf8_fails_as_a_file(workspace, small_graph):
    run = ges(workspace, small_graph, "a1,user,A,1\n".encode("utf-16"))
    assert run.files[1].status == "failed" and run.files[1].total_lines == 0
    assert run.files[1].cause == (
        "the file starts with a UTF-16 byte order mark: it is UTF-16 (or UTF-32), not utf-8; "
        "save it as UTF-8"
    )
    assert run.files[1].log == run.files[1].cause + "\n"


def test_a_crlf_file_gives_what_its_lf_twin_gives(tmp_path):
    # CRLF files are read in runs (a CR before the LF is the ending): every count, failed
    # line (number, reason, message, raw text) and stored row as with LF endings.
    vertices = [b"v%d,user,N%d,%d" % (i, i, i) for i in range(400)]
    vertices[5] = b"v5,user,N5,x"  # bad_type
    vertices[7] = b"v1,user,dup,1"  # duplicate_id
    vertices[9] = b""  # blank
    vertices[11] = b"v11,user,N\r11,1"  # a CR inside: malformed
    vertices[13] = b"v13,user,N13,13\r"  # CRCRLF (with the CRLF ending): an ending
    vertices[15] = b'v15,user,"two\nlines",15'  # a quoted field over two lines
    vertices[17] = b"v17,user"  # column_count
    edges = [b"v%d,v%d,rate,%d.5" % (i, (i * 7) % 400, i) for i in range(400)]
    edges[3] = b"v3,v5,rate,1"  # missing_vertex (v5 failed)
    edges[4] = b"v4,v6,rate,y"  # bad_type
    edges[6] = b"v6,v7,friends"
    results = []
    for name, ending in (("lf", b"\n"), ("crlf", b"\r\n")):
        space = Workspace(tmp_path / name)
        try:
            plan = space.ges_plan(
                schema_path=space.write("schema.xml", MOVIE_SCHEMA),
                vertexset_path=space.write("v.csv", b"".join(v + ending for v in vertices)),
                edgeset_path=space.write("e.csv", b"".join(e + ending for e in edges)),
            )
            run = space.run(plan)
            results.append(
                (
                    [(f.total_lines, f.successful_lines, f.failed_lines) for f in run.files],
                    sorted(
                        (f.file_index, f.line_number, str(f.reason), f.message, f.raw)
                        for f in run.progress.failed
                    ),
                    space.store.vertices(),
                    space.store.edges(),
                )
            )
        finally:
            drop_store(space.store)
    assert results[0] == results[1]
    files, failed, stored, _ = results[1]
    assert files[1] == (399, 395, 4) and len(stored) == 395  # 400 lines, one blank
    assert [(line, reason) for index, line, reason, _, _ in failed if index == 1] == [
        (6, "bad_type"),
        (8, "duplicate_id"),
        (12, "malformed"),
        (19, "column_count"),  # (line 16 and 17: one record)
    ]
