"""The Content-Security-Policy header, which Django 5.2 does not set (6.0 adds it to core).

Every response gets the policy of ``settings.JOBCENTER_CSP`` unless its view chose another one
with :func:`content_security_policy` (the API's Swagger UI and ReDoc pages). The other security
headers come from Django's own middleware and settings (see the security part of settings.py
and docs/security.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

HEADER = "Content-Security-Policy"

Policy = Mapping[str, Sequence[str]]


def policy_header(policy: Policy) -> str:
    """``{"default-src": ["'self'"], ...}`` as the header's value."""
    return "; ".join(" ".join([directive, *sources]) for directive, sources in policy.items())


class ContentSecurityPolicyMiddleware:
    """Sets ``settings.JOBCENTER_CSP`` on responses that do not carry a policy yet."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if HEADER not in response.headers:
            response.headers[HEADER] = policy_header(settings.JOBCENTER_CSP)
        return response


def content_security_policy(setting: str) -> Callable[[Callable], Callable]:
    """A view decorator: its responses carry the policy of ``settings.<setting>``."""

    def decorate(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            response = view(request, *args, **kwargs)
            response.headers[HEADER] = policy_header(getattr(settings, setting))
            return response

        return wrapped

    return decorate
