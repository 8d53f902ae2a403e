"""``compat.ges.wire.requests``: GES's producer bodies in the core's terms, and the services'
refusals in GES's."""

from __future__ import annotations

from typing import Any

import pytest

from jobcenter.compat.ges.wire import errors, requests
from jobcenter.core.errors import InvalidInput, InvalidState, PermissionDenied


def test_algorithm_requests_in_our_terms():
    call = requests.algorithm_request(
        {"algorithmName": "personalrank", "parameters": {"source": "a", "convergence": 0.01}}
    )
    assert (call.ges_name, call.algorithm, call.parameters) == (
        "personalrank",
        "personalized_pagerank",
        {"source": "a"},
    )
    call = requests.algorithm_request({"algorithmName": "sssp", "executionMode": "async"})
    assert (call.algorithm, call.parameters) == ("single_source_shortest_paths", {})

    def code(body: dict) -> str:
        with pytest.raises(errors.GesError) as info:
            requests.algorithm_request(body)
        return info.value.code

    assert code({}) == code({"algorithmName": 3}) == "GES.8401"
    assert code({"algorithmName": "betweenness"}) == "GES.8402"
    assert code({"algorithmName": "pagerank", "executionMode": "sync"}) == "GES.8404"
    assert code({"algorithmName": "pagerank", "executionMode": 1}) == "GES.8404"
    assert code({"algorithmName": "louvain", "parameters": {"max_iterations": True}}) == "GES.8402"
    assert code({"algorithmName": "louvain", "parameters": {"weight": "w"}}) == "GES.8402"
    refused = requests.algorithm_refused("sssp")(
        InvalidInput("parameter [source] is invalid! it is required", field="parameters.source")
    )
    assert (refused.code, refused.message) == (
        "GES.8402",
        "Running algorithm [sssp] error: parameter [source] is invalid! it is required",
    )
    assert isinstance(requests.algorithm_refused("x")(PermissionDenied("viewer")), PermissionDenied)
    deleting = requests.algorithm_refused("x")(
        InvalidState("graph 'g' is being deleted", field="graph")
    )
    assert deleting.code == "GES.8000"


def test_query_requests_in_our_terms():
    query = requests.query_request(
        {
            "labels": "user",
            "vertexFilters": [
                {"propertyName": "Tags", "predicate": "has", "values": ["x"], "type": "and"},
                {"propertyName": "Age", "predicate": "range", "values": [1, 2]},
            ],
            "sorts": [{"key": "label"}, {"propertyName": "Age", "orderValue": "decr"}],
            "offset": "5",
        },
        "vertices",
    )
    assert query == {
        "target": "vertices",
        "labels": ["user"],
        "filters": [
            {"property": "Tags", "predicate": "contains", "values": ["x"]},
            {"property": "Age", "predicate": "range", "values": [1, 2]},
        ],
        "sort": [{"property": "label", "order": "asc"}, {"property": "Age", "order": "desc"}],
        "offset": 5,
        "limit": 10,
    }
    edges = requests.query_request({"labels": ["rate"], "sorts": [{"key": "target"}]}, "edges")
    assert edges["sort"] == [{"property": "target", "order": "asc"}]
    refused = requests.query_refused("edges")(
        InvalidInput("parameter [filters.0.property] is invalid! no", field="filters.0.property")
    )
    assert (refused.code, refused.message) == (
        "GES.8101",
        "parameter [edgeFilters.0.propertyName] is invalid! no",
    )
    sort = requests.query_refused("vertices")(
        InvalidInput("parameter [sort.1.order]", field="sort.1.order")
    )
    assert (sort.code, sort.message) == ("GES.8205", "parameter [sorts.1.orderValue]")


def test_index_requests_in_our_terms():
    labels = {("vertices", "name"): ["person", "company"], ("vertices", "age"): ["person"]}

    def call(**body: Any) -> Any:
        return requests.index_request(body, labels_with=lambda t, p: labels.get((t, p), []))

    assert call(indexName="a", indexType="GlobalCompositeVertexIndex", indexProperty="age") == (
        requests.IndexCall("a", "vertices", "person", "age")
    )
    local = call(indexName="b", indexType="CompositeEdgeIndex", labelName="rate",
                 indexProperty=["score"], hasLabel=True)  # fmt: skip
    assert local == requests.IndexCall("b", "edges", "rate", "score")
    with pytest.raises(errors.GesError, match="person, company") as info:
        call(indexName="c", indexType="GlobalCompositeVertexIndex", indexProperty=["name"])
    assert info.value.code == "GES.8603"


def test_export_requests_keep_no_secret():
    path, kept = requests.export_result_request(
        {"exportPath": "out/", "fileName": "r.csv", "obsParameters": {"secretKey": "S"}}, "j1"
    )
    assert (path, kept) == ("out/r.csv", {"exportPath": "out/", "fileName": "r.csv"})
    assert requests.export_result_request({"exportPath": "out"}, "j1")[0] == "out/j1.csv"
