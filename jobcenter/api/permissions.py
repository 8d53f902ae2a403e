"""Who may do what.

Every endpoint needs an authenticated user (anonymous requests get 401), except the health
check, the token exchange and the schema. Inside a project the roles build on each other:
viewer (read), operator (also submit, cancel, retry, create and delete graphs), admin (also
manage the members). Objects of a project the user does not belong to do not exist for them
(404, never 403); a member whose role is too low gets 403.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission

from jobcenter.core.errors import NotFound, PermissionDenied
from jobcenter.projects.choices import Role
from jobcenter.projects.models import Project
from jobcenter.projects.selectors import project_role, user_has_role


def require_role(*, user: Any, project: Project, role: Role) -> None:
    """Raise NotFound for a non-member, PermissionDenied for a member below ``role``."""
    if user_has_role(user=user, project=project, role=role):
        return
    if project_role(user=user, project=project) is None:
        raise NotFound(f"project {project.name!r} does not exist", field="project")
    raise PermissionDenied(f"you need the {role.label.lower()} role in project {project.name}")


class IsSiteAdmin(BasePermission):
    """Superusers and staff: they create projects."""

    message = "only site administrators may do this"

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and (user.is_superuser or user.is_staff))
