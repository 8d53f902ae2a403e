"""Pagination of every list of the native API: one envelope, two modes.

Offset mode (default): ``?limit=50&offset=100``. The response carries ``count``, the total
number of matching rows, and ``next``/``previous`` links.

Cursor mode: ``?cursor=`` (empty) for the first page, then follow ``next`` (or ``previous``).
A cursor is the position of a row in the list's order (keyset pagination), so a deep page costs
the same as the first one and rows added meanwhile never shift a page. ``count`` is null in
cursor mode (counting is what makes deep offset pages slow). ``offset`` there skips rows from
the cursor's position (the links that follow carry none).

Both modes use the same order: the one asked for (``ordering``) then the id as a tie-break;
empty values sort last in either direction. Every page is a constant number of SQL queries
(two in offset mode, one in cursor mode) whatever its size.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import F, Q, QuerySet
from django.db.models.expressions import OrderBy
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.request import Request
from rest_framework.utils.urls import remove_query_param, replace_query_param

from jobcenter.core.errors import InvalidInput

DEFAULT_LIMIT = 50
MAX_LIMIT = 500
MAX_OFFSET = 2**31 - 1
PAGE_PARAMS = frozenset({"limit", "offset", "cursor"})
# What encode_cursor() writes (URL-safe base64 without padding); "" is the first page.
CURSOR_PATTERN = "^[A-Za-z0-9_-]*$"
_CURSOR = re.compile(CURSOR_PATTERN.strip("^$"))

_INT_TYPES = {
    "AutoField",
    "BigAutoField",
    "SmallAutoField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
}
_TEXT_TYPES = {"CharField", "TextField", "SlugField"}
_INT64 = 2**63 - 1


@dataclass(frozen=True)
class Key:
    """One column of a list's order."""

    name: str  # a lookup path, e.g. "created_at" or "file__index"
    desc: bool
    nullable: bool
    field: models.Field

    def order(self, *, reverse: bool = False) -> Any:
        desc = self.desc != reverse
        if not self.nullable:
            return f"-{self.name}" if desc else self.name
        # NULLs after every value when reading forward, so before them when reading backward.
        expr = F(self.name)
        if reverse:
            return expr.desc(nulls_first=True) if desc else expr.asc(nulls_first=True)
        return expr.desc(nulls_last=True) if desc else expr.asc(nulls_last=True)


@dataclass(frozen=True)
class Page:
    results: list[Any]
    count: int | None
    next: str | None
    previous: str | None

    def envelope(self, results: list[Any]) -> dict[str, Any]:
        exact = getattr(self.count, "exact", True) if self.count is not None else None
        return {
            "count": None if self.count is None else int(self.count),
            "count_exact": exact,
            "next": self.next,
            "previous": self.previous,
            "results": results,
        }


# A list's own way to read a page: (ordered queryset, the cursor's condition or None, offset,
# limit) -> (rows, number of rows the queryset has; int, or an int with ``exact`` False for
# "more than this"). The default reads the rows and counts them all.
PageReader = Callable[[QuerySet, Q | None, int, int], tuple[list[Any], int]]


def _read(qs: QuerySet, where: Q | None, offset: int, limit: int) -> tuple[list[Any], int]:
    count = qs.count()
    return (list(qs[offset : offset + limit]) if offset < count else []), count


def int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    """A whole-number query parameter from ``low`` to ``high``; ``default`` when absent."""
    raw = request.query_params.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not text.isdigit() or not text.isascii():
        raise InvalidInput(f"must be a whole number from {low} to {high}", field=name)
    value = int(text) if len(text) <= 12 else high + 1
    if not low <= value <= high:
        raise InvalidInput(f"must be from {low} to {high}, not {text[:20]}", field=name)
    return value


def _resolve(model: type[models.Model], path: str) -> tuple[models.Field, bool]:
    """The model field a lookup path ends at, and whether its value can be NULL."""
    nullable = False
    field: Any = None
    parts = path.split("__")
    for i, part in enumerate(parts):
        field = model._meta.pk if part == "pk" else model._meta.get_field(part)
        nullable = nullable or bool(getattr(field, "null", False))
        if i < len(parts) - 1:
            model = field.related_model
    return field, nullable


def ordering_keys(qs: QuerySet) -> list[Key]:
    """The queryset's order as keys, with the primary key appended as the last tie-break."""
    model = qs.model
    pk = model._meta.pk.name
    keys: list[Key] = []
    for item in list(qs.query.order_by) or list(model._meta.ordering):
        if isinstance(item, str):
            name, desc = item.lstrip("-"), item.startswith("-")
        elif isinstance(item, OrderBy) and isinstance(item.expression, F):
            name, desc = item.expression.name, item.descending
        else:  # pragma: no cover - our lists only order by columns
            raise TypeError(f"cannot paginate over ordering {item!r}")
        name = pk if name == "pk" else name
        field, nullable = _resolve(model, name)
        if field.is_relation:  # order by the key column, not the related model's ordering
            name, field = f"{name}_id", field.target_field
        keys.append(Key(name=name, desc=desc, nullable=nullable, field=field))
    if not any(k.name == pk for k in keys):
        desc = keys[-1].desc if keys else False
        keys.append(Key(name=pk, desc=desc, nullable=False, field=model._meta.pk))
    return keys


def _value_of(obj: Any, name: str) -> Any:
    for part in name.split("__"):
        obj = None if obj is None else getattr(obj, part)
    return obj


