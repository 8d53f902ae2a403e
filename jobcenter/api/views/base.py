"""What every native API view shares: the base view (the one error shape, unknown or empty query
parameters refused, audit log of writes, Server-Timing), path parameter checks, the CSV renderer
and small response helpers."""

from __future__ import annotations

import logging
import re
import time
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobcenter.api.authentication import API_AUTHENTICATION
from jobcenter.api.exceptions import api_exception_handler
from jobcenter.api.parsers import ApiJSONParser
from jobcenter.api.schema import BLANK_ALLOWED, id_parameter
from jobcenter.core.errors import InvalidInput, NotFound

audit = logging.getLogger("jobcenter.audit")

REF = re.compile(r"[0-9A-Za-z_-]{1,64}")


def path_ref(value: str, what: str, field: str, pattern: re.Pattern = REF) -> str:
    """A path parameter that cannot name anything is simply not found (never a 500)."""
    if not pattern.fullmatch(value):
        raise NotFound(f"{what} {value[:80]!r} does not exist", field=field)
    return value


JOB_ID = id_parameter("job_id", "job")
GRAPH_ID = id_parameter("graph_id", "graph")


class ApiErrorsMixin:
    """The one error shape, always rendered as JSON (whatever the endpoint's own format, e.g.
    CSV or the OpenAPI document), and a Server-Timing header with the view's time."""

    def get_exception_handler(self) -> Any:
        return api_exception_handler

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self._started = time.perf_counter()
        super().initial(request, *args, **kwargs)  # type: ignore[misc]

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response) and response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = "application/json"
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        started = getattr(self, "_started", None)
        if started is not None:
            response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
        return response


class _NoFormatOverride:
    URL_FORMAT_OVERRIDE = None


class ApiContentNegotiation(DefaultContentNegotiation):
    """Content negotiation by the Accept header only: DRF's ``?format=`` override would turn an
    unknown format into a bare 404 (the parameter is refused as unknown, with a 400)."""

    settings = _NoFormatOverride()


class ApiView(ApiErrorsMixin, APIView):
    # Base of every native API view (no docstring: it would become every operation's text).

    content_negotiation_class = ApiContentNegotiation
    authentication_classes = API_AUTHENTICATION
    permission_classes = [IsAuthenticated]
    renderer_classes = [JSONRenderer]
    parser_classes = [ApiJSONParser]
    throttle_classes: list = []
    # Query parameters this endpoint understands; any other one is a 400, not silently ignored
    # (None: anything goes).
    query_params: frozenset[str] | None = frozenset()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        method = request.method.lower()
        if self.query_params is None or not hasattr(self, method):
            return  # anything goes, or a 405 follows
        unknown = sorted(set(request.query_params) - self.query_params)
        if unknown:
            known = ", ".join(sorted(self.query_params)) or "none"
            raise InvalidInput(
                f"unknown query parameter {unknown[0][:50]!r} (known: {known})",
                field=unknown[0][:50],
            )
        # An empty (or blank) value is refused too, rather than read as "not given": what the
        # schema says, and a client's bug (an unset variable in a URL) surfaces instead of
        # widening a filter. Exempt: an empty cursor (the first page in cursor mode) and a
        # blank search text.
        for name, values in request.query_params.lists():
            if name not in BLANK_ALLOWED and any(value.strip() == "" for value in values):
                raise InvalidInput(
                    f"query parameter {name!r} is empty: give a value or leave it out",
                    field=name,
                )

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method not in SAFE_METHODS:
            user = getattr(request, "user", None)
            audit.info(
                "%s %s by %s -> %s",
                request.method,
                request.path,
                user.get_username() if user and user.is_authenticated else "anonymous",
                response.status_code,
            )
        return response


def created(data: Any, location: str, code: int = status.HTTP_201_CREATED) -> Response:
    return Response(data, status=code, headers={"Location": location})


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    """``data`` checked by ``serializer_class`` (a 400 naming the field otherwise)."""
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class CsvRenderer(BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return data


# Content is chosen by the Accept header only (see ApiContentNegotiation): no ?format=.
NO_FORMAT = OpenApiParameter("format", exclude=True)
