"""``manage.py jobs cancel`` and ``retry``: one job by id, or every job matching
``--filter NAME=VALUE`` (with ``--dry-run``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.http import QueryDict

from jobcenter.jobs.choices import ACTIVE_STATUSES, RETRYABLE_STATUSES
from jobcenter.jobs.cli.common import JobsCommandBase, job_dict
from jobcenter.jobs.filtersets import JobFilterSet
from jobcenter.jobs.selectors import job_get, job_list_filtered
from jobcenter.jobs.services import job_cancel, job_cancel_many, job_retry, job_retry_many


def _one_or_matching_arguments(parser: CommandParser, done: str, example: str) -> None:
    """A job id, or ``--filter NAME=VALUE`` (with ``--dry-run``) for every job matching."""
    parser.add_argument("job_id", nargs="?")
    parser.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=f"e.g. --filter {example} --filter graph=movies",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help=f"with --filter: list what would be {done}"
    )
    parser.add_argument("--user", help="act as this user (default: first superuser)")
    parser.add_argument("--json", action="store_true")


def add_control_parsers(sub: Any) -> None:
    cancel = sub.add_parser(
        "cancel",
        help="cancel a job, or every active job matching --filter",
        description=(
            "Cancel one job by id, or every active job matching the filters (the job "
            "list's filters of the REST API and the dashboard: status, type, graph, "
            "project, submitted_by, id, q, created_after/before, started_after/before, "
            "finished_after/before). Filters combine with AND; a filter given twice, or "
            "with commas, matches any of its values."
        ),
    )
    _one_or_matching_arguments(cancel, "cancelled", "status=waiting,running")

    retry = sub.add_parser(
        "retry",
        help="submit a finished job again, or every failed job matching --filter",
        description=(
            "Retry one finished job by id (a new job with the same request, linked to the "
            "original), or every job matching the filters that ended failed, partially "
            "failed or cancelled and has no retry yet. Filters as for cancel."
        ),
    )
    _one_or_matching_arguments(retry, "retried", "status=failed,partially_failed")
    retry.add_argument("--wait", action="store_true", help="follow progress until the end")


class ControlCommands(JobsCommandBase):
    def _by_filter(self, options: dict, verb: str) -> bool:
        """True for ``--filter`` (every job matching), False for one job id; refuses both,
        neither, and ``--dry-run`` without ``--filter``."""
        if options["filter"]:
            if options["job_id"]:
                raise CommandError("give a job id or --filter, not both")
            return True
        if options["dry_run"]:
            raise CommandError("--dry-run goes with --filter")
        if not options["job_id"]:
            raise CommandError(f"give the id of the job to {verb}, or --filter NAME=VALUE")
        return False

    def do_cancel(self, options: dict) -> None:
        if self._by_filter(options, "cancel"):
            self._cancel_matching(options)
            return
        job = job_get(user=None, job_id=options["job_id"])
        job = job_cancel(job=job, user=self._user(options["user"]))
        data = job_dict(job)
        self._emit(options, data, self._text(data))

    def _matching(self, options: dict, example: str) -> Any:
        """The jobs the ``--filter NAME=VALUE`` options select (the shared JobFilterSet)."""
        data = QueryDict(mutable=True)
        known = set(JobFilterSet.base_filters) - {"ordering"}
        for item in options["filter"]:
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or not name:
                raise CommandError(f"--filter {item!r}: write NAME=VALUE, e.g. status=running")
            if name not in known:
                raise CommandError(
                    f"--filter {name!r} is not a filter; known: {', '.join(sorted(known))}"
                )
            if value.strip():
                data.appendlist(name, value.strip())
        if not data:
            raise CommandError(f"--filter needs at least one value (e.g. {example})")
        return job_list_filtered(user=None, data=data)

    def _cancel_matching(self, options: dict) -> None:
        matching = self._matching(options, "status=waiting,running")
        active = matching.filter(status__in=ACTIVE_STATUSES)
        if options["dry_run"]:
            rows = [job_dict(j) for j in active]
            text = "\n".join(self._text(r) for r in rows) or "no active job matches"
            self._emit(options, rows, text)
            return
        result = job_cancel_many(jobs=matching, user=self._user(options["user"]))
        summary = result.summary()
        lines = [f"cancelled {summary['cancelled']} of {summary['matched']} matching active job(s)"]
        lines += [f"  {job_id}" for job_id in result.cancelled]
        lines += [f"  not {n['id']}: {n['reason']}" for n in result.not_cancelled]
        self._emit(options, summary, "\n".join(lines))

    def do_retry(self, options: dict) -> None:
        if self._by_filter(options, "retry"):
            self._retry_matching(options)
            return
        job = job_get(user=None, job_id=options["job_id"])
        new = job_retry(job=job, user=self._user(options["user"]))
        if options["wait"]:
            new = self._follow(new, quiet=options["json"])
        data = {**job_dict(new, files=True), "retry_of": job.pk}
        self._emit(options, data, f"retry of {job.pk}:\n" + self._text(data))

    def _retry_matching(self, options: dict) -> None:
        matching = self._matching(options, "status=failed,partially_failed")
        if options["wait"]:
            raise CommandError("--wait follows one job; with --filter, follow them with jobs list")
        if options["dry_run"]:
            rows = [job_dict(j) for j in matching.filter(status__in=RETRYABLE_STATUSES)]
            text = "\n".join(self._text(r) for r in rows) or "no failed job matches"
            self._emit(options, rows, text)
            return
        result = job_retry_many(jobs=matching, user=self._user(options["user"]))
        summary = result.summary()
        lines = [f"retried {summary['retried']} of {summary['matched']} matching failed job(s)"]
        lines += [f"  {r['id']} -> {r['retry']}" for r in result.retried]
        lines += [f"  not {n['id']}: {n['reason']}" for n in result.not_retried]
        self._emit(options, summary, "\n".join(lines))
