"""OpenAPI description helpers: security schemes, error responses, parameters, and the
JSON Schema pieces that say exactly what the API accepts (text that is not blank, moments,
cursors). The schema is held to it by tests/api/test_schemathesis.py, which runs every
schemathesis check over every operation."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from jobcenter.api.pagination import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from jobcenter.jobs.filtersets import MomentFilter

ID_PATTERN = "^[0-9a-f]{32}$"

# The characters str.isspace() counts as white space: Python's strip() (Django forms, DRF
# fields, our checks) reads a value made only of them as empty. Spelled out as \u escapes
# because ``\s`` differs between Python, ECMAScript and Rust regular expressions.
SPACE_CLASS = (
    "\\u0009-\\u000d\\u001c-\\u0020\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029"
    "\\u202f\\u205f\\u3000"
)
# Text without NUL characters (no database stores them in text), possibly blank...
NO_NUL = "^[^\\u0000]*$"
# ...and text that also has something other than white space.
NOT_BLANK = f"^[^\\u0000]*[^\\u0000{SPACE_CLASS}][^\\u0000]*$"
TEXT: dict[str, Any] = {"type": "string", "pattern": NOT_BLANK}
ANY_TEXT: dict[str, Any] = {"type": "string", "pattern": NO_NUL}
# A moment in a filter: an ISO 8601 (RFC 3339) date or date-time.
MOMENT: dict[str, Any] = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}
# Query parameters that may be given empty: a cursor (the first page) and a search text.
BLANK_ALLOWED = frozenset({"cursor", "q"})


def native_api_only(endpoints: list[tuple[str, str, str, Any]], **kwargs: Any) -> list:
    """Preprocessing hook: the schema documents the native API (/api/...) only; the GES and
    GraphScope dialects follow their vendors' own contracts."""
    return [e for e in endpoints if e[0].startswith("/api/")]


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "jobcenter.api.authentication.TokenAuthentication"
    name = ["tokenAuth", "bearerAuth"]

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return [
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`Authorization: Token <key>`",
            },
            {"type": "http", "scheme": "bearer", "description": "`Authorization: Bearer <key>`"},
        ]

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list]]:
        return [{"tokenAuth": []}, {"bearerAuth": []}]


class XAuthTokenScheme(OpenApiAuthenticationExtension):
    target_class = "jobcenter.api.authentication.XAuthTokenAuthentication"
    name = "xAuthToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-Auth-Token",
            "description": "The same token, GES style: `X-Auth-Token: <key>`",
        }


_ERROR_TEXT = {
    400: "Bad input: the message and `errors` name the parameter or field.",
    401: "No credentials, or invalid ones.",
    403: "Your role in the project does not allow this.",
    404: "No such object, or it belongs to a project you are not a member of.",
    409: "The object's state does not allow this (e.g. the job has finished).",
    415: "The body is not in a media type this operation reads.",
    429: "Too many failed attempts: wait the seconds given in the Retry-After header.",
}


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """Error responses (the one error shape) for ``extend_schema(responses=...)``. 400 is
    always among them: every endpoint refuses query parameters it does not know."""
    from jobcenter.api.serializers import ErrorSerializer  # it imports the patterns above

    return {
        c: OpenApiResponse(ErrorSerializer, description=_ERROR_TEXT[c])
        for c in sorted({400, *codes})
    }


def ok(serializer: Any, description: str) -> OpenApiResponse:
    """A success response with its description."""
    return OpenApiResponse(serializer, description=description)


def page_parameters(max_limit: int = MAX_LIMIT) -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": max_limit},
            description=f"Page size, 1 to {max_limit} (default {min(DEFAULT_LIMIT, max_limit)}).",
        ),
        OpenApiParameter(
            "offset",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET},
            description=(
                "Rows to skip: from the start (offset mode; the response has `count`), or from "
                "the cursor's position in cursor mode. Default 0."
            ),
        ),
        OpenApiParameter(
            "cursor",
            {"type": "string", "pattern": CURSOR_PATTERN},
            description=(
                "Cursor mode: empty for the first page, then the value in `next`/`previous` "
                "(a cursor the server did not issue is a 400). Deep pages cost the same as the "
                "first; `count` is null."
            ),
        ),
    ]


