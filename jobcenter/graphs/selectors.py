"""Reads about graphs, always scoped to what a user may see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from jobcenter.core.errors import NotFound
from jobcenter.graphs.models import Graph
from jobcenter.projects.models import Project
from jobcenter.projects.selectors import project_list_for_user


def graph_list(
    *, user: AbstractBaseUser | AnonymousUser, project: Project | None = None
) -> QuerySet[Graph]:
    qs = Graph.objects.filter(project__in=project_list_for_user(user=user))
    if project is not None:
        qs = qs.filter(project=project)
    return qs.select_related("project")


def graph_get(*, user: AbstractBaseUser | AnonymousUser, project: Project, ref: str) -> Graph:
    """A graph of the project by id or by name; NotFound when absent or not visible."""
    qs = graph_list(user=user, project=project)
    graph = qs.filter(pk=ref).first() or qs.filter(name=ref).first()
    if graph is None:
        raise NotFound(f"graph {ref!r} does not exist", field="graph")
    return graph
