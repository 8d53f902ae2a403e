"""The job list: filters, status chips, sorting and paging, its live poll, the bulk cancel and
retry, and its CSV download."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HTMX_STOP_POLLING, push_url

from jobcenter.core.errors import InvalidInput
from jobcenter.dashboard.common import (
    POLL_SECONDS,
    is_partial,
    refuse,
    render_page,
    to_int,
    valid_id,
)
from jobcenter.dashboard.nav import Nav, current_nav
from jobcenter.graphs.selectors import graph_list as graph_list_selector
from jobcenter.jobs import listing as job_listing
from jobcenter.jobs import selectors as job_selectors
from jobcenter.jobs import services as job_services
from jobcenter.jobs.chains import has_dependencies
from jobcenter.jobs.choices import ACTIVE_STATUSES, RETRYABLE_STATUSES, JobStatus, JobType
from jobcenter.jobs.downloads import csv_download, jobs_csv, jobs_filename
from jobcenter.jobs.filtersets import ORDERING_FIELDS, JobFilterSet
from jobcenter.jobs.listing import BoundedCount
from jobcenter.jobs.models import Job
from jobcenter.projects.models import Project
from jobcenter.projects.selectors import project_members

PER_PAGE_CHOICES = (25, 50, 100)
PER_PAGE_DEFAULT = 50
MAX_PAGE = 1_000_000  # a page number past it is read as the last page
MAX_LIVE_IDS = 200
# Parameters of the job list that are not filters of the FilterSet.
LIST_ONLY_PARAMS = ("page", "per_page", "project")
DATE_FILTERS = (
    "created_after",
    "created_before",
    "started_after",
    "started_before",
    "finished_after",
    "finished_before",
)
# Columns the list can be sorted by, with the direction a first click sorts in.
SORTABLE = {
    "created_at": "-",
    "started_at": "-",
    "finished_at": "-",
    "status": "",
    "type": "",
    "graph_name": "",
    "progress": "-",
}


# --- the job list ----------------------------------------------------------------------------


@dataclass
class Listing:
    """Everything the job list shows for one project and one set of URL parameters."""

    project: Project
    params: QueryDict
    filterset: JobFilterSet
    status_counts: job_listing.StatusCounts
    statuses: list[str]
    total: BoundedCount
    page: int
    per_page: int
    pages: int
    rows: list[Job]
    query: str  # the filters (project included, page excluded) as a query string
    ordering: str
    sort: dict[str, dict[str, str]] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)

    per_page_choices: tuple[int, ...] = PER_PAGE_CHOICES

    @property
    def first(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def has_active(self) -> bool:
        return any(job.is_active for job in self.rows)

    @property
    def filtered(self) -> bool:
        return any(
            self.params.get(name)
            for name in self.params
            if name not in (*LIST_ONLY_PARAMS, "ordering")
        )

    @property
    def chips(self) -> list[dict[str, Any]]:
        return [
            {
                "value": value,
                "label": label,
                "count": self.counts.get(value, 0),
                "on": value in self.statuses,
            }
            for value, label in JobStatus.choices
        ]

    @property
    def counts(self) -> dict[str, BoundedCount | None]:
        """Jobs per status under every filter but the status one (None: not counted)."""
        return self.status_counts.by_status

    @property
    def count_all(self) -> BoundedCount:
        return self.status_counts.total

    @property
    def counts_active(self) -> bool:
        """Whether the chips count jobs that are still active (on this page or not)."""
        return counts_active(self.status_counts)

    @property
    def active_matching(self) -> BoundedCount:
        """Jobs matching every filter (status included) that a cancel could still stop."""
        total = job_listing.counts_total(
            self.counts.get(s, BoundedCount(0))
            for s in ACTIVE_STATUSES
            if not self.statuses or s in self.statuses
        )
        return total if total is not None else BoundedCount(0)

    @property
    def count_limit(self) -> int:
        return job_listing.COUNT_LIMIT

    @property
    def uncounted(self) -> bool:
        """Whether some status chips show no number (see jobs.listing.job_status_counts)."""
        return any(count is None for count in self.counts.values())

    @cached_property
    def retryable_matching(self) -> BoundedCount:
        """Jobs matching every filter that a "retry all" would retry (ended in a failure, no
        retry yet), exact up to 10,000; only counted when the status filter asks for failures
        and nothing else, so the everyday list pays nothing for it."""
        if not self.statuses or not set(self.statuses) <= set(RETRYABLE_STATUSES):
            return BoundedCount(0)
        if not self.filterset.is_valid() or not any(
            self.counts.get(s) is None or self.counts.get(s) for s in self.statuses
        ):
            return BoundedCount(0)
        return job_listing.count_bounded(job_selectors.job_retry_candidates(self.filterset.qs))

    @property
    def invalid_filters(self) -> list[str]:
        """Names of the filters that were given but not understood (and so ignored)."""
        if self.filterset.is_valid():
            return []
        return sorted(self.filterset.errors)

    @property
    def url(self) -> str:
        """This list's canonical address (project, filters, sort and page)."""
        page = f"&page={self.page}" if self.page > 1 else ""
        return f"{reverse('dashboard:job_list')}?{self.query}{page}"

    @property
    def page_links(self) -> list[int | None]:
        """Page numbers to offer: first, last and two on each side of the current (None = a gap
        of two pages or more), by Django's elided page range. The rows come from a bounded count
        (job_page), so the paginator is only told how many pages there are."""
        numbers = Paginator(range(self.pages), 1).get_elided_page_range(
            self.page, on_each_side=2, on_ends=1
        )
        return [n if isinstance(n, int) else None for n in numbers]


