"""Reads about projects and what a user may do in them."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from jobcenter.projects.choices import ROLE_RANK, Role
from jobcenter.projects.models import LastProject, Membership, Project


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


# --- REST API additions (jobcenter.api) --------------------------------------------------------


def project_get_for_user(*, user: AbstractBaseUser | AnonymousUser, name: str) -> Project:
    """A project the user belongs to (superusers: any), by name; NotFound otherwise, so that
    a project's existence is not revealed to outsiders."""
    from jobcenter.core.errors import NotFound

    project = project_list_for_user(user=user).filter(name=name).first()
    if project is None:
        raise NotFound(f"project {name!r} does not exist", field="project")
    return project


def project_list_with_role(*, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Project]:
    """The user's projects, each annotated with ``role`` (the user's role in it) in one query;
    superusers see every project as admins."""
    from django.db.models import OuterRef, Subquery, Value

    qs = project_list_for_user(user=user).order_by("name", "id")
    if user.is_authenticated and user.is_superuser:
        return qs.annotate(role=Value(Role.ADMIN.value))
    role = Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    return qs.annotate(role=Subquery(role))


def project_last_chosen_id(*, user: AbstractBaseUser | AnonymousUser) -> int | None:
    """The id of the project the user last chose on the dashboard (None: none yet). It may be
    one the user has since left: callers pick it only from the user's projects."""
    if not user.is_authenticated:
        return None
    return LastProject.objects.filter(user=user).values_list("project_id", flat=True).first()


def project_members(*, project: Project) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(project=project)
        .select_related("user")
        .order_by("user__username", "id")
    )


def user_get_by_username(*, username: str) -> AbstractBaseUser:
    """An active user by username; NotFound otherwise."""
    from django.contrib.auth import get_user_model

    from jobcenter.core.errors import NotFound

    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(f"user {username!r} does not exist", field="username")
    return user
