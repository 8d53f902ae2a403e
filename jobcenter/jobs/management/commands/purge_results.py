"""``manage.py purge_results``: apply the projects' result retention now.

Workers do this by themselves every JOBCENTER_PURGE_INTERVAL seconds; the command is for
operators (``--days`` to override every project's retention, ``--jobs`` to delete the expired
jobs themselves with their files, lines and events). See ``job_results_expire``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from jobcenter.core.database import DatabaseCommand
from jobcenter.jobs.services import job_results_expire
from jobcenter.projects.models import Project


class Command(DatabaseCommand):
    help = "Remove job results (and with --jobs the jobs) older than their retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="override every project's retention")
        parser.add_argument("--project", help="only this project")
        parser.add_argument("--jobs", action="store_true", help="delete the expired jobs too")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["days"] is not None and options["days"] < 0:
            raise CommandError("--days must be 0 or more")
        project = None
        if options["project"]:
            project = Project.objects.filter(name=options["project"]).first()
            if project is None:
                raise CommandError(f"project {options['project']!r} does not exist")
        report = job_results_expire(
            days=options["days"], project=project, delete_jobs=options["jobs"]
        )
        if options["verbosity"]:
            self.stdout.write(
                f"Purged {report.removed} result(s) or job(s), {report.orphans} orphan file(s), "
                f"{report.uploads} upload(s)."
            )
