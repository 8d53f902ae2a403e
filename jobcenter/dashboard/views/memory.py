"""A graph in the workers' memory: the start and close buttons of a graph's page (each a job,
jobs.kinds.start_graph and close_graph)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponseBase
from django.views.decorators.http import require_POST

from jobcenter.core.errors import ServiceError
from jobcenter.dashboard.common import graph_or_404, operator_refusal, service_error, submitted
from jobcenter.jobs.kinds.close_graph import job_submit_close_graph
from jobcenter.jobs.kinds.start_graph import job_submit_start_graph

ACTIONS = {
    "start": (job_submit_start_graph, "Starting graph {}: loading it into the workers' memory."),
    "close": (job_submit_close_graph, "Closing graph {}: releasing it from the workers' memory."),
}


@login_required
@require_POST
def graph_memory(request: HttpRequest, graph_id: str, action: str) -> HttpResponseBase:
    graph = graph_or_404(request, graph_id)
    if action not in ACTIONS:
        raise Http404("no such action")
    if refusal := operator_refusal(request, graph.project, f"{action} graphs"):
        return refusal
    submit, message = ACTIONS[action]
    try:
        job = submit(graph=graph, user=request.user)
    except ServiceError as exc:
        return service_error(request, exc)
    return submitted(request, job, message.format(graph.name))
