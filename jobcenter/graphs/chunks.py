"""A data file as lines, read in big byte chunks cut at LF (the loader's columnar path).

Each chunk is split into lines natively (one pyarrow ``split_pattern`` call); the lines that
the columnar path cannot take as they are, the *special* lines, are found with one scan
of the chunk per byte (``bytes.find``; a regex when a byte range is special): a quote or escape
character, a CR (but for the CR of a CRLF ending, which the run strips), a NUL, bytes that do
not decode (the pre-pass knows those lines), and non-ASCII bytes when the encoding is not
utf-8. Runs of ordinary lines go to the vectorized row builders; special lines go, record by
record, through ``csv.reader`` fed by :class:`Chunks` itself (a quoted record may run on into
the next chunk: the reader pulls the lines it needs). Line numbers are counted as everywhere
in the loader (the loader's module docstring): by LF, from 1.
"""

from __future__ import annotations

import bisect
import codecs
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

# 1 MiB: a chunk's rows are built at once, so this bounds the memory they take (4 MiB chunks
# added 60 MB to the peak of an import with a million vertices, for 5% less CPU).
CHUNK_BYTES = 1 << 20
# A chunk where more than this share of the lines are special is read record by record.
SPECIAL_SHARE = 0.25
# CRLF endings passed one by one in a chunk's scan before it takes their CRs out at once.
CRLF_PASSED = 256
CR = 13
# Up to this many quote characters in a chunk, the lines with quotes are found in its bytes
# (about 1 us a line); with more, by searching every line's text at once (2.5 ms a MiB).
QUOTES_FOUND = 1000


@dataclass(frozen=True)
class SpecialBytes:
    """Bytes that send a line to ``csv.reader`` (the loader's per-record path): single
    ``chars``, and with ``pattern`` a regex of them all (a byte range: non-utf-8 encodings)."""

    chars: tuple[bytes, ...]
    pattern: re.Pattern | None = None

    def finder(self, data: bytes) -> Callable[[int], int]:
        """``find(pos)``: the first special byte of ``data`` at or after ``pos`` (-1: none);
        ``pos`` must not go back between calls. Each byte is looked for with ``bytes.find``
        (memchr), resumed only once passed: the regex's scan byte by byte took 6% of an
        import's CPU (issue 14)."""
        if self.pattern is not None:
            search = self.pattern.search

            def by_regex(pos: int) -> int:
                match = search(data, pos)
                return -1 if match is None else match.start()

            return by_regex
        nexts = [data.find(char) for char in self.chars]
        chars = self.chars

        def by_find(pos: int) -> int:
            best = -1
            for k, at in enumerate(nexts):
                if 0 <= at < pos:
                    at = nexts[k] = data.find(chars[k], pos)
                if at >= 0 and (best < 0 or at < best):
                    best = at
            return best

        return by_find


def special_bytes(quotechar: str | None, escapechar: str | None, utf8: bool) -> SpecialBytes:
    """Bytes that send a line to ``csv.reader`` (the loader's per-record path)."""
    chars = [b"\r", b"\x00"]
    for char in (quotechar, escapechar):
        if char:
            chars.append(char.encode("ascii"))
    if utf8:
        return SpecialBytes(tuple(chars))
    pattern = b"[" + b"".join(re.escape(c) for c in chars) + rb"\x80-\xff" + b"]"
    return SpecialBytes(tuple(chars), re.compile(pattern))


def _lines_with(data: bytes, byte: bytes) -> list[int]:
    """The indexes of the lines of ``data`` (cut at LF) that hold ``byte``."""
    found: list[int] = []
    index = pos = 0
    while (at := data.find(byte, pos)) >= 0:
        index += data.count(b"\n", pos, at)
        found.append(index)
        end = data.find(b"\n", at)
        if end < 0:
            break
        pos, index = end + 1, index + 1
    return found


