"""Turning the text of one CSV field into the stored value of a schema property.

:func:`converter` builds, once per property, a function ``str -> value`` that raises
:class:`BadValue` (with a reason code and a message naming the property and the value) for text
that is not a valid value. ``None`` is returned for properties whose text is stored as it is,
so the loader's hot loop skips them. An empty field means "no value" (NULL) for every type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from jobcenter.graphs.plan import Reason
from jobcenter.graphs.schema import PropertyDef

INT32 = (-(2**31), 2**31 - 1)
INT64 = (-(2**63), 2**63 - 1)
UINT32 = (0, 2**32 - 1)
UINT64 = (0, 2**64 - 1)
_INT_RANGES = {"int": INT32, "long": INT64, "uint32": UINT32, "uint64": UINT64}
_TRUE = frozenset({"1", "true", "TRUE", "True"})
_FALSE = frozenset({"0", "false", "FALSE", "False"})
LIST_SEPARATOR = ";"
_SHOWN = 60  # characters of a bad value quoted in a message


class BadValue(ValueError):
    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def shown(value: str) -> str:
    return repr(value if len(value) <= _SHOWN else value[:_SHOWN] + "...")


Convert = Callable[[str], Any]


def scalar_converter(prop: PropertyDef) -> Convert | None:
    """The converter of one element (a single value, or one element of a list/set)."""
    name = prop.name
    kind = prop.type
    if kind in _INT_RANGES:
        low, high = _INT_RANGES[kind]
        label = {"int": "an int", "long": "a long", "uint32": "a uint32", "uint64": "a uint64"}[
            kind
        ]

        def to_int(text: str) -> int:
            try:
                value = int(text)
            except ValueError:
                raise BadValue(Reason.BAD_TYPE, f"{name}: {shown(text)} is not {label}") from None
            if not low <= value <= high or "_" in text:
                if "_" in text:
                    raise BadValue(Reason.BAD_TYPE, f"{name}: {shown(text)} is not {label}")
                raise BadValue(
                    Reason.BAD_TYPE, f"{name}: {text} is out of range for {label} ({low}..{high})"
                )
            return value

        return to_int
    if kind in ("float", "double"):
        article = "a float" if kind == "float" else "a double"

        def to_float(text: str) -> float:
            try:
                value = float(text)
            except ValueError:
                raise BadValue(Reason.BAD_TYPE, f"{name}: {shown(text)} is not {article}") from None
            if "_" in text or value != value or value in (float("inf"), float("-inf")):
                raise BadValue(Reason.BAD_TYPE, f"{name}: {shown(text)} is not {article}")
            return value

        return to_float
    if kind == "bool":

        def to_bool(text: str) -> int:
            if text in _TRUE:
                return 1
            if text in _FALSE:
                return 0
            raise BadValue(
                Reason.BAD_TYPE, f"{name}: {shown(text)} is not a bool (0, 1, true or false)"
            )

        return to_bool
    if kind == "date":
        return _date_converter(name, with_time_optional=True)
    if kind == "datetime":
        return _date_converter(name, with_time_optional=True)
    if kind == "enum":
        allowed = frozenset(prop.enum_values)
        listing = ", ".join(prop.enum_values)

        def to_enum(text: str) -> str:
            if text in allowed:
                return text
            raise BadValue(
                Reason.NOT_IN_ENUM,
                f"{name}: {shown(text)} is not one of the enum's values {listing}",
            )

        return to_enum
    if kind == "char":

        def to_char(text: str) -> str:
            if len(text) == 1:
                return text
            raise BadValue(Reason.TOO_LONG, f"{name}: {shown(text)} is not a single character")

        return to_char
    if kind in ("char_array", "string") and prop.max_length is not None:
        limit = prop.max_length
        what = "char array's maxDataSize" if kind == "char_array" else "maximum length"

        def to_bounded(text: str) -> str:
            if len(text) <= limit:
                return text
            raise BadValue(
                Reason.TOO_LONG,
                f"{name}: {shown(text)} is {len(text)} characters, longer than the {what} {limit}",
            )

        return to_bounded
    return None  # plain string: stored as it is


def _date_converter(name: str, *, with_time_optional: bool) -> Convert:
    def to_date(text: str) -> str:
        # YYYY-MM-DD or YYYY-MM-DD HH:MM:SS, two-digit month and day (GES); the ISO "T"
        # separator is accepted too. fromisoformat checks the calendar (no 2020-13-45).
        size = len(text)
        if (size == 10 or (size == 19 and text[10] in " T")) and text[4] == "-" and text[7] == "-":
            try:
                if size == 10:
                    return date.fromisoformat(text).isoformat()
                return datetime.fromisoformat(text).isoformat(sep=" ")
            except ValueError:
                pass
        raise BadValue(
            Reason.BAD_DATE,
            f"{name}: {shown(text)} is not a valid date (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)",
        )

    return to_date


def converter(prop: PropertyDef) -> Convert | None:
    """The converter of a property's field (``None``: store the text as it is)."""
    element = scalar_converter(prop)
    if prop.cardinality == "single":
        return element
    unique = prop.cardinality == "set"

    def to_collection(text: str) -> str:
        items = text.split(LIST_SEPARATOR)
        if element is not None:
            items = [element(item) for item in items]
        if unique:
            items = list(dict.fromkeys(items))
        return json.dumps(items, ensure_ascii=False)

    return to_collection


def key_converter(prop: PropertyDef) -> Convert:
    """Primary key text -> canonical vertex key (``007`` and ``7`` are the same int key)."""
    element = scalar_converter(prop)
    if element is None:
        return str
    if prop.type in _INT_RANGES:
        return lambda text: str(element(text))
    return element
