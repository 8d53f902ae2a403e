"""The algorithm and query forms of a graph (issue 6): each submits one job."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render

from jobcenter.core.errors import ServiceError
from jobcenter.dashboard.common import (
    POLL_SECONDS,
    graph_or_404,
    is_partial,
    no_role,
    render_page,
    submitted,
    to_int,
)
from jobcenter.dashboard.forms.algorithms import AlgorithmForm, algorithm_title
from jobcenter.dashboard.forms.queries import QueryForm
from jobcenter.dashboard.nav import nav_for_project
from jobcenter.graphs.algorithms import ALGORITHMS
from jobcenter.graphs.models import Graph
from jobcenter.jobs import services as job_services

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
    nav = nav_for_project(request, graph.project)
    context = {"graph": graph, "form": form, "poll_seconds": POLL_SECONDS}
    if is_partial(request) and request.method == "POST":
        return render(request, f"{template}#{partial}", context, status=status)
    return render_page(request, template, context, nav, status)


def _operable_graph(request: HttpRequest, graph_id: str, what: str) -> Graph | HttpResponse:
    graph = graph_or_404(request, graph_id)
    nav = nav_for_project(request, graph.project)
    if not nav.can_operate:
        return no_role(request, nav, what)
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
                return submitted(request, job, f"{title} submitted.")
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
    rows = to_int(request.POST.get("rows"), 1)
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
            data = _without_row(request.POST, to_int(action[7:], -1), rows)
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
                    return submitted(request, job, "Query submitted.")
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
