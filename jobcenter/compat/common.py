"""Pieces the dialects share: token authentication by header, time formats, strict input
checks, a view base."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import QueryDict, UnreadablePostError
from rest_framework import exceptions as drf
from rest_framework.authentication import TokenAuthentication
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from jobcenter.core.text import storable

logger = logging.getLogger("jobcenter.compat")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- input every dialect refuses ----------------------------------------------------------

# Deeper JSON than this is no import request or graph definition; it only costs recursion.
MAX_JSON_DEPTH = 64


class BadRequest(drf.APIException):
    """Input no endpoint can accept (each dialect renders it as its bad-parameter error)."""

    status_code = 400
    default_detail = "bad request"
    default_code = "bad_request"


def check_json(data: Any) -> None:
    """Refuse a parsed JSON document that nests deeper than MAX_JSON_DEPTH, holds a string
    (key or value) that cannot be stored, or a number that overflowed to infinity."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise drf.ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for key, item in items:
                if isinstance(key, str) and not storable(key):
                    raise drf.ParseError("a key holds a NUL character or an unpaired surrogate")
                stack.append((item, depth + 1))
        elif isinstance(value, str):
            if not storable(value):
                raise drf.ParseError("a string holds a NUL character or an unpaired surrogate")
        elif isinstance(value, float) and not math.isfinite(value):
            raise drf.ParseError("a number is out of range")


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, plus :func:`check_json`; a document deep enough to exhaust Python's
    recursion limit is a parse error too, not a crash."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise drf.ParseError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
        check_json(data)
        return data


def check_request_text(kwargs: Mapping[str, Any], query: QueryDict, **headers: str) -> None:
    """Refuse URL path parts, query parameters and the given headers that cannot be stored
    (they are looked up in the database)."""
    texts = [("path", v) for v in kwargs.values()]
    texts += [("query parameter", v) for k, vs in query.lists() for v in (k, *vs)]
    for where, value in texts:
        if isinstance(value, str) and not storable(value):
            raise BadRequest(f"a {where} holds a NUL character or an unpaired surrogate")
    for name, value in headers.items():
        if value and not storable(value):
            raise BadRequest(f"header {name} holds a NUL character")


# --- authentication ------------------------------------------------------------------------


class HeaderTokenAuthentication(TokenAuthentication):
    """DRF's ``Authorization: Token <token>``, refusing tokens that cannot be looked up."""

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        if not storable(key):
            raise drf.AuthenticationFailed("Invalid token.")
        return super().authenticate_credentials(key)


class XAuthTokenAuthentication(HeaderTokenAuthentication):
    """Our API tokens sent the way GES (and OpenStack-style) clients send them:
    ``X-Auth-Token: <token>``."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        token = request.META.get("HTTP_X_AUTH_TOKEN", "").strip()
        if not token:
            return None
        return self.authenticate_credentials(token)

    def authenticate_header(self, request: Request) -> str:
        return "X-Auth-Token"


def epoch_ms(moment: datetime | None) -> int | None:
    """Integer milliseconds since the epoch (exact: no float rounding)."""
    if moment is None:
        return None
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def epoch_us(moment: datetime | None) -> int | None:
    if moment is None:
        return None
    return (moment - _EPOCH) // timedelta(microseconds=1)


def utc_text(moment: datetime | None, *, sep: str = "T") -> str | None:
    """``yyyy-MM-dd'T'HH:mm:ss`` in UTC, no zone suffix (GES's format)."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime(f"%Y-%m-%d{sep}%H:%M:%S")


class JSONAlways(DefaultContentNegotiation):
    """The dialects speak JSON whatever ``Accept`` says, as the servers they imitate do (a
    browser or a client asking for something else gets JSON, not 406)."""

    def select_renderer(self, request: Request, renderers: list, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class DialectView(APIView):
    """An APIView whose errors, whatever raised them, are rendered in its dialect's shape.

    Subclasses set ``error_response`` to a function ``(exc) -> Response``. Path parts, query
    parameters and the ``X-Project-Id`` header are checked before anything else runs.
    """

    renderer_classes = [JSONRenderer]
    parser_classes = [StrictJSONParser]
    content_negotiation_class = JSONAlways
    throttle_classes: list = []
    error_response: Callable[[Exception], Response]

    def handle_exception(self, exc: Exception) -> Response:
        # What Django itself answers with 400 (a body over DATA_UPLOAD_MAX_MEMORY_SIZE, too many
        # fields, an unsafe upload name, a client gone mid-body) is a bad request here too.
        if isinstance(exc, SuspiciousOperation | UnreadablePostError):
            if isinstance(exc, RequestDataTooBig):
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                exc = BadRequest(f"the request body is larger than {limit} bytes")
            else:
                exc = BadRequest(f"the request cannot be read: {exc}")
        return super().handle_exception(exc)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        check_request_text(
            kwargs,
            request.query_params,
            **{"X-Project-Id": request.META.get("HTTP_X_PROJECT_ID", "")},
        )
        super().initial(request, *args, **kwargs)

    def get_exception_handler(self) -> Callable[[Exception, dict], Response]:
        def handler(exc: Exception, context: dict) -> Response:
            return type(self).error_response(exc)

        return handler
