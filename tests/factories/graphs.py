"""Graphs of both dialects, through the services the product uses."""

from __future__ import annotations

from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_create, graph_schema_parse
from jobcenter.projects.models import Project
from tests.factories.files import shared_data


def ges_graph(project: Project, name: str = "movies", *, schema_xml: bytes | None = None) -> Graph:
    schema = graph_schema_parse(dialect="ges", source=schema_xml) if schema_xml else None
    return graph_create(project=project, name=name, dialect="ges", schema=schema)


def graphscope_graph(project: Project, name: str = "modern") -> Graph:
    import yaml

    definition = yaml.safe_load(shared_data("modern_graph", "graph.yaml").read_text())
    schema = graph_schema_parse(dialect="graphscope", source=definition)
    return graph_create(project=project, name=name, dialect="graphscope", schema=schema)


def graph_store_counts(graph: Graph) -> dict:
    """Vertices and edges per label in the graph's store (whichever backend holds it), empty
    when it has none yet."""
    from jobcenter.graphs.stores.factory import open_store, store_exists

    if not store_exists(graph):
        return {"vertices": {}, "edges": {}}
    store = open_store(graph, create=False)
    try:
        return store.counts()
    finally:
        store.close()
