"""Errors raised by services; every face (API, dialects, UI, CLI) maps them to its own wire
(the native API and the dashboard both through ``http_status``).

Also :class:`PlanError`, raised below the services (path checks, the graph engine) and turned
into a service error by the service that called them. Nothing here imports Django.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Something the caller asked for cannot be done. ``code`` is stable and machine-readable."""

    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        errors: dict[str, Any] | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ({field: [message]} if field else {})
        if code:
            self.code = code


class InvalidInput(ServiceError):
    code = "invalid"


class NotFound(ServiceError):
    code = "not_found"


class Conflict(ServiceError):
    code = "conflict"


class InvalidState(ServiceError):
    """The object exists but is in a state that does not allow the action."""

    code = "invalid_state"


class PermissionDenied(ServiceError):
    code = "permission_denied"


class TooManyAttempts(ServiceError):
    """Too many failed attempts (e.g. wrong passwords): refused without a check until
    ``retry_after`` seconds have passed."""

    code = "throttled"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


# The HTTP status of each kind, for the faces that answer in HTTP with bodies of their own (the
# native API, the dashboard). The GES and GraphScope dialects follow their vendors' statuses and
# codes, which their wire.py modules keep.
HTTP_STATUS: dict[type[ServiceError], int] = {
    InvalidInput: 400,
    NotFound: 404,
    Conflict: 409,
    InvalidState: 409,
    PermissionDenied: 403,
    TooManyAttempts: 429,
}


def http_status(exc: ServiceError) -> int:
    """The HTTP status of ``exc``: that of the nearest kind it derives from (400 if none)."""
    for kind in type(exc).__mro__:
        if kind in HTTP_STATUS:
            return HTTP_STATUS[kind]
    return 400


class PlanError(ValueError):
    """A request or schema that cannot become a plan (an import, an algorithm's parameters, a
    path); the message names what is wrong."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
