"""Label-property indexes: partial indexes ``ON vertex(p{i}) WHERE label = ?`` (or on edges) that
queries filtering or sorting on one label's property use; named, built and listed here."""

from __future__ import annotations

import hashlib
import re
from typing import Any

from jobcenter.graphs.query import invalid_parameter, sql_text
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.store import GraphStore

# --- label-property indexes ---------------------------------------------------------------------

_INDEX_NAME = re.compile(r"^lp_(vertex|edge)_[0-9a-f]{16}_p(\d+)$")


def index_name(target: str, label: str, column: int) -> str:
    digest = hashlib.sha256(label.encode()).hexdigest()[:16]
    return f"lp_{'vertex' if target == 'vertices' else 'edge'}_{digest}_p{column}"


def resolve_index(schema: GraphSchema | None, target: str, label: str, prop: str) -> int:
    """The store column of ``label.prop``; PlanError naming the parameter when there is none."""
    schema = schema or GraphSchema(id_scope="global")
    labels = schema.vertex_labels() if target == "vertices" else schema.edge_labels()
    found = next((lbl for lbl in labels if lbl.name == label), None)
    if found is None:
        raise invalid_parameter("label", f"{label!r} is not a {target[:-1]} label of the graph")
    column = found.property_index(prop)
    if column < 0:
        raise invalid_parameter("property", f"label {label!r} has no property {prop!r}")
    return column


def create_index(store: GraphStore, target: str, label: str, column: int) -> str:
    """``CREATE INDEX`` on ``p{column}`` for rows of ``label`` (a partial index). Call it in a
    write transaction; returns the index name."""
    name = index_name(target, label, column)
    table = "vertex" if target == "vertices" else "edge"
    store.conn.execute(
        f"CREATE INDEX IF NOT EXISTS {name} ON {table}(p{column}) WHERE label = {sql_text(label)}"
    )
    return name


def list_indexes(store: GraphStore) -> list[dict[str, Any]]:
    rows = store.conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'lp_%'"
    ).fetchall()
    out = []
    for name, sql in rows:
        match = _INDEX_NAME.match(name)
        label = re.search(r"WHERE label = '((?:[^']|'')*)'", sql or "")
        if match and label:
            out.append(
                {
                    "name": name,
                    "target": "vertices" if match.group(1) == "vertex" else "edges",
                    "label": label.group(1).replace("''", "'"),
                    "column": int(match.group(2)),
                }
            )
    return out
