"""Fixtures of the compat dialect tests: GraphScope definitions and the official SDKs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.compat.sdk_process import SdkProcess
from tests.factories.files import shared_data


def graph_counts(graph_id: str) -> dict:
    """Vertices and edges per label in a graph's store, read directly."""
    from jobcenter.graphs.models import Graph
    from jobcenter.graphs.stores.factory import open_store, store_exists

    graph = Graph.objects.get(pk=graph_id)
    if not store_exists(graph):
        return {"vertices": {}, "edges": {}}
    store = open_store(graph)
    try:
        return store.counts()
    finally:
        store.close()


def modern_definition(name: str = "modern") -> dict[str, Any]:
    """modern_graph's graph.yaml as a CreateGraphRequest body."""
    definition = yaml.safe_load(shared_data("modern_graph", "graph.yaml").read_text())
    definition["name"] = name
    return definition


def modern_mapping() -> dict[str, Any]:
    """modern_graph's bulk_load.yaml as a SchemaMapping, its inputs under the shared data."""
    mapping = yaml.safe_load(shared_data("modern_graph", "bulk_load.yaml").read_text())
    mapping.pop("graph", None)
    mapping["loading_config"]["data_source"]["location"] = str(shared_data("modern_graph"))
    return mapping


@pytest.fixture
def anonymous_graphscope(settings, project):
    """Anonymous GraphScope access, serving project alpha."""
    settings.JOBCENTER_GRAPHSCOPE_ANONYMOUS_PROJECT = project.name
    return project


@pytest.fixture
def graphscope_sdk(live_server) -> Iterator[SdkProcess]:
    """The official gs_interactive SDK, pointed at the live server."""
    sdk = SdkProcess("graphscope", {"INTERACTIVE_ADMIN_ENDPOINT": live_server.url})
    yield sdk
    sdk.close()


@pytest.fixture
def ges_sdk(live_server) -> Iterator:
    """``ges_sdk(ak, sk, project)``: the official huaweicloudsdkges client for those
    credentials, pointed at the live server."""
    started: list[SdkProcess] = []

    def start(ak: str, sk: str, project: str) -> SdkProcess:
        sdk = SdkProcess(
            "ges",
            {"GES_ENDPOINT": live_server.url, "GES_AK": ak, "GES_SK": sk, "GES_PROJECT": project},
        )
        started.append(sdk)
        return sdk

    yield start
    for sdk in started:
        sdk.close()
