"""The chunks of the columnar reading (:mod:`jobcenter.graphs.chunks`): special bytes."""

from __future__ import annotations

import bisect
import random
import re

import pytest

from jobcenter.graphs.chunks import special_bytes


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
