"""OpenAPI description helpers: security schemes, error responses, list parameters."""

from __future__ import annotations

from typing import Any

import django_filters
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from jobcenter.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET
from jobcenter.api.serializers import ErrorSerializer
from jobcenter.jobs.filtersets import MomentFilter

ID_PATTERN = "^[0-9a-f]{32}$"


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
            description="Rows to skip (offset mode; the response has `count`). Default 0.",
        ),
        OpenApiParameter(
            "cursor",
            OpenApiTypes.STR,
            description=(
                "Cursor mode: empty for the first page, then the value in `next`/`previous`. "
                "Deep pages cost the same as the first; `count` is null. Not with `offset`."
            ),
        ),
    ]


def filterset_parameters(filterset_class: type[django_filters.FilterSet]) -> list:
    """Query parameters of a FilterSet, described from its filters (so they cannot drift)."""
    params: list[OpenApiParameter] = []
    for name, flt in filterset_class.base_filters.items():
        label = str(flt.label or name.replace("_", " ").capitalize())
        if isinstance(flt, django_filters.OrderingFilter):
            choices = [value for value, _ in flt.extra["choices"]]
            params.append(
                OpenApiParameter(
                    name,
                    OpenApiTypes.STR,
                    enum=choices,
                    description=(
                        "Sort by a column, `-` for descending (a comma-separated list also "
                        "works); ties are broken by id. Default `-created_at`. Empty values "
                        "sort last."
                    ),
                )
            )
        elif isinstance(flt, django_filters.MultipleChoiceFilter):
            choices = [value for value, _ in flt.extra["choices"]]
            params.append(
                OpenApiParameter(
                    name,
                    {"type": "array", "items": {"type": "string", "enum": choices}},
                    explode=True,
                    style="form",
                    description=f"{label}: one or more (repeat it, or separate with commas).",
                )
            )
        elif isinstance(flt, django_filters.ChoiceFilter):
            choices = [value for value, _ in flt.extra["choices"]]
            params.append(OpenApiParameter(name, OpenApiTypes.STR, enum=choices, description=label))
        elif isinstance(flt, MomentFilter):
            which = "from (inclusive)" if flt.bound == "after" else "until (inclusive)"
            params.append(
                OpenApiParameter(
                    name,
                    OpenApiTypes.STR,
                    description=(
                        f"{flt.field_name.replace('_at', '')} time {which}: an ISO 8601 date "
                        "(a whole UTC day) or datetime (offset allowed; none means UTC), e.g. "
                        "`2026-11-22` or `2026-11-22T10:00:00+01:00`."
                    ),
                )
            )
        else:
            params.append(OpenApiParameter(name, OpenApiTypes.STR, description=label))
    return params


def id_parameter(name: str, what: str) -> OpenApiParameter:
    return OpenApiParameter(
        name,
        {"type": "string", "pattern": ID_PATTERN},
        OpenApiParameter.PATH,
        description=f"The {what} id (32 hex characters).",
    )
