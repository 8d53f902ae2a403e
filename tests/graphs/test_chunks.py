"""The chunks of the columnar reading (:mod:`jobcenter.graphs.chunks`): special bytes, CRLF, quotes."""

from __future__ import annotations

import bisect
import random
import re
from pathlib import Path

import pytest

from jobcenter.graphs import chunks as chunks_module
from jobcenter.graphs.chunks import CRLF_PASSED, Chunks, special_bytes


@pytest.mark.parametrize(
    ("quote", "escape", "utf8"),
    [('"', None, True), ("'", "\\", True), ("]", "^", True), ('"', None, False)],
)
def test_special_bytes_are_found_where_a_regex_finds_them(quote, escape, utf8):
    rng = random.Random(3)
    alphabet = [b"a", b"1", b",", b"\n", b"\r", b"\x00", b'"', b"'", b"\\", b"]", b"^", b"\xe9"]
    weights = [40, 20, 10, 10, 1, 1, 1, 1, 1, 1, 1, 1]
    data = b"".join(rng.choices(alphabet, weights, k=200_000))
    chars = [b"\r", b"\x00", quote.encode()] + ([escape.encode()] if escape else [])
    pattern = b"[" + b"".join(re.escape(c) for c in chars) + (b"" if utf8 else rb"\x80-\xff")
    expected = [m.start() for m in re.finditer(pattern + b"]", data)]
    find, pos, steps = special_bytes(quote, escape, utf8).finder(data), 0, 0
    while (at := find(pos)) >= 0:  # as a chunk's scan does: on from past each one, never back
        assert at == expected[bisect.bisect_left(expected, pos)]
        pos, steps = at + rng.choice([1, 2, 50, 5000]), steps + 1
    assert bisect.bisect_left(expected, pos) == len(expected) and steps > 10
    # every special byte is found when the scan moves on one byte at a time
    find, pos, every = special_bytes(quote, escape, utf8).finder(data), 0, []
    while (at := find(pos)) >= 0:
        every.append(at)
        pos = at + 1
    assert every == expected


def test_crlf_endings_are_not_special_and_other_crs_are(tmp_path):
    # A file written with CRLF endings is read in runs as its LF twin is, not record by
    # record (a chunk with more than a quarter of special lines would be); its lines keep
    # their CRs (csv.reader reads the special ones from them).
    path = tmp_path / "v.csv"
    path.write_bytes(
        b'a,1\r\nb,2\r\n\r\nc,3\r\r\nd,\r4\r\ne,5\n"f\r\n",6\r\n' + b"h,8\r\n" * 20 + b"g,7\r"
    )
    chunks = Chunks(path, "utf-8", bom=False, special=special_bytes('"', None, True), bad_lines=[])
    assert chunks.load()
    assert chunks.crlf and not chunks.all_special
    # CRCRLF (3), a CR inside the line (4), a quoted field (6, 7); then a CR ending the file
    assert chunks.special == [3, 4, 6, 7]
    assert chunks.lines.to_pylist()[:3] == [b"a,1\r", b"b,2\r", b"\r"]
    chunks.i = chunks.count
    assert chunks.load() and chunks.special == [0] and chunks.lines.to_pylist() == [b"g,7\r"]
    lf = tmp_path / "lf.csv"
    lf.write_bytes(b"a,1\nb,2\n" * 100)
    twin = Chunks(lf, "utf-8", bom=False, special=special_bytes('"', None, True), bad_lines=[8])
    assert twin.load() and not twin.crlf
    assert twin.special == [7]  # line 8, which the pre-pass found bad
    chunks.close()
    twin.close()


@pytest.mark.parametrize("plain", [0, 20, CRLF_PASSED + 50])
def test_crlf_lines_are_passed_one_by_one_or_their_crs_taken_out_alike(tmp_path, plain):
    # Past CRLF_PASSED endings a chunk is scanned again with the CRLFs' CRs taken out: the
    # special lines are the same (CRCRLF and CRCRCRLF too).
    odd = [b"c,3\r\r", b"d,\r4\r", b"x\r\r\r", b'"q",1\r', b"\x00,1\r", b"e,5"]
    lines = [b"h,%d\r" % i for i in range(plain)] + odd + [b"k,1\r"] * 40 + odd
    path = tmp_path / "v.csv"
    path.write_bytes(b"\n".join(lines) + b"\n")
    chunks = Chunks(path, "utf-8", bom=False, special=special_bytes('"', None, True), bad_lines=[])
    assert chunks.load() and chunks.crlf and not chunks.all_special
    at = [plain + i for i in range(5)] + [plain + 46 + i for i in range(5)]
    assert chunks.special == at
    chunks.close()


def _quoted_chunks(path: Path) -> Chunks:
    """A comma-separated file's chunks, quotes that wrap whole fields read in runs."""
    return Chunks(
        path,
        "utf-8",
        bom=False,
        special=special_bytes(None, None, True),
        bad_lines=[],
        quoting=('"', ","),
    )


@pytest.mark.parametrize("found", [0, 10_000])
def test_lines_with_quotes_are_found_in_the_bytes_or_the_lines_alike(tmp_path, monkeypatch, found):
    # A few quote characters in a chunk: their lines found in its bytes; many: every line
    # searched (QUOTES_FOUND between). The same lines are special either way: those whose
    # quotes do not wrap whole fields.
    monkeypatch.setattr(chunks_module, "QUOTES_FOUND", found)
    lines = [b'"a",1', b"b,2", b'"c"d,3', b'e,"4"', b'"f,g",5', b"h,6", b'"",', b'""', b'i,"7']
    path = tmp_path / "v.csv"
    path.write_bytes(b"\n".join(lines * 3) + b'\n"j","8"')
    chunks = _quoted_chunks(path)
    assert chunks.load() and chunks.quoted
    complex_ = [2, 4, 7, 8]  # "c"d, "f,g", one empty quoted field, an open quote
    assert chunks.special == [k + 9 * n for n in range(3) for k in complex_]
    # The fields with quotes in the other quoted lines (trimmed in the run), when they are few
    fields = frozenset({0, 1}) if found else None
    assert chunks.quoted_fields == fields
    chunks.i = chunks.count  # the last line, which has no LF: in a chunk of its own
    assert chunks.load() and chunks.quoted and chunks.special == [] and chunks.count == 1
    assert chunks.quoted_fields == fields
    chunks.close()
    # Quotes in special lines only: nothing to take out of the run's fields
    path.write_bytes(b'a,1\n"c"d,3\nb,2\n')
    chunks = _quoted_chunks(path)
    assert chunks.load() and chunks.special == [1]
    assert chunks.quoted_fields == (frozenset() if found else None)
    assert chunks.quoted == (not found)
    chunks.close()
