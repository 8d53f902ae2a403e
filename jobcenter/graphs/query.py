"""Reading a graph store for analytics: filtered queries (parsed, compiled to SQL, run), and
what every analytics read shares (``snapshot``, ``data_version``, ``stored_schema``).
Label-property indexes are in ``indexes.py``, whole-graph reads (exports, backups, counts) in
``whole_graph.py``, the graph for the graph library (edges streamed out, vertex look-ups) in
``build.py``.

Everything here reads through a :class:`~jobcenter.graphs.store.GraphStore` connection and keeps
its SQL in this package (the store's layout is described in ``store.py``). Reads run inside
one read transaction (``snapshot``), so they see the last committed import and never half of
a running one (SQLite WAL).

Property ``name`` can sit in a different column for each label (``p{i}`` with ``i`` its
position in that label), so a predicate or a sort key over several labels is compiled to one
``label = ? AND p{i} ...`` branch per label. A query on one label property is answered from a
partial index ``ON vertex(p{i}) WHERE label = ?`` when one was built
(:func:`jobcenter.graphs.indexes.create_index`).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.schema import GraphSchema, LabelDef, PropertyDef
from jobcenter.graphs.store import GraphStore
from jobcenter.graphs.values import BadValue, scalar_converter

PREDICATES = ("=", "!=", "<", "<=", ">", ">=", "in", "range", "contains")
TARGETS = ("vertices", "edges")
MAX_FILTERS = 20
MAX_IN_VALUES = 1000
NUMERIC_TYPES = frozenset({"int", "long", "uint32", "uint64", "float", "double", "bool"})
_INT_TYPES = frozenset({"int", "long", "uint32", "uint64"})


@contextlib.contextmanager
def snapshot(store: GraphStore) -> Iterator[None]:
    """One read transaction: every read inside sees the same committed state."""
    store.conn.execute("BEGIN")
    try:
        yield
    finally:
        store.conn.execute("COMMIT")


def data_version(store: GraphStore) -> tuple:
    """Changes whenever the graph's data changes (every write commits an ``imports`` row)."""
    row = store.conn.execute("SELECT count(*), max(committed_at) FROM imports").fetchone()
    return (row[0], row[1])


def stored_schema(store: GraphStore) -> GraphSchema | None:
    row = store.conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    return GraphSchema.from_dict(json.loads(row[0])) if row else None


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
VERTEX_FIELDS = {"id": "v.key", "label": "v.label"}
EDGE_FIELDS = {"source": "s.key", "target": "d.key", "label": "e.label"}


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
    name: Any, labels: Sequence[LabelDef], pseudo: dict[str, str], where: str
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


# --- compiling a query to SQL -------------------------------------------------------------------


@dataclass
class _Sql:
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)


def _column_cases(
    name: str, labels: Sequence[LabelDef], alias: str
) -> list[tuple[LabelDef, PropertyDef, str]]:
    out = []
    for label in labels:
        index = label.property_index(name)
        if index >= 0:
            out.append((label, label.properties[index], f"{alias}.p{index}"))
    return out


def _predicate_sql(column: str, prop: PropertyDef | None, flt: Filter) -> tuple[str, list[Any]]:
    p, values = flt.predicate, list(flt.values)
    if p in ("=", "!=", "<", "<=", ">", ">="):
        return f"{column} {p} ?", values
    if p == "in":
        return f"{column} IN ({', '.join('?' * len(values))})", values
    if p == "range":
        return f"{column} BETWEEN ? AND ?", values
    # contains: an element of a list/set, or a piece of a text
    if prop is not None and prop.cardinality != "single":
        return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE value = ?)", values  # noqa: S608
    return f"instr({column}, ?) > 0", values


