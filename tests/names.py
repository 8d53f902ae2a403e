"""File names of an exact size in bytes, for the tests of path limits on every face."""

from __future__ import annotations

import secrets

# Name sizes in UTF-8 bytes: the file system (NAME_MAX, 255 on Linux) takes the first three.
SIZES = (200, 250, 255, 256, 300, 5000)
FITS = frozenset(size for size in SIZES if size <= 255)


def name_of(size: int, *, suffix: str = "") -> str:
    """A fresh name of exactly ``size`` bytes in UTF-8, mostly three-byte characters (so that
    a limit counted in characters, not bytes, shows), ending with ``suffix``."""
    start = secrets.token_hex(4)  # unique: tests of one run share the export root
    body = size - len(start) - len(suffix.encode())
    assert body >= 0
    tail = {0: "", 1: "a", 2: "é"}[body % 3]
    name = f"{start}{'文' * (body // 3)}{tail}{suffix}"
    assert len(name.encode()) == size
    return name


def deep_path(total: int, *, part: int = 250) -> str:
    """A relative path of about ``total`` bytes whose every name fits (``part`` bytes each)."""
    parts = []
    while sum(len(p.encode()) + 1 for p in parts) < total:
        parts.append(name_of(part))
    return "/".join(parts)
