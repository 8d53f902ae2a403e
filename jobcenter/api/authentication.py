"""Who is calling: DRF authtoken tokens sent three ways, plus the browser session.

- ``Authorization: Token <key>`` (DRF's usual form) or ``Authorization: Bearer <key>``;
- ``X-Auth-Token: <key>``, the way GES (and OpenStack-style) clients send a token;
- the Django session cookie (browser, with CSRF on unsafe methods).

Tokens are created with ``manage.py drf_create_token <user>``, by an admin in the admin site, or
by a user with ``POST /api/v1/auth/token/``.
"""

from __future__ import annotations

import re
from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.request import Request

# DRF's authtoken keys are 40 hex characters; anything else is refused without a query.
_KEY = re.compile(r"[0-9A-Za-z]{1,64}")


def _check_key(key: str) -> str:
    if not _KEY.fullmatch(key):
        raise exceptions.AuthenticationFailed("Invalid token.")
    return key


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>`` or ``Authorization: Bearer <key>``."""

    keywords = ("Token", "Bearer")

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        try:
            header = authentication.get_authorization_header(request)
        except UnicodeError:  # not ISO-8859-1: no token of ours
            raise exceptions.AuthenticationFailed("Invalid token header.") from None
        parts = header.split()
        if not parts or parts[0].lower() not in {k.lower().encode() for k in self.keywords}:
            return None
        if len(parts) == 1:
            raise exceptions.AuthenticationFailed("Invalid token header: no token given.")
        if len(parts) > 2:
            raise exceptions.AuthenticationFailed("Invalid token header: the token has spaces.")
        try:
            key = parts[1].decode("ascii")
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return self.authenticate_credentials(_check_key(key))

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="jobcenter"'


class XAuthTokenAuthentication(authentication.TokenAuthentication):
    """``X-Auth-Token: <key>`` (GES style)."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        key = request.META.get("HTTP_X_AUTH_TOKEN", "").strip()
        if not key:
            return None
        return self.authenticate_credentials(_check_key(key))

    def authenticate_header(self, request: Request) -> str:
        return 'Token realm="jobcenter"'


API_AUTHENTICATION = [
    TokenAuthentication,
    XAuthTokenAuthentication,
    authentication.SessionAuthentication,
]
