"""The pre-pass over a data file (:mod:`jobcenter.graphs.reading`): which lines do not decode."""

from __future__ import annotations

import random

from jobcenter.graphs import reading


def _oracle(segment: bytes, base: int) -> set[int]:
    """The lines (numbered from ``base + 1``) that do not decode as utf-8, one by one."""
    bad = set()
    for offset, line in enumerate(segment.split(b"\n")):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.add(base + offset + 1)
    return bad


def test_undecodable_lines_are_found_across_the_decode_windows():
    """Multi-byte characters cut by a window's end are not errors; bad bytes on either side
    of a window's end, and several in one line, fail their line only."""
    window = reading._DECODE_WINDOW
    rng = random.Random(7)
    pieces = ["a", "é", "€", "𝄞", "\n"]
    bad_bytes = [b"\xff", b"\xe2\x82", b"\xc0\xaf", b"\xed\xa0\x80", b"\x80"]
    data = bytearray()
    while len(data) < 20 * window:
        if rng.random() < 0.00001:  # few: most windows end where no error is
            data += rng.choice(bad_bytes)
        else:
            data += rng.choice(pieces).encode()
    for end in (window, 2 * window):  # a 4-byte character across each window's end ...
        data[end - 2 : end + 2] = "𝄞".encode()
    data[3 * window - 1 : 3 * window + 1] = b"\xff\xfe"  # ... and bad bytes across the third
    segment = bytes(data)
    bad: set[int] = set()
    reading._find_undecodable(segment, 10, "utf-8", bad)
    assert bad == _oracle(segment, 10)
    assert len(bad) >= 3


def test_a_segment_that_decodes_has_no_bad_lines():
    bad: set[int] = set()
    reading._find_undecodable("ok\né€𝄞\n".encode() * 30000, 0, "utf-8", bad)
    assert bad == set()
