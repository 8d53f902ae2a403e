from __future__ import annotations

from typing import Any

from django.conf import settings

from jobcenter.core.database import DatabaseCommand
from jobcenter.jobs.transitions import job_recover_stale


class Command(DatabaseCommand):
    help = "End jobs whose worker stopped sending heartbeats (for cron; workers also do this)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--stale-after", type=float, default=settings.JOBCENTER_STALE_AFTER)

    def handle(self, *args: Any, **options: Any) -> None:
        ended = job_recover_stale(stale_after=options["stale_after"])
        self.stdout.write(
            f"{len(ended)} job(s) recovered" + (f": {', '.join(ended)}" if ended else "")
        )
