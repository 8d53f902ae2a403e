"""What every dashboard view shares: reading ids and numbers from the request, rendering a page
or a partial, refusing an action (the error-to-HTTP status map), and finding the job or graph a
URL names (404 for anything the user may not see).
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect, reswap, retarget

from jobcenter.core.errors import NotFound, ServiceError, http_status
from jobcenter.dashboard.nav import Nav, nav_for_project
from jobcenter.graphs.models import Graph
from jobcenter.graphs.selectors import graph_get_by_id
from jobcenter.jobs import selectors as job_selectors
from jobcenter.jobs.models import Job

POLL_SECONDS = 2
# Job and graph ids are 32 hex characters (jobcenter.core.ids); anything else cannot exist.
_OBJECT_ID = re.compile(r"^[0-9a-f]{1,32}$")


def valid_id(value: str) -> bool:
    return bool(_OBJECT_ID.match(value))


def to_int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def is_partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], nav: Nav, status: int = 200
) -> HttpResponse:
    return render(request, template, {"nav": nav, **context}, status=status)


# --- errors ----------------------------------------------------------------------------------


def refuse(request: HttpRequest, message: str, status: int) -> HttpResponse:
    """A refused action: a toast for htmx (retargeted, so the page stays as it is), an error
    page otherwise."""
    if request.htmx:
        response = render(
            request, "dashboard/includes/toast.html", {"message": message, "tone": "bad"}
        )
        response.status_code = status
        return reswap(retarget(response, "#toasts"), "beforeend")
    return render(
        request,
        "dashboard/error.html",
        {"status": status, "message": message, "nav": None},
        status=status,
    )


def service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return refuse(request, exc.message, http_status(exc))


def job_or_404(request: HttpRequest, job_id: str) -> Job:
    if not valid_id(job_id):
        raise Http404("job not found")
    try:
        return job_selectors.job_get(user=request.user, job_id=job_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def graph_or_404(request: HttpRequest, graph_id: str) -> Graph:
    if not valid_id(graph_id):
        raise Http404("graph not found")
    try:
        return graph_get_by_id(user=request.user, graph_id=graph_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def no_role(request: HttpRequest, nav: Nav, what: str) -> HttpResponse:
    name = nav.current.name if nav.current else ""
    message = f"You need the operator role in project {name} to {what}."
    return render_page(
        request, "dashboard/error.html", {"status": 403, "message": message}, nav, 403
    )


def operator_refusal(request: HttpRequest, project: Any, what: str) -> HttpResponse | None:
    """A 403 for a user who may not change anything in ``project`` (checked before the form,
    so a viewer's forged request is refused whatever it holds; the services check again)."""
    if nav_for_project(request, project).can_operate:
        return None
    return refuse(request, f"You need the operator role in project {project.name} to {what}.", 403)


def submitted(request: HttpRequest, job: Job, message: str) -> HttpResponseBase:
    messages.success(request, message)
    url = reverse("dashboard:job_detail", args=[job.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
