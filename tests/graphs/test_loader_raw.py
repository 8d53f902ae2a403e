"""A failed line's ``raw`` is the line as it stands in the file (issue 13), not the fields
written back as CSV: quotes, embedded delimiters and doubled quotes kept, a quoted field's line
breaks kept, the line ending (LF, CRLF, CRs at the end of the file) dropped, undecodable bytes
and NUL escaped (``\\xff``, ``\\x00``), the BOM of a first line dropped, at most 1,000
characters. Both dialects' layouts (GES and GraphScope) go through the one loader."""

from __future__ import annotations

from jobcenter.graphs import reading
from jobcenter.graphs.formats import graphscope
from jobcenter.graphs.plan import RAW_LINE_LIMIT
from tests.graphs.test_loader_integrity import DEFINITION


def raws(run) -> dict[tuple[int, int], str]:
    return {(f.file_index, f.line_number): f.raw for f in run.progress.failed}


def test_ges_quoted_fields_come_back_as_written(workspace, small_graph):
    vertices = (
        b'"x1",user,"A, B",not-a-number\n'  # the example: quotes kept, comma inside
        b'x2,user,"say ""hi""",forty\n'  # doubled quotes kept as doubled
        b"x3,user,'single',\"31\"\n"  # loads: the quotes only delimit
        b'"x4" ,user,C,1,extra\n'  # a space after a closing quote
    )
    run = workspace.run(small_graph(vertices=vertices))
    assert raws(run) == {
        (1, 1): '"x1",user,"A, B",not-a-number',
        (1, 2): 'x2,user,"say ""hi""",forty',
        (1, 4): '"x4" ,user,C,1,extra',
    }
    assert [v[0] for v in workspace.store.vertices()] == ["x3"]


def test_ges_a_quoted_field_over_several_lines_is_kept_whole(workspace, small_graph):
    vertices = (
        b'"m1",user,"two\nlines",x\n'  # lines 1-2, reported at 1
        b'm2,user,"crlf\r\ninside",y\r\n'  # lines 3-4, CRLF inside kept, the ending dropped
        b"m3,user,M,z\n"  # line 5
    )
    run = workspace.run(small_graph(vertices=vertices))
    assert raws(run) == {
        (1, 1): '"m1",user,"two\nlines",x',
        (1, 3): 'm2,user,"crlf\r\ninside",y',
        (1, 5): "m3,user,M,z",
    }


def test_ges_crlf_endings_and_a_last_line_without_lf_are_dropped(workspace, small_graph):
    run = workspace.run(small_graph(vertices=b'a1,user,"A",x\r\nb1,user,B,2\r\nc1,user,"C",y\r'))
    assert raws(run) == {(1, 1): 'a1,user,"A",x', (1, 3): 'c1,user,"C",y'}


def test_ges_undecodable_bytes_and_nul_are_escaped_in_the_line_as_written(workspace, small_graph):
    vertices = b'"b\xff1",user,"B, b",2\n"c\x001",user,"C",x\n\xef\xbb\xbf,user,D,x\n'
    run = workspace.run(small_graph(vertices=vertices))
    assert raws(run) == {
        (1, 1): '"b\\xff1",user,"B, b",2',
        (1, 2): '"c\\x001",user,"C",x',
        (1, 3): "\ufeff,user,D,x",  # a BOM that is not at the start of the file is data
    }
    assert [f.reason for f in run.progress.failed] == ["encoding", "bad_type", "bad_type"]


def test_ges_the_bom_of_the_first_line_is_not_part_of_it(workspace, small_graph):
    run = workspace.run(small_graph(vertices=b'\xef\xbb\xbf"a1",user,A,x\n'))
    assert raws(run) == {(1, 1): '"a1",user,A,x'}


def test_ges_a_line_that_cannot_be_parsed_is_shown_where_parsing_failed(workspace, small_graph):
    run = workspace.run(small_graph(vertices=b'a1,user,A,1\rjunk\nb1,user,"B",x\n'))
    assert raws(run) == {(1, 1): "a1,user,A,1\rjunk", (1, 2): 'b1,user,"B",x'}


