"""A graph's store, from its ``Graph`` row: the backend named by
``settings.JOBCENTER_GRAPH_STORE`` (``sqlite``, the default: one file per graph under
``JOBCENTER_GRAPH_DIR``; ``postgresql``: one schema per graph on the server
``JOBCENTER_GRAPH_STORE_URL`` names, else the job database's), opened so that a graph that has
data is never read as an empty one.

The one module of ``stores`` that knows Django: the backends run the same in a worker, a
benchmark or a unit test, and every caller in the app opens a store through here.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from jobcenter.graphs.models import Graph
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.stores.base import GraphStore, NotABackup, StoreMissing
from jobcenter.graphs.stores.sqlite import SqliteStore

BACKENDS = ("sqlite", "postgresql")


def backend() -> type[GraphStore]:
    """The store class ``JOBCENTER_GRAPH_STORE`` names."""
    name = settings.JOBCENTER_GRAPH_STORE
    if name == "sqlite":
        return SqliteStore
    if name == "postgresql":
        from jobcenter.graphs.stores.postgresql import PostgresStore

        return PostgresStore
    raise ImproperlyConfigured(
        f"JOBCENTER_GRAPH_STORE is {name!r}: expected one of {', '.join(BACKENDS)}"
    )


def store_errors() -> tuple[type[BaseException], ...]:
    """What the configured backend's driver raises."""
    return backend().errors


def graph_store_url() -> str:
    """The PostgreSQL server (libpq connection string or URL) of the ``postgresql`` store:
    ``JOBCENTER_GRAPH_STORE_URL``, else the job database's server and database."""
    if settings.JOBCENTER_GRAPH_STORE_URL:
        return settings.JOBCENTER_GRAPH_STORE_URL
    db = connections["default"].settings_dict
    if connections["default"].vendor != "postgresql":
        raise ImproperlyConfigured(
            "JOBCENTER_GRAPH_STORE=postgresql needs a PostgreSQL server: set "
            "JOBCENTER_GRAPH_STORE_URL, or DATABASE_URL to a PostgreSQL database"
        )
    from psycopg.conninfo import make_conninfo

    parts = {
        "dbname": db.get("NAME"),
        "user": db.get("USER"),
        "password": db.get("PASSWORD"),
        "host": db.get("HOST"),
        "port": str(db.get("PORT") or ""),
    }
    return make_conninfo(**{k: v for k, v in parts.items() if v})


def _location(graph: Graph) -> Any:
    if settings.JOBCENTER_GRAPH_STORE == "postgresql":
        from jobcenter.graphs.stores.postgresql import schema_name

        return (graph_store_url(), schema_name(graph.pk))
    return graph.store_path


def _where(graph: Graph) -> str:
    """Where the graph's store should be, for messages."""
    if settings.JOBCENTER_GRAPH_STORE == "postgresql":
        return f"{backend().key_of(_location(graph))} is not on the graph store server"
    return (
        f"{graph.store_path.name} is not in {settings.JOBCENTER_GRAPH_DIR} "
        f"(data directory {settings.DATA_DIR})"
    )


def store_key(graph: Graph) -> str:
    """Names the graph's data the same way as :attr:`GraphStore.identity` (the resident
    graphs' key), without opening the store."""
    return backend().key_of(_location(graph))


def has_had_data(graph: Graph) -> bool:
    """Whether a write to the graph ever committed (read now: it may have just happened)."""
    return Graph.objects.filter(pk=graph.pk, data_updated_at__isnull=False).exists()


def open_store(graph: Graph, *, create: bool | None = None) -> GraphStore:
    """The graph's store. ``create`` None: only a graph that never had data (no committed
    write yet: ``data_updated_at`` unset) may get a new, empty store; for any other, a store
    missing here is :class:`StoreMissing` naming the graph and this worker's data directory
    (read as an empty graph, it would give a wrong answer that looks right)."""
    if create is None:
        create = not has_had_data(graph)
    try:
        return backend().open(_location(graph), create=create)
    except StoreMissing:
        raise StoreMissing(
            f"graph {graph.name!r} has data, but its store is missing on this worker "
            f"({socket.gethostname()}): {_where(graph)}"
        ) from None


def store_exists(graph: Graph) -> bool:
    return backend().exists(_location(graph))


def store_delete(graph: Graph) -> None:
    """Remove the graph's store and all its data (nothing when it has none)."""
    backend().delete(_location(graph))


def store_data_counts(
    graph: Graph, *, unless_version: tuple | None = None
) -> tuple[tuple, tuple[int, int] | None]:
    """See :meth:`GraphStore.data_counts`."""
    return backend().data_counts(_location(graph), unless_version=unless_version)


def inspect_backup(path: Path) -> GraphSchema | None:
    """The schema of a backup of the configured backend, after checking that it is one;
    :class:`NotABackup` saying why not."""
    from jobcenter.graphs.plan import PlanError

    raw = backend().inspect_backup(path)
    try:
        return GraphSchema.from_dict(raw) if raw else None
    except (PlanError, ValueError) as exc:
        raise NotABackup(f"{path.name} holds an invalid schema: {exc}") from None
