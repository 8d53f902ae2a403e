"""What a path's text alone says about it: limits are counted in bytes of UTF-8."""

from __future__ import annotations

from jobcenter.core.paths import path_problem


def test_path_problem_counts_bytes_not_characters():
    assert path_problem("文" * 85) is None  # 255 bytes
    assert "256 bytes" in path_problem("文" * 85 + "a")
    assert path_problem("a/" * 2000) is None and "4095" in path_problem("a/" * 2048)
