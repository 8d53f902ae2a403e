"""The user's time zone for the dashboard's pages.

dashboard.js reads the browser's zone (``Intl.DateTimeFormat().resolvedOptions().timeZone``)
and keeps it in the :data:`COOKIE` cookie; the middleware activates it for the dashboard's
views only, so every page and every htmx partial renders its times in that zone on the server.
The APIs are left alone: their times stay ISO 8601 in UTC whatever cookie the browser sends.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import cache
from typing import Any

from django.http import HttpRequest, HttpResponseBase
from django.utils import timezone

COOKIE = "jobcenter_tz"
# The URL namespaces whose pages show times in the user's zone.
LOCAL_NAMESPACES = frozenset({"dashboard"})


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def zone_from_name(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The IANA zone named ``name``, or None for anything else (the cookie is untrusted: only
    names of the zone database are looked up, never a path)."""
    if not name or len(name) > 64 or name not in _known_zones():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


class DashboardTimezoneMiddleware:
    """Activates the zone named by the :data:`COOKIE` cookie for the dashboard's views."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> None:
        match = request.resolver_match
        if match is None or not LOCAL_NAMESPACES.intersection(match.namespaces):
            return None
        zone = zone_from_name(request.COOKIES.get(COOKIE))
        if zone is not None:
            timezone.activate(zone)
            request.browser_time_zone = zone.key  # type: ignore[attr-defined]
        return None
