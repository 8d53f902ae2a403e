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
   go to the store in batches, on a second thread for the columnar path
   (:mod:`~jobcenter.graphs.writer`).
3. Between batches the loader publishes its counters (read by the job's heartbeat thread) and
   looks at the stop flag: a cancel rolls the transaction back, so the graph is as it was.
4. ``commit_gate`` is the point of no return; then the data and the import's summary commit
   (a dry run rolls the transaction back here instead).

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

Memory does not grow with file size: a chunk is ``chunks.CHUNK_BYTES`` (1 MiB; its rows are built
at once), a batch at most ``BATCH_ROWS`` rows, at most two batches wait for the writer, and
failed lines are kept (up to ``plan.max_failed_records`` per file) only until the heartbeat
drains them.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa

from jobcenter.graphs.chunked import ChunkedReading
from jobcenter.graphs.keyindex import INDEX_CAPACITY, VertexIndex
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
from jobcenter.graphs.reading import FileScan, RawLines, parse_error, scan_file, storable_text
from jobcenter.graphs.rows import (
    LineError,
    RowBuilder,
    RowBuilders,
    first_line,
    lines_of,
)
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.stores.base import GraphStore, RowBatch
from jobcenter.graphs.values import BadValue
from jobcenter.graphs.writer import BatchWriter

BATCH_ROWS = 20_000
# Runs of ordinary lines go through the vectorized builders (jobcenter/graphs/columnar.py);
# False reads every file record by record (the reference the columnar path is tested against).
COLUMNAR = True
LOG_LINES_PER_FILE = 100
csv.field_size_limit(16 * 1024 * 1024)

CommitGate = Callable[[ImportSummary], bool]

_pool_lock = threading.Lock()
_pool_users = 0
_pool_before: pa.MemoryPool | None = None


def _import_pool() -> pa.MemoryPool:
    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        return pa.system_memory_pool()


@contextlib.contextmanager
def import_memory_pool() -> Iterator[None]:
    """pyarrow allocates from jemalloc (else the system allocator) while imports run (the
    pool is process-wide: restored when the last import ends). Its default, mimalloc, kept 20
    to 40 MB more resident through an import (issue 14: the import's peak, docs/benchmarks.md).
    Arrays keep the pool they came from, so switching is safe at any time."""
    global _pool_users, _pool_before
    with _pool_lock:
        if _pool_users == 0:
            _pool_before = pa.default_memory_pool()
            pa.set_memory_pool(_import_pool())
        _pool_users += 1
    try:
        yield
    finally:
        with _pool_lock:
            _pool_users -= 1
            if _pool_users == 0 and _pool_before is not None:
                # what the import's pool keeps goes back before the graph load that follows
                pa.default_memory_pool().release_unused()
                pa.set_memory_pool(_pool_before)
                _pool_before = None


class Loader(ChunkedReading):
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
        self.rows = RowBuilders(self.schema, self.width, index)
        self.batch_rows = BATCH_ROWS  # read at each import (tests make it small)
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
        self._batch = RowBatch()  # rows accepted and not yet written (columnar path)
        self._writer: BatchWriter | None = None  # the store's writer thread (columnar path)
        self._count = 0  # records since the last checkpoint (columnar path)

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
        *,
        shown: str | None = None,
    ) -> None:
        """Count a failed record (lines ``line`` to ``last``); keep it while the file has kept
        fewer than ``plan.max_failed_records``. ``raw``: gives the lines' bytes (with their
        endings) when the caller still has them, else None: then they are read again from the
        file. ``shown``: instead, the line's text without its ending as it is shown, a line
        that is valid text with no NUL and no CR at its end (an ordinary line, chunks.py)."""
        fp.failed_lines += 1
        self.failed_total += 1
        self._reasons[index][reason] += 1
        message = storable_text(message)
        log = self._logs[index]
        if len(log) < LOG_LINES_PER_FILE:
            log.append(f"line {line}: {reason}: {message}")
        if self._kept[index] < self.plan.max_failed_records:
            self._kept[index] += 1
            data = raw() if raw is not None and shown is None else None
            if self._raw_lines is None:
                text = ""
            elif shown is not None:
                text = shown[:RAW_LINE_LIMIT]
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
        rows = self.rows.columnar(spec) if COLUMNAR else None
        if rows is not None:
            self._load_columnar(index, spec, scan, fp, self.rows.builder(spec), rows)
            return
        self.close_writer()  # the store is this thread's again
        encoding = "utf-8-sig" if scan.bom else spec.csv.encoding  # utf-8-sig skips the BOM
        try:
            # newline="\n": only LF ends a line (see the module's docstring), as in the scan.
            handle = spec.path.open(encoding=encoding, errors="surrogateescape", newline="\n")
        except OSError as exc:
            self._file_error(fp, f"cannot read the file: {exc.strerror or exc}")
            return
        build = self.rows.builder(spec)
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
        write: Callable[[FileProgress, RowBatch], None],
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
                if not bad.isdisjoint(lines_of(reader.line_num, row)):
                    raise LineError(Reason.ENCODING, f"the line is not valid {encoding}")
                return plain(row)

        batch: list[tuple] = []
        append = batch.append
        # Records are read in slices of at most BATCH_ROWS (blank and failed ones included),
        # so the per-record loop has no batch-size test; a slice that reads nothing ends it.
        # A record csv.reader refuses counts too: the slice goes on after it with what is left
        # (restarted, a file with one every few hundred lines was one batch, no checkpoint).
        budget = BATCH_ROWS
        while True:
            try:
                while True:
                    before = reader.line_num
                    read = 0
                    for read, row in enumerate(islice(reader, budget), 1):  # noqa: B007 (see csv.Error)
                        if not row:
                            continue  # blank lines are not data lines
                        try:
                            append(build(row))
                        except (LineError, BadValue) as exc:
                            last = reader.line_num
                            line = first_line(last, row)
                            self.fail(index, fp, line, last, exc.reason, exc.message)
                    if batch:
                        write(fp, RowBatch(batch))
                        batch = []
                        append = batch.append
                    self.index.settle()  # new keys into the key tables, as they grow
                    self._checkpoint(fp, handle)
                    if budget and reader.line_num == before:
                        break
                    budget = BATCH_ROWS
                break
            except csv.Error as exc:  # e.g. a field over the size limit; go on after it
                last = reader.line_num
                self.fail(index, fp, last, last, Reason.MALFORMED, parse_error(exc))
                budget = max(budget - read - 1, 0)  # 0: the batch is written next
            except UnicodeDecodeError:  # the file fails as a whole; its accepted lines stay
                if batch:  # (their keys are in the index already)
                    write(fp, RowBatch(batch))
                raise
            except ImportAborted:  # nothing is written; the lines of this batch were valid
                fp.successful_lines += len(batch)
                raise

    def _write_vertices(self, fp: FileProgress, batch: RowBatch) -> None:
        self._store_vertices(fp, batch)
        fp.successful_lines += len(batch)

    def _store_vertices(self, fp: FileProgress, batch: RowBatch) -> None:
        """The store side of :meth:`_write_vertices` (on the writer thread, when there is one)."""
        self.store.add_vertex_batch(batch)
        self.index.written()
        self.vertices_added += len(batch)

    def _write_edges(self, fp: FileProgress, batch: RowBatch) -> None:
        fp.successful_lines += len(batch)
        self._store_edges(fp, batch)

    def _store_edges(self, fp: FileProgress, batch: RowBatch) -> None:
        """The store side of :meth:`_write_edges` (on the writer thread, when there is one)."""
        rows = batch
        override = self.plan.parallel_edge == "override"
        if override:
            # One statement deletes the edges a batch replaces, the next inserts the batch, so
            # within a batch the last line of an edge must win before they run.
            identity = (lambda r: r[1:3]) if self.plan.ignore_label else (lambda r: r[:3])
            last = {identity(row): row for row in batch.rows()}
            if len(last) != len(batch):
                rows = RowBatch(list(last.values()))
        ignored = self.store.add_edge_batch(rows)  # override: the stored edges it replaced
        if override:
            # Every line adds its edge and removes the edges it replaces: those of the graph
            # (deleted) and earlier lines of its batch (never inserted), so the counts do not
            # depend on where batches end; the store holds added - removed more edges.
            replaced = ignored + len(batch) - len(rows)
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
        self.progress.pace()
        if self.progress.stop.is_set():
            raise ImportStopped()
        self.check_percent()


