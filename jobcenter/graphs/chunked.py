"""The loader's reading of a data file in byte chunks (:mod:`jobcenter.graphs.chunks`): a chunk's
ordinary lines built at once (:mod:`jobcenter.graphs.columnar`), the lines it does not take
judged one by one in their place, special lines through ``csv.reader``; batches, checkpoints
and the error threshold on the same records as the per-line reading of
:class:`jobcenter.graphs.loader.Loader`, of which this is a part."""

from __future__ import annotations

import bisect
import contextlib
import csv
import ctypes
import sys
import time
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from jobcenter.graphs import columnar
from jobcenter.graphs.chunks import Chunks, special_bytes
from jobcenter.graphs.plan import FileProgress, FileSpec, ImportAborted, ImportStopped, Reason
from jobcenter.graphs.reading import FileScan, RawLines, is_utf8, parse_error
from jobcenter.graphs.rows import LineError, RowBuilder, first_line, lines_of, rows_scope
from jobcenter.graphs.stores.base import Columns, RowBatch, RunPart, RunRows
from jobcenter.graphs.values import BadValue
from jobcenter.graphs.writer import BatchWriter


class _HeapTrim:
    """Gives the C heap's free pages back to the system at most every ``EVERY`` seconds.
    glibc raises its mmap threshold once a big block is freed, so the chunks' bytes and the
    batches' lists then come from the heap, and what they leave free stays resident: 60 to
    70 MB through a long import (issue 14: the import's peak)."""

    EVERY = 0.5

    def __init__(self) -> None:
        self.next = 0.0
        self.trim: Callable[[int], int] | None = None
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError, AttributeError):
                self.trim = ctypes.CDLL(None).malloc_trim

    def maybe(self) -> None:
        if self.trim is not None and (now := time.monotonic()) >= self.next:
            self.next = now + self.EVERY
            self.trim(0)


_TRIM = _HeapTrim()


_EMPTY = pa.array([b""], pa.binary())


def _blanked(lines: pa.Array, undecodable: list[int], start: int) -> pa.Array:
    """``lines`` (a chunk's from line ``start``) with the ``undecodable`` ones (indexes in the
    chunk, ascending) empty: the slices between them joined (0.47 against 0.85 ms a chunk
    with 90 such lines for a mask and ``if_else``)."""
    at = bisect.bisect_left(undecodable, start)
    if at == len(undecodable):
        return lines
    parts, prev = [], 0
    for index in undecodable[at:]:
        parts += [lines.slice(prev, index - start - prev), _EMPTY]
        prev = index - start + 1
    parts.append(lines.slice(prev))
    return pa.concat_arrays(parts)


