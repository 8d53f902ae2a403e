"""OpenAPI description helpers: security schemes, error responses, parameters, and the
JSON Schema pieces that say exactly what the API accepts (text that is not blank, moments,
cursors); the exact schemas of request bodies are in schema_bodies.py. The schema is held to it
by tests/api/test_schemathesis.py, which runs every schemathesis check over every operation."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from jobcenter.api.pagination import CURSOR_PATTERN, DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from jobcenter.api.serializers.common import ErrorSerializer
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
