"""The loader fuzzed with random bytes (issue 12, section 2).

Whatever the bytes, an import ends without an exception (no "internal error"), every line is
accounted for by the documented rule (see the loader's docstring: a line ends at LF, CRs before
the LF belong to the ending, a UTF-8 BOM is skipped), failed lines carry the right line number
(their raw text is that line's, byte for byte but for escapes), the loaded lines are exactly the others, and what goes to the
job database can be saved there: each example's failed lines and file logs are written to the
job database for real and read back unchanged. Quoting off gives an exact line model; with
quoting on (a quoted field may span lines) the weaker properties are checked.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobcenter.core.text import storable
from jobcenter.graphs.formats import graphscope
from jobcenter.jobs.models import FailedLine, Job, JobFile
from tests.graphs.conftest import MOVIE_SCHEMA, Run, Workspace
from tests.graphs.invariants import check_store
from tests.graphs.test_loader_integrity import DEFINITION

FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
BOM = b"\xef\xbb\xbf"
# Pieces that make interesting files more often than uniform bytes do.
PIECES = [
    b"\n", b"\r", b"\r\n", b"\r\r\n", b",", b",,", b"a", b"b", b"user", b"friends", b"1",
    b"x", b" ", b"\x00", b"\xff", b"\xfe", b"\xc3\xa9", b"\xe2\x82", b"\xed\xa0\x80", BOM,
    b'"', b"\\", b"\t",
]  # fmt: skip
random_bytes = st.one_of(
    st.binary(max_size=200),
    st.lists(st.sampled_from(PIECES), max_size=60).map(b"".join),
    st.lists(st.one_of(st.sampled_from(PIECES), st.binary(max_size=3)), max_size=40).map(b"".join),
)
VALID_VERTICES = [b"a,user,Ann,31", b"b,user,Bob,40", b"c,user,Cid,", b"d,movie,Up,2009,x"]
VALID_EDGES = [b"a,b,friends", b"b,a,rate,4.5,2001-02-03", b"a,c,friends", b"c,a,friends"]


@st.composite
def damaged(draw, lines: list[bytes]) -> bytes:
    """A valid file with random bytes put in at random places."""
    data = bytearray(b"".join(line + b"\n" for line in draw(st.lists(st.sampled_from(lines)))))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data)))
        data[at:at] = draw(st.one_of(st.sampled_from(PIECES), st.binary(min_size=1, max_size=3)))
    return bytes(data)


@dataclass(frozen=True)
class Line:
    number: int
    content: bytes  # without its LF and the CRs before it (and the BOM on line 1)

    @property
    def blank(self) -> bool:
        return not self.content

    @property
    def bare_cr(self) -> bool:
        return b"\r" in self.content

    @property
    def undecodable(self) -> bool:
        try:
            self.content.decode("utf-8")
        except UnicodeDecodeError:
            return True
        return False

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "surrogateescape")

    @property
    def shown(self) -> str:
        """The raw text a failed line must carry: undecodable bytes and NUL escaped."""
        return self.content.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")[:1000]


def lines_of(data: bytes) -> list[Line]:
    """The documented rule, independently of the loader."""
    if data.startswith(BOM):
        data = data[len(BOM) :]
    pieces = data.split(b"\n")
    if pieces[-1] == b"":
        pieces.pop()  # the file ends with LF: no line after it
    return [Line(i, piece.rstrip(b"\r")) for i, piece in enumerate(pieces, start=1)]


def file_error(data: bytes) -> bool:
    """A utf-8 file that starts with a UTF-16 byte order mark is refused as a whole."""
    return data.startswith((b"\xff\xfe", b"\xfe\xff"))


def check_file(run: Run, index: int, data: bytes, *, exact: bool) -> list[Line]:
    """Check one file's accounting against the line model; returns the lines that loaded
    (``exact``: quoting off, one record per line)."""
    fp = run.files[index]
    assert fp.total_lines == fp.successful_lines + fp.failed_lines
    failed = {f.line_number: f for f in run.progress.failed if f.file_index == index}
    assert len(failed) == fp.failed_lines  # one record per failed line, no number twice
    lines = lines_of(data)
    if file_error(data):
        assert (fp.status, fp.total_lines) == ("failed", 0) and "UTF-16" in fp.cause
        return []
    data_lines = [line for line in lines if not line.blank]
    by_number = {line.number: line for line in lines}
    for number, record in failed.items():
        assert number in by_number and not by_number[number].blank, number
        assert storable(record.raw) and storable(record.message)
        # The raw text is the file's, from this line on (a quoted record may span lines; one
        # that cannot be parsed is the line where parsing failed).
        shown = by_number[number].shown
        assert (
            record.raw == shown
            if exact or record.reason == "malformed"
            else (record.raw.startswith(shown))
        ), (record.raw, shown)
    if not exact:
        assert fp.total_lines <= len(data_lines)
        return []
    assert fp.total_lines == len(data_lines)
    for line in data_lines:
        record = failed.get(line.number)
        if line.bare_cr:
            assert record is not None and record.reason == "malformed"
        elif line.undecodable:
            assert record is not None and record.reason == "encoding"
    return [line for line in data_lines if line.number not in failed]


def save_for_real(run: Run, job: Job) -> None:
    """What the heartbeat writes for an import's files and failed lines, saved in the job
    database and read back unchanged (NUL and lone surrogates would fail there)."""
    files = {}
    for index, fp in enumerate(run.files):
        file, _ = JobFile.objects.update_or_create(
            job=job, index=index, defaults={"role": fp.role, "path": f"f{index}"}
        )
        file.log, file.cause = fp.log, fp.cause
        file.save(update_fields=["log", "cause"])
        files[index] = file
    FailedLine.objects.filter(job=job).delete()
    FailedLine.objects.bulk_create(
        FailedLine(
            job=job,
            file=files[f.file_index],
            line_number=f.line_number,
            reason=str(f.reason),
            message=f.message,
            raw=f.raw,
        )
        for f in run.progress.failed
    )
    saved = list(
        FailedLine.objects.filter(job=job)
        .order_by("file__index", "line_number")
        .values_list("file__index", "line_number", "reason", "message", "raw")
    )
    kept = sorted(
        (f.file_index, f.line_number, str(f.reason), f.message, f.raw) for f in run.progress.failed
    )
    assert saved == kept
    logs = dict(JobFile.objects.filter(job=job).values_list("index", "log"))
    assert logs == {i: fp.log for i, fp in enumerate(run.files)}


@pytest.fixture
def job(project) -> Job:
    return Job.objects.create(type="import", name="ImportGraph", project=project)


def new_workspace(tmp_path_factory) -> Workspace:
    return Workspace(Path(tempfile.mkdtemp(dir=tmp_path_factory.getbasetemp())))


def ges_run(space: Workspace, vertices: bytes, edges: bytes, **request) -> Run:
    return space.run(
        space.ges_plan(
            schema_path=space.write("schema.xml", MOVIE_SCHEMA),
            vertexset_path=space.write("v.csv", vertices),
            edgeset_path=space.write("e.csv", edges),
            **request,
        )
    )


def check_ges(space: Workspace, run: Run, vertices: bytes, edges: bytes, *, exact: bool):
    loaded = check_file(run, 1, vertices, exact=exact)
    loaded_edges = check_file(run, 2, edges, exact=exact)
    if exact:  # the loaded lines are the stored rows, in order
        assert [v[0] for v in space.store.vertices()] == [x.text.split(",")[0] for x in loaded]
        assert [e[:3] for e in space.store.edges()] == [
            tuple(x.text.split(",")[:3]) for x in loaded_edges
        ]
    check_store(space.store.path)


@pytest.mark.django_db
@FUZZ
@given(vertices=random_bytes, edges=random_bytes)
def test_ges_random_bytes_without_quoting(tmp_path_factory, job, vertices, edges):
    space = new_workspace(tmp_path_factory)
    try:
        run = ges_run(space, vertices, edges, trim_quote="")
        check_ges(space, run, vertices, edges, exact=True)
        save_for_real(run, job)
    finally:
        space.store.close()


@pytest.mark.django_db
@FUZZ
@given(vertices=random_bytes, edges=random_bytes)
def test_ges_random_bytes_with_quoting(tmp_path_factory, job, vertices, edges):
    space = new_workspace(tmp_path_factory)
    try:
        run = ges_run(space, vertices, edges)
        check_ges(space, run, vertices, edges, exact=False)
        save_for_real(run, job)
    finally:
        space.store.close()


@pytest.mark.django_db
@FUZZ
@given(vertices=damaged(VALID_VERTICES), edges=damaged(VALID_EDGES), quoting=st.booleans())
def test_ges_valid_files_with_random_bytes_put_in(tmp_path_factory, job, vertices, edges, quoting):
    space = new_workspace(tmp_path_factory)
    try:
        run = ges_run(space, vertices, edges, **({} if quoting else {"trim_quote": ""}))
        exact = not quoting or b'"' not in vertices + edges
        check_ges(space, run, vertices, edges, exact=exact)
        save_for_real(run, job)
    finally:
        space.store.close()


@pytest.mark.django_db
@FUZZ
@given(vertices=st.one_of(random_bytes, damaged([b"1,30", b"2,40", b"3,"])), edges=random_bytes)
def test_graphscope_random_bytes(tmp_path_factory, job, vertices, edges):
    """GraphScope's default: no quoting, so the line model is exact."""
    space = new_workspace(tmp_path_factory)
    space.schema = graphscope.parse_graph_definition({"schema": DEFINITION})
    try:
        space.write("p.csv", vertices)
        space.write("k.csv", edges)
        mapping = {
            "loading_config": {
                "data_source": {"location": str(space.root)},
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
        run = space.run(space.graphscope_plan(mapping))
        loaded = check_file(run, 0, vertices, exact=True)
        check_file(run, 1, edges, exact=True)
        assert [v[0] for v in space.store.vertices()] == [
            str(int(x.text.split(",")[0])) for x in loaded
        ]
        check_store(space.store.path)
        save_for_real(run, job)
    finally:
        space.store.close()
