"""What every kind's submit service shares: the role check, the graph's state, and creating a
job with its ``submitted`` event and its engine task in one transaction.

Submission side only: nothing here imports the worker (runner, transitions, kinds' handlers).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from jobcenter.core.errors import InvalidState, PermissionDenied
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.models import Graph
from jobcenter.jobs.chains import dependencies_record
from jobcenter.jobs.choices import EventKind
from jobcenter.jobs.dispatch import dispatch, record_event
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import kind_for
from jobcenter.projects.choices import Role
from jobcenter.projects.selectors import user_has_role


def require_role(user: AbstractBaseUser | None, project: Any, role: Role) -> None:
    if user is not None and not user_has_role(user=user, project=project, role=role):
        raise PermissionDenied(f"you need the {role.label.lower()} role in project {project.name}")


def require_ready(graph: Graph, user: AbstractBaseUser | None) -> None:
    """An operator of the graph's project, on a graph that is not being deleted."""
    require_role(user, graph.project, Role.OPERATOR)
    if graph.status != GraphStatus.READY:
        raise InvalidState(f"graph {graph.name!r} is being deleted", field="graph")


def submit_graph_job(
    *,
    graph: Graph | None,
    project: Any,
    type: str,
    name: str,
    params: dict[str, Any],
    request: dict[str, Any],
    user: AbstractBaseUser | None,
    dialect: str,
    graph_name: str | None = None,
    require_ready: bool = True,
    retry_of: Job | None = None,
) -> Job:
    """Create a job of a registered kind (cancellable as its kind says) and queue it, unless
    it was submitted inside ``chains.waiting_for`` and must wait for other jobs first."""
    kind = kind_for(type)
    if kind is None:
        raise LookupError(f"no job kind {type!r} is registered")
    with transaction.atomic():
        if (
            graph is not None
            and require_ready
            and not Graph.objects.filter(pk=graph.pk, status=GraphStatus.READY).exists()
        ):
            raise InvalidState(f"graph {graph.name!r} is being deleted", field="graph")
        job = Job.objects.create(
            type=type,
            name=name,
            project=project,
            graph=graph,
            graph_name=graph_name if graph_name is not None else (graph.name if graph else ""),
            dialect=dialect,
            request=request,
            params=params,
            cancellable=kind.cancellable,
            submitted_by=user,
            retry_of=retry_of,
        )
        waits = dependencies_record(job)
        record_event(job.id, EventKind.SUBMITTED, actor=user)
        if not waits:
            dispatch(job)
    return job


def graph_schema(graph: Graph) -> Any:
    """The graph's schema (``GraphSchema``), or ``None`` before its first import."""
    from jobcenter.graphs.schema import GraphSchema

    return GraphSchema.from_dict(graph.schema) if graph.schema else None


def retry_graph(job: Job) -> Graph:
    """The graph a retry of ``job`` runs on; InvalidState when it is gone."""
    if job.graph is None:
        raise InvalidState(f"the graph of job {job.pk} no longer exists")
    return job.graph


def retry_common(job: Job, user: AbstractBaseUser | None) -> dict[str, Any]:
    """The keyword arguments every kind's submit service takes again on a retry."""
    return {
        "user": user,
        "dialect": job.dialect,
        "request": job.request,
        "name": job.name,
        "retry_of": job,
    }
