"""Reads about graphs, always scoped to what a user may see."""

from __future__ import annotations

import logging
import threading

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from jobcenter.core.errors import NotFound
from jobcenter.graphs.models import Graph
from jobcenter.projects.models import Project
from jobcenter.projects.selectors import project_list_for_user


def graph_list(
    *, user: AbstractBaseUser | AnonymousUser, project: Project | None = None
) -> QuerySet[Graph]:
    qs = Graph.objects.filter(project__in=project_list_for_user(user=user))
    if project is not None:
        qs = qs.filter(project=project)
    return qs.select_related("project")


def graph_get(*, user: AbstractBaseUser | AnonymousUser, project: Project, ref: str) -> Graph:
    """A graph of the project by id or by name; NotFound when absent or not visible."""
    qs = graph_list(user=user, project=project)
    graph = qs.filter(pk=ref).first() or qs.filter(name=ref).first()
    if graph is None:
        raise NotFound(f"graph {ref!r} does not exist", field="graph")
    return graph


# --- REST API additions (jobcenter.api) --------------------------------------------------------


def graph_get_by_id(*, user: AbstractBaseUser | AnonymousUser, graph_id: str) -> Graph:
    """A graph the user may see, by id alone (ids are unique across projects); NotFound when
    it does not exist or lies in a project the user does not belong to."""
    graph = graph_list(user=user).filter(pk=graph_id).first()
    if graph is None:
        raise NotFound(f"graph {graph_id!r} does not exist", field="graph_id")
    return graph


# --- compat dialects: reads for a project rather than for a user -----------------------------


def graph_list_in_project(*, project: Project) -> QuerySet[Graph]:
    """Every graph of ``project``, for faces that act for the project itself rather than for
    a signed-in user (anonymous GraphScope access to its one configured project)."""
    return Graph.objects.filter(project=project).select_related("project")


# --- analytics (issue 6) ------------------------------------------------------------------------


def graph_index_list(*, graph: Graph) -> list[dict]:
    """The label-property indexes built on a graph: ``{name, target, label, property}``."""
    from jobcenter.graphs.indexes import list_indexes
    from jobcenter.graphs.schema import GraphSchema
    from jobcenter.graphs.stores.factory import open_store, store_exists

    if not store_exists(graph):
        return []
    store = open_store(graph, create=False)
    try:
        indexes = list_indexes(store)
    finally:
        store.close()
    schema = GraphSchema.from_dict(graph.schema) if graph.schema else None
    out = []
    for index in indexes:
        label = schema.label(index["label"]) if schema else None
        prop = (
            label.properties[index["column"]]
            if label and index["column"] < len(label.properties)
            else None
        )
        out.append(
            {
                "name": index["name"],
                "target": index["target"],
                "label": index["label"],
                "property": prop.name if prop else None,
            }
        )
    return out


def graph_labels_with_property(*, graph: Graph, target: str, property: str) -> list[str]:
    """Names of the graph's vertex labels (``target`` "vertices") or edge labels ("edges")
    that have a property ``property``, in schema order."""
    from jobcenter.graphs.schema import GraphSchema

    if not graph.schema:
        return []
    schema = GraphSchema.from_dict(graph.schema)
    labels = schema.vertex_labels() if target == "vertices" else schema.edge_labels()
    return [label.name for label in labels if label.property(property) is not None]


# --- the graph list's figures (issue 13) ---------------------------------------------------------

logger = logging.getLogger("jobcenter.graphs")
# Per process: store key -> (data version, (vertices, edges)).
_COUNTS: dict[str, tuple[tuple, tuple[int, int]]] = {}
_COUNTS_LOCK = threading.Lock()


def graph_data_counts(*, graph: Graph) -> tuple[int, int] | None:
    """How many vertices and edges the graph holds (its committed data), or None when its store
    cannot be read. Counting reads the whole of both tables, so it is done once per data
    version of the graph (every write commits one) in each process; otherwise this reads the
    version alone (one small table)."""
    from jobcenter.graphs.stores.factory import (
        store_data_counts,
        store_errors,
        store_exists,
        store_key,
    )

    if not store_exists(graph):
        return (0, 0)  # nothing imported yet
    key = store_key(graph)
    with _COUNTS_LOCK:
        known = _COUNTS.get(key)
    try:
        version, counts = store_data_counts(graph, unless_version=known[0] if known else None)
    except store_errors() as exc:
        logger.warning("graph %s: its store cannot be read: %s", graph.pk, exc)
        return None
    if counts is None and known is not None:
        return known[1]
    assert counts is not None
    with _COUNTS_LOCK:
        _COUNTS[key] = (version, counts)
    return counts
