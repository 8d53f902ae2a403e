"""Request bodies in the OpenAPI schema: what drf-spectacular reads from the serializers, made
exact. Each extension starts from drf-spectacular's own schema of the serializer and adds what
its fields cannot say: which fields a variant needs or refuses (oneOf on `format`, `dialect`,
`algorithm`, `operation`), the shape of nested objects the services check, and bounds.

drf-spectacular finds these extensions once the module is imported: views/service.py does,
next to the schema view."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension

from jobcenter.api.schema import ANY_TEXT, BLANK_ALLOWED, NO_NUL, NOT_BLANK, TEXT, filter_schema
from jobcenter.api.serializers.algorithms import AlgorithmInputSerializer
from jobcenter.api.serializers.chains import DependsOnSerializer
from jobcenter.api.serializers.fields import TextField
from jobcenter.api.serializers.graphs import GraphCreateSerializer
from jobcenter.api.serializers.imports import ImportInputSerializer, ImportUploadSerializer
from jobcenter.api.serializers.jobs import BULK_FILTERS, MULTI_VALUED, BulkCancelInputSerializer
from jobcenter.api.serializers.operations import GraphOperationInputSerializer
from jobcenter.api.serializers.queries import QueryInputSerializer


def _absent() -> dict[str, Any]:
    """A property that must not be given (OpenAPI 3.0 has no `false` schema)."""
    return {"not": {}}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _only(*values: str) -> dict[str, Any]:
    """A variant's values of its discriminating field (wrapped in allOf so that
    drf-spectacular does not make a named enum of each variant's subset)."""
    return {"allOf": [{"type": "string", "enum": list(values)}]}


class TextFieldScheme(OpenApiSerializerFieldExtension):
    """Text fields strip white space and refuse NUL (and, unless they allow it, blank text).
    For a field that allows blank text drf-spectacular adds the alternative "empty" (oneOf):
    the pattern then excludes it, so that exactly one alternative holds."""

    target_class = TextField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        return {**schema, "pattern": "^[^\\u0000]+$" if self.target.allow_blank else NOT_BLANK}


class _Refined(OpenApiSerializerExtension):
    """drf-spectacular's schema of the serializer, refined by ``refine``."""

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema = auto_schema._map_serializer(self.target_class, direction, bypass_extensions=True)
        return self.refine(schema)

    def refine(self, schema: dict[str, Any]) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError


def bulk_filter_schema() -> dict[str, Any]:
    """The ``filter`` of a bulk cancel or retry: the job list's filters as an object."""
    properties: dict[str, Any] = {}
    for name, flt in BULK_FILTERS.items():
        schema = filter_schema(name, flt)
        if name in MULTI_VALUED:
            properties[name] = {"oneOf": [schema["items"], schema]}
        else:
            properties[name] = TEXT if name in BLANK_ALLOWED else schema
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "minProperties": 1,
    }


