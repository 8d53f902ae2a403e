"""Hostile JSON and YAML documents every face must refuse quickly with a clear error (issue 12,
section 3): each entry is the document and a fragment of the message that names what is
wrong. Used by the reader's tests and by one test per face."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from jobcenter.core.documents import MAX_DOCUMENT_BYTES

# "Billion laughs": nine levels of nine aliases, 9**9 strings once expanded.
ALIAS_BOMB = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)

# name -> (YAML document, what the error says)
HOSTILE_YAML: dict[str, tuple[str, str]] = {
    "alias_bomb": (ALIAS_BOMB, "YAML anchors (&a) are not accepted (line 1, column 4)"),
    "alias_only": ("a: *undefined\n", "YAML aliases (*undefined) are not accepted"),
    "deep_nesting": ("[" * 100_000 + "]" * 100_000, "nested deeper than 64 levels"),
    "deep_block": (
        "".join(f"{' ' * i}k{i}:\n" for i in range(200)),
        "nested deeper than 64 levels (line 65, column 65)",
    ),
    "huge": ("a: " + "x" * MAX_DOCUMENT_BYTES, f"larger than {MAX_DOCUMENT_BYTES} bytes"),
    "many_values": ("- 1\n" * 200_000, "more than 100000 values"),
    "duplicate_keys": (
        "name: a\nkind: x\nname: b\n",
        "key 'name' appears twice in the top level (line 3, column 1)",
    ),
    "non_string_key": (
        "name: a\n1: b\n",
        "a key in the top level is 1, not a string (quote it) (line 2, column 1)",
    ),
    "bool_key": ("on: a\n", "a key in the top level is True, not a string"),
    "python_object": (
        "a: !!python/object/apply:os.system ['echo pwned']\n",
        "YAML tags (!!python/object/apply:os.system) are not accepted (line 1, column 4)",
    ),
    "binary": (
        "a: !!binary aGVsbG8=\n",
        "YAML tags (!!binary) are not accepted (line 1, column 4)",
    ),
    "timestamp": (
        "a: !!timestamp 2001-12-14t21:59:43.10-05:00\n",
        "YAML tags (!!timestamp) are not accepted (line 1, column 4)",
    ),
    "set": ("a: !!set {x, y}\n", "YAML tags (!!set) are not accepted"),
}

# name -> (JSON body, what the error says)
HOSTILE_JSON: dict[str, tuple[bytes, str]] = {
    "deep_nesting": (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 64 levels"),
    "many_values": (b"[" + b"1," * 200_000 + b"1]", "more than 100000 values"),
    "duplicate_keys": (b'{"name": "a", "name": "b"}', "key 'name' appears twice in one object"),
    "nan": (b'{"name": NaN}', "NaN is not a finite number"),
    "overflow": (b'{"name": 1e999}', "name is not a finite number"),
    "yaml_alias_bomb": (ALIAS_BOMB.encode(), "not valid JSON"),
}


@contextmanager
def quickly(seconds: float = 2.0) -> Iterator[None]:
    """The block runs in less than ``seconds`` (loosely: a bomb is refused, not expanded)."""
    started = time.perf_counter()
    yield
    took = time.perf_counter() - started
    assert took < seconds, f"took {took:.2f} s"