def _encode(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _decode(key: Key, value: Any) -> Any:
    """A cursor value back to a column value; ValueError when it cannot be one."""
    if value is None:
        if not key.nullable:
            raise ValueError("null")
        return None
    kind = key.field.get_internal_type()
    if kind == "DateTimeField":
        moment = parse_datetime(value) if isinstance(value, str) else None
        if moment is None or timezone.is_naive(moment):
            raise ValueError("datetime")
        return moment
    if kind in _INT_TYPES:
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _INT64:
            raise ValueError("int")
        return value
    if kind == "FloatField":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError("float")
        if not math.isfinite(value):
            raise ValueError("float")
        return float(value)
    if kind in _TEXT_TYPES:
        if not isinstance(value, str) or "\x00" in value:
            raise ValueError("text")
        return value
    raise ValueError(kind)


def _tag(keys: list[Key]) -> str:
    return ",".join(("-" if k.desc else "") + k.name for k in keys)


def encode_cursor(keys: list[Key], obj: Any, *, backward: bool) -> str:
    data = {"o": _tag(keys), "v": [_encode(_value_of(obj, k.name)) for k in keys]}
    if backward:
        data["b"] = 1
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(keys: list[Key], cursor: str) -> tuple[list[Any], bool]:
    invalid = InvalidInput("not valid; start again from the first page", field="cursor")
    if not _CURSOR.fullmatch(cursor):
        raise invalid
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(data, dict) or not isinstance(data.get("v"), list):
        raise invalid
    if data.get("o") != _tag(keys):
        raise InvalidInput(
            "made for another ordering; start again from the first page",
            field="cursor",
        )
    if len(data["v"]) != len(keys):
        raise invalid
    try:
        values = [_decode(k, v) for k, v in zip(keys, data["v"], strict=True)]
    except (ValueError, TypeError, OverflowError):
        raise invalid from None
    return values, bool(data.get("b"))


def _equal(key: Key, value: Any) -> Q:
    return Q(**{f"{key.name}__isnull": True}) if value is None else Q(**{key.name: value})


def _beyond(key: Key, value: Any, *, forward: bool) -> Q | None:
    """Rows whose ``key`` comes strictly after (forward) or before ``value`` in the order."""
    if forward:
        if value is None:
            return None  # NULLs come last: nothing is after them
        q = Q(**{f"{key.name}__{'lt' if key.desc else 'gt'}": value})
        return q | Q(**{f"{key.name}__isnull": True}) if key.nullable else q
    if value is None:
        return Q(**{f"{key.name}__isnull": False})
    return Q(**{f"{key.name}__{'gt' if key.desc else 'lt'}": value})


def keyset_filter(keys: list[Key], values: list[Any], *, forward: bool) -> Q:
    """Rows strictly after (or before) the position ``values`` in the order ``keys``."""
    clauses: list[Q] = []
    for i, key in enumerate(keys):
        step = _beyond(key, values[i], forward=forward)
        if step is None:
            continue
        clause = step
        for j in range(i):
            clause &= _equal(keys[j], values[j])
        clauses.append(clause)
    if not clauses:
        return Q(pk__in=[])
    q = clauses[0]
    for clause in clauses[1:]:
        q |= clause
    first, value = keys[0], values[0]
    if not first.nullable and value is not None:
        # Redundant, but lets the database start an index range scan at the position.
        q &= Q(**{f"{first.name}__{'lte' if first.desc == forward else 'gte'}": value})
    return q


def paginate(
    request: Request, qs: QuerySet, *, max_limit: int = MAX_LIMIT, reader: PageReader | None = None
) -> Page:
    """One page of ``qs`` (already filtered and ordered) as the request asks for it; ``reader``
    reads it (default: the rows, and a count of them all)."""
    limit = int_param(request, "limit", min(DEFAULT_LIMIT, max_limit), 1, max_limit)
    offset = int_param(request, "offset", 0, 0, MAX_OFFSET)
    cursor = request.query_params.get("cursor")
    keys = ordering_keys(qs)
    qs = qs.order_by(*(k.order() for k in keys))
    url = request.build_absolute_uri()
    if cursor is None:
        rows, count = (reader or _read)(qs, None, offset, limit)
        url = remove_query_param(url, "cursor")
        more = offset + limit < count or (not getattr(count, "exact", True) and len(rows) == limit)
        next_url = replace_query_param(url, "offset", offset + limit) if more else None
        prev_url = None
        if offset > 0:
            back = max(0, min(offset, count) - limit)
            prev_url = (
                replace_query_param(url, "offset", back)
                if back
                else remove_query_param(url, "offset")
            )
        return Page(results=rows, count=count, next=next_url, previous=prev_url)

    url = remove_query_param(url, "offset")  # the links continue from their own cursors
    backward = False
    if cursor:
        values, backward = decode_cursor(keys, cursor)
        where = keyset_filter(keys, values, forward=not backward)
        window = qs.filter(where)
        if backward:
            window = window.order_by(*(k.order(reverse=True) for k in keys))
    else:
        where, window = None, qs
    rows = (
        reader(window, where, offset, limit + 1)[0]
        if reader
        else list(window[offset : offset + limit + 1])
    )
    more = len(rows) > limit
    rows = rows[:limit]
    if backward:
        rows.reverse()
    has_next = (more and not backward) or (backward and bool(rows))
    has_prev = (more and backward) or (not backward and bool(cursor or offset) and bool(rows))
    next_url = (
        replace_query_param(url, "cursor", encode_cursor(keys, rows[-1], backward=False))
        if has_next and rows
        else None
    )
    prev_url = (
        replace_query_param(url, "cursor", encode_cursor(keys, rows[0], backward=True))
        if has_prev and rows
        else None
    )
    return Page(results=rows, count=None, next=next_url, previous=prev_url)
