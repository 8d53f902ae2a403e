"""GES's producer bodies in the core's terms: each body (GES's algorithm and parameter names,
vertexFilters, sorts, indexType, exportPath...) is translated into what the core's services
take, or refused with the GES code of the situation. What the services refuse afterwards goes
through the ``*_refused`` functions, which give it the same codes (see ``errors.translating``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobcenter.compat.ges.wire.algorithms import ALGORITHMS, EXECUTION_MODES
from jobcenter.compat.ges.wire.errors import (
    GES_ALGORITHM_FAILED,
    GES_ALGORITHM_MODE,
    GES_ALGORITHM_NAME_EMPTY,
    GES_EDGE_FILTER,
    GES_EDGE_FILTER_EMPTY,
    GES_EDGE_FILTER_LABEL,
    GES_EDGE_FILTER_SORT,
    GES_EXPORT_FAILED,
    GES_INDEX_CREATE_FAILED,
    GES_VERTEX_FILTER,
    GES_VERTEX_FILTER_EMPTY,
    GES_VERTEX_FILTER_LABEL,
    GES_VERTEX_FILTER_SORT,
    GesError,
    bad_request,
    refusal,
)
from jobcenter.core.errors import ServiceError

# algorithms (POST .../graphs/{graph_name}/action?action_id=execute-algorithm)


@dataclass(frozen=True)
class AlgorithmCall:
    ges_name: str
    algorithm: str
    parameters: dict[str, Any]


def _algorithm_error(name: str, message: str) -> str:
    return f"Running algorithm [{name}] error: {message}"  # as GES words its failReason


def algorithm_request(body: dict[str, Any]) -> AlgorithmCall:
    """``{"algorithmName", "parameters", "executionMode"}`` in our terms (other keys, such as
    a sync call's offset and limit, are ignored as GES ignores what it does not use)."""
    from jobcenter.graphs.algorithms import ALGORITHMS as OURS

    name = body.get("algorithmName")
    if not isinstance(name, str) or not name.strip():
        raise bad_request(GES_ALGORITHM_NAME_EMPTY, "algorithmName must not be empty")
    spec = ALGORITHMS.get(name)
    if spec is None:
        raise bad_request(
            GES_ALGORITHM_FAILED,
            f"algorithm [{name[:100]}] is not supported (supported: {', '.join(ALGORITHMS)})",
        )
    mode = body.get("executionMode")
    if mode is not None and mode not in EXECUTION_MODES:
        raise bad_request(
            GES_ALGORITHM_MODE,
            f"executionMode {str(mode)[:20]!r} is not supported: every algorithm runs as a job "
            "(async); read its result with the job status API",
        )
    parameters = body.get("parameters")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise bad_request(
            GES_ALGORITHM_FAILED,
            _algorithm_error(name, "parameter [parameters] is invalid! expected an object"),
        )
    known = [*OURS[spec.algorithm].params, *spec.ges_only]
    ours: dict[str, Any] = {}
    for key, value in parameters.items():
        if key in spec.ges_only:
            why = spec.ges_only[key](value)
        elif key in OURS[spec.algorithm].params:
            ours[key], why = value, None
        else:
            why = f"{name} takes no such parameter (known: {', '.join(known) or 'none'})"
        if why:
            raise bad_request(
                GES_ALGORITHM_FAILED,
                _algorithm_error(name, f"parameter [{key[:100]}] is invalid! {why}"),
            )
    return AlgorithmCall(name, spec.algorithm, ours)


def algorithm_refused(name: str) -> Callable[[ServiceError], Exception]:
    def refused(exc: ServiceError) -> Exception:
        return refusal(exc, GES_ALGORITHM_FAILED, _algorithm_error(name, exc.message))

    return refused


# filtered vertex and edge queries (POST .../vertices/action?action_id=query, edges/...)


@dataclass(frozen=True)
class GesQueryTerms:
    """A query target's names and error codes in GES."""

    filters: str  # the body's filter list
    label_code: str
    filter_code: str
    empty_code: str
    sort_code: str
    sort_keys: tuple[str, ...]  # sort ``key`` values besides "property"


QUERY_TERMS: dict[str, GesQueryTerms] = {
    "vertices": GesQueryTerms(
        "vertexFilters",
        GES_VERTEX_FILTER_LABEL,
        GES_VERTEX_FILTER,
        GES_VERTEX_FILTER_EMPTY,
        GES_VERTEX_FILTER_SORT,
        ("id", "label"),
    ),
    "edges": GesQueryTerms(
        "edgeFilters",
        GES_EDGE_FILTER_LABEL,
        GES_EDGE_FILTER,
        GES_EDGE_FILTER_EMPTY,
        GES_EDGE_FILTER_SORT,
        ("source", "target", "label"),
    ),
}
# GES predicate -> ours. "has" is membership in a list/set property (a substring of a text
# one); ours also have != and in. hasNot and the full_text_* predicates have no equivalent.
QUERY_PREDICATES: dict[str, str] = {
    "=": "=",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "range": "range",
    "in": "in",
    "has": "contains",
}
QUERY_ORDERS = {"incr": "asc", "decr": "desc"}
QUERY_DEFAULT_LIMIT = 10  # GES's documented default


def _whole(value: Any) -> Any:
    """A count GES clients may send as digits in a string; anything else as it is (checked by
    the service)."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 12:
        return int(value)
    return value


def query_request(body: dict[str, Any], target: str) -> dict[str, Any]:
    """``{"labels", "vertexFilters" | "edgeFilters", "sorts", "offset", "limit"}`` as our
    query (see jobcenter.graphs.query.parse_query, which checks it against the graph)."""
    terms = QUERY_TERMS[target]
    labels = body.get("labels")
    if labels is None or labels == "":
        labels = []
    elif isinstance(labels, str):
        labels = [labels]
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise bad_request(terms.label_code, "labels must be a list of label names")
    raw_filters = body.get(terms.filters)
    if raw_filters is None:
        raw_filters = []
    if not isinstance(raw_filters, list):
        raise bad_request(terms.filter_code, f"{terms.filters} must be a list of filters")
    if not labels and not raw_filters:
        raise bad_request(terms.empty_code, f"labels and {terms.filters} cannot both be empty")
    filters = []
    for i, item in enumerate(raw_filters):
        where = f"{terms.filters}[{i}]"
        if not isinstance(item, dict):
            raise bad_request(terms.filter_code, f"{where} must be an object")
        predicate = item.get("predicate")
        if not isinstance(predicate, str) or predicate not in QUERY_PREDICATES:
            raise bad_request(
                terms.filter_code,
                f"{where}.predicate {str(predicate)[:50]!r} is not supported "
                f"(supported: {' '.join(QUERY_PREDICATES)})",
            )
        logic = item.get("type")
        if logic not in (None, "and", "or"):
            raise bad_request(terms.filter_code, f"{where}.type must be and or or")
        if logic == "or" and len(raw_filters) > 1:
            raise bad_request(
                terms.filter_code,
                f"{where}.type or is not supported: filters are combined with and",
            )
        filters.append(
            {
                "property": item.get("propertyName"),
                "predicate": QUERY_PREDICATES[predicate],
                "values": item.get("values"),
            }
        )
    raw_sorts = body.get("sorts")
    if raw_sorts is None:
        raw_sorts = []
    if not isinstance(raw_sorts, list):
        raise bad_request(terms.sort_code, "sorts must be a list")
    sorts = []
    for i, item in enumerate(raw_sorts):
        where = f"sorts[{i}]"
        if not isinstance(item, dict):
            raise bad_request(terms.sort_code, f"{where} must be an object")
        key = item.get("key")
        if key is None or key == "property":
            name = item.get("propertyName")
        elif key in terms.sort_keys:
            name = key
        else:
            allowed = ", ".join((*terms.sort_keys, "property"))
            raise bad_request(terms.sort_code, f"{where}.key must be one of {allowed}")
        if not isinstance(name, str) or not name:
            raise bad_request(terms.sort_code, f"{where}.propertyName must name a property")
        order = item.get("orderValue", "incr")
        if not isinstance(order, str) or order not in QUERY_ORDERS:
            raise bad_request(terms.sort_code, f"{where}.orderValue must be incr or decr")
        sorts.append({"property": name, "order": QUERY_ORDERS[order]})
    offset, limit = body.get("offset"), body.get("limit")
    return {
        "target": target,
        "labels": labels,
        "filters": filters,
        "sort": sorts,
        "offset": 0 if offset is None else _whole(offset),
        "limit": QUERY_DEFAULT_LIMIT if limit is None else _whole(limit),
    }


def query_refused(target: str) -> Callable[[ServiceError], Exception]:
    """The service's refusal of a query, with GES's code for the part at fault and GES's
    names in the message (``[vertexFilters.0.propertyName]`` rather than ours)."""
    terms = QUERY_TERMS[target]

    def refused(exc: ServiceError) -> Exception:
        where = exc.field or ""
        code = terms.filter_code
        if where == "labels":
            code = terms.label_code
        elif where.startswith("sort"):
            code = terms.sort_code
        message = (
            exc.message.replace("[filters.", f"[{terms.filters}.")
            .replace("[sort.", "[sorts.")
            .replace(".property]", ".propertyName]")
            .replace(".order]", ".orderValue]")
        )
        return refusal(exc, code, message)

    return refused


# indexes (POST .../graphs/{graph_name}/indices)

# GES's composite index types -> the kind of label they index. Global ones name no label: the
# one label of that kind having the property is meant.
INDEX_TYPES: dict[str, tuple[str, bool]] = {
    "GlobalCompositeVertexIndex": ("vertices", True),
    "GlobalCompositeEdgeIndex": ("edges", True),
    "CompositeVertexIndex": ("vertices", False),
    "CompositeEdgeIndex": ("edges", False),
}
INDEX_NAME = re.compile(r"^[A-Za-z0-9_-]{1,63}\Z")  # GES's rule for indexName


@dataclass(frozen=True)
class IndexCall:
    name: str
    target: str
    label: str
    property: str


def _index_error(message: str) -> GesError:
    return bad_request(GES_INDEX_CREATE_FAILED, message)


def index_request(
    body: dict[str, Any], *, labels_with: Callable[[str, str], list[str]]
) -> IndexCall:
    """``{"indexName", "indexType", "hasLabel", "indexProperty", "labelName"}`` as one
    label-property index; ``labels_with(target, property)`` names the labels having a property
    (for a global index, which names none)."""
    name = body.get("indexName")
    if not isinstance(name, str) or not INDEX_NAME.match(name):
        raise _index_error("indexName must be 1 to 63 letters, digits, hyphens or underscores")
    kind = body.get("indexType")
    if not isinstance(kind, str) or kind not in INDEX_TYPES:
        raise _index_error(
            f"indexType {str(kind)[:50]!r} is not supported (supported: {', '.join(INDEX_TYPES)})"
        )
    target, is_global = INDEX_TYPES[kind]
    if body.get("hasLabel") not in (None, True, False, "true", "false"):
        raise _index_error("hasLabel must be true or false")
    props = body.get("indexProperty")
    if isinstance(props, str):
        props = [props]
    if not props:
        raise _index_error("indexProperty must name the property to index")
    if not isinstance(props, list) or not all(isinstance(p, str) and p for p in props):
        raise _index_error("indexProperty must be a list of property names")
    if len(props) > 1:
        raise _index_error("an index over several properties is not supported: one per index")
    prop = props[0]
    label = body.get("labelName")
    if label is None:
        if not is_global:
            raise _index_error(f"{kind} needs labelName, the label to index")
        labels = labels_with(target, prop)
        what = "vertex" if target == "vertices" else "edge"
        if not labels:
            raise _index_error(f"no {what} label has a property {prop[:100]!r}")
        if len(labels) > 1:
            raise _index_error(
                f"{what} labels {', '.join(labels)} all have {prop[:100]!r}: name one with "
                "labelName (an index covers one label here)"
            )
        label = labels[0]
    if not isinstance(label, str) or not label:
        raise _index_error("labelName must be a label name")
    return IndexCall(name, target, label, prop)


def index_refused(exc: ServiceError) -> Exception:
    message = exc.message.replace("[label]", "[labelName]").replace("[property]", "[indexProperty]")
    return refusal(exc, GES_INDEX_CREATE_FAILED, message)


# export of a job's result (POST .../jobs/{job_id}/action?action_id=export-result)


def export_result_request(body: dict[str, Any], job_id: str) -> tuple[str, dict[str, Any]]:
    """The target path (``exportPath``/``fileName`` under the export roots; ``fileName``
    defaults to ``<job id>.csv``) and the request to keep with the job: without
    ``obsParameters``, whose secret key must not be stored (there is no OBS here)."""
    folder, name = body.get("exportPath"), body.get("fileName")
    if not isinstance(folder, str) or not folder.strip():
        raise bad_request(GES_EXPORT_FAILED, "exportPath must name a folder under the export root")
    if name is None:
        name = f"{job_id}.csv"
    if not isinstance(name, str) or not name.strip() or "/" in name or name in (".", ".."):
        raise bad_request(GES_EXPORT_FAILED, "fileName must be a file name")
    kept = {k: v for k, v in body.items() if k != "obsParameters"}
    return f"{folder.rstrip('/')}/{name}", kept


def export_refused(exc: ServiceError) -> Exception:
    return refusal(exc, GES_EXPORT_FAILED, exc.message)
