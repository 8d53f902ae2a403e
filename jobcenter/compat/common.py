"""Pieces the dialects share: token authentication by header, time formats, strict input
checks, a view base."""

from __future__ import annotations

import logging
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

from jobcenter.core.documents import MAX_DOCUMENT_BYTES, DocumentError, read_document
from jobcenter.core.text import storable

logger = logging.getLogger("jobcenter.compat")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --- input every dialect refuses ----------------------------------------------------------


class BadRequest(drf.APIException):
    """Input no endpoint can accept (each dialect renders it as its bad-parameter error)."""

    status_code = 400
    default_detail = "bad request"
    default_code = "bad_request"


class StrictJSONParser(JSONParser):
    """JSON bodies through the one document reader (jobcenter.core.documents), the same rules
    as every face: bounded size, depth and values, no repeated keys, finite numbers, storable
    strings."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or MAX_DOCUMENT_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:  # answered as Django's own limit is (see DialectView)
            raise RequestDataTooBig("the request body is larger than DATA_UPLOAD_MAX_MEMORY_SIZE")
        try:
            return read_document(
                raw, what="request body", syntax="json", expect_object=False, max_bytes=limit
            )
        except DocumentError as exc:
            raise drf.ParseError(exc.message) from None


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
