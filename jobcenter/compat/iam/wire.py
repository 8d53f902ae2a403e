"""Huawei Cloud IAM's permanent access key API (``/v3.0/OS-CREDENTIAL/credentials``), the
subset a user needs to create, list, inspect and revoke the AK/SK pairs that sign GES
requests: every field name, status and error of this dialect lives here. docs/compat.md
explains the mapping.

IAM answers errors as ``{"error": {"code": <HTTP status>, "message", "title"}}``; the Huawei
Cloud SDKs read ``code`` and ``message`` from it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from jobcenter.core.errors import InvalidInput, InvalidState, NotFound, PermissionDenied
from jobcenter.core.errors import ServiceError as CoreServiceError
from jobcenter.credentials.models import AccessKey

logger = logging.getLogger("jobcenter.compat")

ACTIVE, INACTIVE = "active", "inactive"  # a revoked key is inactive (and stays listed)

TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    500: "Internal Server Error",
}


class IamError(Exception):
    def __init__(self, http_status: int, message: str) -> None:
        super().__init__(message)
        self.http_status, self.message = http_status, message


def error_response(exc: Exception) -> Response:
    status, message = _classify(exc)
    body = {"error": {"code": status, "message": message, "title": TITLES.get(status, "Error")}}
    return Response(body, status=status)


def _classify(exc: Exception) -> tuple[int, str]:
    if isinstance(exc, IamError):
        return exc.http_status, exc.message
    if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
        return 401, str(exc.detail)
    if isinstance(exc, drf.APIException):
        return exc.status_code, str(exc.detail)
    if isinstance(exc, NotFound | Http404):
        return 404, str(getattr(exc, "message", exc) or "not found")
    if isinstance(exc, PermissionDenied):
        return 403, exc.message
    if isinstance(exc, InvalidInput | InvalidState | CoreServiceError):
        return 400, exc.message
    logger.exception("IAM credentials request failed", exc_info=exc)
    return 500, f"internal error: {type(exc).__name__}"


# --- the errors views raise, by situation ---------------------------------------------------


def bad_request(message: str) -> IamError:
    return IamError(400, message)


def not_yours(user_id: str) -> IamError:
    return IamError(403, f"you may manage only your own access keys, not those of {user_id}")


def key_not_found(access_key: str) -> IamError:
    """Also for another user's key: the same answer, so keys cannot be probed."""
    return IamError(404, f"access key {access_key} does not exist")


def unknown_endpoint(method: str, path: str) -> IamError:
    return IamError(404, f"{method} {path} is not supported")


# --- bodies -----------------------------------------------------------------------------------


def _time(moment: datetime | None) -> str | None:
    """IAM's ``2020-01-08T06:25:19.014028Z``."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def credential(key: AccessKey, *, detail: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "user_id": key.user.get_username(),
        "access": key.access_key,
        "status": ACTIVE if key.is_active else INACTIVE,
        "create_time": _time(key.created_at),
        "description": key.description,
    }
    if detail:
        body["last_use_time"] = _time(key.last_used_at)
    return body


def credential_created(key: AccessKey, secret: str) -> dict[str, Any]:
    """The only answer that ever holds the secret key."""
    return {"credential": {**credential(key), "secret": secret}}


def credential_list(keys: list[AccessKey]) -> dict[str, Any]:
    return {"credentials": [credential(k) for k in keys]}


def credential_detail(key: AccessKey) -> dict[str, Any]:
    return {"credential": credential(key, detail=True)}


def create_request(body: Any) -> tuple[str | None, str]:
    """``{"credential": {"user_id", "description"}}`` -> (user_id or None, description)."""
    cred = body.get("credential") if isinstance(body, dict) else None
    if not isinstance(cred, dict):
        raise bad_request('the body must be {"credential": {"user_id": ..., "description": ...}}')
    user_id = cred.get("user_id")
    description = cred.get("description", "")
    if user_id is not None and not isinstance(user_id, str):
        raise bad_request("credential.user_id must be a string")
    if description is None:
        description = ""
    if not isinstance(description, str):
        raise bad_request("credential.description must be a string")
    return user_id or None, description