def test_ges_a_long_line_is_cut_at_the_limit(workspace, small_graph):
    name = "é" * 3000
    run = workspace.run(small_graph(vertices=f'z1,user,"{name}",x\n'.encode()))
    raw = run.progress.failed[0].raw
    assert len(raw) == RAW_LINE_LIMIT and raw == f'z1,user,"{name}'[:RAW_LINE_LIMIT]


def test_ges_failed_lines_far_into_a_big_file_are_the_right_lines(workspace, small_graph):
    # Failed records spread over many of RawLines' blocks, one of them across a block boundary.
    records = [f"v{i},user,Name {i},{i}" for i in range(1, 40_001)]
    bad = {6: '"v7",user,"N, 7",x', 9_998: "v9999,user,,x", 39_999: '"v40000",user,"a""b",y'}
    offset = 0
    for index, record in enumerate(records):
        if offset + len(record) + 1 > reading.RawLines.BLOCK:
            bad[index] = f'v{index + 1},user,"across\nthe boundary",z'  # starts before it
            break
        offset += len(record) + 1
    for index, text in bad.items():
        records[index] = text
    starts, line = [], 1
    for record in records:
        starts.append(line)
        line += record.count("\n") + 1
    run = workspace.run(small_graph(vertices=("\n".join(records) + "\n").encode()))
    assert raws(run) == {(1, starts[index]): text for index, text in bad.items()}
    assert run.files[1].failed_lines == 4


def test_ges_edges_keep_their_quotes(workspace, small_graph):
    run = workspace.run(
        small_graph(
            vertices=b"a,user,A,1\nb,user,B,2\n",
            edges=b'"a","b",rate,"4.5"\n"a","ghost",rate,"1"\na,b,rate,"four, five"\n',
        )
    )
    assert raws(run) == {(2, 2): '"a","ghost",rate,"1"', (2, 3): 'a,b,rate,"four, five"'}


def test_ges_with_quoting_off_the_quotes_are_data_and_kept(workspace, small_graph):
    run = workspace.run(small_graph(vertices=b'"q1",user,"Q",x\n', trim_quote=""))
    assert raws(run) == {(1, 1): '"q1",user,"Q",x'}


def graphscope_run(workspace, vertices: bytes, edges: bytes, **metadata):
    workspace.schema = graphscope.parse_graph_definition({"schema": DEFINITION})
    workspace.write("p.csv", vertices)
    workspace.write("k.csv", edges)
    mapping = {
        "loading_config": {
            "data_source": {"location": str(workspace.root)},
            "import_option": "init",
            "format": {"metadata": metadata},
        },
        "vertex_mappings": [{"type_name": "p", "inputs": ["p.csv"]}],
        "edge_mappings": [
            {
                "type_triplet": {"edge": "k", "source_vertex": "p", "destination_vertex": "p"},
                "inputs": ["k.csv"],
            }
        ],
    }
    return workspace.run(workspace.graphscope_plan(mapping))


def test_graphscope_quoted_lines_with_a_header_come_back_as_written(workspace):
    run = graphscope_run(
        workspace,
        b'id|age\r\n"1"|"30"\r\n"2"|"x|y"\r\n3|"multi\nline"\r\n4\xfe|40\r\n',
        b'src|dst|w\n"1"|"9"|"0.5"\n1|1|"a ""b"""\n',
        delimiter="|",
        quoting=True,
        header_row=True,
    )
    assert raws(run) == {
        (0, 3): '"2"|"x|y"',
        (0, 4): '3|"multi\nline"',
        (0, 6): "4\\xfe|40",
        (1, 2): '"1"|"9"|"0.5"',
        (1, 3): '1|1|"a ""b"""',
    }


def test_graphscope_without_quoting_keeps_the_line(workspace):
    run = graphscope_run(
        workspace, b'1,"30"\n2,40\n', b"1,2,x \\, y\n", delimiter=",", header_row=False
    )
    assert raws(run) == {(0, 1): '1,"30"', (1, 1): "1,2,x \\, y"}
