"""The dashboard's views of the analytics jobs (issue 6): a graph's page with its indexes and
operations, the algorithm and query forms, and a job's result (paged table, CSV, export).

Thin adapters like the rest of the dashboard (see views.py): forms shape input, the services in
jobcenter.jobs.services validate and submit it (the same checks as the REST API, roles
included), selectors read. Forms with errors answer 422 with the form re-rendered and every
error next to its field; a refusal answers 403/404/409 with a toast for htmx.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from jobcenter.core.errors import NotFound, ServiceError
from jobcenter.core.exports import export_display
from jobcenter.dashboard.forms import (
    PREDICATE_SYMBOLS,
    AlgorithmForm,
    GraphPathForm,
    IndexForm,
    QueryForm,
    algorithm_title,
    param_ui,
)
from jobcenter.dashboard.templatetags.dashboard import cell, full_value
from jobcenter.dashboard.views import (
    POLL_SECONDS,
    _detail_context,
    _int,
    _job_or_404,
    _nav_for_project,
    _no_role,
    _page,
    _partial,
    _refuse,
    _service_error,
    valid_id,
)
from jobcenter.graphs.algorithms import ALGORITHMS
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.models import Graph
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.selectors import graph_get_by_id, graph_index_list
from jobcenter.jobs import selectors as job_selectors
from jobcenter.jobs import services as job_services
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.downloads import csv_download, result_csv, result_filename
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import PROPERTY_PREFIX

RESULT_PER_PAGE = 50
RESULT_TYPES = (JobType.ALGORITHM, JobType.QUERY)
# The operations a graph's page offers besides delete (which has its own view), with what
# their path field asks for.
PATH_OPERATIONS = {
    "export": (
        "Export folder",
        "A new folder under the export root: schema.xml, vertex.csv, edge.csv.",
    ),
    "backup": ("Backup file", "A new file under the export root."),
    "restore": ("Backup to restore", "A backup file under the export or import roots."),
}


def _graph_or_404(request: HttpRequest, graph_id: str) -> Graph:
    if not valid_id(graph_id):
        raise Http404("graph not found")
    try:
        return graph_get_by_id(user=request.user, graph_id=graph_id)
    except NotFound as exc:
        raise Http404(exc.message) from None


def _operator_refusal(request: HttpRequest, project: Any, what: str) -> HttpResponse | None:
    """A 403 for a user who may not change anything in ``project`` (checked before the form,
    so a viewer's forged request is refused whatever it holds; the services check again)."""
    if _nav_for_project(request, project).can_operate:
        return None
    return _refuse(request, f"You need the operator role in project {project.name} to {what}.", 403)


def _submitted(request: HttpRequest, job: Job, message: str) -> HttpResponseBase:
    messages.success(request, message)
    url = reverse("dashboard:job_detail", args=[job.pk])
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _schema_labels(graph: Graph) -> list[dict[str, Any]]:
    schema = GraphSchema.from_dict(graph.schema) if graph.schema else None
    if schema is None:
        return []
    return [
        {
            "name": label.name,
            "kind": label.kind,
            "properties": [(p.name, p.describe()) for p in label.properties],
        }
        for label in schema.labels
    ]


# --- a graph's page ----------------------------------------------------------------------------


def _path_forms(data: Any = None, only: str | None = None) -> dict[str, GraphPathForm]:
    return {
        name: GraphPathForm(
            data if name == only else None, prefix=name, label=label, help_text=help_text
        )
        for name, (label, help_text) in PATH_OPERATIONS.items()
    }


def _graph_context(request: HttpRequest, graph: Graph, **forms: Any) -> dict[str, Any]:
    nav = _nav_for_project(request, graph.project)
    recent = list(
        job_selectors.job_list(user=request.user).filter(graph=graph).order_by("-created_at")[:8]
    )
    return {
        "graph": graph,
        "labels": _schema_labels(graph),
        "indexes": graph_index_list(graph=graph),
        "index_form": forms.get("index_form") or IndexForm(graph=graph),
        "path_forms": forms.get("path_forms") or _path_forms(),
        "can_operate": nav.can_operate,
        "ready": graph.status == GraphStatus.READY,
        "recent": recent,
        "nav": nav,
    }


@login_required
@require_GET
def graph_detail(request: HttpRequest, graph_id: str) -> HttpResponse:
    graph = _graph_or_404(request, graph_id)
    context = _graph_context(request, graph)
    return _page(request, "dashboard/graph_detail.html", context, context.pop("nav"))


@login_required
@require_POST
def index_create(request: HttpRequest, graph_id: str) -> HttpResponseBase:
    graph = _graph_or_404(request, graph_id)
    if refusal := _operator_refusal(request, graph.project, "build indexes"):
        return refusal
    form = IndexForm(request.POST, graph=graph)
    if form.is_valid():
        label, prop = form.label_property()
        try:
            job = job_services.job_submit_index(
                graph=graph,
                target=form.cleaned_data["target"],
                label=label,
                property=prop,
                user=request.user,
            )
        except ServiceError as exc:
            if exc.field not in ("label", "property", "target"):
                return _service_error(request, exc)
            form.add_service_error(exc)
        else:
            return _submitted(request, job, f"Index on {label}.{prop} submitted.")
    context = _graph_context(request, graph, index_form=form)
    if _partial(request):
        return render(request, "dashboard/graph_detail.html#index-form", context, status=422)
    return _page(request, "dashboard/graph_detail.html", context, context.pop("nav"), 422)


@login_required
@require_POST
def graph_operation(request: HttpRequest, graph_id: str) -> HttpResponseBase:
    """Export, back up, restore or clear a graph (each a job); delete has its own view."""
    graph = _graph_or_404(request, graph_id)
    if refusal := _operator_refusal(request, graph.project, "change graphs"):
        return refusal
    operation = request.POST.get("operation", "")
    if operation == "clear":
        try:
            job = job_services.job_submit_graph_operation(
                graph=graph, operation="clear", user=request.user
            )
        except ServiceError as exc:
            return _service_error(request, exc)
        return _submitted(request, job, f"Clearing graph {graph.name}.")
    if operation not in PATH_OPERATIONS:
        return _service_error(request, NotFound(f"there is no graph operation {operation[:40]!r}"))
    path_forms = _path_forms(request.POST, only=operation)
    form = path_forms[operation]
    if form.is_valid():
        path = form.cleaned_data["path"]
        try:
            if operation == "export":
                job = job_services.job_submit_export(
                    graph=graph, path=path, format="ges", user=request.user
                )
            else:
                job = job_services.job_submit_graph_operation(
                    graph=graph, operation=operation, path=path, user=request.user
                )
        except ServiceError as exc:
            if exc.field != "path":
                return _service_error(request, exc)
            form.add_service_error(exc)
        else:
            words = {"export": "Export", "backup": "Backup", "restore": "Restore"}
            return _submitted(request, job, f"{words[operation]} of graph {graph.name} submitted.")
    context = _graph_context(request, graph, path_forms=path_forms)
    context["open_operation"] = operation
    if _partial(request):
        return render(request, "dashboard/graph_detail.html#operations", context, status=422)
    return _page(request, "dashboard/graph_detail.html", context, context.pop("nav"), 422)


# --- algorithm and query forms -----------------------------------------------------------------


def _analysis_page(
    request: HttpRequest,
    graph: Graph,
    *,
    template: str,
    partial: str,
    form: Any,
    status: int,
) -> HttpResponse:
    nav = _nav_for_project(request, graph.project)
    context = {"graph": graph, "form": form, "poll_seconds": POLL_SECONDS}
    if _partial(request) and request.method == "POST":
        return render(request, f"{template}#{partial}", context, status=status)
    return _page(request, template, context, nav, status)


def _operable_graph(request: HttpRequest, graph_id: str, what: str) -> Graph | HttpResponse:
    graph = _graph_or_404(request, graph_id)
    nav = _nav_for_project(request, graph.project)
    if not nav.can_operate:
        return _no_role(request, nav, what)
    return graph


@login_required
def algorithm_create(request: HttpRequest, graph_id: str) -> HttpResponseBase:
    graph = _operable_graph(request, graph_id, "run algorithms")
    if isinstance(graph, HttpResponse):
        return graph
    status = 200
    if request.method == "POST":
        form = AlgorithmForm(request.POST, graph=graph)
        if form.is_valid():
            try:
                job = job_services.job_submit_algorithm(
                    graph=graph,
                    algorithm=form.cleaned_data["algorithm"],
                    parameters=form.parameters(),
                    user=request.user,
                )
            except ServiceError as exc:
                form.add_service_error(exc)
            else:
                title = algorithm_title(form.cleaned_data["algorithm"])
                return _submitted(request, job, f"{title} submitted.")
        status = 422
    else:
        wanted = request.GET.get("algorithm", "")
        form = AlgorithmForm(
            initial={"algorithm": wanted if wanted in ALGORITHMS else "pagerank"}, graph=graph
        )
    return _analysis_page(
        request,
        graph,
        template="dashboard/algorithm_form.html",
        partial="algorithm-form",
        form=form,
        status=status,
    )


def _query_rows(request: HttpRequest) -> tuple[int, str]:
    """How many filter rows the form shows, and what the add/remove buttons asked for."""
    rows = _int(request.POST.get("rows"), 1)
    action = request.POST.get("action", "")
    if action == "add":
        rows += 1
    return rows, action


@login_required
def query_create(request: HttpRequest, graph_id: str) -> HttpResponseBase:
    graph = _operable_graph(request, graph_id, "query graphs")
    if isinstance(graph, HttpResponse):
        return graph
    status = 200
    if request.method == "POST":
        rows, action = _query_rows(request)
        data = request.POST
        if action.startswith("remove-"):
            data = _without_row(request.POST, _int(action[7:], -1), rows)
            rows -= 1
        if action:
            # Adding or removing a condition only redraws the form, with what was typed.
            typed = _typed_values(QueryForm(data, graph=graph, rows=rows))
            form = QueryForm(graph=graph, rows=rows, initial=typed)
        else:
            form = QueryForm(data, graph=graph, rows=rows)
            if form.is_valid():
                try:
                    job = job_services.job_submit_query(
                        graph=graph, query=form.query(), user=request.user
                    )
                except ServiceError as exc:
                    form.add_service_error(exc)
                else:
                    return _submitted(request, job, "Query submitted.")
            status = 422
    else:
        form = QueryForm(graph=graph)
    return _analysis_page(
        request,
        graph,
        template="dashboard/query_form.html",
        partial="query-form",
        form=form,
        status=status,
    )


def _without_row(data: Any, gone: int, rows: int) -> Any:
    """The submitted data with filter row ``gone`` taken out (later rows move up one)."""
    copy = data.copy()
    if not 0 <= gone < rows:
        return copy
    for i in range(gone, rows):
        for part in ("property", "op", "value", "value2"):
            later = data.get(f"f{i + 1}-{part}")
            if later is None or i + 1 >= rows:
                copy.pop(f"f{i}-{part}", None)
            else:
                copy[f"f{i}-{part}"] = later
    return copy


def _typed_values(form: QueryForm) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, field in form.fields.items():
        raw = field.widget.value_from_datadict(form.data, form.files, form.add_prefix(name))
        if raw not in (None, "", []):
            values[name] = raw
    return values


# --- a job's result ----------------------------------------------------------------------------


def _flat_outputs(outputs: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Summary figures as (name, value) pairs; nested objects as "in_degree mean"."""
    if not isinstance(outputs, dict):
        return []
    pairs: list[tuple[str, Any]] = []
    for key, value in outputs.items():
        name = f"{prefix}{key}".replace("_", " ")
        if isinstance(value, dict):
            pairs.extend(_flat_outputs(value, f"{prefix}{key} "))
        else:
            pairs.append((name, value))
    return pairs


def _graph_source(result: Any) -> list[tuple[str, Any]]:
    """Where an algorithm job found its graph: in the worker's memory, or read from the store
    (which is what makes a first job on a graph slower)."""
    if not isinstance(result, dict) or "graph_loaded_from" not in result:
        return []
    if result["graph_loaded_from"] == "memory":
        return [("graph", "in the worker's memory")]
    return [("graph", f"read from the store in {result.get('seconds_loading', 0):.2f} s")]


def figure(value: Any) -> str:
    """A computed number for people: thousands separated, four significant digits for
    fractions (0.1235, 3.142, 1.235e-05), whole numbers whole (1,234,567); anything else as
    :func:`cell` shows it."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return cell(value)
    if isinstance(value, int):
        return f"{value:,}"
    if not math.isfinite(value):
        return cell(value)
    size = abs(value)
    if size >= 1e15 or (0 < size < 1e-4):
        return f"{value:.4g}"
    if value.is_integer():
        return f"{value:,.0f}"
    if size >= 1000:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def _figures(pairs: list[tuple[str, Any]]) -> list[tuple[str, dict[str, str]]]:
    """Summary figures as shown (``text``) and whole (``title``)."""
    return [(name, {"text": figure(value), "title": full_value(value)}) for name, value in pairs]


def _cell(column: str, value: Any, *, computed: bool = True) -> dict[str, Any]:
    """A table cell: computed numbers (scores, counts, distances) formatted by
    :func:`figure`; a graph's own property values as stored (an int may be a year or a code)."""
    text, whole = (figure(value) if computed else cell(value)), full_value(value)
    number = isinstance(value, int | float) and not isinstance(value, bool)
    return {"column": column, "text": text, "title": whole if whole != text else "", "num": number}


# Result columns naming a vertex or an edge (the others are computed numbers).
IDENTITY_COLUMNS = ("id", "label", "source", "target")
# Result columns that rank vertices: shown highest first unless the user sorts otherwise, and
# sorted highest first by a first click on their header.
SCORE_COLUMNS = ("pagerank", "triangles", "coreness", "degree", "in_degree", "out_degree")
# Otherwise an algorithm's result is shown in this order of its first column found here (the
# nearest first for distances), and a query's in its own order (the query's sort).
DEFAULT_SORT = ("-pagerank", "-triangles", "-coreness", "-degree", "distance")
NUMERIC_FIRST_CLICK = (*SCORE_COLUMNS,)


def _result_sort(request: HttpRequest, job: Job, reader: Any) -> tuple[str, bool] | None:
    """The column (and whether highest first) the result is shown sorted by: ``?rsort=`` (e.g.
    ``-pagerank``, ``properties.Age``) when the result can be sorted by it, else an algorithm's
    default (DEFAULT_SORT); None: the result's own order."""
    wanted = request.GET.get("rsort", "")
    candidates = [wanted] if wanted else []
    if job.type == JobType.ALGORITHM:
        candidates += DEFAULT_SORT
    for candidate in candidates:
        column = candidate.removeprefix("-")
        if column and reader.sortable(column):
            return column, candidate.startswith("-")
    return None


def _sort_headers(
    job: Job, columns: list[str], properties: list[str], sort: tuple[str, bool] | None
) -> list[dict[str, Any]]:
    """Each column's header: a link sorting the whole result by it (a second click
    reverses), with ``aria-sort`` on the one sorted by."""
    detail = reverse("dashboard:job_detail", args=[job.pk])
    partial = reverse("dashboard:job_result", args=[job.pk])
    headers = []
    for label, key, prop in [(c, c, False) for c in columns] + [
        (p, f"{PROPERTY_PREFIX}{p}", True) for p in properties
    ]:
        if sort is not None and sort[0] == key:
            aria = "descending" if sort[1] else "ascending"
            next_sort = key if sort[1] else f"-{key}"
        else:
            aria = ""
            next_sort = f"-{key}" if key in NUMERIC_FIRST_CLICK else key
        query = urlencode({"rsort": next_sort})
        direction = "highest first" if next_sort.startswith("-") else "lowest first"
        headers.append(
            {
                "label": label,
                "aria": aria,
                "href": f"{detail}?{query}#result",
                "hx": f"{partial}?{query}",
                "hint": f"Sort every row by {label}, {direction}",
                "prop": prop,
                "num": not prop and key not in IDENTITY_COLUMNS,
            }
        )
    return headers


def result_context(request: HttpRequest, job: Job) -> dict[str, Any]:
    """The result card of an algorithm or query job: one page of rows (properties spread
    into columns), the summary figures, paging; or why there is no result (yet)."""
    res: dict[str, Any] = {"state": "none", "per_page": RESULT_PER_PAGE}
    if job.is_active:
        res["state"] = "pending"
        return {"res": res}
    if job.type not in RESULT_TYPES:
        if job.status == JobStatus.SUCCEEDED and isinstance(job.result, dict):
            res.update(state="summary", outputs=_figures(_flat_outputs(job.result)))
        return {"res": res}
    if job.status != JobStatus.SUCCEEDED:
        return {"res": res}
    try:
        reader = job_selectors.job_result_reader(job=job)
    except NotFound as exc:
        res.update(state="missing", message=exc.message)
        return {"res": res}
    with reader:
        total = reader.total
        pages = max(1, math.ceil(total / RESULT_PER_PAGE))
        page = min(max(1, _int(request.GET.get("rpage"), 1)), pages)
        offset = (page - 1) * RESULT_PER_PAGE
        sort = _result_sort(request, job, reader)
        chunk = reader.page(
            offset=offset,
            limit=RESULT_PER_PAGE,
            sort=sort[0] if sort else None,
            descending=bool(sort and sort[1]),
        )
    base = [c for c in chunk.columns if c != "properties"]
    extra: list[str] = []
    if "properties" in chunk.columns:
        for row in chunk.rows:
            for key in row.get("properties") or {}:
                if key not in extra and key not in base:
                    extra.append(key)
        # the property sorted by stays a column on a page whose rows lack it
        if sort and sort[0].startswith(PROPERTY_PREFIX):
            name = sort[0][len(PROPERTY_PREFIX) :]
            if name not in extra and name not in base:
                extra.append(name)
    rows = [
        {
            "number": offset + n,
            "cells": [_cell(c, row.get(c), computed=c not in IDENTITY_COLUMNS) for c in base]
            + [_cell(k, (row.get("properties") or {}).get(k), computed=False) for k in extra],
        }
        for n, row in enumerate(chunk.rows, start=1)
    ]
    result = job.result if isinstance(job.result, dict) else {}
    matched = result.get("matched") if job.type == JobType.QUERY else None
    res.update(
        state="rows",
        kind=chunk.kind,
        columns=base,
        property_columns=extra,
        headers=_sort_headers(job, base, extra, sort),
        sort_query=f"&rsort={'-' if sort[1] else ''}{sort[0]}" if sort else "",
        sorted_by=sort[0].removeprefix(PROPERTY_PREFIX) if sort else "",
        sorted_desc=bool(sort and sort[1]),
        rows=rows,
        outputs=_figures(_flat_outputs(chunk.outputs) + _graph_source(job.result)),
        total=total,
        matched=matched if isinstance(matched, int) and not isinstance(matched, bool) else None,
        page=page,
        pages=pages,
        first=offset + 1 if rows else 0,
        last=offset + len(rows),
    )
    return {"res": res}


@login_required
@require_GET
def job_result(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_404(request, job_id)
    if not request.htmx:
        page = _int(request.GET.get("rpage"), 1)
        url = reverse("dashboard:job_detail", args=[job.pk])
        return redirect(f"{url}?rpage={max(1, page)}#result")
    nav = _nav_for_project(request, job.project)
    context = {
        "job": job,
        "can_operate": nav.can_operate,
        "result_path_form": GraphPathForm(prefix="result", label="CSV file"),
        **result_context(request, job),
    }
    return render(request, "dashboard/job_detail.html#result", context)


@login_required
@require_GET
def job_result_csv(request: HttpRequest, job_id: str) -> HttpResponse:
    job = _job_or_404(request, job_id)
    try:
        reader = job_selectors.job_result_reader(job=job)
    except NotFound as exc:
        raise Http404(exc.message) from None

    return csv_download(result_csv(reader), result_filename(job.pk))


@login_required
@require_POST
def job_result_export(request: HttpRequest, job_id: str) -> HttpResponseBase:
    """Write a finished job's result as one CSV file under the export root (a job)."""
    job = _job_or_404(request, job_id)
    if refusal := _operator_refusal(request, job.project, "export results"):
        return refusal
    form = GraphPathForm(request.POST, prefix="result", label="CSV file")
    if form.is_valid():
        try:
            export = job_services.job_submit_export(
                source_job=job, path=form.cleaned_data["path"], user=request.user
            )
        except ServiceError as exc:
            if exc.field != "path":
                return _service_error(request, exc)
            form.add_service_error(exc)
        else:
            return _submitted(request, export, "Export of the result submitted.")
    nav = _nav_for_project(request, job.project)
    context: dict[str, Any] = {"job": job, "can_operate": nav.can_operate}
    if _partial(request):
        context.update(result_context(request, job))
    else:  # the whole page, its result section included
        context.update(_detail_context(request, job, nav))
        context.update(analytics_detail_context(request, job))
    context["result_path_form"] = form
    template = "dashboard/job_detail.html#result" if _partial(request) else None
    if template:
        return render(request, template, context, status=422)
    return _page(request, "dashboard/job_detail.html", context, nav, 422)


# --- what a job was asked to do ----------------------------------------------------------------


def _shown(value: Any, none: str = "—") -> str:
    if value is None or value == "":
        return none
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value) or none
    return str(value)


def job_parameters(job: Job) -> list[tuple[str, str]]:
    """What an analytics job was asked to do, for people: (label, value) pairs from its
    normalised parameters (defaults filled in by the service)."""
    params = job.params if isinstance(job.params, dict) else {}
    pairs: list[tuple[str, str]] = []
    if job.type == JobType.ALGORITHM:
        name = params.get("algorithm", "")
        pairs.append(("Algorithm", algorithm_title(name)))
        for key, value in (params.get("parameters") or {}).items():
            if key.endswith("_label") and value is None:
                continue  # no vertex type was needed
            none = {
                "weight": "none (hops)",
                "source_label": "any type",
                "target_label": "any type",
            }.get(key, "—")
            pairs.append((param_ui(key).label, _shown(value, none)))
    elif job.type == JobType.QUERY:
        query = params.get("query") or {}
        pairs.append(("Find", _shown(query.get("target"))))
        pairs.append(("Labels", _shown(query.get("labels"), "every label")))
        for i, item in enumerate(query.get("filters") or [], start=1):
            op = item.get("predicate", "")
            values = item.get("values") or []
            if op == "range" and len(values) == 2:
                text = f"{item.get('property')} from {values[0]} to {values[1]}"
            elif op == "in":
                text = f"{item.get('property')} in {', '.join(str(v) for v in values)}"
            else:
                shown = values[0] if values else ""
                text = f"{item.get('property')} {PREDICATE_SYMBOLS.get(op, op)} {shown}"
            pairs.append((f"Condition {i}", text))
        for item in query.get("sort") or []:
            order = "descending" if item.get("order") == "desc" else "ascending"
            pairs.append(("Sort by", f"{item.get('property')}, {order}"))
        pairs.append(("Offset", _shown(query.get("offset"), "0")))
        pairs.append(("Limit", _shown(query.get("limit"), "none")))
    elif job.type == JobType.INDEX:
        pairs.append(("Index on", f"{params.get('label')}.{params.get('property')}"))
        pairs.append(("Of", _shown(params.get("target"))))
    elif job.type == JobType.EXPORT:
        if params.get("source") == "result":
            pairs.append(("Result of job", _shown(params.get("job"))))
        else:
            pairs.append(("Format", "GES (schema.xml, vertex.csv, edge.csv)"))
        pairs.append(("To", _path_shown(params.get("path"))))
    elif job.type == JobType.GRAPH_OPERATION:
        pairs.append(("Operation", _shown(params.get("operation"))))
        if params.get("path"):
            pairs.append(("Path", _path_shown(params["path"])))
    return pairs


def _path_shown(path: Any) -> str:
    """A job's server path relative to its export or import root."""
    return export_display(Path(path)) if isinstance(path, str) and path else "—"


def analytics_detail_context(request: HttpRequest, job: Job) -> dict[str, Any]:
    """What the job page adds for an analytics job (nothing for an import)."""
    if job.type == JobType.IMPORT:
        return {"res": None, "parameters": []}
    return {
        "parameters": job_parameters(job),
        "result_path_form": GraphPathForm(prefix="result", label="CSV file"),
        **result_context(request, job),
    }


__all__ = [
    "algorithm_create",
    "analytics_detail_context",
    "graph_detail",
    "graph_operation",
    "index_create",
    "job_result",
    "job_result_csv",
    "job_result_export",
    "query_create",
]