def _filter_data(params: QueryDict) -> QueryDict:
    data = params.copy()
    for name in LIST_ONLY_PARAMS:
        data.pop(name, None)
    return data


def counts_active(counts: job_listing.StatusCounts) -> bool:
    """Whether some job counted by the chips is still active: the list keeps polling then, even
    with none of them on screen (jobs just retried, filtered out by status), so that the chips
    follow them to their end."""
    return any(counts.by_status.get(status) for status in ACTIVE_STATUSES)


def _status_counts(scope: QuerySet[Job], params: QueryDict) -> job_listing.StatusCounts:
    """Jobs per status under every list filter but the status one (the chips), each exact up
    to 10,000 or not counted; the same for the page and its live poll."""
    data = _filter_data(params)
    for name in ("status", "ordering"):
        data.pop(name, None)
    return job_listing.job_status_counts(
        scope=scope, filtered=JobFilterSet(data, queryset=scope).qs
    )


def build_listing(*, user: Any, project: Project, params: QueryDict) -> Listing:
    scope = job_selectors.job_list(user=user).filter(project=project)
    data = _filter_data(params)
    filterset = JobFilterSet(data, queryset=scope)
    filterset.is_valid()
    cleaned = getattr(filterset.form, "cleaned_data", {}) or {}
    statuses = [s for s in (cleaned.get("status") or []) if s in JobStatus.values]

    counts = _status_counts(scope, params)

    per_page = to_int(params.get("per_page"), PER_PAGE_DEFAULT)
    if per_page not in PER_PAGE_CHOICES:
        per_page = PER_PAGE_DEFAULT
    page = min(max(1, to_int(params.get("page"), 1)), MAX_PAGE)
    # The page and the number of matches come together (jobs.listing.job_page): the number
    # is exact up to 10,000 ("10,000+" beyond, when the last page is not known either).
    found = job_listing.job_page(
        scope=scope, filtered=filterset.qs, offset=(page - 1) * per_page, limit=per_page
    )
    total = found.count
    pages = max(1, math.ceil(total / per_page))
    if not total.exact:
        pages = max(pages, page + 1 if len(found.rows) == per_page else page)
    rows = found.rows
    if page > pages:  # past the end: show the last page
        page = pages
        rows = job_listing.job_page(
            scope=scope, filtered=filterset.qs, offset=(page - 1) * per_page, limit=per_page
        ).rows

    ordering = params.get("ordering") or ""
    if ordering.lstrip("-") not in ORDERING_FIELDS:
        ordering = "-created_at"
    sort = {}
    for name, first in SORTABLE.items():
        if ordering == name:
            sort[name] = {"next": f"-{name}", "aria": "ascending"}
        elif ordering == f"-{name}":
            sort[name] = {"next": name, "aria": "descending"}
        else:
            sort[name] = {"next": f"{first}{name}", "aria": ""}

    # Only the parameters that mean something, so the address stays short and stable.
    defaults = {"ordering": "-created_at", "per_page": str(PER_PAGE_DEFAULT)}
    query_data = QueryDict(mutable=True)
    for name in params:
        if name in ("page", "project", "live"):
            continue
        for value in params.getlist(name):
            if value != "" and value != defaults.get(name):
                query_data.appendlist(name, value)
    query_data["project"] = project.name
    values = {name: params.get(name, "") for name in ("q", "graph", "submitted_by", "id")}
    values["type"] = params.get("type", "")
    for name in DATE_FILTERS:
        # Dates are sent with the browser's offset (dashboard.js); the input shows the day.
        values[name] = (params.get(name) or "")[:10]
    _mark_waits(rows)
    return Listing(
        project=project,
        params=params,
        filterset=filterset,
        status_counts=counts,
        statuses=statuses,
        total=total,
        page=page,
        per_page=per_page,
        pages=pages,
        rows=rows,
        query=query_data.urlencode(),
        ordering=ordering,
        sort=sort,
        values=values,
    )


