"""Users, projects and memberships, through the services the product uses."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from jobcenter.projects.choices import Role
from jobcenter.projects.models import Project
from jobcenter.projects.services import membership_set, project_create


def user_create(username: str, *, superuser: bool = False) -> Any:
    users = get_user_model().objects
    if superuser:
        return users.create_superuser(username=username, password="pw-" + username)
    return users.create_user(username=username, password="pw-" + username)


def project_with_members(name: str = "alpha", **roles: Role) -> Project:
    project = project_create(name=name)
    for username, role in roles.items():
        user = get_user_model().objects.filter(username=username).first() or user_create(username)
        membership_set(project=project, user=user, role=role)
    return project
