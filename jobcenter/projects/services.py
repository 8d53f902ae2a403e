"""Writes for projects and memberships."""

from __future__ import annotations

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from jobcenter.core.errors import InvalidInput, PermissionDenied
from jobcenter.projects.choices import Role
from jobcenter.projects.models import LastProject, Membership, Project
from jobcenter.projects.selectors import user_has_role

_UNSET = object()
MAX_RETENTION_DAYS = 36_500


@transaction.atomic
def project_create(
    *, name: str, description: str = "", admin: AbstractBaseUser | None = None
) -> Project:
    project = Project.objects.create(name=name, description=description)
    if admin is not None:
        Membership.objects.create(project=project, user=admin, role=Role.ADMIN)
    return project


def project_update(
    *,
    project: Project,
    user: AbstractBaseUser | None,
    description: str | object = _UNSET,
    result_retention_days: int | object | None = _UNSET,
) -> Project:
    """Change a project's description or its result retention (project admins only; ``None``
    for the retention means the deployment's default, 0 keeps results for ever)."""
    if user is not None and not user_has_role(user=user, project=project, role=Role.ADMIN):
        raise PermissionDenied(f"you need the admin role in project {project.name}")
    fields = []
    if description is not _UNSET:
        project.description = str(description)
        fields.append("description")
    if result_retention_days is not _UNSET:
        days = result_retention_days
        if days is not None and (
            isinstance(days, bool)
            or not isinstance(days, int)
            or not 0 <= days <= MAX_RETENTION_DAYS
        ):
            raise InvalidInput(
                f"result_retention_days must be null or a whole number from 0 to "
                f"{MAX_RETENTION_DAYS}",
                field="result_retention_days",
            )
        project.result_retention_days = days
        fields.append("result_retention_days")
    if fields:
        project.save(update_fields=fields)
    return project


def membership_set(*, project: Project, user: AbstractBaseUser, role: Role) -> Membership:
    """Add the user to the project, or change their role."""
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership


# --- REST API additions (jobcenter.api) --------------------------------------------------------


def membership_remove(*, project: Project, user: AbstractBaseUser) -> bool:
    """Take the user out of the project; False when they were not a member."""
    deleted, _ = Membership.objects.filter(project=project, user=user).delete()
    return bool(deleted)


def project_remember_last(*, user: AbstractBaseUser, project: Project) -> None:
    """Remember ``project`` as the one ``user`` last chose (the dashboard opens it next time).
    One row per user, updated in place; two requests racing to make it both end with one."""
    if LastProject.objects.filter(user=user).update(project=project, chosen_at=timezone.now()):
        return
    try:
        with transaction.atomic():
            LastProject.objects.create(user=user, project=project)
    except IntegrityError:  # another request of the same user made it meanwhile
        LastProject.objects.filter(user=user).update(project=project, chosen_at=timezone.now())


# --- first start (manage.py bootstrap, manage.py serve --bootstrap) ---------------------------

FIRST_ADMIN = "admin"


def first_start_bootstrap() -> str | None:
    """On a database without any user: an ``admin`` superuser with a random password and, if
    there is no project yet, a ``default`` project it administers. Returns that password (to
    be shown once, never stored in clear); ``None`` when there already was a user."""
    users = get_user_model().objects
    if users.exists():
        return None
    password = secrets.token_urlsafe(12)
    try:
        with transaction.atomic():
            admin = users.create_superuser(username=FIRST_ADMIN, email="", password=password)
            if not Project.objects.exists():
                project_create(name="default", description="Created on first start.", admin=admin)
    except IntegrityError:  # another process made the first account meanwhile
        return None
    return password
