"""Label-property indexes: an index on one label's property column among vertices or edges,
which queries filtering or sorting on that property use; named and listed here, built by the
store's backend."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Any

from jobcenter.graphs.query import invalid_parameter
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.stores.base import GraphStore

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


def create_index(
    store: GraphStore,
    target: str,
    label: str,
    column: int,
    *,
    before_commit: Callable[[], None] | None = None,
) -> str:
    """Index ``p{column}`` of the rows of ``label`` in a write transaction of its own
    (``before_commit`` runs before it commits); returns the index name."""
    name = index_name(target, label, column)
    store.create_label_index(target, label, column, name, before_commit=before_commit)
    return name


def list_indexes(store: GraphStore) -> list[dict[str, Any]]:
    out = []
    for name, label in store.label_indexes():
        match = _INDEX_NAME.match(name)
        if match:
            out.append(
                {
                    "name": name,
                    "target": "vertices" if match.group(1) == "vertex" else "edges",
                    "label": label,
                    "column": int(match.group(2)),
                }
            )
    return out
