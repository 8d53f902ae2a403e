"""The native API's one error shape, whatever went wrong::

    {"code": "invalid", "message": "limit: must be from 1 to 500, not 0",
     "errors": {"limit": ["must be from 1 to 500, not 0"]}}

``code`` is machine-readable and stable, ``message`` names the parameter or field at fault,
``errors`` maps each field (dotted for nested ones, e.g. ``request.delimiter``) to its
messages and is ``{}`` when no field is to blame. Bad input of any kind is a 400.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework import status
from rest_framework.response import Response

from jobcenter.api.parsers import UploadTooLarge
from jobcenter.core.errors import ServiceError, TooManyAttempts, http_status

logger = logging.getLogger("jobcenter.api")


def error_body(code: str, message: str, errors: dict[str, list[str]] | None = None) -> dict:
    return {"code": code, "message": message, "errors": errors or {}}


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error details as ``{"a.b": ["message", ...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for field, messages in flatten_errors(value, name).items():
                out.setdefault(field, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            out[prefix or "non_field_errors"] = [str(item) for item in detail]
        else:
            for i, item in enumerate(detail):
                if item:
                    out.update(flatten_errors(item, f"{prefix}.{i}" if prefix else str(i)))
    else:
        out[prefix or "non_field_errors"] = [str(detail)]
    return out


def _message(errors: dict[str, list[str]], fallback: str) -> str:
    for field, messages in errors.items():
        if messages:
            text = messages[0]
            return text if field == "non_field_errors" else f"{field}: {text}"
    return fallback


def service_error_response(exc: ServiceError) -> Response:
    errors = {
        str(field): [str(m) for m in (v if isinstance(v, list) else [v])]
        for field, v in exc.errors.items()
    }
    message = exc.message
    if exc.field and exc.field not in message:
        message = f"{exc.field}: {message}"
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
    return Response(error_body(exc.code, message, errors), status=http_status(exc), headers=headers)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler of the native API views."""
    if isinstance(exc, ServiceError):
        return service_error_response(exc)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, UploadTooLarge):
        return Response(
            error_body("too_large", f"{exc.field}: {exc}", {exc.field: [str(exc)]}),
            status=status.HTTP_400_BAD_REQUEST,
        )
    elif isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        message = f"the request body (files aside) is larger than {limit} bytes"
        return Response(
            error_body("too_large", message, {"body": [message]}),
            status=status.HTTP_400_BAD_REQUEST,
        )
    elif isinstance(exc, SuspiciousOperation):
        # Too many fields or files, a malformed multipart stream...
        return Response(
            error_body("bad_request", f"the request was refused: {exc}", {"body": [str(exc)]}),
            status=status.HTTP_400_BAD_REQUEST,
        )
    if isinstance(exc, drf.APIException):
        headers: dict[str, str] = {}
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header  # type: ignore[attr-defined]
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))  # type: ignore[attr-defined]
        if isinstance(exc, drf.ValidationError):
            errors = flatten_errors(exc.detail)
            body = error_body("invalid", _message(errors, "invalid input"), errors)
        elif isinstance(exc, drf.ParseError):
            body = error_body("parse_error", str(exc.detail), {"body": [str(exc.detail)]})
        else:
            body = error_body(exc.default_code, str(exc.detail))
        return Response(body, status=exc.status_code, headers=headers)
    if settings.DEBUG:
        return None  # Django's debug page
    logger.exception("unexpected error in %s", context.get("view").__class__.__name__)
    return Response(
        error_body("server_error", "internal error; it has been logged"),
        status=status.HTTP_500_INTERNAL_SERVER_ERROR,
    )
