"""Graphs: the list, creating one, a graph's page (schema, indexes, recent jobs) and the jobs
started from it (index, export, backup, restore, clear, delete)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect

from jobcenter.core.errors import NotFound, ServiceError
from jobcenter.dashboard.common import (
    graph_or_404,
    is_partial,
    no_role,
    operator_refusal,
    render_page,
    service_error,
    submitted,
    valid_id,
)
from jobcenter.dashboard.forms.graphs import GraphForm, GraphPathForm, IndexForm
from jobcenter.dashboard.nav import current_nav, nav_for_project
from jobcenter.graphs import services as graph_services
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.models import Graph
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.selectors import graph_data_counts, graph_index_list
from jobcenter.graphs.selectors import graph_list as graph_list_selector
from jobcenter.jobs import selectors as job_selectors
from jobcenter.jobs import services as job_services
from jobcenter.jobs.insights import graph_last_imports

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
    nav = nav_for_project(request, graph.project)
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
    graph = graph_or_404(request, graph_id)
    context = _graph_context(request, graph)
    return render_page(request, "dashboard/graph_detail.html", context, context.pop("nav"))


@login_required
@require_POST
def index_create(request: HttpRequest, graph_id: str) -> HttpResponseBase:
    graph = graph_or_404(request, graph_id)
    if refusal := operator_refusal(request, graph.project, "build indexes"):
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
                return service_error(request, exc)
            form.add_service_error(exc)
        else:
            return submitted(request, job, f"Index on {label}.{prop} submitted.")
    context = _graph_context(request, graph, index_form=form)
    if is_partial(request):
        return render(request, "dashboard/graph_detail.html#index-form", context, status=422)
    return render_page(request, "dashboard/graph_detail.html", context, context.pop("nav"), 422)


@login_required
@require_POST
def graph_operation(request: HttpRequest, graph_id: str) -> HttpResponseBase:
    """Export, back up, restore or clear a graph (each a job); delete has its own view."""
    graph = graph_or_404(request, graph_id)
    if refusal := operator_refusal(request, graph.project, "change graphs"):
        return refusal
    operation = request.POST.get("operation", "")
    if operation == "clear":
        try:
            job = job_services.job_submit_graph_operation(
                graph=graph, operation="clear", user=request.user
            )
        except ServiceError as exc:
            return service_error(request, exc)
        return submitted(request, job, f"Clearing graph {graph.name}.")
    if operation not in PATH_OPERATIONS:
        return service_error(request, NotFound(f"there is no graph operation {operation[:40]!r}"))
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
                return service_error(request, exc)
            form.add_service_error(exc)
        else:
            words = {"export": "Export", "backup": "Backup", "restore": "Restore"}
            return submitted(request, job, f"{words[operation]} of graph {graph.name} submitted.")
    context = _graph_context(request, graph, path_forms=path_forms)
    context["open_operation"] = operation
    if is_partial(request):
        return render(request, "dashboard/graph_detail.html#operations", context, status=422)
    return render_page(request, "dashboard/graph_detail.html", context, context.pop("nav"), 422)


@login_required
@require_GET
def graph_list(request: HttpRequest) -> HttpResponse:
    nav = current_nav(request)
    if nav.current is None:
        return render_page(request, "dashboard/no_project.html", {}, nav)
    graphs = list(
        graph_list_selector(user=request.user, project=nav.current)
        .select_related("created_by")
        .order_by("name")
    )
    last_imports = graph_last_imports(graphs=graphs)
    for graph in graphs:
        labels = (graph.schema or {}).get("labels") or []
        graph.label_count = len(labels)
        graph.data_counts = graph_data_counts(graph=graph)
        graph.last_import = last_imports.get(graph.pk)
    return render_page(
        request,
        "dashboard/graph_list.html",
        {"graphs": graphs, "can_operate": nav.can_operate},
        nav,
    )


@login_required
def graph_create(request: HttpRequest) -> HttpResponseBase:
    nav = current_nav(request)
    if nav.current is None:
        return render_page(request, "dashboard/no_project.html", {}, nav)
    if not nav.can_operate:
        return no_role(request, nav, "create graphs")
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
    if is_partial(request) and request.method == "POST":
        return render(request, "dashboard/graph_form.html#graph-form", context, status=status)
    return render_page(request, "dashboard/graph_form.html", context, nav, status)


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
        return service_error(request, exc)
    url = reverse("dashboard:job_detail", args=[job.pk])
    messages.success(request, f"Deleting graph {graph.name}.")
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
