"""Reading data files as bytes: the pre-pass (size, lines, undecodable lines), which encodings
can be split into lines, text as the job databases can store it, and failed lines' raw text
read again by line number. What a line is: see :mod:`jobcenter.graphs.loader`."""

from __future__ import annotations

import codecs
import csv
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jobcenter.graphs.plan import RAW_LINE_LIMIT, FileSpec, ImportStopped

SCAN_BLOCK = 1 << 20
# Beyond this many undecodable lines a file is refused as a whole (wrong encoding).
MAX_BAD_ENCODING_LINES = 100_000


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
        if is_utf8(encoding):
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


def is_utf8(encoding: str) -> bool:
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


_DECODE_WINDOW = 1 << 16


def _find_undecodable(segment: bytes, base: int, encoding: str, bad: set[int]) -> None:
    try:
        segment.decode(encoding)
        return
    except UnicodeDecodeError:
        pass
    if is_utf8(encoding):
        # Decoding resumes after each bad sequence, as an error handler would: each error's
        # line is bad (the utf-8 decoder never takes an ASCII byte, so no LF, into a bad
        # sequence; other codecs may). Errors are few; a regex over the decoded text, its
        # surrogates, went char by char (issue 14: 0.3 s of the messy file's import).
        # A window at a time: the error copies what it was given.
        view, size = memoryview(segment), len(segment)
        line, counted, pos = base + 1, 0, 0
        while pos < size:
            end = pos + _DECODE_WINDOW
            try:  # stops before a sequence cut by the window's end (final only at the end)
                pos += codecs.utf_8_decode(view[pos:end], "strict", end >= size)[1]
            except UnicodeDecodeError as exc:
                at = pos + exc.start
                line += segment.count(b"\n", counted, at)
                counted = at
                bad.add(line)
                pos += exc.end
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
    if text.isascii() and "\0" not in text:  # (most messages: two scans in C, no regex)
        return text
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


def parse_error(exc: csv.Error) -> str:
    """The message of a line ``csv.reader`` cannot parse."""
    text = str(exc)
    if text.startswith("new-line character seen in unquoted field"):
        text = (
            "a carriage return (CR) that does not end the line, outside quotes (a line ends "
            "with LF or CRLF; a CR in a value must be inside quotes)"
        )
    return f"the line cannot be parsed: {text}"