class DependsOnScheme(_Refined):
    """The body of a kind that takes no key of its own (start_graph, close_graph: their views'
    ``takes_keys``): any other key is refused. Its subclasses, the bodies of the other kinds,
    are left as they are."""

    target_class = DependsOnSerializer

    def refine(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {**schema, "additionalProperties": False}


class BulkFilterScheme(_Refined):
    target_class = BulkCancelInputSerializer
    match_subclasses = True

    def refine(self, schema: dict[str, Any]) -> dict[str, Any]:
        description = schema["properties"]["filter"].get("description")
        schema["properties"]["filter"] = {**bulk_filter_schema(), "description": description}
        return schema


_PATH = _nullable({"type": "string", "pattern": NO_NUL})
_CHAR = {"type": "string", "maxLength": 1, "pattern": "^[^\\u0000\\r\\n]*$"}


def ges_request_schema() -> dict[str, Any]:
    """The GES import request (v2, snake_case), as graphs.formats.ges reads it."""
    from jobcenter.graphs.formats.ges import PARALLEL_EDGE_ACTIONS, REQUEST_KEYS

    properties = {
        "schema_path": _PATH,
        "vertexset_path": _PATH,
        "edgeset_path": _PATH,
        "vertexset_format": _nullable(
            {"type": "string", "pattern": "^([cC][sS][vV]|[tT][xX][tT])?$"}
        ),
        "edgeset_format": _nullable(
            {"type": "string", "pattern": "^([cC][sS][vV]|[tT][xX][tT])?$"}
        ),
        "log_dir": _PATH,
        "offline": {"type": "boolean"},
        "delimiter": {**_CHAR, "minLength": 1, "default": ","},
        "trim_quote": {**_CHAR, "default": '"', "description": "Not the delimiter; empty: none."},
        "encoding": {**ANY_TEXT, "default": "utf-8", "description": "A Python codec name."},
        "error_threshold": _nullable(
            {
                "type": "object",
                "properties": {
                    "max_count": _nullable({"type": "integer", "minimum": 0}),
                    "max_percent": _nullable({"type": "number", "minimum": 0, "maximum": 100}),
                },
                "additionalProperties": False,
            }
        ),
        "parallel_edge": _nullable(
            {
                "oneOf": [
                    {"type": "string", "enum": list(PARALLEL_EDGE_ACTIONS)},
                    {
                        "type": "object",
                        "properties": {
                            "action": {"type": "string", "enum": list(PARALLEL_EDGE_ACTIONS)},
                            "ignore_label": {"type": "boolean"},
                            "sort_key_column": _nullable({"type": "string", "enum": [""]}),
                        },
                        "additionalProperties": False,
                    },
                ]
            }
        ),
        "max_failed_records": {"type": "integer", "minimum": 0, "maximum": 1_000_000},
    }
    assert set(properties) == REQUEST_KEYS, "describe every key of a GES import request"
    return {
        "type": "object",
        "description": (
            "GES v2 import request (snake_case). Paths name files or folders under the import "
            "roots; at least one of schema_path, vertexset_path and edgeset_path."
        ),
        "properties": properties,
        "additionalProperties": False,
        "anyOf": [
            {"properties": {key: {"type": "string", "minLength": 1}}, "required": [key]}
            for key in ("schema_path", "vertexset_path", "edgeset_path")
        ],
    }


def graphscope_mapping_schema() -> dict[str, Any]:
    """The top of a GraphScope SchemaMapping (its entries are checked against the graph)."""
    from jobcenter.graphs.formats.graphscope import MAPPING_KEYS

    request = ges_request_schema()["properties"]
    listed = _nullable({"type": "array", "items": {"type": "object"}})
    properties = {
        "graph": {"description": "The graph's name (not checked)."},
        "loading_config": _nullable({"type": "object"}),
        "vertex_mappings": listed,
        "edge_mappings": listed,
        "error_threshold": request["error_threshold"],
        "max_failed_records": request["max_failed_records"],
    }
    assert set(properties) == MAPPING_KEYS, "describe every key of a SchemaMapping"
    return {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
        "anyOf": [
            {"properties": {key: {"type": "array", "minItems": 1}}, "required": [key]}
            for key in ("vertex_mappings", "edge_mappings")
        ],
    }


def _variants(key: str, required: dict[str, list[str]], refused: dict[str, list[str]]) -> list:
    """One branch per value of ``key``: the fields it needs, and those it refuses."""
    return [
        {
            "properties": {
                key: _only(value),
                **{name: _absent() for name in refused.get(value, [])},
            },
            "required": [key, *needs],
        }
        for value, needs in required.items()
    ]


class ImportInputScheme(_Refined):
    target_class = ImportInputSerializer

    def refine(self, schema: dict[str, Any]) -> dict[str, Any]:
        fields = schema["properties"]
        fields["request"] = {
            **ges_request_schema(),
            "description": fields["request"].get("description"),
        }
        fields["mapping"] = {
            **graphscope_mapping_schema(),
            "description": fields["mapping"].get("description"),
        }
        schema["oneOf"] = _variants(
            "format",
            {"ges": ["request"], "graphscope": ["mapping"]},
            {"ges": ["mapping"], "graphscope": ["request"]},
        )
        return schema


class ImportUploadScheme(_Refined):
    target_class = ImportUploadSerializer

    def refine(self, schema: dict[str, Any]) -> dict[str, Any]:
        # Each variant lists the parts it takes, and no other (unknown parts are refused; no
        # `not`, which schemathesis cannot check against file parts).
        fields = schema["properties"]
        fields["mapping"]["minLength"] = 1
        schema["additionalProperties"] = False
        schema["oneOf"] = [
            {
                "properties": {
                    "format": _only(fmt),
                    **{name: fields[name] for name in (*parts, "name")},
                },
                "required": ["format", *needs],
                "additionalProperties": False,
            }
            for fmt, parts, needs in (
                ("ges", ("schema", "vertices", "edges", "options"), ()),
                ("graphscope", ("files", "mapping"), ("mapping",)),
            )
        ]
        return schema


class GraphCreateScheme(_Refined):
    target_class = GraphCreateSerializer

    def refine(self, schema: dict[str, Any]) -> dict[str, Any]:
        schema["oneOf"] = [
            {
                "properties": {
                    "dialect": _only("ges"),
                    "schema": _nullable(ANY_TEXT),
                },
            },
            {
                "properties": {
                    "dialect": _only("graphscope"),
                    "schema": {"type": "object", "additionalProperties": True},
                },
                "required": ["schema"],
            },
        ]
        return schema


# The value schema of each algorithm parameter (jobcenter.graphs.algorithms checks them; making
# the schema fails on a parameter missing here). null means the default.
_VERTEX = {
    "anyOf": [
        {"type": "string", "minLength": 1, "maxLength": 4096, "pattern": NO_NUL},
        {"type": "integer"},
    ]
}
_ALGORITHM_PARAMETERS: dict[str, dict[str, Any]] = {
    "alpha": {
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 1,
        "exclusiveMaximum": True,
        "default": 0.85,
    },
    "directed": {"type": "boolean", "default": True},
    "source": {**_VERTEX, "description": "A vertex id of the graph."},
    "target": {**_VERTEX, "description": "A vertex id of the graph."},
    "source_label": {
        **ANY_TEXT,
        "description": "The source's vertex label (ids shared by labels).",
    },
    "target_label": {
        **ANY_TEXT,
        "description": "The target's vertex label (ids shared by labels).",
    },
    "weight": {**TEXT, "description": "A numeric edge property; none: hops."},
    "k": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 0},
    "seed": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1, "default": 1},
    "resolution": {
        "type": "number",
        "minimum": 0,
        "exclusiveMinimum": True,
        "maximum": 1000,
        "default": 1.0,
    },
}


