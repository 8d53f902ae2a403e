"""The dashboard's views: thin adapters between HTTP/HTMX and the services and selectors.

Every page is scoped to the *current project* (kept in the session, switched in the header, and
written into the job list's URL so a filtered list is a bookmark). Reads go through the same
selectors and the same :class:`~jobcenter.jobs.filtersets.JobFilterSet` as the REST API; writes
through the same services, which check roles again: a button the user does not see is also a
request the server refuses.

HTMX conventions (see docs/dashboard.md): a request from htmx gets a template partial
(``"page.html#partial"``), any other request the whole page; polling responses answer 286 when
nothing they watch is still active, which makes htmx stop polling.

Every input is untrusted: ids are checked before they reach a query (a NUL character would make
PostgreSQL raise), invalid filters are ignored and reported, never a 500.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import (
    HTMX_STOP_POLLING,
    HttpResponseClientRedirect,
    push_url,
    reswap,
    retarget,
    trigger_client_event,
)

from jobcenter.core.errors import InvalidInput, NotFound, ServiceError, http_status
from jobcenter.core.paths import import_roots_browse
from jobcenter.dashboard.forms import GraphForm, ImportForm
from jobcenter.graphs import services as graph_services
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.models import Graph
from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.selectors import graph_list as graph_list_selector
from jobcenter.jobs import selectors as job_selectors
from jobcenter.jobs import services as job_services
from jobcenter.jobs.choices import ACTIVE_STATUSES, RETRYABLE_STATUSES, JobStatus, JobType
from jobcenter.jobs.downloads import (
    csv_download,
    failed_lines_csv,
    failed_lines_filename,
    jobs_csv,
    jobs_filename,
)
from jobcenter.jobs.filtersets import ORDERING_FIELDS, JobFilterSet
from jobcenter.jobs.models import Job
from jobcenter.jobs.selectors import BoundedCount
from jobcenter.projects.choices import ROLE_RANK, Role
from jobcenter.projects.models import Project
from jobcenter.projects.selectors import (
    project_last_chosen_id,
    project_list_with_role,
    project_members,
)
from jobcenter.projects.services import project_remember_last

SESSION_PROJECT = "dashboard_project_id"
POLL_SECONDS = 2
PER_PAGE_CHOICES = (25, 50, 100)
PER_PAGE_DEFAULT = 50
MAX_PAGE = 1_000_000  # a page number past it is read as the last page
FAILED_LINES_PER_PAGE = 50
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
_TARGET_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
# Reasons of failed lines are short lower-case codes (jobcenter.graphs.plan.Reason).
_REASON = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
# Job and graph ids are 32 hex characters (jobcenter.core.ids); anything else cannot exist.
_OBJECT_ID = re.compile(r"^[0-9a-f]{1,32}$")


def valid_id(value: str) -> bool:
    return bool(_OBJECT_ID.match(value))


# --- project context -------------------------------------------------------------------------


@dataclass
class Nav:
    projects: list[Project]
    current: Project | None
    role: Role | None

    @property
    def can_operate(self) -> bool:
        return self.role is not None and ROLE_RANK[self.role] >= ROLE_RANK[Role.OPERATOR]


def _nav(request: HttpRequest, requested: str | None = None) -> Nav:
    """The user's projects (with their role) and the current one: the one named (a project the
    user does not belong to is a 404, as for every object of another project), else the one
    of this session, else :func:`_landing_project`. A project named that differs from the
    session's is remembered as the user's last (the next visit opens it, from anywhere)."""
    projects = list(project_list_with_role(user=request.user))
    current = None
    if requested:
        current = next((p for p in projects if p.name == requested), None)
        if current is None:
            raise Http404(f"project {requested!r} does not exist")
    if current is None:
        wanted = request.session.get(SESSION_PROJECT)
        current = next((p for p in projects if p.pk == wanted), None)
    if current is None and projects:
        current = _landing_project(request.user, projects)
    if current is not None and request.session.get(SESSION_PROJECT) != current.pk:
        request.session[SESSION_PROJECT] = current.pk
        if requested:
            project_remember_last(user=request.user, project=current)
    role = Role(current.role) if current is not None and current.role else None
    return Nav(projects=projects, current=current, role=role)


def _landing_project(user: Any, projects: list[Project]) -> Project:
    """Where a new session opens: the project the user last chose, else the one with the most
    recent job, else the first by name (not an empty project that merely sorts first)."""
    if len(projects) == 1:
        return projects[0]
    by_id = {p.pk: p for p in projects}
    for chosen in (
        lambda: project_last_chosen_id(user=user),
        lambda: job_selectors.project_with_latest_job(project_ids=by_id),
    ):
        found = by_id.get(chosen())
        if found is not None:
            return found
    return projects[0]


def _nav_for_project(request: HttpRequest, project: Project) -> Nav:
    """Context for a page about an object of ``project`` (which may differ from the current);
    worked out once per request (a view checks the role, then renders with the same nav)."""
    known: dict[int, Nav] = request.__dict__.setdefault("_jobcenter_navs", {})
    if project.pk not in known:
        projects = list(project_list_with_role(user=request.user))
        mine = next((p for p in projects if p.pk == project.pk), None)
        role = Role(mine.role) if mine is not None and mine.role else None
        known[project.pk] = Nav(projects=projects, current=mine or project, role=role)
    return known[project.pk]


def _partial(request: HttpRequest) -> bool:
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _page(
    request: HttpRequest, template: str, context: dict[str, Any], nav: Nav, status: int = 200
) -> HttpResponse:
    return render(request, template, {"nav": nav, **context}, status=status)


# --- errors ----------------------------------------------------------------------------------


def _refuse(request: HttpRequest, message: str, status: int) -> HttpResponse:
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


def _service_error(request: HttpRequest, exc: ServiceError) -> HttpResponse:
    return _refuse(request, exc.message, http_status(exc))


def _job_or_404(request: HttpRequest, job_id: str) -> Job:
    if not valid_id(job_id):
        raise Http404("job not found")
    try:
        return job_selectors.job_get(user=request.user, job_id=job_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- the job list ----------------------------------------------------------------------------


@dataclass
class Listing:
    """Everything the job list shows for one project and one set of URL parameters."""

    project: Project
    params: QueryDict
    filterset: JobFilterSet
    status_counts: job_selectors.StatusCounts
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
        total = job_selectors.counts_total(
            self.counts.get(s, BoundedCount(0))
            for s in ACTIVE_STATUSES
            if not self.statuses or s in self.statuses
        )
        return total if total is not None else BoundedCount(0)

    @property
    def count_limit(self) -> int:
        return job_selectors.COUNT_LIMIT

    @property
    def uncounted(self) -> bool:
        """Whether some status chips show no number (see jobs.selectors.job_status_counts)."""
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
        return job_selectors.count_bounded(job_selectors.job_retry_candidates(self.filterset.qs))

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
        """Page numbers to offer: first, last and a window around the current (None = gap)."""
        wanted = {1, self.pages, *range(self.page - 2, self.page + 3)}
        numbers = sorted(n for n in wanted if 1 <= n <= self.pages)
        links: list[int | None] = []
        for number in numbers:
            if links and number - (links[-1] or 0) > 1:
                links.append(None)
            links.append(number)
        return links


def _filter_data(params: QueryDict) -> QueryDict:
    data = params.copy()
    for name in LIST_ONLY_PARAMS:
        data.pop(name, None)
    return data


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def counts_active(counts: job_selectors.StatusCounts) -> bool:
    """Whether some job counted by the chips is still active: the list keeps polling then, even
    with none of them on screen (jobs just retried, filtered out by status), so that the chips
    follow them to their end."""
    return any(counts.by_status.get(status) for status in ACTIVE_STATUSES)


def _status_counts(scope: QuerySet[Job], params: QueryDict) -> job_selectors.StatusCounts:
    """Jobs per status under every list filter but the status one (the chips), each exact up
    to 10,000 or not counted; the same for the page and its live poll."""
    data = _filter_data(params)
    for name in ("status", "ordering"):
        data.pop(name, None)
    return job_selectors.job_status_counts(
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

    per_page = _int(params.get("per_page"), PER_PAGE_DEFAULT)
    if per_page not in PER_PAGE_CHOICES:
        per_page = PER_PAGE_DEFAULT
    page = min(max(1, _int(params.get("page"), 1)), MAX_PAGE)
    # The page and the number of matches come together (jobs.selectors.job_page): the number
    # is exact up to 10,000 ("10,000+" beyond, when the last page is not known either).
    found = job_selectors.job_page(
        scope=scope, filtered=filterset.qs, offset=(page - 1) * per_page, limit=per_page
    )
    total = found.count
    pages = max(1, math.ceil(total / per_page))
    if not total.exact:
        pages = max(pages, page + 1 if len(found.rows) == per_page else page)
    rows = found.rows
    if page > pages:  # past the end: show the last page
        page = pages
        rows = job_selectors.job_page(
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
    nav = _nav(request, request.GET.get("project"))
    if nav.current is None:
        return _page(request, "dashboard/no_project.html", {}, nav)
    listing = build_listing(user=request.user, project=nav.current, params=request.GET)
    context = {"listing": listing, "poll_seconds": POLL_SECONDS, "can_operate": nav.can_operate}
    if not listing.rows and not listing.filtered:  # the empty state says what to do first
        context["has_graphs"] = graph_list_selector(user=request.user, project=nav.current).exists()
    if _partial(request):
        # The filters changed in the page: the address bar shows the canonical URL (bookmarks,
        # reload, back and forward all come back to this list).
        response = render(request, "dashboard/job_list.html#results", context)
        return push_url(response, False if _is_current_url(request, listing.url) else listing.url)
    context.update(_filter_options(request.user, nav.current))
    return _page(request, "dashboard/job_list.html", context, nav)


@login_required
@require_GET
def job_list_live(request: HttpRequest) -> HttpResponse:
    """One request per interval for every active row on screen: the rows (swapped out of band),
    the status counts, and 286 once none of the rows is active any more and the counts hold no
    active job either."""
    params = request.GET.copy()
    ids = [i for i in params.getlist("live") if valid_id(i)][:MAX_LIVE_IDS]
    params.pop("live", None)
    nav = _nav(request, params.get("project"))
    if nav.current is None:
        return HttpResponse(status=HTMX_STOP_POLLING)
    scope = job_selectors.job_list(user=request.user).filter(project=nav.current)
    jobs = list(scope.filter(pk__in=ids)) if ids else []
    counts = _status_counts(scope, params)
    statuses = [s for s in params.getlist("status") if s in JobStatus.values]
    total = job_selectors.counts_total(counts.by_status[s] for s in statuses) if statuses else None
    if total is None:  # no status chosen, or one not counted: what the page counts
        filterset = JobFilterSet(_filter_data(params), queryset=scope)
        total = counts.total if not statuses else job_selectors.count_bounded(filterset.qs)
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
    nav = _nav(request, query.get("project"))
    if nav.current is None:
        raise Http404("no project")
    if not nav.can_operate:
        message = f"You need the operator role in project {nav.current.name} to {verb} jobs."
        return _refuse(request, message, 403)
    return nav


def _matching(
    request: HttpRequest, nav: Nav, query: QueryDict, nothing: str
) -> QuerySet[Job] | HttpResponse:
    """The project's jobs the list's filters in ``query`` select, in the list's order; a 400
    naming what was not done when a filter is invalid."""
    try:
        jobs = job_selectors.job_list_filtered(user=request.user, data=_filter_data(query))
    except InvalidInput:
        return _refuse(request, f"The filters are not valid; nothing was {nothing}.", 400)
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
            return _refuse(request, "No job was selected.", 400)
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
    nav = _nav(request, request.GET.get("project"))
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
    }


def _file_index(request: HttpRequest) -> int | None:
    """The ``file`` parameter of the failed lines (None: every file; nonsense is ignored)."""
    value = _int(request.GET.get("file", ""), -1)
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
    page = min(max(1, _int(request.GET.get("page"), 1)), pages)
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
    job = _job_or_404(request, job_id)
    nav = _nav_for_project(request, job.project)
    from jobcenter.dashboard.analytics import analytics_detail_context

    context = _detail_context(request, job, nav)
    if job.type == JobType.IMPORT:  # the only jobs whose page shows failed lines
        context.update(_failed_lines_context(request, job, context["files"]))
    context.update(analytics_detail_context(request, job))
    return _page(request, "dashboard/job_detail.html", context, nav)


@login_required
@require_GET
def job_detail_live(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_404(request, job_id)
    nav = _nav_for_project(request, job.project)
    context = _detail_context(request, job, nav)
    response = render(request, "dashboard/job_detail.html#live", context)
    if job.type == JobType.IMPORT:
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
    job = _job_or_404(request, job_id)
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
    job = _job_or_404(request, job_id)
    file_index = _file_index(request)
    qs = job_selectors.job_failed_lines(job=job, file_index=file_index)
    kept, failed = job_selectors.failed_lines_kept(job=job, file_index=file_index)
    name = failed_lines_filename(job.pk, file_index, kept=kept, failed=failed)
    return csv_download(failed_lines_csv(qs), name)


@login_required
@require_POST
def job_cancel(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_404(request, job_id)
    try:
        job = job_services.job_cancel(job=job, user=request.user)
    except ServiceError as exc:
        return _service_error(request, exc)
    if not request.htmx:
        messages.success(request, f"Cancel requested for job {job.pk}.")
        return redirect(_safe_next(request, reverse("dashboard:job_detail", args=[job.pk])))
    job = job_selectors.job_get(user=request.user, job_id=job.pk)
    nav = _nav_for_project(request, job.project)
    if request.POST.get("view") == "row":
        context = {"job": job, "can_operate": nav.can_operate}
        return render(request, "dashboard/job_list.html#job-row", context)
    return render(request, "dashboard/job_detail.html#live", _detail_context(request, job, nav))


@login_required
@require_POST
def job_retry(request: HttpRequest, job_id: str) -> HttpResponseBase:
    job = _job_or_404(request, job_id)
    try:
        new = job_services.job_retry(job=job, user=request.user)
    except ServiceError as exc:
        return _service_error(request, exc)
    url = reverse("dashboard:job_detail", args=[new.pk])
    messages.success(request, f"Retry submitted as job {new.pk}.")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


# --- submitting ------------------------------------------------------------------------------


def _no_role(request: HttpRequest, nav: Nav, what: str) -> HttpResponse:
    name = nav.current.name if nav.current else ""
    message = f"You need the operator role in project {name} to {what}."
    return _page(request, "dashboard/error.html", {"status": 403, "message": message}, nav, 403)


def _submit_import(form: ImportForm, user: Any) -> Job:
    data = form.cleaned_data
    graph = data.get("graph_obj")
    if graph is None:
        raise NotFound("choose a graph of this project", field="graph")
    fmt, source = data["format"], data["source"]
    if fmt == "ges":
        options = form.ges_options()
        if source == "upload":
            uploads = {
                "schema": [data["schema_file"]] if data.get("schema_file") else [],
                "vertices": data.get("vertex_files") or [],
                "edges": data.get("edge_files") or [],
            }
            uploads = {k: v for k, v in uploads.items() if v}
            return job_services.job_submit_import_upload(
                graph=graph, fmt="ges", uploads=uploads, options=options, user=user
            )
        request = {
            key: data[key]
            for key in ("schema_path", "vertexset_path", "edgeset_path")
            if data.get(key)
        }
        request.update(options)
        return job_services.job_submit_import(
            graph=graph, params={"format": "ges", "request": request}, user=user
        )
    if source == "upload":
        return job_services.job_submit_import_upload(
            graph=graph,
            fmt="graphscope",
            uploads={"files": data["data_files"]},
            options=data["mapping"],
            user=user,
        )
    return job_services.job_submit_import(
        graph=graph, params={"format": "graphscope", "mapping": data["mapping"]}, user=user
    )


@login_required
def import_create(request: HttpRequest) -> HttpResponseBase:
    nav = _nav(request)
    if nav.current is None:
        return _page(request, "dashboard/no_project.html", {}, nav)
    if not nav.can_operate:
        return _no_role(request, nav, "start imports")
    graphs = list(
        graph_list_selector(user=request.user, project=nav.current)
        .filter(status=GraphStatus.READY)
        .order_by("name")
    )
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES, graphs=graphs)
        if form.is_valid():
            try:
                job = _submit_import(form, request.user)
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                url = reverse("dashboard:job_detail", args=[job.pk])
                messages.success(request, "Import submitted.")
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        status = 422
    else:
        form = ImportForm(
            initial={"graph": request.GET.get("graph", ""), **_format_for(graphs, request)},
            graphs=graphs,
        )
    context = {"form": form, "graphs": graphs}
    if _partial(request) and request.method == "POST":
        return render(request, "dashboard/import_form.html#import-form", context, status=status)
    return _page(request, "dashboard/import_form.html", context, nav, status)


def _format_for(graphs: list[Graph], request: HttpRequest) -> dict[str, str]:
    graph = next((g for g in graphs if g.pk == request.GET.get("graph")), None)
    return {"format": graph.dialect} if graph is not None else {}


@login_required
@require_GET
def graph_list(request: HttpRequest) -> HttpResponse:
    nav = _nav(request)
    if nav.current is None:
        return _page(request, "dashboard/no_project.html", {}, nav)
    graphs = list(
        graph_list_selector(user=request.user, project=nav.current)
        .select_related("created_by")
        .order_by("name")
    )
    for graph in graphs:
        labels = (graph.schema or {}).get("labels") or []
        graph.label_count = len(labels)
    return _page(
        request,
        "dashboard/graph_list.html",
        {"graphs": graphs, "can_operate": nav.can_operate},
        nav,
    )


@login_required
def graph_create(request: HttpRequest) -> HttpResponseBase:
    nav = _nav(request)
    if nav.current is None:
        return _page(request, "dashboard/no_project.html", {}, nav)
    if not nav.can_operate:
        return _no_role(request, nav, "create graphs")
    status = 200
    if request.method == "POST":
        form = GraphForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                schema = graph_services.graph_schema_parse(
                    dialect=data["dialect"], source=data.get("schema_source")
                )
                graph = graph_services.graph_create(
                    project=nav.current,
                    name=data["name"],
                    dialect=data["dialect"],
                    schema=schema,
                    description=data.get("description", ""),
                    user=request.user,
                )
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                messages.success(request, f"Graph {graph.name} created. Import data into it now.")
                url = f"{reverse('dashboard:import_create')}?graph={graph.pk}"
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        status = 422
    else:
        form = GraphForm()
    context = {"form": form}
    if _partial(request) and request.method == "POST":
        return render(request, "dashboard/graph_form.html#graph-form", context, status=status)
    return _page(request, "dashboard/graph_form.html", context, nav, status)


@login_required
@require_POST
def graph_delete(request: HttpRequest, graph_id: str) -> HttpResponseBase:
    if not valid_id(graph_id):
        raise Http404("graph not found")
    graph = graph_list_selector(user=request.user).filter(pk=graph_id).first()
    if graph is None:
        raise Http404("graph not found")
    try:
        job = job_services.graph_delete_submit(graph=graph, user=request.user)
    except ServiceError as exc:
        return _service_error(request, exc)
    url = reverse("dashboard:job_detail", args=[job.pk])
    messages.success(request, f"Deleting graph {graph.name}.")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


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


@login_required
@require_POST
def project_switch(request: HttpRequest) -> HttpResponseBase:
    nav = _nav(request, request.POST.get("project") or None)
    url = _safe_next(request, reverse("dashboard:job_list"))
    # The job list names its project in the URL, and a job page belongs to the old project:
    # both go to the new project's job list; other pages (graphs, forms) stay where they are.
    path = urlsplit(url).path
    list_path = reverse("dashboard:job_list")
    if nav.current is not None and (path == list_path or path.startswith(f"{list_path}jobs/")):
        url = f"{list_path}?{urlencode({'project': nav.current.name})}"
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


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
    return _refuse(
        request,
        "Your session has expired or the form is stale: reload the page and try again.",
        403,
    )
