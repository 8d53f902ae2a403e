"""One job's page: status, files, timeline, failed lines and (for analytics jobs) the result
card, with its live poll and the job's actions (cancel, retry, export the result)."""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HTMX_STOP_POLLING, HttpResponseClientRedirect, trigger_client_event

from jobcenter.core.errors import ServiceError
from jobcenter.dashboard.common import (
    POLL_SECONDS,
    is_partial,
    job_or_404,
    operator_refusal,
    render_page,
    safe_next,
    service_error,
    submitted,
    to_int,
)
from jobcenter.dashboard.forms.graphs import GraphPathForm
from jobcenter.dashboard.nav import Nav, nav_for_project
from jobcenter.dashboard.views.results import analytics_detail_context, result_context
from jobcenter.jobs import selectors as job_selectors
from jobcenter.jobs import services as job_services
from jobcenter.jobs.downloads import csv_download, failed_lines_csv, failed_lines_filename
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import kind_of

FAILED_LINES_PER_PAGE = 50
# Reasons of failed lines are short lower-case codes (jobcenter.graphs.plan.Reason).
_REASON = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


# --- one job ---------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, job: Job, nav: Nav) -> dict[str, Any]:
    files = list(job_selectors.job_files(job=job))
    return {
        "job": job,
        "files": files,
        "timeline": list(job_selectors.job_timeline(job=job)),
        "remaining": job_selectors.job_seconds_remaining(job),
        "can_operate": nav.can_operate,
        "can_retry": nav.can_operate and not job.is_active and job_services.job_retryable(job),
        "failed_total": sum(f.failed_lines for f in files),
        "totals": job_selectors.import_line_totals(job, files) if files else None,
        "poll_seconds": POLL_SECONDS,
        "logs": [f for f in files if f.log or f.cause],
        "chain": job_selectors.job_links(job=job),
    }


def _file_index(request: HttpRequest) -> int | None:
    """The ``file`` parameter of the failed lines (None: every file; nonsense is ignored)."""
    value = to_int(request.GET.get("file", ""), -1)
    return value if value >= 0 else None


def _fl_query(file_index: int | None, reason: str | None, page: int = 1) -> str:
    """The failed lines' view as a query string (only what differs from the default)."""
    data = {"file": file_index, "reason": reason, "page": page if page > 1 else None}
    return urlencode({name: value for name, value in data.items() if value is not None})


def _failed_lines_context(request: HttpRequest, job: Job, files: list[Any]) -> dict[str, Any]:
    """The failed lines as shown: of one file or all, of one reason or all, one page."""
    file_index = _file_index(request)
    reason = request.GET.get("reason", "")
    reason = reason if _REASON.match(reason) else None
    reasons = job_selectors.job_failed_line_reasons(job=job, file_index=file_index)
    in_file = sum(n for _, n in reasons)
    stored = in_file if reason is None else dict(reasons).get(reason, 0)
    chosen = [f for f in files if f.role != "schema" and file_index in (None, f.index)]
    pages = max(1, math.ceil(stored / FAILED_LINES_PER_PAGE))
    page = min(max(1, to_int(request.GET.get("page"), 1)), pages)
    offset = (page - 1) * FAILED_LINES_PER_PAGE
    rows = []
    if stored:
        qs = job_selectors.job_failed_lines(job=job, file_index=file_index, reason=reason)
        rows = list(qs[offset : offset + FAILED_LINES_PER_PAGE])
    links = [{"reason": "", "count": in_file, "query": _fl_query(file_index, None)}]
    links += [{"reason": r, "count": n, "query": _fl_query(file_index, r)} for r, n in reasons]
    if reason is not None and reason not in dict(reasons):
        links.append({"reason": reason, "count": 0, "query": _fl_query(file_index, reason)})
    for link in links:
        link["current"] = link["reason"] == (reason or "")
    return {
        "fl": {
            "rows": rows,
            "stored": stored,
            "in_file": in_file,
            "failed": sum(f.failed_lines for f in chosen),  # counted, kept or not
            "cap": settings.JOBCENTER_MAX_FAILED_RECORDS,
            "page": page,
            "pages": pages,
            "first": offset + 1 if rows else 0,
            "last": offset + len(rows),
            "file": file_index,
            "reason": reason,
            "files": files,
            "reason_links": links,
            "state": _fl_query(file_index, reason, page),
            "prev_query": _fl_query(file_index, reason, page - 1),
            "next_query": _fl_query(file_index, reason, page + 1),
        }
    }