def filter_schema(name: str, flt: django_filters.Filter) -> dict[str, Any]:
    """The JSON Schema of one filter's value in a query string (a list for a filter that
    takes several values). An empty value is refused (see ApiView), so text must not be blank."""
    if isinstance(flt, django_filters.MultipleChoiceFilter):
        choices = [value for value, _ in flt.extra["choices"]]
        return {"type": "array", "items": {"type": "string", "enum": choices}, "minItems": 1}
    if isinstance(flt, django_filters.ChoiceFilter | django_filters.OrderingFilter):
        return {"type": "string", "enum": [value for value, _ in flt.extra["choices"]]}
    if isinstance(flt, MomentFilter):
        return MOMENT
    return ANY_TEXT if name in BLANK_ALLOWED else TEXT


def filterset_parameters(filterset_class: type[django_filters.FilterSet]) -> list:
    """Query parameters of a FilterSet, described from its filters (so they cannot drift)."""
    params: list[OpenApiParameter] = []
    for name, flt in filterset_class.base_filters.items():
        label = str(flt.label or name.replace("_", " ").capitalize())
        schema = filter_schema(name, flt)
        if isinstance(flt, django_filters.OrderingFilter):
            params.append(
                OpenApiParameter(
                    name,
                    schema,
                    description=(
                        "Sort by a column, `-` for descending (a comma-separated list also "
                        "works); ties are broken by id. Default `-created_at`. Empty values "
                        "sort last."
                    ),
                )
            )
        elif isinstance(flt, django_filters.MultipleChoiceFilter):
            params.append(
                OpenApiParameter(
                    name,
                    schema,
                    explode=True,
                    style="form",
                    description=f"{label}: one or more (repeat it, or separate with commas).",
                )
            )
        elif isinstance(flt, MomentFilter):
            which = "from (inclusive)" if flt.bound == "after" else "until (inclusive)"
            params.append(
                OpenApiParameter(
                    name,
                    schema,
                    description=(
                        f"{flt.field_name.replace('_at', '')} time {which}: an ISO 8601 date "
                        "(a whole UTC day) or date-time, e.g. `2026-11-22` or "
                        "`2026-11-22T10:00:00+01:00` (one without an offset is read as UTC)."
                    ),
                )
            )
        elif name in BLANK_ALLOWED:
            params.append(OpenApiParameter(name, schema, description=f"{label} (may be empty)."))
        else:
            params.append(OpenApiParameter(name, schema, description=f"{label} (not empty)."))
    return params


def id_parameter(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "string", "pattern": ID_PATTERN},
        OpenApiParameter.PATH,
        description=f"The {what} id (32 hex characters).",
    )


# --- request bodies: what drf-spectacular reads from the serializers, made exact ---------------
#
# Each extension starts from drf-spectacular's own schema of the serializer and adds what its
# fields cannot say: which fields a variant needs or refuses (oneOf on `format`, `dialect`,
# `algorithm`, `operation`), the shape of nested objects the services check, and bounds.


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

    target_class = "jobcenter.api.serializers.TextField"

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
    from jobcenter.api.serializers import BULK_FILTERS, MULTI_VALUED

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


class BulkFilterScheme(_Refined):
    target_class = "jobcenter.api.serializers.BulkCancelInputSerializer"
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
    target_class = "jobcenter.api.serializers.ImportInputSerializer"

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
    target_class = "jobcenter.api.serializers.ImportUploadSerializer"

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
    target_class = "jobcenter.api.serializers.GraphCreateSerializer"

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
    target_class = "jobcenter.api.analytics.AlgorithmInputSerializer"

    def refine(self, schema: dict[str, Any]) -> dict[str, Any]:
        schema["oneOf"] = algorithm_variants()
        return schema


_SCALAR = {"anyOf": [ANY_TEXT, {"type": "number"}, {"type": "boolean"}]}


def _values(low: int, high: int) -> dict[str, Any]:
    listed = {"type": "array", "items": _SCALAR, "minItems": low, "maxItems": high}
    return listed if low > 1 else {"anyOf": [_SCALAR, listed]}


class QueryInputScheme(_Refined):
    target_class = "jobcenter.api.analytics.QueryInputSerializer"

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
    target_class = "jobcenter.api.analytics.GraphOperationInputSerializer"

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
