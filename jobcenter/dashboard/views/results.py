"""The result card of a job (issue 6): what an analytics job was asked to do, one sorted page
of its result (properties spread into columns), its summary figures, and the CSV download."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from jobcenter.core.errors import NotFound
from jobcenter.core.exports import export_display
from jobcenter.dashboard.common import job_or_404, to_int
from jobcenter.dashboard.forms.algorithms import algorithm_title, param_ui
from jobcenter.dashboard.forms.graphs import GraphPathForm
from jobcenter.dashboard.forms.queries import PREDICATE_SYMBOLS
from jobcenter.dashboard.nav import nav_for_project
from jobcenter.dashboard.templatetags.dashboard import cell, full_value
from jobcenter.jobs import selectors as job_selectors
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.downloads import csv_download, result_csv, result_filename
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import kind_of
from jobcenter.jobs.results import PROPERTY_PREFIX

RESULT_PER_PAGE = 50


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
    if not kind_of(job.type).result_rows:
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
        page = min(max(1, to_int(request.GET.get("rpage"), 1)), pages)
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
    job = job_or_404(request, job_id)
    if not request.htmx:
        page = to_int(request.GET.get("rpage"), 1)
        url = reverse("dashboard:job_detail", args=[job.pk])
        return redirect(f"{url}?rpage={max(1, page)}#result")
    nav = nav_for_project(request, job.project)
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
    job = job_or_404(request, job_id)
    try:
        reader = job_selectors.job_result_reader(job=job)
    except NotFound as exc:
        raise Http404(exc.message) from None

    return csv_download(result_csv(reader), result_filename(job.pk))


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
    if kind_of(job.type).loads_files:
        return {"res": None, "parameters": []}
    return {
        "parameters": job_parameters(job),
        "result_path_form": GraphPathForm(prefix="result", label="CSV file"),
        **result_context(request, job),
    }
