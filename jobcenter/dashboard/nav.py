"""The dashboard's project context: the user's projects (with their role) and the current one.

Every page is scoped to the *current project*: kept in the session, switched in the header, and
written into the job list's URL so that a filtered list is a bookmark.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest

from jobcenter.jobs import selectors as job_selectors
from jobcenter.projects.choices import ROLE_RANK, Role
from jobcenter.projects.models import Project
from jobcenter.projects.selectors import project_last_chosen_id, project_list_with_role
from jobcenter.projects.services import project_remember_last

SESSION_PROJECT = "dashboard_project_id"


@dataclass
class Nav:
    projects: list[Project]
    current: Project | None
    role: Role | None

    @property
    def can_operate(self) -> bool:
        return self.role is not None and ROLE_RANK[self.role] >= ROLE_RANK[Role.OPERATOR]


def current_nav(request: HttpRequest, requested: str | None = None) -> Nav:
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


def nav_for_project(request: HttpRequest, project: Project) -> Nav:
    """Context for a page about an object of ``project`` (which may differ from the current);
    worked out once per request (a view checks the role, then renders with the same nav)."""
    known: dict[int, Nav] = request.__dict__.setdefault("_jobcenter_navs", {})
    if project.pk not in known:
        projects = list(project_list_with_role(user=request.user))
        mine = next((p for p in projects if p.pk == project.pk), None)
        role = Role(mine.role) if mine is not None and mine.role else None
        known[project.pk] = Nav(projects=projects, current=mine or project, role=role)
    return known[project.pk]
