"""Site-wide answers outside the pages: the favicon and the CSRF refusal."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from jobcenter.dashboard.common import refuse

FAVICON = "dashboard/favicon.ico"  # favicon.svg drawn at 16, 32 and 48 px


@cache
def _favicon() -> bytes:
    path = finders.find(FAVICON)
    if not path:
        raise FileNotFoundError(f"{FAVICON} is missing from the static files")
    return Path(path).read_bytes()


@require_safe
@cache_control(public=True, max_age=7 * 24 * 3600)
def favicon(request: HttpRequest) -> HttpResponse:
    """``/favicon.ico``, which browsers fetch for a page that names no icon (the admin site, a
    JSON answer): our icon, from the static files, rather than a 404."""
    return HttpResponse(_favicon(), content_type="image/x-icon")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF refusals as the dashboard shows other refusals (settings.CSRF_FAILURE_VIEW)."""
    return refuse(
        request,
        "Your session has expired or the form is stale: reload the page and try again.",
        403,
    )