def algorithm_variants() -> list[dict[str, Any]]:
    from jobcenter.graphs.algorithms import ALGORITHMS, REQUIRED

    variants = []
    for name, definition in ALGORITHMS.items():
        required = [p for p, (_, default) in definition.params.items() if default is REQUIRED]
        properties = {
            p: _nullable(_ALGORITHM_PARAMETERS[p])
            if p not in required
            else _ALGORITHM_PARAMETERS[p]
            for p in definition.params
        }
        parameters = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
            **({"required": required} if required else {}),
        }
        variants.append(
            {
                "properties": {
                    "algorithm": _only(name),
                    "parameters": parameters,
                },
                "required": ["algorithm", *(["parameters"] if required else [])],
            }
        )
    return variants


class AlgorithmInputScheme(_Refined):
    target_class = AlgorithmInputSerializer

    def refine(self, schema: dict[str, Any]) -> dict[str, Any]:
        schema["oneOf"] = algorithm_variants()
        return schema


_SCALAR = {"anyOf": [ANY_TEXT, {"type": "number"}, {"type": "boolean"}]}


def _values(low: int, high: int) -> dict[str, Any]:
    listed = {"type": "array", "items": _SCALAR, "minItems": low, "maxItems": high}
    return listed if low > 1 else {"anyOf": [_SCALAR, listed]}


class QueryInputScheme(_Refined):
    target_class = QueryInputSerializer

    def refine(self, schema: dict[str, Any]) -> dict[str, Any]:
        from django.conf import settings

        from jobcenter.graphs.query import MAX_FILTERS, MAX_IN_VALUES, PREDICATES

        single = [p for p in PREDICATES if p not in ("in", "range")]
        filter_item = {
            "type": "object",
            "properties": {
                "property": TEXT,
                "predicate": {"type": "string", "enum": list(PREDICATES)},
                "values": {},
            },
            "required": ["property", "predicate", "values"],
            "additionalProperties": False,
            "oneOf": [
                {
                    "properties": {"predicate": {"enum": single}, "values": _values(1, 1)},
                },
                {
                    "properties": {
                        "predicate": {"enum": ["in"]},
                        "values": _values(1, MAX_IN_VALUES),
                    },
                },
                {
                    "properties": {"predicate": {"enum": ["range"]}, "values": _values(2, 2)},
                },
            ],
        }
        sort_item = {
            "type": "object",
            "properties": {
                "property": TEXT,
                "order": {"type": "string", "enum": ["asc", "desc"], "default": "asc"},
            },
            "required": ["property"],
            "additionalProperties": False,
        }
        props = schema["properties"]
        props["filters"] = {"type": "array", "items": filter_item, "maxItems": MAX_FILTERS}
        props["sort"] = {"type": "array", "items": sort_item, "maxItems": 5}
        props["offset"] = {**props["offset"], "minimum": 0, "maximum": 2**31 - 1}
        props["limit"] = {
            **props["limit"],
            "minimum": 1,
            "maximum": settings.JOBCENTER_QUERY_MAX_ROWS,
            "description": "Rows at most; null: as many as allowed.",
        }
        return schema


class GraphOperationScheme(_Refined):
    target_class = GraphOperationInputSerializer

    def refine(self, schema: dict[str, Any]) -> dict[str, Any]:
        schema["oneOf"] = [
            {
                "properties": {
                    "operation": _only("backup", "restore"),
                },
                "required": ["operation", "path"],
            },
            {
                "properties": {
                    "operation": _only("clear", "delete"),
                    "path": _absent(),
                },
            },
        ]
        return schema
