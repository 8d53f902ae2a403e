"""First start: create an admin account (when there is no user at all) and a default project."""

from __future__ import annotations

from typing import Any

from jobcenter.core.database import DatabaseCommand
from jobcenter.core.management.commands.serve import change_password_hint
from jobcenter.projects.services import FIRST_ADMIN, first_start_bootstrap


class Command(DatabaseCommand):
    help = "Create the first admin account and project if the database has no user yet."

    def handle(self, *args: Any, **options: Any) -> None:
        password = first_start_bootstrap()
        if password is None:
            return
        self.stdout.write(
            "\n"
            "  First start: created an administrator account (shown only this once).\n"
            f"    username: {FIRST_ADMIN}\n    password: {password}\n"
            f"  Change it with: {change_password_hint()}\n"
        )
