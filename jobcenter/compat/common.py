"""Pieces both dialects share: token authentication by header, time formats, a view base."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from rest_framework.authentication import TokenAuthentication
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

logger = logging.getLogger("jobcenter.compat")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class XAuthTokenAuthentication(TokenAuthentication):
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


class DialectView(APIView):
    """An APIView whose errors, whatever raised them, are rendered in its dialect's shape.

    Subclasses set ``error_response`` to a function ``(exc) -> Response | None``.
    """

    renderer_classes = [JSONRenderer]
    parser_classes = [JSONParser]
    throttle_classes: list = []
    error_response: Callable[[Exception], Response]

    def get_exception_handler(self) -> Callable[[Exception, dict], Response]:
        def handler(exc: Exception, context: dict) -> Response:
            return type(self).error_response(exc)

        return handler
