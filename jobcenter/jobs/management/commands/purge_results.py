"""``manage.py purge_results``: remove job results past their retention.

Each project keeps the results of its finished jobs for ``JOBCENTER_RESULT_RETENTION_DAYS``
days (0: forever) unless ``JOBCENTER_RESULT_RETENTION_PROJECTS`` names its own number
(``alpha=7,beta=90``). Result files whose job no longer exists are removed too. With
``--jobs`` the expired jobs themselves are deleted (with their files, lines and events).
"""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from jobcenter.jobs.choices import ACTIVE_STATUSES, TERMINAL_STATUSES
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import ResultReader, result_delete, result_dir
from jobcenter.jobs.services import job_purge
from jobcenter.projects.models import Project


def retention_days(project: Project, override: int | None) -> int:
    if override is not None:
        return override
    per_project = {}
    for item in getattr(settings, "JOBCENTER_RESULT_RETENTION_PROJECTS", []):
        name, _, days = item.partition("=")
        if days.strip().isdigit():
            per_project[name.strip()] = int(days)
    return per_project.get(project.name, settings.JOBCENTER_RESULT_RETENTION_DAYS)


class Command(BaseCommand):
    help = "Remove job results (and with --jobs the jobs) older than their retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="override every project's retention")
        parser.add_argument("--project", help="only this project")
        parser.add_argument("--jobs", action="store_true", help="delete the expired jobs too")

    def handle(self, *args: Any, **options: Any) -> None:
        override = options["days"]
        if override is not None and override < 0:
            self.stderr.write("--days must be 0 or more")
            return
        projects = Project.objects.all()
        if options["project"]:
            projects = projects.filter(name=options["project"])
        removed = 0
        for project in projects:
            days = retention_days(project, override)
            if days == 0 and override is None:
                continue  # kept forever
            cutoff = timezone.now() - timedelta(days=days)
            if options["jobs"]:
                removed += job_purge(before=cutoff, project=project)
                continue
            expired = Job.objects.filter(
                project=project, status__in=TERMINAL_STATUSES, finished_at__lte=cutoff
            )
            for job in expired.only("pk", "result").iterator():
                if isinstance(job.result, dict) and job.result.get("purged"):
                    continue
                result_delete(job.pk)
                if isinstance(job.result, dict) and "kind" in job.result:
                    result = {**job.result, "purged": True}
                    Job.objects.filter(pk=job.pk, result=job.result).update(result=result)
                    removed += 1
        orphans = 0
        folder = result_dir()
        if folder.exists() and not options["project"]:
            for path in folder.glob("*.sqlite3"):
                if not Job.objects.filter(pk=path.stem).exists():
                    path.unlink(missing_ok=True)
                    orphans += 1
            # Unpublished results of jobs that are over (a worker killed while writing).
            for path in folder.glob("*.sqlite3.part"):
                job_id = path.name.removesuffix(".sqlite3.part")
                if not Job.objects.filter(pk=job_id, status__in=ACTIVE_STATUSES).exists():
                    path.unlink(missing_ok=True)
                    orphans += 1
        if folder.exists() and not options["project"]:
            orphans += _purge_names(folder)
        if options["verbosity"]:
            self.stdout.write(f"Purged {removed} result(s) or job(s), {orphans} orphan file(s).")


def _purge_names(folder: Path) -> int:
    """Remove vertex-name snapshots no result refers to any more (older than an hour, so that
    one a running job has just written is left alone)."""
    names = folder / "names"
    if not names.exists():
        return 0
    used = set()
    for path in folder.glob("*.sqlite3"):
        try:
            reader = ResultReader(path.stem)
        except (FileNotFoundError, sqlite3.Error, KeyError):
            continue
        with reader:
            if reader.names_key:
                used.add(reader.names_key)
    removed = 0
    now = time.time()
    for path in names.glob("*.sqlite3"):
        if path.stem not in used and now - path.stat().st_mtime > 3600:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