@login_required
@require_GET
def job_detail(request: HttpRequest, job_id: str) -> HttpResponse:
    job = job_or_404(request, job_id)
    nav = nav_for_project(request, job.project)

    context = _detail_context(request, job, nav)
    if kind_of(job.type).loads_files:  # the only jobs whose page shows failed lines
        context.update(_failed_lines_context(request, job, context["files"]))
    context.update(analytics_detail_context(request, job))
    return render_page(request, "dashboard/job_detail.html", context, nav)


@login_required
@require_GET
def job_detail_live(request: HttpRequest, job_id: str) -> HttpResponse:
    job = job_or_404(request, job_id)
    nav = nav_for_project(request, job.project)
    context = _detail_context(request, job, nav)
    response = render(request, "dashboard/job_detail.html#live", context)
    if kind_of(job.type).loads_files:
        # the failed lines as shown (the poll sends their file, reason and page), out of band
        fl = {"job": job, "oob": True, **_failed_lines_context(request, job, context["files"])}
        template = "dashboard/includes/failed_lines.html#fl-live"
        response.content += render_to_string(template, fl, request=request).encode()
    if not job.is_active:
        response.status_code = HTMX_STOP_POLLING
        trigger_client_event(response, "job-finished", {"id": job.pk})
    return response


@login_required
@require_GET
def job_failed_lines(request: HttpRequest, job_id: str) -> HttpResponse:
    job = job_or_404(request, job_id)
    if not request.htmx:
        query = request.GET.urlencode()
        return redirect(f"{reverse('dashboard:job_detail', args=[job.pk])}?{query}#failed-lines")
    files = list(job_selectors.job_files(job=job))
    context = {"job": job, **_failed_lines_context(request, job, files)}
    context["failed_total"] = sum(f.failed_lines for f in files)
    return render(request, "dashboard/includes/failed_lines.html#failed-lines", context)


@login_required
@require_GET
def job_failed_lines_csv(request: HttpRequest, job_id: str) -> StreamingHttpResponse:
    job = job_or_404(request, job_id)
    file_index = _file_index(request)
    qs = job_selectors.job_failed_lines(job=job, file_index=file_index)
    kept, failed = job_selectors.failed_lines_kept(job=job, file_index=file_index)
    name = failed_lines_filename(job.pk, file_index, kept=kept, failed=failed)
    return csv_download(failed_lines_csv(qs), name)


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    job = job_or_404(request, job_id)
    try:
        job = job_services.job_cancel(job=job, user=request.user)
    except ServiceError as exc:
        return service_error(request, exc)
    if not request.htmx:
        messages.success(request, f"Cancel requested for job {job.pk}.")
        return redirect(safe_next(request, reverse("dashboard:job_detail", args=[job.pk])))
    job = job_selectors.job_get(user=request.user, job_id=job.pk)
    nav = nav_for_project(request, job.project)
    if request.POST.get("view") == "row":
        context = {"job": job, "can_operate": nav.can_operate}
        return render(request, "dashboard/job_list.html#job-row", context)
    return render(request, "dashboard/job_detail.html#live", _detail_context(request, job, nav))


@login_required
@require_POST
def job_retry(request: HttpRequest, job_id: str) -> HttpResponseBase:
    job = job_or_404(request, job_id)
    try:
        new = job_services.job_retry(job=job, user=request.user)
    except ServiceError as exc:
        return service_error(request, exc)
    url = reverse("dashboard:job_detail", args=[new.pk])
    messages.success(request, f"Retry submitted as job {new.pk}.")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@login_required
@require_POST
def job_result_export(request: HttpRequest, job_id: str) -> HttpResponseBase:
    """Write a finished job's result as one CSV file under the export root (a job)."""
    job = job_or_404(request, job_id)
    if refusal := operator_refusal(request, job.project, "export results"):
        return refusal
    form = GraphPathForm(request.POST, prefix="result", label="CSV file")
    if form.is_valid():
        try:
            export = job_services.job_submit_export(
                source_job=job, path=form.cleaned_data["path"], user=request.user
            )
        except ServiceError as exc:
            if exc.field != "path":
                return service_error(request, exc)
            form.add_service_error(exc)
        else:
            return submitted(request, export, "Export of the result submitted.")
    nav = nav_for_project(request, job.project)
    context: dict[str, Any] = {"job": job, "can_operate": nav.can_operate}
    if is_partial(request):
        context.update(result_context(request, job))
    else:  # the whole page, its result section included
        context.update(_detail_context(request, job, nav))
        context.update(analytics_detail_context(request, job))
    context["result_path_form"] = form
    template = "dashboard/job_detail.html#result" if is_partial(request) else None
    if template:
        return render(request, template, context, status=422)
    return render_page(request, "dashboard/job_detail.html", context, nav, 422)
