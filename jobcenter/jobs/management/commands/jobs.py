"""``manage.py jobs``: the operators' command line over the same services as the API. Its
subcommands live in :mod:`jobcenter.jobs.cli`, one module per group."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from jobcenter.core.errors import ServiceError
from jobcenter.jobs.cli.control import ControlCommands, add_control_parsers
from jobcenter.jobs.cli.read import ReadCommands, add_read_parsers
from jobcenter.jobs.cli.submit import SubmitCommands, add_submit_parsers


class Command(SubmitCommands, ReadCommands, ControlCommands):
    help = "Submit, list, show, cancel (one, or all matching a filter) and retry jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add_submit_parsers(sub)
        add_read_parsers(sub)
        add_control_parsers(sub)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "do_" + options["action"].replace("-", "_"))(options)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc
