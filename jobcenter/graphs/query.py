"""Reading a graph store for analytics: filtered queries (parsed and validated here, compiled
and run by the store's backend, rows shaped here), and what every analytics read shares
(``snapshot``, ``data_version``, ``stored_schema``). Label-property indexes are in
``indexes.py``, the graph for the graph library (edges streamed out, vertex look-ups) in
``build.py``; the SQL of each store is in its backend (``stores/``).

Reads run inside one read transaction (``snapshot``), so they see the last committed import and
never half of a running one.

Property ``name`` can sit in a different column for each label (``p{i}`` with ``i`` its
position in that label): a backend compiles a predicate or a sort key over several labels to
one branch per label, and answers a query on one label property from its label-property index
when one was built (:func:`jobcenter.graphs.indexes.create_index`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.schema import GraphSchema, LabelDef, PropertyDef
from jobcenter.graphs.stores.base import GraphStore
from jobcenter.graphs.values import BadValue, scalar_converter

PREDICATES = ("=", "!=", "<", "<=", ">", ">=", "in", "range", "contains")
TARGETS = ("vertices", "edges")
MAX_FILTERS = 20
MAX_IN_VALUES = 1000
NUMERIC_TYPES = frozenset({"int", "long", "uint32", "uint64", "float", "double", "bool"})
_INT_TYPES = frozenset({"int", "long", "uint32", "uint64"})


def snapshot(store: GraphStore) -> AbstractContextManager[None]:
    """One read transaction: every read inside sees the same committed state."""
    return store.snapshot()


def data_version(store: GraphStore) -> tuple:
    """Changes whenever the graph's data changes (every write commits an import record)."""
    return store.data_version()


def stored_schema(store: GraphStore) -> GraphSchema | None:
    raw = store.stored_schema()
    return GraphSchema.from_dict(raw) if raw else None


# --- query specifications ---------------------------------------------------------------------


@dataclass(frozen=True)
class Filter:
    property: str
    predicate: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Sort:
    property: str
    descending: bool = False


@dataclass(frozen=True)
class QuerySpec:
    """A validated filtered query (see :func:`parse_query`)."""

    target: str  # vertices | edges
    labels: tuple[str, ...]  # empty: every label of the target kind
    filters: tuple[Filter, ...] = ()
    sorts: tuple[Sort, ...] = ()
    offset: int = 0
    limit: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "labels": list(self.labels),
            "filters": [
                {"property": f.property, "predicate": f.predicate, "values": list(f.values)}
                for f in self.filters
            ],
            "sort": [
                {"property": s.property, "order": "desc" if s.descending else "asc"}
                for s in self.sorts
            ],
            "offset": self.offset,
            "limit": self.limit,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QuerySpec:
        """Back from :meth:`to_dict` (already validated when the job was submitted)."""
        return cls(
            target=data["target"],
            labels=tuple(data["labels"]),
            filters=tuple(
                Filter(f["property"], f["predicate"], tuple(f["values"])) for f in data["filters"]
            ),
            sorts=tuple(Sort(s["property"], s["order"] == "desc") for s in data["sort"]),
            offset=data["offset"],
            limit=data["limit"],
        )


# Pseudo-properties every row has: vertices their id and label, edges their endpoints and label.
VERTEX_FIELDS = frozenset({"id", "label"})
EDGE_FIELDS = frozenset({"source", "target", "label"})


def invalid_parameter(name: str, why: str) -> PlanError:
    """A request's parameter ``name`` is wrong (GES's wording)."""
    return PlanError(f"parameter [{name}] is invalid! {why}", field=name)


def _int(raw: Any, name: str, *, low: int, high: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise invalid_parameter(name, f"expected a whole number from {low} to {high}")
    return raw


def parse_query(raw: Any, schema: GraphSchema | None, *, max_limit: int) -> QuerySpec:
    """Validate a query request against the graph's schema; raises PlanError naming the field.

    ``{"target": "vertices", "labels": [...], "filters": [{"property", "predicate",
    "values"}], "sort": [{"property", "order": "asc|desc"}], "offset": 0, "limit": 100}``
    """
    if not isinstance(raw, dict):
        raise PlanError("the query must be an object", field="query")
    known = {"target", "labels", "filters", "sort", "offset", "limit"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise invalid_parameter(unknown[0], f"unknown field (expected: {', '.join(sorted(known))})")
    target = raw.get("target", "vertices")
    if target not in TARGETS:
        raise invalid_parameter("target", "expected vertices or edges")
    schema = schema or GraphSchema(id_scope="global")
    candidates = schema.vertex_labels() if target == "vertices" else schema.edge_labels()
    by_name = {label.name: label for label in candidates}
    labels_raw = raw.get("labels") or []
    if not isinstance(labels_raw, list) or not all(isinstance(x, str) for x in labels_raw):
        raise invalid_parameter("labels", "expected a list of label names")
    for name in labels_raw:
        if name not in by_name:
            raise invalid_parameter("labels", f"{name!r} is not a {target[:-1]} label of the graph")
    labels = tuple(dict.fromkeys(labels_raw))
    chosen = [by_name[n] for n in labels] if labels else list(candidates)
    pseudo = VERTEX_FIELDS if target == "vertices" else EDGE_FIELDS

    filters_raw = raw.get("filters") or []
    if not isinstance(filters_raw, list) or len(filters_raw) > MAX_FILTERS:
        raise invalid_parameter("filters", f"expected a list of at most {MAX_FILTERS} filters")
    filters = []
    for i, item in enumerate(filters_raw):
        where = f"filters.{i}"
        if not isinstance(item, dict) or set(item) - {"property", "predicate", "values"}:
            raise invalid_parameter(where, "expected {property, predicate, values}")
        prop_name = item.get("property")
        predicate = item.get("predicate")
        values = item.get("values")
        if predicate not in PREDICATES:
            raise invalid_parameter(f"{where}.predicate", f"expected one of {' '.join(PREDICATES)}")
        if not isinstance(values, list):
            values = [values]
        prop = _property_of(prop_name, chosen, pseudo, f"{where}.property")
        filters.append(Filter(prop_name, predicate, _filter_values(prop, predicate, values, where)))

    sorts_raw = raw.get("sort") or []
    if not isinstance(sorts_raw, list) or len(sorts_raw) > 5:
        raise invalid_parameter("sort", "expected a list of at most 5 sort keys")
    sorts = []
    for i, item in enumerate(sorts_raw):
        if not isinstance(item, dict) or set(item) - {"property", "order"}:
            raise invalid_parameter(f"sort.{i}", "expected {property, order}")
        _property_of(item.get("property"), chosen, pseudo, f"sort.{i}.property")
        order = item.get("order", "asc")
        if order not in ("asc", "desc"):
            raise invalid_parameter(f"sort.{i}.order", "expected asc or desc")
        sorts.append(Sort(item["property"], order == "desc"))

    offset = _int(raw.get("offset", 0), "offset", low=0, high=2**31 - 1)
    limit = raw.get("limit")
    limit = max_limit if limit is None else _int(limit, "limit", low=1, high=max_limit)
    return QuerySpec(target, labels, tuple(filters), tuple(sorts), offset, limit)


def _property_of(
    name: Any, labels: Sequence[LabelDef], pseudo: frozenset[str], where: str
) -> PropertyDef | None:
    """The property definition (its type) or None for a pseudo-property (text)."""
    if not isinstance(name, str) or not name:
        raise invalid_parameter(where, "expected a property name")
    if name in pseudo:
        return None
    for label in labels:
        prop = label.property(name)
        if prop is not None:
            return prop
    raise invalid_parameter(where, f"no selected label has a property {name!r}")


def _filter_values(
    prop: PropertyDef | None, predicate: str, values: list[Any], where: str
) -> tuple[Any, ...]:
    counts = {"in": (1, MAX_IN_VALUES), "range": (2, 2)}.get(predicate, (1, 1))
    if not counts[0] <= len(values) <= counts[1]:
        wanted = "1" if counts == (1, 1) else f"{counts[0]} to {counts[1]}"
        if predicate == "range":
            wanted = "2 (low, high)"
        raise invalid_parameter(f"{where}.values", f"{predicate} takes {wanted} value(s)")
    out = []
    for i, value in enumerate(values):
        element = predicate == "contains" and prop is not None and prop.cardinality != "single"
        if predicate == "contains" and not element:
            if not isinstance(value, str) or value == "":
                raise invalid_parameter(f"{where}.values.{i}", "contains takes a non-empty text")
            out.append(value)
            continue
        out.append(_typed(prop, value, f"{where}.values.{i}"))
    return tuple(out)


def _typed(prop: PropertyDef | None, value: Any, where: str) -> Any:
    """A request value as the store holds values of ``prop`` (None: text)."""
    if value is None or isinstance(value, dict | list):
        raise invalid_parameter(where, "expected a number or a text")
    if prop is None:
        return str(value)
    if prop.type == "bool":
        if isinstance(value, bool):
            return int(value)
        text = str(value)
    elif isinstance(value, bool):
        raise invalid_parameter(where, f"{prop.name} is {prop.describe()}, not a bool")
    elif prop.type in _INT_TYPES and isinstance(value, int):
        text = str(value)
    elif prop.type in ("float", "double") and isinstance(value, int | float):
        text = repr(float(value))
    else:
        text = str(value)
    convert = scalar_converter(PropertyDef(prop.name, prop.type, "single", None, prop.enum_values))
    if convert is None:
        return text
    try:
        return convert(text)
    except BadValue as exc:
        raise invalid_parameter(where, exc.message) from None


def decode_value(prop: PropertyDef, value: Any) -> Any:
    """A stored value as JSON-ready data (lists/sets back to arrays, bools to booleans)."""
    if value is None:
        return None
    if prop.cardinality != "single":
        return json.loads(value)
    if prop.type == "bool":
        return bool(value)
    return value


class RowShaper:
    """Stored rows -> ``(id, label, properties)`` / ``(source, target, label, properties)``
    with properties as a JSON object of that label's values (absent ones left out)."""

    def __init__(self, schema: GraphSchema, target: str) -> None:
        self.lead = 2 if target == "vertices" else 3
        self.props = {label.name: label.properties for label in schema.labels}

    def __call__(self, row: Sequence[Any]) -> tuple:
        lead = self.lead
        label = row[lead - 1]
        props = {}
        for i, prop in enumerate(self.props.get(label, ())):
            value = row[lead + i]
            if value is not None:
                props[prop.name] = decode_value(prop, value)
        return (*row[:lead], json.dumps(props, ensure_ascii=False, separators=(",", ":")))


def run_query(
    store: GraphStore,
    spec: QuerySpec,
    *,
    chunk: int = 5000,
) -> Iterator[list[tuple]]:
    """The query's rows, shaped, in chunks (memory: one chunk, whatever the graph's size);
    the caller stops between chunks by leaving the loop."""
    schema = stored_schema(store) or GraphSchema(id_scope="global")
    shape = RowShaper(schema, spec.target)
    for rows in store.query_rows(spec, schema, chunk=chunk):
        yield [shape(r) for r in rows]


def count_matches(store: GraphStore, spec: QuerySpec) -> int:
    """How many vertices or edges match ``spec``'s labels and conditions (its offset and
    limit aside): what a query job reports as its matches."""
    return store.count_matches(spec, stored_schema(store) or GraphSchema(id_scope="global"))


def explain(store: GraphStore, spec: QuerySpec) -> str:
    """The backend's plan for the query (tests and benchmarks check that an index is used)."""
    return store.explain(spec, stored_schema(store) or GraphSchema(id_scope="global"))
