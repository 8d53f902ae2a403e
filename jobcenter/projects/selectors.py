"""Reads about projects and what a user may do in them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from jobcenter.projects.choices import ROLE_RANK, Role
from jobcenter.projects.models import Membership, Project


def project_list_for_user(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Project]:
    if not user.is_authenticated:
        return Project.objects.none()
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def project_role(*, user: AbstractBaseUser | AnonymousUser, project: Project) -> Role | None:
    """The user's role in the project; superusers act as admins everywhere."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.ADMIN
    role = (
        Membership.objects.filter(project=project, user=user).values_list("role", flat=True).first()
    )
    return Role(role) if role else None


def user_has_role(*, user: AbstractBaseUser | AnonymousUser, project: Project, role: Role) -> bool:
    actual = project_role(user=user, project=project)
    return actual is not None and ROLE_RANK[actual] >= ROLE_RANK[role]