class ChunkedReading:
    """Part of :class:`~jobcenter.graphs.loader.Loader` (its state and its per-line helpers:
    ``fail``, ``_reader``, ``_write_*``, ``_finish_file``...)."""

    batch_rows: int
    _batch: RowBatch
    _count: int
    _writer: BatchWriter | None

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
        # Quoted fields without quotes, delimiters or CRs inside are read in runs (chunks.py;
        # its patterns take ASCII characters: with others, every quoted line is special).
        quote, delimiter = options.quotechar, options.delimiter
        quoting = (
            (quote, delimiter)
            if quote and quote != delimiter and quote.isascii() and delimiter.isascii()
            else None
        )
        special = special_bytes(
            None if quoting else options.quotechar,
            options.escapechar,
            is_utf8(options.encoding),
        )
        try:
            chunks = Chunks(
                spec.path,
                options.encoding,
                bom=scan.bom,
                special=special,
                bad_lines=scan.bad_lines,
                quoting=quoting,
            )
        except OSError as exc:
            self._file_error(fp, f"cannot read the file: {exc.strerror or exc}")
            return
        edges = spec.role == "edge"
        write = self._write_edges if edges else self._write_vertices
        if self.index.in_memory:  # the store is the writer's alone (keys are looked up here)
            writer = self._shared_writer()
            store_rows = self._store_edges if edges else self._store_vertices

            def write(fp: FileProgress, batch: RowBatch) -> None:
                fp.successful_lines += len(batch)
                writer.put((store_rows, fp), batch)

        if scan.bom:
            self._notes[index].append(
                "the UTF-8 byte order mark (BOM) at the start of the file was skipped"
            )
        self._raw_lines = RawLines(spec.path, options.encoding, bom=scan.bom)
        try:
            try:
                self._stream_columnar(index, spec, scan, fp, chunks, build, write, rows)
            except BaseException:
                self.close_writer(quiet=True)
                raise
            if edges:  # its summary counts the edges the store ignored: all written first
                self.close_writer()
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

    def _shared_writer(self) -> BatchWriter:
        """The store's writer thread, started by the first columnar file and kept for the next
        while nothing else uses the store: an edge file is read while the vertex file's last
        batches are written (the thread's join between them cost 0.06 to 0.08 s of 1.1 s)."""
        if self._writer is None:
            self.index.store.keys_in_memory()  # (before the writer thread starts)
            self._writer = BatchWriter(lambda target, batch: target[0](target[1], batch))
        return self._writer

    def close_writer(self, *, quiet: bool = False) -> None:
        """Wait for every batch put to be written (then the store is this thread's again);
        raise a write's error (``quiet``: an error of the caller's own is being raised)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close(quiet=quiet)

    def _stream_columnar(
        self,
        index: int,
        spec: FileSpec,
        scan: FileScan,
        fp: FileProgress,
        chunks: Chunks,
        build: RowBuilder,
        write: Callable[[FileProgress, RowBatch], None],
        rows: columnar.Rows,
    ) -> None:
        """:meth:`_stream` over byte chunks: the ordinary lines of a chunk go through ``rows``
        at once; the lines it does not recognise go through ``build`` one by one, and special
        lines through ``csv.reader``, record by record, in their place. Batches, checkpoints
        and the error threshold fall on the same records as in :meth:`_stream`: every
        ``self.batch_rows`` records."""
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
            except csv.Error as exc:  # as _stream: the refused record counts in its slice
                last = chunks.line - 1
                self.fail(
                    index,
                    fp,
                    last,
                    last,
                    Reason.MALFORMED,
                    parse_error(exc),
                    lambda: chunks.raw(last, last),
                )
                self._count += 1
                return True
            last = chunks.line - 1
            if row:
                try:
                    if not bad.isdisjoint(lines_of(last, row)):
                        raise LineError(Reason.ENCODING, f"the line is not valid {encoding}")
                    self._batch.append(build(row))
                except (LineError, BadValue) as exc:
                    line = first_line(last, row)
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

        self._batch = RowBatch()
        self._count = 0  # records since the last checkpoint
        quote = spec.csv.quotechar or ""
        prefetched = 0  # the chunk (by its first line) whose keys were looked up at once
        try:
            while True:
                if chunks.i >= chunks.count and not chunks.load():
                    break
                if chunks.all_special:
                    if prefetched != chunks.first:  # its keys at once, for csv.reader's records
                        prefetched = chunks.first
                        lines = chunks.lines.slice(chunks.i)
                        texts = [
                            b.decode(encoding, errors="surrogateescape") for b in lines.to_pylist()
                        ]
                        self._prefetch(rows, spec.csv.delimiter, quote, texts)
                    if not record():
                        break
                else:
                    self._run(
                        index,
                        fp,
                        chunks,
                        rows,
                        spec.csv.delimiter,
                        build,
                        write,
                        record,
                        scope,
                        quote,
                    )
                if self._count >= self.batch_rows:
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
            self._batch = RowBatch()

    def _flush(
        self,
        fp: FileProgress,
        write: Callable[[FileProgress, RowBatch], None],
        read: int | None,
    ) -> None:
        """End of a slice of records: write the batch, publish, stop if asked."""
        if self._batch:
            write(fp, self._batch)
            self._batch = RowBatch()
        self._count = 0
        self.index.settle()  # new keys into the key tables (not within a run: ``hold``)
        self._checkpoint_bytes(fp, read)

    def _run(
        self,
        index: int,
        fp: FileProgress,
        chunks: Chunks,
        rows: columnar.Rows,
        delimiter: str,
        build: RowBuilder,
        write: Callable[[FileProgress, RowBatch], None],
        record: Callable[[], bool],
        scope: str | None,
        quote: str,
    ) -> None:
        """The rest of the current chunk (from ``chunks.i``) into ``self._batch``: its lines
        built at once by ``rows``, then taken in order. Ends with the chunk, or when a special
        record read on into the next chunk. ``scope``: the key scope of a vertex file."""
        start, first = chunks.i, chunks.first
        lines = chunks.lines.slice(start)
        special = [s - start for s in chunks.special if s >= start]
        try:
            text = _blanked(lines, chunks.undecodable, start).cast(pa.string())
        except pa.ArrowInvalid:  # undecodable lines (special): blank them for the build
            blank = pc.scatter(
                pa.repeat(pa.scalar(True), len(special)),
                pa.array(special, pa.int64()),
                max_index=len(lines) - 1,
            )
            text = pc.if_else(pc.fill_null(blank, False), pa.scalar(b"", pa.binary()), lines)
            text = text.cast(pa.string())
        if chunks.crlf:  # the CR of a CRLF ending (a line with any other CR is special)
            text = pc.utf8_rtrim(text, characters="\r")
        # A quoted line here has its quotes around whole fields only: dropped for its fields.
        unquote = quote if chunks.quoted else ""
        run = rows.run(text, unquote, chunks.quoted_fields)

        def fields(raw: str) -> list[str]:
            """A line the run did not take, split as the run splits it."""
            return (raw.replace(unquote, "") if unquote else raw).split(delimiter)

        positions, made, keys = run.positions, run.rows, run.keys
        total = len(lines)
        vertex = scope is not None
        taken: Any = None
        new: dict[str, int] = {}
        if vertex:
            assert keys is not None
            new = self.index.scope(scope).new  # type: ignore[arg-type]
            # One look-up for the run; keys it registers stay in ``new`` meanwhile.
            taken = self.index.present(scope, keys)  # type: ignore[arg-type]
            self.index.hold = True
        invalid = run.invalid
        # The text of the lines handed back, fetched in one go.
        texts = pc.take(text, pa.array(invalid, pa.int64())).to_pylist() if invalid else []
        # Their keys looked up at once, for the per-line builders: an edge line handed back
        # had its ends looked up by the run (if it got that far: a line of another label or
        # column count fails before its builder looks them up); special lines, but those that
        # do not decode (they fail before they are built).
        skip = set(chunks.undecodable)
        asked = [chunks.text(start + s) for s in special if start + s not in skip]
        if vertex:
            asked = texts + asked
        else:
            for scope_of_ends, ends, vids in run.looked_up:
                self.index.remember(scope_of_ends, ends, vids)
        if asked:
            self._prefetch(rows, delimiter, quote, asked)

        # A store that takes rows gets them made once for a run cut into many pieces (by the
        # lines judged one by one), on the writer's thread, not piece by piece; a run in one
        # piece (a batch's worth at most), or for a store that takes columns, goes as columns,
        # made into rows on the writer's thread (issue 14).
        cut = bool(invalid or special) and not self.index.store.takes_columns
        shared = RunRows(made) if cut else None

        def piece(p: int, n: int, vid: int | None = None) -> Columns | RunPart:
            """Rows ``p`` to ``p + n`` of the run (vertex rows: with vids from ``vid`` on)."""
            if shared is not None:
                return shared.part(p, n, vid)
            rows = made.slice(p, n)
            return rows if vid is None else rows.with_first(range(vid, vid + n))

        def take(p: int, n: int) -> int:
            """The ``n`` valid lines from ``made[p]`` into the batch; returns the next ``p``."""
            batch = self._batch
            if not vertex:
                batch.add(piece(p, n))
                return p + n
            names = keys[p : p + n]  # type: ignore[index]
            if new.keys().isdisjoint(names) and taken.isdisjoint(names) and len(set(names)) == n:
                vid = self.index.next_vid  # no duplicate among them: vids in one go
                new.update(zip(names, range(vid, vid + n), strict=True))
                self.index.next_vid = vid + n
                batch.add(piece(p, n, vid))
                return p + n
            # Duplicate ids among them: the lines between go in pieces, each duplicate through
            # the per-line builder, which says so.
            begin, vid = p, self.index.next_vid
            for q in range(p, p + n):
                key = keys[q]  # type: ignore[index]
                if key not in taken and key not in new:
                    new[key] = self.index.next_vid
                    self.index.next_vid += 1
                    continue
                if q > begin:
                    batch.add(piece(begin, q - begin, vid))
                raw = text[positions[q]].as_py()
                try:
                    batch.append(build(fields(raw)))
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
                begin, vid = q + 1, self.index.next_vid
            if p + n > begin:
                batch.add(piece(begin, p + n - begin, vid))
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
                    end = min(total, j + self.batch_rows - self._count)
                    if s < len(special):
                        end = min(end, special[s])
                    # The piece's lines that rows did not take, one by one; the rest at once.
                    # ``owed``: the run's rows since ``p`` not yet in the batch (an edge's
                    # wait for a line accepted one by one; a vertex's are taken before each
                    # such line is built: its key may repeat theirs).
                    k = bisect.bisect_left(invalid, j, k)
                    stop = bisect.bisect_left(invalid, end, k)
                    at = j
                    owed = 0
                    try:
                        for line, raw in zip(invalid[k:stop], texts[k:stop], strict=True):
                            owed += line - at
                            at = line + 1
                            if not raw:
                                continue  # blank lines are not data lines
                            if vertex and owed:
                                p, owed = take(p, owed), 0
                            try:
                                row = build(
                                    (raw.replace(unquote, "") if unquote else raw).split(delimiter)
                                )
                            except (LineError, BadValue) as exc:
                                number = first + start + line
                                self.fail(
                                    index, fp, number, number, exc.reason, exc.message, shown=raw
                                )
                                continue
                            if owed:
                                p, owed = take(p, owed), 0
                            self._batch.append(row)
                    except ImportAborted:  # the valid lines before the last failed one count
                        if owed:
                            take(p, owed)
                        raise
                    owed += end - at
                    if owed:
                        p = take(p, owed)
                    k = stop
                    self._count += end - j
                    j = end
                if self._count >= self.batch_rows:
                    self._flush(fp, write, None)
            chunks.i = start + total
        finally:
            self.index.hold = False

    def _prefetch(self, rows: columnar.Rows, delimiter: str, quote: str, texts: list[str]) -> None:
        """Look up at once the keys of lines about to be judged one by one (their fields
        split plainly, quotes dropped: a key read wrongly is only looked up again alone)."""
        if rows.key is not None:
            columns = [(rows.key[0], rows.key[1])]
        else:
            assert rows.ends is not None
            columns = list(rows.ends)
        split = [(t.replace(quote, "") if quote else t).split(delimiter) for t in texts if t]
        wanted: dict[str, list[str]] = {}  # per scope: one look-up
        for column, scope in columns:
            keys = wanted.setdefault(scope, [])
            keys += [fields[column] for fields in split if len(fields) > column]
        for scope, keys in wanted.items():
            self.index.prefetch(scope, keys)

    def _checkpoint_bytes(self, fp: FileProgress, read: int | None) -> None:
        """:meth:`_checkpoint` of the columnar path (``read``: bytes read so far)."""
        _TRIM.maybe()
        if read is not None:
            fp.bytes_read = min(read, fp.bytes_total)
        self.progress.pace()
        if self.progress.stop.is_set():
            raise ImportStopped()
        self.check_percent()
