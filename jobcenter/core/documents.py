"""The one reader of JSON and YAML documents, for every face: request bodies (native API,
GraphScope, GES, IAM), documents sent as text or files (a GraphScope mapping or graph
definition in the API, the dashboard's forms and the ``jobs`` command).

A document becomes plain JSON data (dicts with string keys, lists, strings, finite numbers,
booleans, null) or is refused with a :class:`DocumentError` that names the document, says
what is wrong and, for YAML, where (line and column). The rules, the same for every face:

- at most ``max_bytes`` (:data:`MAX_DOCUMENT_BYTES` unless the face has a lower limit), UTF-8
  (a byte order mark is dropped);
- at most :data:`MAX_DOCUMENT_DEPTH` nested objects and lists, and :data:`MAX_DOCUMENT_NODES`
  values in all, checked as the document is read, so a nesting or size bomb is refused after a
  bounded amount of work;
- YAML: no anchors or aliases (an alias bomb cannot expand), no tags (``!!python/object``,
  ``!!binary``, ``!!timestamp``, ``!!set``... never build Python objects), no merge keys, one
  document; plain scalars are read as YAML 1.1 reads them (``yes`` is true, ``0x1F`` is 31)
  except dates and times, which stay the text they are;
- keys are strings and appear once per object (a repeated key is refused, not "last wins");
- numbers are finite (no NaN, Infinity or overflow) and strings are storable in every
  database (no NUL, no unpaired surrogate).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from jobcenter.core.errors import InvalidInput
from jobcenter.core.text import storable

MAX_DOCUMENT_BYTES = 10 * 1024**2  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE, GES's metadata limit
MAX_DOCUMENT_DEPTH = 64  # deeper is no request, mapping or definition; it only costs recursion
MAX_DOCUMENT_NODES = 100_000  # values in one document (graph.yaml of the modern graph: ~100)

_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when built
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_STD_TAG = "tag:yaml.org,2002:"


class DocumentError(InvalidInput):
    """A document that cannot be accepted; ``message`` names it and says what is wrong."""

    def __init__(
        self,
        what: str,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
        field: str | None = None,
    ) -> None:
        where = f" (line {line}, column {column})" if line is not None else ""
        super().__init__(f"the {what}: {problem}{where}", field=field)
        self.what, self.problem, self.line, self.column = what, problem, line, column
        self.detail = f"{problem}{where}"  # for a face that shows it next to its field


def read_document(
    source: str | bytes,
    *,
    what: str,
    syntax: str = "auto",
    expect_object: bool = True,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    field: str | None = None,
    strings: bool = True,
) -> Any:
    """``source`` (text or UTF-8 bytes) as plain JSON data, or :class:`DocumentError`.

    ``what`` names the document in messages ("mapping", "file 'bulk_load.yaml'", "request
    body"); ``field`` is the request field it came from, if any. ``syntax`` is ``"json"``,
    ``"yaml"`` or ``"auto"`` (JSON when the text starts like JSON and parses as such, YAML
    otherwise: YAML is a superset of JSON, but JSON's errors read better). With
    ``expect_object`` the document must be an object (a mapping). ``strings=False`` leaves
    the check of unstorable strings to a face that names their field better (the native
    API's serializers)."""

    def fail(problem: str, line: int | None = None, column: int | None = None) -> DocumentError:
        return DocumentError(what, problem, line=line, column=column, field=field)

    size = (
        len(source) if isinstance(source, bytes) else len(source.encode("utf-8", "surrogatepass"))
    )
    if size > max_bytes:
        raise fail(f"larger than {max_bytes} bytes")
    if isinstance(source, bytes):
        try:
            text = source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise fail(f"not UTF-8 text (byte {exc.start})") from None
    else:
        text = source.removeprefix("\ufeff")
    if not text.strip():
        raise fail("empty")
    value: Any
    if syntax == "json" or (syntax == "auto" and text.lstrip()[:1] in ("{", "[")):
        try:
            value = _read_json(text, fail, strings)
        except _NotJson as exc:
            if syntax == "json":
                raise fail(f"not valid JSON: {exc.message}", exc.line, exc.column) from None
            try:  # flow-style YAML starts like JSON too
                value = _read_yaml(text, fail, NEITHER, strings)
            except DocumentError as yaml_exc:
                if yaml_exc.problem.startswith(NEITHER):  # meant as JSON: say what JSON says
                    raise fail(f"{NEITHER}: {exc.message}", exc.line, exc.column) from None
                raise
    else:
        value = _read_yaml(text, fail, NEITHER if syntax == "auto" else "not valid YAML", strings)
    if expect_object and not isinstance(value, dict):
        kind = "a list" if isinstance(value, list) else "empty" if value is None else "a value"
        raise fail(f"must be a mapping (an object), not {kind}")
    return value


NEITHER = "neither valid YAML nor JSON"


def read_document_file(path: Path, *, what: str | None = None, **options: Any) -> Any:
    """The document in the file at ``path`` (see :func:`read_document`); reads at most one
    byte more than the limit, so a huge file is refused without reading it whole."""
    what = what or f"file {str(path)!r}"
    limit = options.get("max_bytes", MAX_DOCUMENT_BYTES)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(limit + 1)
    except OSError as exc:
        raise DocumentError(what, f"cannot be read: {exc.strerror or exc}") from None
    return read_document(raw, what=what, **options)


class _NotJson(Exception):
    def __init__(self, message: str, line: int | None, column: int | None) -> None:
        super().__init__(message)
        self.message, self.line, self.column = message, line, column


def _path(parts: list[Any]) -> str:
    return ".".join(str(p) for p in parts) or "the top level"


# --- JSON -----------------------------------------------------------------------------------


class _Refused(Exception):
    pass


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a finite number")


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"key {key[:100]!r} appears twice in one object")
        out[key] = value
    return out


def _read_json(text: str, fail: Any, strings: bool) -> Any:
    try:
        value = json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except _Refused as exc:
        raise fail(str(exc)) from None
    except RecursionError:
        raise fail(f"nested deeper than {MAX_DOCUMENT_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise _NotJson(exc.msg, exc.lineno, exc.colno) from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise fail(str(exc).split(";")[0]) from None
    _check_tree(value, fail, strings)
    return value


def _check_tree(root: Any, fail: Any, strings: bool) -> None:
    """Depth, size, keys, strings and numbers of parsed JSON, one value at a time."""
    nodes = 1
    stack: list[tuple[Any, int, tuple]] = [(root, 1, ())]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DOCUMENT_DEPTH:
                raise fail(f"nested deeper than {MAX_DOCUMENT_DEPTH} levels")
            nodes += len(value)
            if nodes > MAX_DOCUMENT_NODES:
                raise fail(f"more than {MAX_DOCUMENT_NODES} values")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if strings and isinstance(key, str) and not storable(key):
                    raise fail(f"a key in {_path(list(path))} holds a NUL or unpaired surrogate")
                stack.append((item, depth + 1, (*path, key)))
        elif isinstance(value, str):
            if strings and not storable(value):
                raise fail(f"{_path(list(path))} holds a NUL character or an unpaired surrogate")
        elif isinstance(value, float) and not math.isfinite(value):
            raise fail(f"{_path(list(path))} is not a finite number")


# --- YAML -----------------------------------------------------------------------------------


def _read_yaml(text: str, fail: Any, invalid: str, strings: bool) -> Any:
    events = yaml.parse(text, Loader=_YAML_LOADER)
    try:
        return _build(events, fail, strings)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid"
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
        raise fail(f"{invalid}: {problem}", line, column) from None
    except yaml.YAMLError as exc:
        raise fail(f"{invalid}: {str(exc).splitlines()[0]}") from None
    except RecursionError:
        raise fail(f"nested deeper than {MAX_DOCUMENT_DEPTH} levels") from None


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_STD_TAG) :] if tag.startswith(_STD_TAG) else tag


def _build(events: Iterator[Any], fail: Any, strings: bool) -> Any:
    """Plain data from a YAML event stream, checking every rule as each event arrives (the
    stream is lazy: a bomb is refused after a bounded number of events)."""
    # One frame per open collection: [container, its path, the key waiting for its value]
    stack: list[list[Any]] = []
    root: Any = None
    nodes = documents = 0

    def at(event: Any) -> tuple[int | None, int | None]:
        mark = event.start_mark
        return (mark.line + 1, mark.column + 1) if mark is not None else (None, None)

    def inside() -> str:
        return _path(list(stack[-1][1])) if stack else "the top level"

    for event in events:
        kind = type(event)
        if (
            kind is yaml.ScalarEvent
            or kind is yaml.MappingStartEvent
            or kind is yaml.SequenceStartEvent
        ):
            nodes += 1
            if nodes > MAX_DOCUMENT_NODES:
                raise fail(f"more than {MAX_DOCUMENT_NODES} values", *at(event))
            if event.anchor is not None:
                raise fail(f"YAML anchors (&{event.anchor}) are not accepted", *at(event))
            if event.tag is not None:  # only explicit tags are reported
                raise fail(f"YAML tags ({_short_tag(event.tag)}) are not accepted", *at(event))
            frame = stack[-1] if stack else None
            is_key = frame is not None and type(frame[0]) is dict and frame[2] is None
            if kind is yaml.ScalarEvent:
                value = _plain(event, fail, at) if event.implicit[0] else event.value
                if strings and type(value) is str and not storable(value):
                    if is_key or frame is None:
                        what = f"a key in {inside()}" if is_key else "the document"
                    else:
                        place = frame[2] if type(frame[0]) is dict else len(frame[0])
                        what = _path([*frame[1], place])
                    raise fail(f"{what} holds a NUL character or an unpaired surrogate", *at(event))
            else:
                if len(stack) >= MAX_DOCUMENT_DEPTH:
                    raise fail(f"nested deeper than {MAX_DOCUMENT_DEPTH} levels", *at(event))
                value = {} if kind is yaml.MappingStartEvent else []
            if frame is None:
                root = value
                path: tuple = ()
            elif type(frame[0]) is list:
                frame[0].append(value)
                path = (*frame[1], len(frame[0]) - 1)
            elif is_key:
                if type(value) is not str:
                    shown = "an object or a list" if type(value) in (dict, list) else repr(value)
                    raise fail(
                        f"a key in {inside()} is {shown}, not a string (quote it)", *at(event)
                    )
                if value in frame[0]:
                    raise fail(f"key {value[:100]!r} appears twice in {inside()}", *at(event))
                frame[2] = value
                continue
            else:
                frame[0][frame[2]] = value
                path = (*frame[1], frame[2])
                frame[2] = None
            if kind is not yaml.ScalarEvent:
                stack.append([value, path, None])
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            stack.pop()
        elif kind is yaml.AliasEvent:
            raise fail(f"YAML aliases (*{event.anchor}) are not accepted", *at(event))
        elif kind is yaml.DocumentStartEvent:
            documents += 1
            if documents > 1:
                raise fail("more than one YAML document", *at(event))
    return root


@functools.lru_cache(maxsize=4096)
def _plain_tag(value: str) -> str:
    """The tag YAML 1.1 gives a plain scalar (only the first character picks the candidates)."""
    if value and value[0] not in _RESOLVER.yaml_implicit_resolvers:
        return _STD_TAG + "str"
    return _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))


def _plain(event: Any, fail: Any, at: Any) -> Any:
    """A plain (unquoted) scalar as YAML 1.1 reads it: null, a boolean, a finite number, or
    text (dates and times included: they are no JSON type)."""
    value = event.value
    tag = _plain_tag(value)
    name = tag[len(_STD_TAG) :] if tag.startswith(_STD_TAG) else ""
    if name == "str":
        return value
    node = yaml.ScalarNode(tag, value)
    try:
        if name == "null":
            return None
        if name == "bool":
            return _CONSTRUCTOR.construct_yaml_bool(node)
        if name == "int":
            return _CONSTRUCTOR.construct_yaml_int(node)
        if name == "float":
            number = _CONSTRUCTOR.construct_yaml_float(node)
            if not math.isfinite(number):
                raise fail(f"{value[:100]!r} is not a finite number", *at(event))
            return number
    except ValueError as exc:  # an integer of more digits than Python converts
        raise fail(f"{value[:40]!r}...: {str(exc).split(';')[0]}", *at(event)) from None
    if name == "merge":
        raise fail("YAML merge keys (<<) are not accepted", *at(event))
    return value  # timestamps and the rest stay the text they are
