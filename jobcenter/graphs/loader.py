"""The one loader: executes an :class:`~jobcenter.graphs.plan.ImportPlan` against a graph store.

How an import runs:

1. A pre-pass reads every file once in binary: its size, its line count (the progress bars'
   denominators) and the lines whose bytes do not decode.
2. One store transaction holds the whole import. Each file is read in big byte chunks cut at
   LF (:mod:`~jobcenter.graphs.chunks`); every line is validated: against the schema (column
   count, label, types, enum values, lengths, dates) and against the graph through a
   :class:`VertexIndex` (duplicate ids, missing endpoints). A chunk's ordinary lines are built
   at once by pyarrow (:mod:`~jobcenter.graphs.columnar`), which only takes the lines that are
   valid beyond doubt; every other line goes, in its place, through the per-line builders below
   (and lines with quotes, CRs, NUL or undecodable bytes through ``csv.reader``), which decide
   them and give their reasons, so results are the same as line by line (``COLUMNAR = False``
   reads every file through ``csv.reader``, the reference the tests compare with). Good lines
   go to the store in batches, for edge files on a second thread (:mod:`~jobcenter.graphs.writer`).
3. Between batches the loader publishes its counters (read by the job's heartbeat thread) and
   looks at the stop flag: a cancel rolls the transaction back, so the graph is as it was.
4. ``commit_gate`` is the point of no return; then the data and the import's summary commit.

What a line is (one rule for the pre-pass, the reader and every line number): a line ends at
an LF byte; CRs right before the LF belong to the ending (CRLF, and CRCRLF), as do CRs at the
very end of the file. A CR anywhere else does not end a line: inside a quoted field it is data,
outside quotes the line fails as ``malformed``. Lines are numbered from 1 by LF, as ``wc -l``,
``sed -n`` or an editor count them; blank lines are counted in the numbering but are not data
lines; a record whose quoted field spans lines is reported at its first line (one that cannot
be parsed, at the line where parsing failed). A UTF-8 byte order mark at the start of a utf-8
file is skipped (and the file's log says so). Encodings must keep ASCII bytes as they are
(utf-8, latin-1, cp1252, gbk, shift_jis...); others (utf-16...) are refused file by file.

What a line is judged on, in this order (the first check that fails gives the reason): the
CSV syntax (``malformed``), bytes that do not decode (``encoding``), the column count, the label,
the id (``empty_id``; a GraphScope primary key that is not a valid value is ``bad_type``), the
graph (``duplicate_id`` for a vertex, ``missing_vertex`` for an edge's source, then its
target), then the property values in schema order. A vertex id is taken only by a line that is
stored: a line failing on a value leaves the id free, so an edge to it is a missing vertex and
a later valid line with it loads. Every stored edge joins two stored vertices.

A failed line's ``raw`` is its text exactly as it is in the file (without the line ending;
bytes that do not decode and NUL escaped, see :func:`storable_text`), read again by line number
only for the failed lines that are kept: from the chunk in hand, else by line number
(:class:`RawLines`), so the hot loop pays nothing for it.

Memory does not grow with file size: a chunk is ``chunks.CHUNK_BYTES`` (its rows are built
at once), a batch at most ``BATCH_ROWS`` rows, at most two batches wait for the writer, and
failed lines are kept (up to ``plan.max_failed_records`` per file) only until the heartbeat
drains them.
"""

from __future__ import annotations

import bisect
import codecs
import contextlib
import csv
import functools
import gc
import operator
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from jobcenter.graphs import columnar
from jobcenter.graphs.chunks import Chunks, special_bytes
from jobcenter.graphs.plan import (
    RAW_LINE_LIMIT,
    FailedLine,
    FileProgress,
    FileSpec,
    FileStatus,
    ImportAborted,
    ImportPlan,
    ImportProgress,
    ImportStopped,
    ImportSummary,
    Reason,
)
from jobcenter.graphs.rowcode import compile_values
from jobcenter.graphs.schema import GraphSchema, LabelDef
from jobcenter.graphs.store import GraphStore
from jobcenter.graphs.values import BadValue, Convert, key_converter, shown
from jobcenter.graphs.writer import BatchWriter

BATCH_ROWS = 20_000
# Runs of ordinary lines go through the vectorized builders (jobcenter/graphs/columnar.py);
# False reads every file record by record (the reference the columnar path is tested against).
COLUMNAR = True
# Graphs with up to this many vertices get an in-memory key index (about 100 MB at the limit).
INDEX_CAPACITY = 1_000_000
SCAN_BLOCK = 1 << 20
LOG_LINES_PER_FILE = 100
# Beyond this many undecodable lines a file is refused as a whole (wrong encoding).
MAX_BAD_ENCODING_LINES = 100_000
csv.field_size_limit(16 * 1024 * 1024)

CommitGate = Callable[[ImportSummary], bool]


@dataclass
class FileScan:
    size: int
    lines: int  # physical lines (LF-terminated, see the module's docstring)
    bad_lines: frozenset[int]  # 1-based numbers of lines whose bytes do not decode
    error: str = ""
    bom: bool = False  # the file starts with a UTF-8 byte order mark (skipped by the reader)


def scan_file(spec: FileSpec, stop: Any = None) -> FileScan:
    """Size, line count and undecodable lines of a file, reading it once in binary."""
    encoding = spec.csv.encoding
    try:
        size = spec.path.stat().st_size
        handle = spec.path.open("rb")
    except OSError as exc:
        return FileScan(0, 0, frozenset(), error=f"cannot read the file: {exc.strerror or exc}")
    problem = encoding_problem(encoding)
    if problem:
        handle.close()
        return FileScan(size, 0, frozenset(), error=problem)
    lines = 0
    bad: set[int] = set()
    pending = b""
    last = b"\n"
    bom = False
    with handle:
        block = handle.read(SCAN_BLOCK)
        if _is_utf8(encoding):
            if block.startswith(codecs.BOM_UTF8):
                bom = True
            elif block.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                return FileScan(size, 0, frozenset(), error=_UTF16_ERROR.format(encoding))
        while block:
            if stop is not None and stop.is_set():
                raise ImportStopped()
            last = block[-1:]
            data = pending + block if pending else block
            cut = data.rfind(b"\n") + 1
            segment, pending = data[:cut], data[cut:]
            if segment and not segment.isascii():
                _find_undecodable(segment, lines, encoding, bad)
            lines += segment.count(b"\n")
            if len(bad) > MAX_BAD_ENCODING_LINES:
                return FileScan(
                    size,
                    lines,
                    frozenset(),
                    error=f"more than {MAX_BAD_ENCODING_LINES} lines are not valid "
                    f"{encoding}; is the file in another encoding?",
                )
            block = handle.read(SCAN_BLOCK)
        if pending:
            _find_undecodable(pending, lines, encoding, bad)
    if size and last != b"\n":
        lines += 1
    return FileScan(size, lines, frozenset(bad), bom=bom)


