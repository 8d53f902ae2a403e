"""The import form: GES or GraphScope, files on the server or uploaded."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import HttpResponseClientRedirect

from jobcenter.core.errors import NotFound, ServiceError
from jobcenter.dashboard.common import is_partial, no_role, render_page
from jobcenter.dashboard.forms.imports import ImportForm
from jobcenter.dashboard.nav import current_nav
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.models import Graph
from jobcenter.graphs.selectors import graph_list as graph_list_selector
from jobcenter.jobs import services as job_services
from jobcenter.jobs.models import Job


def _submit_import(form: ImportForm, user: Any) -> Job:
    data = form.cleaned_data
    graph = data.get("graph_obj")
    if graph is None:
        raise NotFound("choose a graph of this project", field="graph")
    return job_services.job_submit_import_request(
        graph=graph,
        request=form.import_request(),
        user=user,
        dry_run=bool(data.get("dry_run")),
    )


@login_required
def import_create(request: HttpRequest) -> HttpResponseBase:
    nav = current_nav(request)
    if nav.current is None:
        return render_page(request, "dashboard/no_project.html", {}, nav)
    if not nav.can_operate:
        return no_role(request, nav, "start imports")
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
                messages.success(
                    request, "Dry run submitted." if job.dry_run else "Import submitted."
                )
                return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
        status = 422
    else:
        form = ImportForm(
            initial={"graph": request.GET.get("graph", ""), **_format_for(graphs, request)},
            graphs=graphs,
        )
    context = {"form": form, "graphs": graphs}
    if is_partial(request) and request.method == "POST":
        return render(request, "dashboard/import_form.html#import-form", context, status=status)
    return render_page(request, "dashboard/import_form.html", context, nav, status)


def _format_for(graphs: list[Graph], request: HttpRequest) -> dict[str, str]:
    graph = next((g for g in graphs if g.pk == request.GET.get("graph")), None)
    return {"format": graph.dialect} if graph is not None else {}
