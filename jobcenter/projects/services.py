"""Writes for projects and memberships."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from jobcenter.projects.choices import Role
from jobcenter.projects.models import Membership, Project


@transaction.atomic
def project_create(
    *, name: str, description: str = "", admin: AbstractBaseUser | None = None
) -> Project:
    project = Project.objects.create(name=name, description=description)
    if admin is not None:
        Membership.objects.create(project=project, user=admin, role=Role.ADMIN)
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