_UTF16_ERROR = (
    "the file starts with a UTF-16 byte order mark: it is UTF-16 (or UTF-32), not {0}; "
    "save it as UTF-8"
)


def _is_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


@functools.lru_cache(maxsize=64)
def encoding_problem(encoding: str) -> str:
    """Why data files in ``encoding`` cannot be read ("" when they can). Lines are found by
    their LF bytes, so the encoding must read every ASCII byte as itself (utf-8, latin-1,
    cp1252, gbk, shift_jis... but not utf-16, utf-7 or the stateful iso-2022 family)."""
    ascii_bytes = bytes(range(128))
    try:
        name = codecs.lookup(encoding).name
        same = ascii_bytes.decode(encoding) == ascii_bytes.decode("ascii")
    except (LookupError, UnicodeError):
        same, name = False, encoding
    if same and not name.startswith(("iso2022", "hz")):
        return ""
    return (
        f"encoding {encoding} is not supported for data files: lines are split at LF bytes, so "
        "the encoding must read ASCII bytes as ASCII (utf-8, latin-1, cp1252, gbk, shift_jis...)"
    )


_ESCAPED = re.compile("[\udc80-\udcff]")


def _find_undecodable(segment: bytes, base: int, encoding: str, bad: set[int]) -> None:
    try:
        segment.decode(encoding)
        return
    except UnicodeDecodeError:
        pass
    if _is_utf8(encoding):
        # One pass: an undecodable byte becomes a lone surrogate (the utf-8 decoder never
        # takes an ASCII byte, so no LF, into a bad sequence; other codecs may).
        text = segment.decode(encoding, errors="surrogateescape")
        line, pos = base + 1, 0
        for match in _ESCAPED.finditer(text):
            line += text.count("\n", pos, match.start())
            pos = match.start()
            bad.add(line)
        return
    for offset, line in enumerate(segment.split(b"\n")):
        try:
            line.decode(encoding)
        except UnicodeDecodeError:
            bad.add(base + offset + 1)


_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, kept by the reader's surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def storable_text(text: str) -> str:
    """``text`` as every job database can store it: an undecodable byte shown as ``\\xff``,
    NUL as ``\\x00`` (PostgreSQL refuses NUL; no database takes lone surrogates)."""
    return _UNSTORABLE.sub(_escape, text) if _UNSTORABLE.search(text) else text


class RawLines:
    """Failed lines as they stand in the file, fetched again by line number through a second,
    binary handle that only moves forward (failed lines come in file order). The loader's hot
    loop keeps no copy of the lines it reads; only the failed lines that are kept cost
    anything, a forward scan of the file at ``bytes.count`` speed."""

    BLOCK = 1 << 16
    LIMIT = 4 * RAW_LINE_LIMIT + 8  # bytes read of a failed record: enough for its shown part

    def __init__(self, path: Path, encoding: str, *, bom: bool = False) -> None:
        self.path, self.encoding, self.bom = path, encoding, bom
        self.handle: Any = None
        self.buf = b""  # the block read last; ``pos`` is the start of line ``line`` in it
        self.pos = 0
        self.line = 1
        self.eof = False

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
            self.handle = None

    def _more(self) -> bool:
        """The next block (what was before ``pos`` is dropped); False at the end."""
        if self.eof:
            return False
        if self.handle is None:
            self.handle = self.path.open("rb")
        block = self.handle.read(self.BLOCK)
        self.buf, self.pos = block, 0
        self.eof = not block
        return bool(block)

    def _skip(self, lines: int) -> None:
        while lines > 0:
            buf, pos = self.buf, self.pos
            ends = buf.count(b"\n", pos)
            if ends < lines:
                self.line += ends
                lines -= ends
                if not self._more():
                    return
                continue
            need = lines
            while need > 32:  # narrow down by counting, then find the last few
                ends = buf.count(b"\n", pos, pos + 2048)
                if ends >= need:
                    break
                need -= ends
                pos += 2048
            for _ in range(need):
                pos = buf.find(b"\n", pos) + 1
            self.pos, self.line = pos, self.line + lines
            return

    def _take(self, lines: int, limit: int) -> tuple[bytes, bool]:
        """The next ``lines`` lines (at most ``limit`` bytes of them) and whether they are
        whole."""
        parts: list[bytes] = []
        size = 0
        whole = True
        while lines > 0:
            buf, pos = self.buf, self.pos
            end = buf.find(b"\n", pos)
            stop = len(buf) if end < 0 else end + 1
            part = buf[pos : min(stop, pos + limit - size)]
            parts.append(part)
            size += len(part)
            whole = whole and len(part) == stop - pos
            if end < 0:
                if not self._more():
                    break  # the last line has no LF
                continue
            self.pos, self.line = stop, self.line + 1
            lines -= 1
        return b"".join(parts), whole

    def get(self, first: int, last: int) -> str:
        """Lines ``first`` to ``last`` (1-based) as the file has them, without the final line
        ending; undecodable bytes and NUL escaped (:func:`storable_text`); at most
        RAW_LINE_LIMIT characters."""
        if first < self.line:  # never, as failed lines come in order; be safe anyway
            self.close()
            self.buf, self.pos, self.line, self.eof = b"", 0, 1, False
        self._skip(first - self.line)
        data, whole = self._take(last - first + 1, self.LIMIT)
        if first == 1 and self.bom and data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        return self._shown(data, whole)

    def _shown(self, data: bytes, whole: bool) -> str:
        if whole:
            data = data.removesuffix(b"\n").rstrip(b"\r")  # the line ending (module doc)
        text = data.decode(self.encoding, errors="surrogateescape")
        return storable_text(text)[:RAW_LINE_LIMIT]

    def text(self, data: bytes) -> str:
        """:meth:`get` of lines the caller has read already (with their line endings, without
        the file's BOM)."""
        return self._shown(data[: self.LIMIT], len(data) <= self.LIMIT)


def _parse_error(exc: csv.Error) -> str:
    text = str(exc)
    if text.startswith("new-line character seen in unquoted field"):
        text = (
            "a carriage return (CR) that does not end the line, outside quotes (a line ends "
            "with LF or CRLF; a CR in a value must be inside quotes)"
        )
    return f"the line cannot be parsed: {text}"


class _LabelRows:
    """How one label's properties are read from a line in one file layout: ``values`` is the
    compiled extraction (see :mod:`jobcenter.graphs.rowcode`), ``columns`` the number of
    fields a line of this label must have (GES layouts)."""

    __slots__ = ("columns", "label", "values")

    def __init__(
        self, label: LabelDef, columns: Sequence[int | None], width: int, prefix: int
    ) -> None:
        self.label = label
        self.values = compile_values(label.properties, columns, width, prefix)
        self.columns = 0