def _mark_waits(rows: list[Job]) -> None:
    """Each row that waits for other jobs knows which (``job.waits_for``; issue 17)."""
    waits = job_selectors.jobs_waiting_for(rows)
    for job in rows:
        job.waits_for = waits.get(job.pk, [])  # type: ignore[attr-defined]


def _filter_options(user: Any, project: Project) -> dict[str, Any]:
    graphs = list(
        graph_list_selector(user=user, project=project)
        .order_by("name")
        .values_list("name", flat=True)
    )
    members = [m.user.username for m in project_members(project=project)]
    return {"types": JobType.choices, "graph_names": graphs, "members": members}


def _is_current_url(request: HttpRequest, url: str) -> bool:
    """Whether the page that sent this htmx request already shows ``url`` (pushing it again
    would make the back button go nowhere)."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    return f"{current.path}?{current.query}" == url


@login_required
@require_GET
@vary_on_headers("HX-Request")
def job_list(request: HttpRequest) -> HttpResponse:
    nav = current_nav(request, request.GET.get("project"))
    if nav.current is None:
        return render_page(request, "dashboard/no_project.html", {}, nav)
    listing = build_listing(user=request.user, project=nav.current, params=request.GET)
    context = {"listing": listing, "poll_seconds": POLL_SECONDS, "can_operate": nav.can_operate}
    if not listing.rows and not listing.filtered:  # the empty state says what to do first
        context["has_graphs"] = graph_list_selector(user=request.user, project=nav.current).exists()
    if is_partial(request):
        # The filters changed in the page: the address bar shows the canonical URL (bookmarks,
        # reload, back and forward all come back to this list).
        response = render(request, "dashboard/job_list.html#results", context)
        return push_url(response, False if _is_current_url(request, listing.url) else listing.url)
    context.update(_filter_options(request.user, nav.current))
    return render_page(request, "dashboard/job_list.html", context, nav)


@login_required
@require_GET
def job_list_live(request: HttpRequest) -> HttpResponse:
    """One request per interval for every active row on screen: the rows (swapped out of band),
    the status counts, and 286 once none of the rows is active any more and the counts hold no
    active job either."""
    params = request.GET.copy()
    ids = [i for i in params.getlist("live") if valid_id(i)][:MAX_LIVE_IDS]
    params.pop("live", None)
    nav = current_nav(request, params.get("project"))
    if nav.current is None:
        return HttpResponse(status=HTMX_STOP_POLLING)
    scope = job_selectors.job_list(user=request.user).filter(project=nav.current)
    jobs = (
        list(scope.filter(pk__in=ids).annotate(has_dependencies=has_dependencies())) if ids else []
    )
    counts = _status_counts(scope, params)
    statuses = [s for s in params.getlist("status") if s in JobStatus.values]
    total = job_listing.counts_total(counts.by_status[s] for s in statuses) if statuses else None
    if total is None:  # no status chosen, or one not counted: what the page counts
        filterset = JobFilterSet(_filter_data(params), queryset=scope)
        total = counts.total if not statuses else job_listing.count_bounded(filterset.qs)
    _mark_waits(jobs)
    finished = [job for job in jobs if not job.is_active]
    context = {
        "jobs": jobs,
        "counts": counts.by_status,
        "count_all": counts.total,
        "total": total,
        "finished": finished,
        "active_count": len(jobs) - len(finished),
        "can_operate": nav.can_operate,
        "oob": True,
    }
    response = render(request, "dashboard/job_list.html#live", context)
    if not any(job.is_active for job in jobs) and not counts_active(counts):
        response.status_code = HTMX_STOP_POLLING
    return response


def _operator_nav(request: HttpRequest, query: QueryDict, verb: str) -> Nav | HttpResponse:
    """The project a bulk action acts in (404 without one), refused unless the user may
    operate there."""
    nav = current_nav(request, query.get("project"))
    if nav.current is None:
        raise Http404("no project")
    if not nav.can_operate:
        message = f"You need the operator role in project {nav.current.name} to {verb} jobs."
        return refuse(request, message, 403)
    return nav


def _matching(
    request: HttpRequest, nav: Nav, query: QueryDict, nothing: str
) -> QuerySet[Job] | HttpResponse:
    """The project's jobs the list's filters in ``query`` select, in the list's order; a 400
    naming what was not done when a filter is invalid."""
    try:
        jobs = job_selectors.job_list_filtered(user=request.user, data=_filter_data(query))
    except InvalidInput:
        return refuse(request, f"The filters are not valid; nothing was {nothing}.", 400)
    return jobs.filter(project=nav.current)


def _bulk_answer(
    request: HttpRequest, nav: Nav, query: QueryDict, message: str, **summary: Any
) -> HttpResponse:
    """After a bulk action: the list's results with the action's summary (htmx), or back to
    the list with ``message`` (no script)."""
    if not request.htmx:
        messages.success(request, message)
        return redirect(f"{reverse('dashboard:job_list')}?{query.urlencode()}")
    context = {
        "listing": build_listing(user=request.user, project=nav.current, params=query),
        "poll_seconds": POLL_SECONDS,
        "can_operate": nav.can_operate,
        **summary,
    }
    return render(request, "dashboard/job_list.html#results", context)


@login_required
@require_POST
def job_bulk_cancel(request: HttpRequest) -> HttpResponse:
    """Cancel the selected jobs, or every job matching the list's filters."""
    query = QueryDict(request.POST.get("query", ""))
    nav = _operator_nav(request, query, "cancel")
    if isinstance(nav, HttpResponse):
        return nav
    everything = request.POST.get("scope") == "all"
    if everything:
        jobs = _matching(request, nav, query, "cancelled")
        if isinstance(jobs, HttpResponse):
            return jobs
        requested = None
    else:
        ids = list(dict.fromkeys(i for i in request.POST.getlist("ids") if valid_id(i)))[:10_000]
        if not ids:
            return refuse(request, "No job was selected.", 400)
        jobs = job_selectors.job_list(user=request.user).filter(project=nav.current, pk__in=ids)
        requested = len(ids)
    result = job_services.job_cancel_many(jobs=jobs, user=request.user)
    summary = {
        "everything": everything,
        "cancelled": result.cancelled,
        "not_cancelled": result.not_cancelled,
        "requested": requested,
        "finished": (
            requested - len(result.cancelled) - len(result.not_cancelled) if requested else 0
        ),
    }
    message = f"Cancelled {len(result.cancelled)} job(s)."
    return _bulk_answer(request, nav, query, message, summary=summary)


@login_required
@require_GET
def job_list_csv(request: HttpRequest) -> HttpResponse:
    """Every job the list's filters match (all pages, the list's order) as a CSV download."""
    nav = current_nav(request, request.GET.get("project"))
    if nav.current is None:
        raise Http404("no project")
    jobs = _matching(request, nav, request.GET, "downloaded")
    if isinstance(jobs, HttpResponse):
        return jobs
    return csv_download(jobs_csv(jobs), jobs_filename(timezone.now()))


@login_required
@require_POST
def job_bulk_retry(request: HttpRequest) -> HttpResponse:
    """Retry every failed job matching the list's filters, once each."""
    query = QueryDict(request.POST.get("query", ""))
    nav = _operator_nav(request, query, "retry")
    if isinstance(nav, HttpResponse):
        return nav
    jobs = _matching(request, nav, query, "retried")
    if isinstance(jobs, HttpResponse):
        return jobs
    result = job_services.job_retry_many(jobs=jobs, user=request.user)
    retry_summary = {"retried": result.retried, "not_retried": result.not_retried}
    message = f"Retried {len(result.retried)} job(s)."
    return _bulk_answer(request, nav, query, message, retry_summary=retry_summary)
