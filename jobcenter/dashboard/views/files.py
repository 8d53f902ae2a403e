"""The file browser of the import form's path fields."""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from jobcenter.core.paths import import_roots_browse
from jobcenter.graphs.plan import PlanError

_TARGET_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


@login_required
@require_GET
def file_browser(request: HttpRequest) -> HttpResponse:
    """Pick a file or folder under the import roots for a path field of the import form."""
    target = request.GET.get("target", "")
    if not _TARGET_ID.match(target):
        target = ""
    error = ""
    try:
        listing = import_roots_browse(request.GET.get("path") or None)
    except PlanError as exc:
        error = exc.message
        listing = import_roots_browse(None)
    except ValueError:  # e.g. a NUL character in the path
        error = "That is not a valid path."
        listing = import_roots_browse(None)
    context = {"listing": listing, "target": target, "error": error}
    return render(request, "dashboard/includes/file_browser.html", context)