class ScopeKeys:
    """Vertex keys of one scope -> vids, in memory. ``get`` is the dict's own method, so the
    row builders' lookups cost one dict probe; a builder records a stored line's new key in
    ``new`` (here the same dict) once the line's values converted, never before."""

    def __init__(self, index: VertexIndex) -> None:
        self.index = index
        self.keys: dict[str, int] = {}
        self.get = self.keys.get
        self.new = self.keys


class StoredScopeKeys:
    """Vertex keys of one scope looked up in the store (graphs too big for memory). Keys of
    lines accepted since the last vertex batch was written are held in ``new`` until then."""

    def __init__(self, index: VertexIndex, scope: str) -> None:
        self.index = index
        self.scope = scope
        self.new: dict[str, int] = {}

    def get(self, key: str) -> int | None:
        vid = self.new.get(key)
        return vid if vid is not None else self.index.store.find_vid(self.scope, key)


class VertexIndex:
    """Vertex key -> vid during one import: new vertices get their vid here (the store takes
    it as given), edges find their endpoints here. A vertex line takes ``next_vid`` and puts
    its key in its scope's ``new`` only once its values converted, so a line that fails leaves
    no key behind (no edge can point at a vertex that was not stored). In memory while the
    graph has at most ``capacity`` vertices (about 100 bytes each); beyond that, looked up in
    the store, slower but with memory that does not grow with the graph."""

    def __init__(self, store: GraphStore, *, capacity: int, expected_new: int) -> None:
        self.store = store
        self.next_vid = store.max_vid() + 1
        self.in_memory = store.vertex_count() + expected_new <= capacity
        self.scopes: dict[str, ScopeKeys | StoredScopeKeys] = {}
        # While a columnar run registers keys, ``new`` keeps them after they are written
        # (the run's duplicate check reads ``new`` and one batched look-up of the store).
        self.hold = False
        if self.in_memory:
            for scope, key, vid in store.vertex_keys():
                self.scope(scope).keys[key] = vid  # type: ignore[union-attr]

    def scope(self, scope: str) -> ScopeKeys | StoredScopeKeys:
        keys = self.scopes.get(scope)
        if keys is None:
            keys = ScopeKeys(self) if self.in_memory else StoredScopeKeys(self, scope)
            self.scopes[scope] = keys
        return keys

    def written(self) -> None:
        """The accepted vertices are in the store now."""
        if not self.in_memory and not self.hold:
            for keys in self.scopes.values():
                keys.new.clear()


