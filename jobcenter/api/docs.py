"""ReDoc's script, served so that the ReDoc page loads nothing from elsewhere.

ReDoc's bundle (drf-spectacular-sidecar) always shows its maker's logo from cdn.redoc.ly, with
no option to turn it off: a request to a third party from every visit, and a violation of the
docs page's Content-Security-Policy (``img-src 'self' data:``). This view serves the same
bundle with that one URL replaced by an empty image; the "API docs by Redocly" link stays.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import etag, require_safe

BUNDLE = "drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js"
LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE = b"data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEAAAAALAAAAAABAAEAAAIBAAA="


@cache
def redoc_bundle() -> tuple[bytes, str]:
    """The bundle without its remote logo, and its ETag."""
    path = finders.find(BUNDLE)
    if not path:
        raise FileNotFoundError(f"{BUNDLE} (drf-spectacular-sidecar) is not installed")
    script = Path(path).read_bytes().replace(LOGO, EMPTY_IMAGE)
    return script, hashlib.sha256(script).hexdigest()[:32]


@require_safe
@cache_control(public=True, max_age=24 * 3600)
@etag(lambda request: redoc_bundle()[1])
def redoc_script(request: HttpRequest) -> HttpResponse:
    return HttpResponse(redoc_bundle()[0], content_type="text/javascript; charset=utf-8")
