"""First start: create an admin account (when there is no user at all) and a default project."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

from jobcenter.projects.models import Project
from jobcenter.projects.services import project_create


class Command(BaseCommand):
    help = "Create the first admin account and project if the database has no user yet."

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model().objects
        if users.exists():
            return
        password = secrets.token_urlsafe(12)
        admin = users.create_superuser(username="admin", email="", password=password)
        if not Project.objects.exists():
            project_create(name="default", description="Created on first start.", admin=admin)
        self.stdout.write(
            "\n"
            "  First start: created an administrator account (shown only this once).\n"
            f"    username: admin\n    password: {password}\n"
            "  Change it with: .venv/bin/python manage.py changepassword admin\n"
        )