class _Quoting:
    """Lines with quotes that need no ``csv.reader``: each field unquoted (no quote) or
    wrapped whole in one pair of quotes with no quote, delimiter, CR or LF inside, then an
    optional CR (a CRLF ending). Such a line's fields are the line split at the delimiter,
    the quotes dropped, as ``csv.reader`` reads them (but for a line of one empty quoted field,
    which is no blank line: special)."""

    def __init__(self, quote: str, delimiter: str) -> None:
        self.quote, self.byte, self.delimiter = quote, quote.encode("ascii"), delimiter
        q, d = (f"\\x{ord(c):02x}" for c in (quote, delimiter))  # (RE2's escape of any byte)
        field = f"(?:{q}[^{q}{d}\\r]*{q}|[^{q}{d}\\r]*)"
        self.simple = f"^{field}(?:{d}{field})*\\r?$"
        self.empty = f"^{q}{q}\\r?$"

    def complex_lines(
        self, lines: pa.Array, data: bytes, special: set[int]
    ) -> frozenset[int] | None:
        """Add the lines with quotes that are not simple to ``special``; returns the fields
        (their places in a line) that have quotes in the simple ones (empty: no line but
        special ones has quotes; None: any field may, too many lines to look at). ``data``:
        the chunk's bytes (``lines`` joined by LF)."""
        quotes = data.count(self.byte)
        if not quotes:
            return frozenset()
        few = quotes <= QUOTES_FOUND
        if few:  # a few: found in the bytes, line by line
            at = pa.array(_lines_with(data, self.byte), pa.int64())
        else:  # many: every line's text searched at once
            at = pc.indices_nonzero(pc.match_substring(lines, self.quote))
        taken = pc.take(lines, at)
        simple = pc.and_not(
            pc.match_substring_regex(taken, self.simple),
            pc.match_substring_regex(taken, self.empty),
        )
        special.update(pc.filter(at, pc.invert(simple)).to_pylist())
        if not few:
            return None
        fields: set[int] = set()
        delimiter = self.delimiter.encode("ascii")
        for line in pc.filter(taken, simple).to_pylist():
            fields.update(k for k, field in enumerate(line.split(delimiter)) if self.byte in field)
        return frozenset(fields)  # (empty when every line with quotes is special)


