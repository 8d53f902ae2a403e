"""The checks of algorithm parameters (see :func:`jobcenter.graphs.algorithms.parse_algorithm`),
in GES's words: ``parameter [source] is invalid!`` plus what is expected."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.schema import GraphSchema

NUMERIC = frozenset({"int", "long", "uint32", "uint64", "float", "double"})


def invalid(name: str, why: str) -> PlanError:
    return PlanError(f"parameter [{name}] is invalid! {why}", field=f"parameters.{name}")


def number(low: float, high: float, *, low_open: bool = False, high_open: bool = False):
    def check(name: str, value: Any, ctx: Any) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        ok = ok and math.isfinite(value)
        ok = ok and (value > low if low_open else value >= low)
        ok = ok and (value < high if high_open else value <= high)
        if not ok:
            lo = "(" if low_open else "["
            hi = ")" if high_open else "]"
            raise invalid(name, f"expected a number in {lo}{low}, {high}{hi}")
        return float(value)

    return check


def whole(low: int, high: int):
    def check(name: str, value: Any, ctx: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid(name, f"expected a whole number from {low} to {high}")
        return value

    return check


def boolean(name: str, value: Any, ctx: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid(name, "expected true or false")
    return value


def vertex(name: str, value: Any, ctx: ParseContext) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value or len(value) > 4096:
        raise invalid(name, "expected a vertex id")
    matches = ctx.find(value)
    label = ctx.params.get(f"{name}_label")
    if label is not None:
        matches = [m for m in matches if m[2] == label]
    if not matches:
        raise invalid(name, f"vertex {value!r} does not exist in the graph")
    if len(matches) > 1:
        raise invalid(name, f"vertex id {value!r} is used by several types: give {name}_label")
    return value


def vertex_label(name: str, value: Any, ctx: ParseContext) -> str:
    if not isinstance(value, str) or ctx.schema.label(value) is None:
        raise invalid(name, "expected a vertex label of the graph")
    return value


def weight(name: str, value: Any, ctx: ParseContext) -> str:
    if not isinstance(value, str) or not value:
        raise invalid(name, "expected the name of a numeric edge property")
    found = False
    for label in ctx.schema.edge_labels():
        prop = label.property(value)
        if prop is None:
            continue
        if prop.type not in NUMERIC or prop.cardinality != "single":
            raise invalid(name, f"property {value!r} of label {label.name!r} is not a number")
        found = True
    if not found:
        raise invalid(name, f"no edge label has a property {value!r}")
    return value


Check = Callable[[str, Any, Any], Any]


REQUIRED = object()


@dataclass
class ParseContext:
    schema: GraphSchema
    find: Callable[[str], list[tuple[int, str, str]]]
    params: dict[str, Any]