class CompiledQuery:
    """SQL for one :class:`QuerySpec` against one store's schema."""

    def __init__(self, spec: QuerySpec, schema: GraphSchema) -> None:
        self.spec = spec
        vertices = spec.target == "vertices"
        candidates = schema.vertex_labels() if vertices else schema.edge_labels()
        by_name = {label.name: label for label in candidates}
        self.labels = [by_name[n] for n in spec.labels if n in by_name] or list(candidates)
        alias = "v" if vertices else "e"
        pseudo = VERTEX_FIELDS if vertices else EDGE_FIELDS
        sql = _Sql()
        if spec.labels:
            names = [label.name for label in self.labels]
            if len(names) == 1:
                sql.where.append(f"{alias}.label = ?")
            else:
                sql.where.append(f"{alias}.label IN ({', '.join('?' * len(names))})")
            sql.params.extend(names)
        for flt in spec.filters:
            if flt.property in pseudo:
                clause, params = _predicate_sql(pseudo[flt.property], None, flt)
                sql.where.append(clause)
                sql.params.extend(params)
                continue
            branches = []
            for label, prop, column in _column_cases(flt.property, self.labels, alias):
                clause, params = _predicate_sql(column, prop, flt)
                if len(self.labels) == 1 and spec.labels:
                    branches.append(clause)  # the label is already required above
                else:
                    branches.append(f"({alias}.label = ? AND {clause})")
                    sql.params.append(label.name)
                sql.params.extend(params)
            sql.where.append("(" + " OR ".join(branches) + ")" if branches else "0")
        order = []
        for sort in spec.sorts:
            direction = "DESC" if sort.descending else "ASC"
            if sort.property in pseudo:
                order.append(f"{pseudo[sort.property]} {direction}")
                continue
            cases = _column_cases(sort.property, self.labels, alias)
            if len(cases) == 1 and len(self.labels) == 1:
                expr = cases[0][2]
            else:
                whens = " ".join(f"WHEN {sql_text(lbl.name)} THEN {col}" for lbl, _p, col in cases)
                expr = f"CASE {alias}.label {whens} END"
            if any(f.property == sort.property for f in spec.filters):
                order.append(f"{expr} {direction}")  # filtered: no NULLs left to place
            else:  # NULLs (no value) last in either direction
                order.append(f"{expr} IS NULL, {expr} {direction}")
        if order:
            # Ties in row order, in the direction of the last key, so that an index on that
            # key (whose entries end with the row id) gives the whole order.
            last = "DESC" if spec.sorts[-1].descending else "ASC"
            order.append(f"{alias}.{'vid' if vertices else 'eid'} {last}")
        # Without sort keys the rows come in the order of the scan SQLite picks (row order,
        # or an index's order): the first page of an indexed filter needs no sorting at all.
        self.where = " AND ".join(sql.where) or "1"
        self.params = sql.params
        self.order = ", ".join(order)

    def select(self, width: int) -> tuple[str, list[Any]]:
        alias = "v" if self.spec.target == "vertices" else "e"
        cols = "".join(f", {alias}.p{i}" for i in range(width))
        if self.spec.target == "vertices":
            head = f"SELECT v.key, v.label{cols} FROM vertex v"  # noqa: S608
        else:
            head = (
                f"SELECT s.key, d.key, e.label{cols} FROM edge e "  # noqa: S608
                "JOIN vertex s ON s.vid = e.src JOIN vertex d ON d.vid = e.dst"
            )
        sql = f"{head} WHERE {self.where}"
        if self.order:
            sql += f" ORDER BY {self.order}"
        params = list(self.params)
        if self.spec.limit is not None or self.spec.offset:
            sql += " LIMIT ? OFFSET ?"
            params += [self.spec.limit if self.spec.limit is not None else -1, self.spec.offset]
        return sql, params

    def count(self) -> tuple[str, list[Any]]:
        """How many rows match, whatever the offset and limit (edges join their endpoints
        only when a condition is on them)."""
        if self.spec.target == "vertices":
            head = "SELECT count(*) FROM vertex v"
        elif any(f.property in ("source", "target") for f in self.spec.filters):
            head = (
                "SELECT count(*) FROM edge e "
                "JOIN vertex s ON s.vid = e.src JOIN vertex d ON d.vid = e.dst"
            )
        else:
            head = "SELECT count(*) FROM edge e"
        return f"{head} WHERE {self.where}", list(self.params)


def sql_text(text: str) -> str:
    """``text`` as an SQL string literal (for the few places a parameter cannot go)."""
    return "'" + text.replace("'", "''") + "'"


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


# Page cache of a streaming query's connection: a scan reads every page once, so a big cache
# buys nothing and would make the worker's memory grow with the graph up to its size.
QUERY_CACHE_KIB = 8192


def run_query(
    store: GraphStore,
    spec: QuerySpec,
    *,
    chunk: int = 5000,
) -> Iterator[list[tuple]]:
    """The query's rows, shaped, in chunks (memory: one chunk, whatever the graph's size);
    the caller stops between chunks by leaving the loop."""
    schema = stored_schema(store) or GraphSchema(id_scope="global")
    store.conn.execute(f"PRAGMA cache_size=-{QUERY_CACHE_KIB}")
    compiled = CompiledQuery(spec, schema)
    sql, params = compiled.select(store.width())
    shape = RowShaper(schema, spec.target)
    cursor = store.conn.execute(sql, params)
    while rows := cursor.fetchmany(chunk):
        yield [shape(r) for r in rows]


def count_matches(store: GraphStore, spec: QuerySpec) -> int:
    """How many vertices or edges match ``spec``'s labels and conditions (its offset and
    limit aside): what a query job reports as its matches."""
    schema = stored_schema(store) or GraphSchema(id_scope="global")
    sql, params = CompiledQuery(spec, schema).count()
    return int(store.conn.execute(sql, params).fetchone()[0])


def explain(store: GraphStore, spec: QuerySpec) -> str:
    """SQLite's plan for the query (tests and benchmarks check that an index is used)."""
    schema = stored_schema(store) or GraphSchema(id_scope="global")
    sql, params = CompiledQuery(spec, schema).select(store.width())
    rows = store.conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return "\n".join(str(r[-1]) for r in rows)
