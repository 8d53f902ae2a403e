"""The columnar path's reading of a chunk (jobcenter/graphs/chunked.py)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from jobcenter.graphs.chunked import _blanked


@pytest.mark.parametrize(
    ("undecodable", "start"),
    [([], 0), ([0], 0), ([5], 0), ([1, 2, 5], 0), ([0, 1, 2, 3, 4, 5], 0), ([1, 4], 2), ([1], 3)],
)
def test_undecodable_lines_are_blanked_and_the_others_kept(undecodable, start):
    chunk = [b"a,1", b"b\xff", b"c,3", b"", b"\xfe", b"f,6"]
    lines = pa.array(chunk, pa.binary()).slice(start)
    got = _blanked(lines, undecodable, start).to_pylist()
    assert got == [b"" if i in undecodable else chunk[i] for i in range(start, len(chunk))]