class Chunks:
    """The file's lines, a chunk at a time. ``lines`` holds the current chunk's lines (without
    their LF) and ``i`` the next line not consumed; ``first`` is the number of ``lines[0]``.
    Iterating gives the next line as text (with its LF), loading chunks as needed: that is
    what ``csv.reader`` reads special records from."""

    def __init__(
        self,
        path: Path,
        encoding: str,
        *,
        bom: bool,
        special: SpecialBytes,
        bad_lines: Iterable[int],
        chunk_bytes: int | None = None,
        quoting: tuple[str, str] | None = None,
    ) -> None:
        self.handle = path.open("rb")
        self.encoding = encoding
        self.special_bytes = special
        self.bad = sorted(bad_lines)
        self.chunk_bytes = chunk_bytes or CHUNK_BYTES
        self.pending = b""
        self.skip_bom = bom
        self.eof = False
        self.lines: pa.Array = pa.array([], pa.binary())
        self.count = 0  # lines in the chunk
        self.i = 0
        self.first = 1
        self.last_has_lf = True  # the chunk's last line ended with LF
        self.special: list[int] = []  # indexes of special lines in the chunk, ascending
        self.undecodable: list[int] = []  # those that do not decode (ascending)
        self.crlf = False  # some lines end with CRLF (the CR is in ``lines``)
        # ``quoting``: (quote, delimiter), the quote not among ``special``'s bytes: a line whose
        # quotes only wrap whole fields (no quote, delimiter or CR inside) is not special; its
        # run drops the quotes (``quoted``: some lines of the chunk have them).
        self.quoting = _Quoting(*quoting) if quoting else None
        self.quoted = False
        # The fields with quotes in the quoted lines, by place (None: any may have them).
        self.quoted_fields: frozenset[int] | None = frozenset()
        self.all_special = False
        self._held: dict[int, bytes] = {}  # special lines' bytes
        self.bytes_read = 0

    def close(self) -> None:
        self.handle.close()

    @property
    def line(self) -> int:
        """Number of the next line not consumed."""
        return self.first + self.i

    def load(self) -> bool:
        """The next chunk (the current one must be consumed); False at the end of the file."""
        self.first += self.count
        self.count = self.i = 0
        if self.eof and not self.pending:
            return False
        data = self.pending
        oversized = False
        while not self.eof:
            block = self.handle.read(self.chunk_bytes)
            if not block:
                self.eof = True
                break
            if self.skip_bom:
                self.skip_bom = False
                block = block.removeprefix(codecs.BOM_UTF8)
            data += block
            if b"\n" in block:
                break
            oversized = True  # a line longer than a chunk: read it record by record
        self.bytes_read += len(data) - len(self.pending)
        cut = len(data) if self.eof else data.rfind(b"\n") + 1
        data, self.pending = data[:cut], data[cut:]
        if not data:
            return False
        self.last_has_lf = data.endswith(b"\n")
        body = data[:-1] if self.last_has_lf else data
        self.lines = pc.list_flatten(pc.split_pattern(pa.array([body], pa.binary()), b"\n"))
        self.count = len(self.lines)
        self._find_special(data, oversized)
        return True

    def _find_special(self, data: bytes, oversized: bool) -> None:
        special: set[int] = set()
        low, high = self.first, self.first + self.count
        start = bisect.bisect_left(self.bad, low)
        self.undecodable = [n - low for n in self.bad[start : bisect.bisect_left(self.bad, high)]]
        special.update(self.undecodable)
        limit = SPECIAL_SHARE * self.count
        # A CR right before the LF is the line's ending (CRLF), which the columnar path strips
        # (``crlf``); any other CR is special still. A few CRLFs are passed one by one; past
        # CRLF_PASSED the chunk is scanned again with those CRs taken out (the LFs stay, and
        # with them every line's number): 2 ms a MiB, against 1 to 2 us a CRLF passed.
        self.crlf = False
        if not self._scan(data, special, limit, CRLF_PASSED):
            self._scan(data.replace(b"\r\n", b"\n"), special, limit, None)
        self.quoted, self.quoted_fields = False, frozenset()
        if self.quoting is not None and len(special) <= limit:
            self.quoted_fields = self.quoting.complex_lines(self.lines, data, special)
            self.quoted = self.quoted_fields != frozenset()
        self.all_special = oversized or len(special) > limit
        self.special = sorted(special)
        self._held: dict[int, bytes] = {}
        if self.special and not self.all_special:  # their bytes in one go, for csv.reader
            taken = pc.take(self.lines, pa.array(self.special, pa.int64())).to_pylist()
            self._held = dict(zip(self.special, taken, strict=True))

    def _scan(self, data: bytes, special: set[int], limit: float, passed: int | None) -> bool:
        """Add the chunk's special lines to ``special`` (up to ``limit`` of them); False if
        more than ``passed`` CRLF endings were passed (None: the CRLFs' CRs are out of
        ``data``, and a CR before an LF there was one of two or more: special)."""
        index, pos = 0, 0
        find = self.special_bytes.finder(data)
        while len(special) <= limit:
            at = find(pos)
            if at < 0:
                break
            index += data.count(b"\n", pos, at)
            end = data.find(b"\n", at)
            if passed is not None and end == at + 1 and data[at] == CR:  # it ends the line
                self.crlf = True
                passed -= 1
                if passed < 0:
                    return False
            else:
                special.add(index)
            if end < 0:
                break
            pos, index = end + 1, index + 1
        return True

    def next_special(self) -> int:
        """Index of the first special line at or after ``i`` (``count`` when none)."""
        if self.all_special:
            return self.i
        k = bisect.bisect_left(self.special, self.i)
        return self.special[k] if k < len(self.special) else self.count

    def bytes(self, index: int) -> bytes:
        """Line ``index`` of the chunk (without its LF)."""
        held = self._held.get(index)
        return held if held is not None else self.lines[index].as_py()

    def text(self, index: int) -> str:
        """Line ``index`` of the chunk as text (without its LF)."""
        return self.bytes(index).decode(self.encoding, errors="surrogateescape")

    def raw(self, first: int, last: int) -> bytes | None:
        """Lines ``first`` to ``last`` (numbers) with their LFs, as the file has them, when
        they are all in the current chunk (else None)."""
        low, high = first - self.first, last - self.first
        if low < 0 or high >= self.count:
            return None
        parts = [self.bytes(i) for i in range(low, high + 1)]
        ending = b"\n" if high + 1 < self.count or self.last_has_lf else b""
        return b"\n".join(parts) + ending

    def __iter__(self) -> Chunks:
        return self

    def __next__(self) -> str:
        if self.i >= self.count and not self.load():
            raise StopIteration
        i = self.i
        self.i = i + 1
        if i + 1 < self.count or self.last_has_lf:
            return self.text(i) + "\n"
        return self.text(i)