class Loader:
    """Runs one plan. Use :func:`run_import`."""

    def __init__(
        self, plan: ImportPlan, store: GraphStore, progress: ImportProgress, index: VertexIndex
    ) -> None:
        self.plan = plan
        self.schema: GraphSchema = plan.schema
        self.store = store
        self.progress = progress
        self.index = index
        self.width = store_width(plan)
        self.vertices_added = 0
        self.edges_added = 0
        self.vertices_removed = 0  # by init/overwrite, which clear the graph first
        self.edges_removed = 0  # by init/overwrite, and edges replaced under override
        self.failed_total = 0
        self._reasons: list[Counter] = [fp.reasons for fp in progress.files]
        self._logs: list[list[str]] = [[] for _ in plan.files]
        self._kept: list[int] = [0 for _ in plan.files]
        self._notes: list[list[str]] = [[] for _ in plan.files]  # said in the log, after counts
        self._raw_lines: RawLines | None = None  # the file being read, for failed lines' text
        self._batch: list[tuple] = []  # rows accepted and not yet written (columnar path)
        self._count = 0  # records since the last checkpoint (columnar path)
        self._vertex_sql = store.vertex_sql(self.width)
        self._edge_insert, self._edge_delete = store.edge_sqls(
            self.width, plan.parallel_edge, plan.ignore_label
        )
        # scope -> (keys in the index when built, keys, vids) for the columnar look-ups
        self._key_arrays: dict[str, tuple[int, pa.Array, pa.Array]] = {}

    # -- failures --------------------------------------------------------------------------

    def fail(
        self,
        index: int,
        fp: FileProgress,
        line: int,
        last: int,
        reason: Reason,
        message: str,
        raw: Callable[[], bytes | None] | None = None,
    ) -> None:
        """Count a failed record (lines ``line`` to ``last``); keep it while the file has kept
        fewer than ``plan.max_failed_records``. ``raw``: gives the lines' bytes (with their
        endings) when the caller still has them, else None: then they are read again from the
        file."""
        fp.failed_lines += 1
        self.failed_total += 1
        self._reasons[index][reason] += 1
        message = storable_text(message)
        log = self._logs[index]
        if len(log) < LOG_LINES_PER_FILE:
            log.append(f"line {line}: {reason}: {message}")
        if self._kept[index] < self.plan.max_failed_records:
            self._kept[index] += 1
            data = raw() if raw is not None else None
            if self._raw_lines is None:
                text = ""
            elif data is not None:
                text = self._raw_lines.text(data)
            else:
                text = self._raw_lines.get(line, last)
            self.progress.failed.append(FailedLine(index, line, reason, message[:2000], text))
        limit = self.plan.threshold.max_count
        if limit is not None and self.failed_total > limit:
            raise ImportAborted(
                f"import aborted: {self.failed_total} failed lines exceed the error threshold "
                f"of {limit}"
            )

    def data_lines(self) -> int:
        """Data lines judged so far (loaded or failed), over every file."""
        return sum(fp.successful_lines + fp.failed_lines for fp in self.progress.data_files)

    def check_percent(self, *, final: bool = False) -> None:
        limit = self.plan.threshold.max_percent
        if limit is None:
            return
        judged = self.data_lines()
        if not judged or (not final and judged < BATCH_ROWS):
            return  # too few lines to judge a rate yet
        rate = 100.0 * self.failed_total / judged
        if rate > limit:
            raise ImportAborted(
                f"import aborted: {rate:.1f}% of {judged} lines failed, above the error "
                f"threshold of {limit:g}%"
            )

    # -- files -----------------------------------------------------------------------------

    def load_schema_file(self, index: int, spec: FileSpec) -> None:
        fp = self.progress.files[index]
        fp.started = time.time()
        fp.total_lines = fp.successful_lines = len(spec.schema_labels)
        fp.bytes_read = fp.bytes_total
        fp.status = FileStatus.SUCCESS
        fp.log = f"{len(spec.schema_labels)} labels: {', '.join(spec.schema_labels)}\n"
        fp.finished = time.time()

    def load_data_file(self, index: int, spec: FileSpec, scan: FileScan) -> None:
        fp = self.progress.files[index]
        fp.started = time.time()
        if scan.error:
            self._file_error(fp, scan.error)
            return
        builders = {
            "ges_vertex": self._ges_vertex_rows,
            "ges_edge": self._ges_edge_rows,
            "mapped_vertex": self._mapped_vertex_rows,
            "mapped_edge": self._mapped_edge_rows,
        }
        rows = self._columnar_rows(spec) if COLUMNAR else None
        if rows is not None:
            self._load_columnar(index, spec, scan, fp, builders[spec.layout](spec), rows)
            return
        encoding = "utf-8-sig" if scan.bom else spec.csv.encoding  # utf-8-sig skips the BOM
        try:
            # newline="\n": only LF ends a line (see the module's docstring), as in the scan.
            handle = spec.path.open(encoding=encoding, errors="surrogateescape", newline="\n")
        except OSError as exc:
            self._file_error(fp, f"cannot read the file: {exc.strerror or exc}")
            return
        build = builders[spec.layout](spec)
        write = self._write_edges if spec.role == "edge" else self._write_vertices
        if scan.bom:
            self._notes[index].append(
                "the UTF-8 byte order mark (BOM) at the start of the file was skipped"
            )
        self._raw_lines = RawLines(spec.path, spec.csv.encoding, bom=scan.bom)
        with handle:
            try:
                self._stream(index, spec, scan, fp, handle, build, write)
            except UnicodeDecodeError as exc:  # a decoder that even surrogateescape cannot pass
                self._file_error(
                    fp, f"the file cannot be read as {spec.csv.encoding}: {exc.reason}"
                )
                return
            finally:
                self._raw_lines.close()
                self._raw_lines = None
        fp.bytes_read = fp.bytes_total
        fp.total_lines = fp.successful_lines + fp.failed_lines
        self._finish_file(index, fp)

    # -- the columnar path (jobcenter/graphs/chunks.py, jobcenter/graphs/columnar.py) ---------

    def _columnar_rows(self, spec: FileSpec) -> columnar.Rows | None:
        """The vectorized row builder of a file, or None when its layout has none (then the
        file is read record by record)."""
        common = {"delimiter": spec.csv.delimiter, "width": self.width, "lookup": self._lookup}
        if spec.layout in ("ges_vertex", "ges_edge"):
            vertex = spec.layout == "ges_vertex"
            first = 2 if vertex else 3
            parts = [
                columnar.Part(
                    label,
                    [first + i for i in range(len(label.properties))],
                    columns=first + len(label.properties),
                )
                for label in self.schema.labels
                if label.kind in ("vertex" if vertex else "edge", "any")
            ]
            if not parts:
                return None
            if vertex:
                return columnar.Rows(
                    kind="vertex", parts=parts, label_column=1, key=(0, "", None), **common
                )
            return columnar.Rows(
                kind="edge", parts=parts, label_column=2, ends=((0, ""), (1, "")), **common
            )
        label = self.schema.label(spec.label or "")
        assert label is not None
        by_property = {c.property: c.index for c in spec.columns}
        props = [by_property.get(prop.name) for prop in label.properties]
        if spec.layout == "mapped_vertex":
            if not columnar.supported(label):
                return None
            key_column = by_property[label.primary_key or ""]
            part = columnar.Part(label, props, min_columns=_min_columns(spec))
            return columnar.Rows(
                kind="vertex",
                parts=[part],
                label_column=None,
                key=(key_column, label.name, columnar.key_form(label)),
                **common,
            )
        source = self.schema.label(spec.source_label or "")
        target = self.schema.label(spec.target_label or "")
        assert source is not None and target is not None
        if not (columnar.supported(source) and columnar.supported(target)):
            return None
        sc, tc = spec.source_column, spec.target_column
        part = columnar.Part(label, props, min_columns=_min_columns(spec, sc, tc))
        return columnar.Rows(
            kind="edge",
            parts=[part],
            label_column=None,
            ends=((sc, source.name), (tc, target.name)),
            **common,
        )

    def _lookup(self, scope: str, keys: pa.Array) -> pa.Array:
        """Vids of ``keys`` in ``scope`` (null: no such vertex), for a whole run at once."""
        known = self.index.scope(scope)
        if isinstance(known, ScopeKeys):
            cached = self._key_arrays.get(scope)
            if cached is None or cached[0] != len(known.keys):  # keys are only ever added
                cached = (
                    len(known.keys),
                    pa.array(list(known.keys), pa.string()),
                    pa.array(list(known.keys.values()), pa.int64()),
                )
                self._key_arrays[scope] = cached
            _, names, vids = cached
        else:
            wanted = pc.unique(keys).to_pylist()
            found = dict(self.store.find_vids(scope, wanted))
            found.update((k, known.new[k]) for k in wanted if k in known.new)
            names = pa.array(list(found), pa.string())
            vids = pa.array(list(found.values()), pa.int64())
        return pc.take(vids, pc.index_in(keys, value_set=names))

    def _load_columnar(
        self,
        index: int,
        spec: FileSpec,
        scan: FileScan,
        fp: FileProgress,
        build: RowBuilder,
        rows: columnar.Rows,
    ) -> None:
        options = spec.csv
        special = special_bytes(options.quotechar, options.escapechar, _is_utf8(options.encoding))
        try:
            chunks = Chunks(
                spec.path,
                options.encoding,
                bom=scan.bom,
                special=special,
                bad_lines=scan.bad_lines,
            )
        except OSError as exc:
            self._file_error(fp, f"cannot read the file: {exc.strerror or exc}")
            return
        write = self._write_edges if spec.role == "edge" else self._write_vertices
        writer: BatchWriter | None = None
        if spec.role == "edge" and self.index.in_memory:  # the store is the writer's alone

            def write(fp: FileProgress, batch: list[tuple]) -> None:
                fp.successful_lines += len(batch)
                writer.put(fp, batch)  # type: ignore[union-attr]

            writer = BatchWriter(self._store_edges)
        if scan.bom:
            self._notes[index].append(
                "the UTF-8 byte order mark (BOM) at the start of the file was skipped"
            )
        self._raw_lines = RawLines(spec.path, options.encoding, bom=scan.bom)
        try:
            try:
                self._stream_columnar(index, spec, scan, fp, chunks, build, write, rows)
            except BaseException:
                if writer is not None:
                    writer.close(quiet=True)
                raise
            if writer is not None:
                writer.close()
        except UnicodeDecodeError as exc:  # a decoder that even surrogateescape cannot pass
            self._file_error(fp, f"the file cannot be read as {options.encoding}: {exc.reason}")
            return
        finally:
            chunks.close()
            self._raw_lines.close()
            self._raw_lines = None
        fp.bytes_read = fp.bytes_total
        fp.total_lines = fp.successful_lines + fp.failed_lines
        self._finish_file(index, fp)

    def _stream_columnar(
        self,
        index: int,
        spec: FileSpec,
        scan: FileScan,
        fp: FileProgress,
        chunks: Chunks,
        build: RowBuilder,
        write: Callable[[FileProgress, list[tuple]], None],
        rows: columnar.Rows,
    ) -> None:
        """:meth:`_stream` over byte chunks: the ordinary lines of a chunk go through ``rows``
        at once; the lines it does not recognise go through ``build`` one by one, and special
        lines through ``csv.reader``, record by record, in their place. Batches, checkpoints
        and the error threshold fall on the same records as in :meth:`_stream`: every
        ``BATCH_ROWS`` records."""
        reader = self._reader(spec, chunks)
        encoding = spec.csv.encoding
        bad = scan.bad_lines
        scope = rows_scope(spec) if spec.role == "vertex" else None
        if spec.csv.header_row:  # the first record that is not blank names the columns
            with contextlib.suppress(csv.Error):
                for row in reader:
                    if row:
                        break

        def record() -> bool:
            """One record through csv.reader (from line ``chunks.line``); False at the end."""
            try:
                row = next(reader)
            except StopIteration:
                return False
            except csv.Error as exc:  # as _stream: the slice of records restarts after it
                last = chunks.line - 1
                self.fail(
                    index,
                    fp,
                    last,
                    last,
                    Reason.MALFORMED,
                    _parse_error(exc),
                    lambda: chunks.raw(last, last),
                )
                self._count = 0
                return True
            last = chunks.line - 1
            if row:
                try:
                    if not bad.isdisjoint(_lines_of(last, row)):
                        raise LineError(Reason.ENCODING, f"the line is not valid {encoding}")
                    self._batch.append(build(row))
                except (LineError, BadValue) as exc:
                    line = _first_line(last, row)
                    self.fail(
                        index,
                        fp,
                        line,
                        last,
                        exc.reason,
                        exc.message,
                        lambda line=line, last=last: chunks.raw(line, last),
                    )
            self._count += 1
            return True

        self._batch = []
        self._count = 0  # records since the last checkpoint
        try:
            while True:
                if chunks.i >= chunks.count and not chunks.load():
                    break
                if chunks.all_special:
                    if not record():
                        break
                else:
                    self._run(
                        index, fp, chunks, rows, spec.csv.delimiter, build, write, record, scope
                    )
                if self._count >= BATCH_ROWS:
                    self._flush(fp, write, chunks.bytes_read)
            self._flush(fp, write, chunks.bytes_read)
        except UnicodeDecodeError:  # the file fails as a whole; its accepted lines stay
            if self._batch:
                write(fp, self._batch)
            raise
        except ImportAborted:  # nothing is written; the lines of this batch were valid
            fp.successful_lines += len(self._batch)
            raise
        finally:
            self._batch = []

    def _flush(
        self,
        fp: FileProgress,
        write: Callable[[FileProgress, list[tuple]], None],
        read: int | None,
    ) -> None:
        """End of a slice of records: write the batch, publish, stop if asked."""
        if self._batch:
            write(fp, self._batch)
            self._batch = []
        self._count = 0
        self._checkpoint_bytes(fp, read)

    def _run(
        self,
        index: int,
        fp: FileProgress,
        chunks: Chunks,
        rows: columnar.Rows,
        delimiter: str,
        build: RowBuilder,
        write: Callable[[FileProgress, list[tuple]], None],
        record: Callable[[], bool],
        scope: str | None,
    ) -> None:
        """The rest of the current chunk (from ``chunks.i``) into ``self._batch``: its lines
        built at once by ``rows``, then taken in order. Ends with the chunk, or when a special
        record read on into the next chunk. ``scope``: the key scope of a vertex file."""
        start, first = chunks.i, chunks.first
        lines = chunks.lines.slice(start)
        special = [s - start for s in chunks.special if s >= start]
        try:
            text = lines.cast(pa.string())
        except pa.ArrowInvalid:  # undecodable lines (special): blank them for the build
            blank = [False] * len(lines)
            for s in special:
                blank[s] = True
            text = pc.if_else(pa.array(blank), pa.scalar(b"", pa.binary()), lines)
            text = text.cast(pa.string())
        run = rows.run(text)
        positions, made, keys = run.positions, run.rows, run.keys
        total = len(lines)
        vertex = scope is not None
        taken: Any = None
        new: dict[str, int] = {}
        if vertex:
            assert keys is not None
            scope_keys = self.index.scope(scope)  # type: ignore[arg-type]
            new = scope_keys.new
            if isinstance(scope_keys, ScopeKeys):
                taken = scope_keys.keys.keys()  # the same dict as ``new``
            else:  # one look-up for the run; keys it registers stay in ``new`` meanwhile
                taken = {k for k, _ in self.store.find_vids(scope, keys)}  # type: ignore[arg-type]
                self.index.hold = True
        invalid = run.invalid
        # The text of the lines handed back, fetched in one go.
        texts = pc.take(text, pa.array(invalid, pa.int64())).to_pylist() if invalid else []

        def take(p: int, n: int) -> int:
            """The ``n`` valid lines from ``made[p]`` into the batch; returns the next ``p``."""
            batch = self._batch
            if not vertex:
                batch.extend(made[p : p + n])
                return p + n
            names = keys[p : p + n]  # type: ignore[index]
            if new.keys().isdisjoint(names) and taken.isdisjoint(names) and len(set(names)) == n:
                vid = self.index.next_vid  # no duplicate among them: vids in one go
                vids = range(vid, vid + n)
                new.update(zip(names, vids, strict=True))
                self.index.next_vid = vid + n
                batch.extend(map(operator.add, zip(vids), made[p : p + n]))
                return p + n
            for q in range(p, p + n):
                key = keys[q]  # type: ignore[index]
                if key not in taken and key not in new:
                    vid = self.index.next_vid
                    new[key] = vid
                    self.index.next_vid = vid + 1
                    batch.append((vid, *made[q]))
                    continue
                # a duplicate id: the per-line builder says so
                raw = text[positions[q]].as_py()
                try:
                    batch.append(build(raw.split(delimiter)))
                except (LineError, BadValue) as exc:
                    number = first + start + positions[q]
                    self.fail(
                        index,
                        fp,
                        number,
                        number,
                        exc.reason,
                        exc.message,
                        lambda number=number: chunks.raw(number, number),
                    )
            return p + n

        j = p = s = k = 0
        try:
            while j < total:
                while s < len(special) and special[s] < j:
                    s += 1
                if s < len(special) and special[s] == j:  # a special record, in its place
                    chunks.i = start + j
                    if not record() or chunks.first != first:
                        return  # the record read on into the next chunk (or to the end)
                    j = chunks.i - start
                    p = bisect.bisect_left(positions, j, p)
                else:
                    end = min(total, j + BATCH_ROWS - self._count)
                    if s < len(special):
                        end = min(end, special[s])
                    # The piece's lines that rows did not take, one by one; the rest at once.
                    k = bisect.bisect_left(invalid, j, k)
                    stop = bisect.bisect_left(invalid, end, k)
                    at = j
                    for line, raw in zip(invalid[k:stop], texts[k:stop], strict=True):
                        if line > at:
                            p = take(p, line - at)
                        at = line + 1
                        if not raw:
                            continue  # blank lines are not data lines
                        try:
                            self._batch.append(build(raw.split(delimiter)))
                        except (LineError, BadValue) as exc:
                            number = first + start + line
                            self.fail(
                                index,
                                fp,
                                number,
                                number,
                                exc.reason,
                                exc.message,
                                lambda raw=raw: raw.encode(),  # ordinary: valid utf-8
                            )
                    if end > at:
                        p = take(p, end - at)
                    k = stop
                    self._count += end - j
                    j = end
                if self._count >= BATCH_ROWS:
                    self._flush(fp, write, None)
            chunks.i = start + total
        finally:
            self.index.hold = False

    def _checkpoint_bytes(self, fp: FileProgress, read: int | None) -> None:
        """:meth:`_checkpoint` of the columnar path (``read``: bytes read so far)."""
        if read is not None:
            fp.bytes_read = min(read, fp.bytes_total)
        if self.progress.stop.is_set():
            raise ImportStopped()
        self.check_percent()

    def _file_error(self, fp: FileProgress, cause: str) -> None:
        """The file as a whole cannot be read: it fails with ``cause``; its lines read so far
        (normally none) stay counted."""
        fp.status, fp.cause, fp.finished = FileStatus.FAILED, cause, time.time()
        fp.total_lines = fp.successful_lines + fp.failed_lines
        fp.log = cause + "\n"

    def _stream(
        self,
        index: int,
        spec: FileSpec,
        scan: FileScan,
        fp: FileProgress,
        handle: Any,
        build: RowBuilder,
        write: Callable[[FileProgress, list[tuple]], None],
    ) -> None:
        """Read a file record by record: ``build`` turns a line into a store row or raises
        :class:`LineError`/:class:`BadValue`; good rows go to the store in batches."""
        reader = self._reader(spec, handle)
        bad = scan.bad_lines
        encoding = spec.csv.encoding
        if spec.csv.header_row:  # the first record that is not blank names the columns
            with contextlib.suppress(csv.Error):
                for row in reader:
                    if row:
                        break
        if bad:  # the scan found undecodable lines: check each record against them
            plain = build

            def build(row: list[str]) -> tuple:
                if not bad.isdisjoint(_lines_of(reader.line_num, row)):
                    raise LineError(Reason.ENCODING, f"the line is not valid {encoding}")
                return plain(row)

        batch: list[tuple] = []
        append = batch.append
        # Records are read in slices of at most BATCH_ROWS (blank and failed ones included),
        # so the per-record loop has no batch-size test; a slice that reads nothing ends it.
        while True:
            try:
                while True:
                    before = reader.line_num
                    for row in islice(reader, BATCH_ROWS):
                        if not row:
                            continue  # blank lines are not data lines
                        try:
                            append(build(row))
                        except (LineError, BadValue) as exc:
                            last = reader.line_num
                            line = _first_line(last, row)
                            self.fail(index, fp, line, last, exc.reason, exc.message)
                    if batch:
                        write(fp, batch)
                        batch = []
                        append = batch.append
                    self._checkpoint(fp, handle)
                    if reader.line_num == before:
                        break
                break
            except csv.Error as exc:  # e.g. a field over the size limit; go on after it
                last = reader.line_num
                self.fail(index, fp, last, last, Reason.MALFORMED, _parse_error(exc))
            except UnicodeDecodeError:  # the file fails as a whole; its accepted lines stay
                if batch:  # (their keys are in the index already)
                    write(fp, batch)
                raise
            except ImportAborted:  # nothing is written; the lines of this batch were valid
                fp.successful_lines += len(batch)
                raise

    def _write_vertices(self, fp: FileProgress, batch: list[tuple]) -> None:
        self.store.add_vertices(self._vertex_sql, batch)
        self.index.written()
        fp.successful_lines += len(batch)
        self.vertices_added += len(batch)

    def _write_edges(self, fp: FileProgress, batch: list[tuple]) -> None:
        fp.successful_lines += len(batch)
        self._store_edges(fp, batch)

    def _store_edges(self, fp: FileProgress, batch: list[tuple]) -> None:
        """The store side of :meth:`_write_edges` (on the writer thread, when there is one)."""
        rows = batch
        override = self.plan.parallel_edge == "override"
        if override:
            # One statement deletes the edges a batch replaces, the next inserts the batch, so
            # within a batch the last line of an edge must win before they run.
            identity = (lambda r: r[1:3]) if self.plan.ignore_label else (lambda r: r[:3])
            last = {identity(row): row for row in batch}
            if len(last) != len(batch):
                rows = list(last.values())
            changes = self.store.conn.total_changes
        ignored = self.store.add_edges(
            self._edge_insert,
            rows,
            policy=self.plan.parallel_edge,
            delete=self._edge_delete,
            ignore_label=self.plan.ignore_label,
        )
        if override:
            # Every line adds its edge and removes the edges it replaces: those of the graph
            # (deleted) and earlier lines of its batch (never inserted), so the counts do not
            # depend on where batches end; the store holds added - removed more edges.
            replaced = self.store.conn.total_changes - changes - len(rows) + len(batch) - len(rows)
            fp.ignored_lines += replaced
            self.edges_added += len(batch)
            self.edges_removed += replaced
        else:
            fp.ignored_lines += ignored
            self.edges_added += len(rows) - ignored

    def _finish_file(self, index: int, fp: FileProgress) -> None:
        fp.finished = time.time()
        if fp.failed_lines == 0:
            fp.status = FileStatus.SUCCESS
            fp.cause = ""
        else:
            fp.status = FileStatus.PART_FAILED if fp.successful_lines else FileStatus.FAILED
            reasons = ", ".join(f"{r} {n}" for r, n in self._reasons[index].most_common())
            fp.cause = f"{fp.failed_lines} of {fp.total_lines} lines failed ({reasons})"
        seconds = fp.finished - (fp.started or fp.finished)
        head = (
            f"{fp.total_lines} lines in {seconds:.2f}s: {fp.successful_lines} loaded, "
            f"{fp.failed_lines} failed"
        )
        if fp.ignored_lines:
            done = "replaced" if self.plan.parallel_edge == "override" else "ignored"
            head += f", {fp.ignored_lines} duplicate edges {done}"
        log = self._logs[index]
        more = fp.failed_lines - len(log)
        tail = [f"... {more} more failed lines"] if more > 0 else []
        fp.log = "\n".join([head, *self._notes[index], *log, *tail])
        fp.log += "\n"

    def _reader(self, spec: FileSpec, handle: Any) -> Any:
        options = spec.csv
        if options.quotechar:
            return csv.reader(
                handle,
                delimiter=options.delimiter,
                quotechar=options.quotechar,
                doublequote=options.doublequote,
                escapechar=options.escapechar,
                strict=False,
            )
        return csv.reader(
            handle,
            delimiter=options.delimiter,
            quoting=csv.QUOTE_NONE,
            escapechar=options.escapechar,
            strict=False,
        )

    def _checkpoint(self, fp: FileProgress, handle: Any) -> None:
        """Between batches: publish how far the file is read, stop if asked."""
        with contextlib.suppress(OSError, ValueError, AttributeError):
            fp.bytes_read = min(handle.buffer.tell(), fp.bytes_total)
        if self.progress.stop.is_set():
            raise ImportStopped()
        self.check_percent()

    # -- row builders: one per file layout ---------------------------------------------------

    def _ges_label_rows(
        self, first_property_column: int, kind: str, prefix: int
    ) -> dict[str, _LabelRows]:
        rows: dict[str, _LabelRows] = {}
        for label in self.schema.labels:
            if label.kind not in (kind, "any"):
                continue
            columns = [first_property_column + i for i in range(len(label.properties))]
            entry = _LabelRows(label, columns, self.width, prefix)
            entry.columns = first_property_column + len(label.properties)
            rows[label.name] = entry
        return rows

    def _ges_vertex_rows(self, spec: FileSpec) -> RowBuilder:
        """``id,label,props...`` -> ``(vid, "", id, label, p0..)``."""
        labels = self._ges_label_rows(2, "vertex", 4)
        index = self.index
        scope = index.scope("")
        taken, new = scope.get, scope.new

        def build(row: list[str]) -> tuple:
            if len(row) < 2:
                raise LineError(
                    Reason.COLUMN_COUNT, f"expected at least 2 columns (id,label), got {len(row)}"
                )
            entry = labels.get(row[1])
            if entry is None:
                raise LineError(
                    Reason.UNKNOWN_LABEL,
                    f"label {shown(row[1])} is not a vertex label of the schema",
                )
            if len(row) != entry.columns:
                raise LineError(Reason.COLUMN_COUNT, _column_message(entry, len(row), "id,label"))
            key = row[0]
            if not key:
                raise LineError(Reason.EMPTY_ID, "the vertex id is empty")
            if taken(key) is not None:
                raise LineError(Reason.DUPLICATE_ID, f"vertex id {shown(key)} already exists")
            vid = index.next_vid
            values = entry.values(row, vid, "", key, row[1])  # BadValue: the id stays free
            new[key] = vid
            index.next_vid = vid + 1
            return values

        return build

    def _ges_edge_rows(self, spec: FileSpec) -> RowBuilder:
        """``source,target,label,props...`` -> ``(label, src vid, dst vid, p0..)``."""
        labels = self._ges_label_rows(3, "edge", 3)
        vid_of = self.index.scope("").get

        def build(row: list[str]) -> tuple:
            if len(row) < 3:
                raise LineError(
                    Reason.COLUMN_COUNT,
                    f"expected at least 3 columns (source,target,label), got {len(row)}",
                )
            entry = labels.get(row[2])
            if entry is None:
                raise LineError(
                    Reason.UNKNOWN_LABEL,
                    f"label {shown(row[2])} is not an edge label of the schema",
                )
            if len(row) != entry.columns:
                raise LineError(
                    Reason.COLUMN_COUNT, _column_message(entry, len(row), "source,target,label")
                )
            src = vid_of(row[0])
            if src is None:
                raise LineError(
                    Reason.MISSING_VERTEX, f"source vertex {shown(row[0])} does not exist"
                )
            dst = vid_of(row[1])
            if dst is None:
                raise LineError(
                    Reason.MISSING_VERTEX, f"target vertex {shown(row[1])} does not exist"
                )
            return entry.values(row, row[2], src, dst)

        return build

    def _mapped_fields(self, label: LabelDef, spec: FileSpec, prefix: int) -> _LabelRows:
        by_property = {c.property: c.index for c in spec.columns}
        columns = [by_property.get(prop.name) for prop in label.properties]
        return _LabelRows(label, columns, self.width, prefix)

    def _mapped_vertex_rows(self, spec: FileSpec) -> RowBuilder:
        """GraphScope: mapped columns of a vertex type's file -> ``(vid, type, key, type,
        p0..)`` (the type is the key's scope: primary keys are unique per type)."""
        label = self.schema.label(spec.label or "")
        assert label is not None and label.primary_key is not None
        entry = self._mapped_fields(label, spec, 4)
        key_column = next(c.index for c in spec.columns if c.property == label.primary_key)
        to_key = _key_converter(label, "the primary key")
        need = _min_columns(spec)
        name = label.name
        index = self.index
        scope = index.scope(name)
        taken, new = scope.get, scope.new

        def build(row: list[str]) -> tuple:
            if len(row) < need:
                raise LineError(
                    Reason.COLUMN_COUNT, f"expected at least {need} columns, got {len(row)}"
                )
            if not row[key_column]:
                raise LineError(Reason.EMPTY_ID, f"the primary key {label.primary_key} is empty")
            key = to_key(row[key_column])
            if taken(key) is not None:
                raise LineError(
                    Reason.DUPLICATE_ID, f"{name} with primary key {shown(key)} already exists"
                )
            vid = index.next_vid
            values = entry.values(row, vid, name, key, name)  # BadValue: the key stays free
            new[key] = vid
            index.next_vid = vid + 1
            return values

        return build

    def _mapped_edge_rows(self, spec: FileSpec) -> RowBuilder:
        """GraphScope: -> ``(label, src vid, dst vid, p0..)``."""
        label = self.schema.label(spec.label or "")
        source = self.schema.label(spec.source_label or "")
        target = self.schema.label(spec.target_label or "")
        assert label is not None and source is not None and target is not None
        entry = self._mapped_fields(label, spec, 3)
        source_key = _key_converter(source, "source id")
        target_key = _key_converter(target, "target id")
        source_vid = self.index.scope(source.name).get
        target_vid = self.index.scope(target.name).get
        sc, tc = spec.source_column, spec.target_column
        need = _min_columns(spec, sc, tc)
        name, source_name, target_name = label.name, source.name, target.name

        def build(row: list[str]) -> tuple:
            if len(row) < need:
                raise LineError(
                    Reason.COLUMN_COUNT, f"expected at least {need} columns, got {len(row)}"
                )
            skey = source_key(row[sc])
            src = source_vid(skey)
            if src is None:
                raise LineError(
                    Reason.MISSING_VERTEX,
                    f"source vertex {source_name} {shown(skey)} does not exist",
                )
            tkey = target_key(row[tc])
            dst = target_vid(tkey)
            if dst is None:
                raise LineError(
                    Reason.MISSING_VERTEX,
                    f"target vertex {target_name} {shown(tkey)} does not exist",
                )
            return entry.values(row, name, src, dst)

        return build