def store_width(plan: ImportPlan) -> int:
    """Property columns the store needs for the plan's schema."""
    return max((len(label.properties) for label in plan.schema.labels), default=0)


@import_memory_pool()
def run_import(
    plan: ImportPlan,
    store: GraphStore,
    *,
    job_id: str,
    progress: ImportProgress,
    commit_gate: CommitGate | None = None,
    index_capacity: int = INDEX_CAPACITY,
    dry_run: bool = False,
) -> ImportSummary:
    """Run ``plan`` into ``store`` as one transaction and return what it did.

    ``dry_run``: everything runs as usual (the same validation, writes and look-ups inside the
    transaction, so edges see the vertices the run added) and the transaction is rolled back
    instead of committed: the summary is what the import would do, and the store is unchanged.

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
    store.begin(
        width=store_width(plan),
        schema=plan.schema.to_dict(),
        parallel_edge=plan.parallel_edge,
        ignore_label=plan.ignore_label,
    )
    gc_was_enabled = gc.isenabled()
    loader: Loader | None = None

    def roll_back() -> None:
        if loader is not None:  # (its writer thread must be done with the store first)
            loader.close_writer(quiet=True)
        store.rollback()

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
        loader.close_writer()
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
        if dry_run:
            store.rollback()
        else:
            store.commit(job_id=job_id, summary=summary.to_dict())
        return summary
    except ImportAborted as exc:
        current = progress.files[progress.current_file]
        if current.status is None:
            current.status, current.finished = FileStatus.FAILED, time.time()
            current.total_lines = current.successful_lines + current.failed_lines
        current.cause = str(exc)
        roll_back()
        raise
    except BaseException:
        roll_back()
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