class LineError(Exception):
    """A line that cannot be loaded; ``reason`` is its machine code."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


RowBuilder = Callable[[list[str]], tuple]


def _first_line(last: int, row: list[str]) -> int:
    """The line a record starts on, from the line it ends on (a quoted field may hold line
    breaks); only worked out for failed lines, so the hot loop does not track it."""
    return last - sum(field.count("\n") for field in row)


def _lines_of(last: int, row: list[str]) -> range:
    return range(_first_line(last, row), last + 1)


def rows_scope(spec: FileSpec) -> str:
    """The key scope of a vertex file's lines: "" (GES ids are global) or the vertex type."""
    return spec.label or "" if spec.layout == "mapped_vertex" else ""


def store_width(plan: ImportPlan) -> int:
    """Property columns the store needs for the plan's schema."""
    return max((len(label.properties) for label in plan.schema.labels), default=0)


def _min_columns(spec: FileSpec, *extra: int) -> int:
    indexes = [c.index for c in spec.columns] + list(extra)
    return max(indexes, default=-1) + 1


def _column_message(entry: _LabelRows, got: int, leading: str) -> str:
    props = len(entry.label.properties)
    if props == 0:
        wanted = f"{entry.columns} columns ({leading}; label {entry.label.name} has no properties)"
    else:
        wanted = (
            f"{entry.columns} columns ({leading} and the {props} properties of label "
            f"{entry.label.name})"
        )
    return f"expected {wanted}, got {got}"


def _key_converter(label: LabelDef, what: str) -> Convert:
    """Primary-key text of ``label`` -> vertex key; a bad one names ``what`` it was."""
    assert label.primary_key is not None
    prop = label.property(label.primary_key)
    assert prop is not None
    to_key = key_converter(prop)

    def convert(text: str) -> str:
        try:
            return to_key(text)
        except BadValue as exc:
            raise BadValue(
                exc.reason, f"{what}: {shown(text)} is not a valid {label.name} primary key"
            ) from None

    return convert


def run_import(
    plan: ImportPlan,
    store: GraphStore,
    *,
    job_id: str,
    progress: ImportProgress,
    commit_gate: CommitGate | None = None,
    index_capacity: int = INDEX_CAPACITY,
) -> ImportSummary:
    """Run ``plan`` into ``store`` as one transaction and return what it did.

    Raises :class:`ImportStopped` when ``progress.stop`` was set (or the commit gate refused)
    and :class:`ImportAborted` when the error threshold was crossed; in both cases, and on any
    other error, nothing was written. ``index_capacity``: up to this many vertices the key index
    lives in memory (see :class:`VertexIndex`).
    """
    scans: list[FileScan | None] = []
    progress.phase = "reading files"
    for spec, fp in zip(plan.files, progress.files, strict=True):
        fp.role = spec.role
        if spec.layout == "schema":
            fp.bytes_total = _size(spec.path)
            fp.total_lines = len(spec.schema_labels)
            scans.append(None)
            continue
        scan = scan_file(spec, progress.stop)
        fp.bytes_total = scan.size
        fp.total_lines = max(0, scan.lines - (1 if spec.csv.header_row else 0))
        scans.append(scan)
    store.begin(width=store_width(plan), schema=plan.schema.to_dict())
    gc_was_enabled = gc.isenabled()
    try:
        cleared = {"vertices": {}, "edges": {}}
        if plan.mode in ("init", "overwrite"):
            cleared = store.counts()
            store.clear()

        def lines_of(role: str) -> int:
            return sum(
                fp.total_lines
                for spec, fp in zip(plan.files, progress.files, strict=True)
                if spec.role == role
            )

        progress.phase = "loading graph"
        # The loop allocates millions of short-lived, acyclic tuples; the cyclic collector
        # would rescan the key index with them over and over (about 15% of an import).
        gc.disable()
        index = VertexIndex(store, capacity=index_capacity, expected_new=lines_of("vertex"))
        loader = Loader(plan, store, progress, index)
        loader.vertices_removed = sum(cleared["vertices"].values())
        loader.edges_removed = sum(cleared["edges"].values())
        if plan.parallel_edge != "allow":
            store.ensure_endpoint_index()  # "is this edge there already?" per line
        for index, (spec, scan) in enumerate(zip(plan.files, scans, strict=True)):
            progress.current_file = index
            if progress.stop.is_set():
                raise ImportStopped()
            if scan is None:
                loader.load_schema_file(index, spec)
            else:
                loader.load_data_file(index, spec, scan)
        loader.check_percent(final=True)
        progress.phase = "committing"
        summary = ImportSummary(
            vertices_added=loader.vertices_added,
            edges_added=loader.edges_added,
            lines_total=loader.data_lines(),
            lines_failed=loader.failed_total,
            files=tuple(
                _file_summary(spec, fp) for spec, fp in zip(plan.files, progress.files, strict=True)
            ),
            vertices_removed=loader.vertices_removed,
            edges_removed=loader.edges_removed,
        )
        if progress.stop.is_set() or (commit_gate is not None and not commit_gate(summary)):
            raise ImportStopped()
        store.commit(job_id=job_id, summary=summary.to_dict())
        return summary
    except ImportAborted as exc:
        current = progress.files[progress.current_file]
        if current.status is None:
            current.status, current.finished = FileStatus.FAILED, time.time()
            current.total_lines = current.successful_lines + current.failed_lines
        current.cause = str(exc)
        store.rollback()
        raise
    except BaseException:
        store.rollback()
        raise
    finally:
        if gc_was_enabled:
            gc.enable()


def _file_summary(spec: FileSpec, fp: FileProgress) -> dict[str, Any]:
    return {
        "role": spec.role,
        "path": spec.display_path or str(spec.path),
        "status": str(fp.status) if fp.status else None,
        "cause": fp.cause,
        "total_lines": fp.total_lines,
        "successful_lines": fp.successful_lines,
        "failed_lines": fp.failed_lines,
    }


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
