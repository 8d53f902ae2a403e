"""``manage.py jobs list``, ``show`` and ``failed-lines``: reading jobs with the job list's
filters of the REST API and the dashboard, one job with its files, an import's failed lines."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandError
from django.http import QueryDict

from jobcenter.core.errors import ServiceError
from jobcenter.graphs.plan import Reason
from jobcenter.jobs.cli.common import JobsCommandBase, failed_line_dict, job_dict
from jobcenter.jobs.downloads import failed_lines_csv, jobs_csv
from jobcenter.jobs.filtersets import ORDERING_FIELDS
from jobcenter.jobs.selectors import job_failed_lines, job_files, job_get, job_list_filtered

LIST_LIMIT = 50  # jobs list without --limit (--csv: every job matching)

# jobs list's filter options: the job list's filters of the REST API and the dashboard (the one
# JobFilterSet); help for each, a test checks that every filter has its option.
LIST_FILTERS: dict[str, str] = {
    "status": "waiting, running, ... (repeat, or separate with commas, for any of several)",
    "type": "import, algorithm, query, ... (repeat, or separate with commas)",
    "graph": "graph name or id",
    "project": "project name",
    "submitted_by": "username of the submitter",
    "id": "a job id or its start",
    "q": "start of the id, the short id, the name, the graph or the fail reason (any case)",
    "created_after": "ISO date or datetime (a date is the whole UTC day)",
    "created_before": "ISO date or datetime (a date is the whole UTC day)",
    "started_after": "ISO date or datetime",
    "started_before": "ISO date or datetime",
    "finished_after": "ISO date or datetime",
    "finished_before": "ISO date or datetime",
    "ordering": (
        f"sort by {', '.join(ORDERING_FIELDS)}; '-' for descending, commas for several "
        "(write --ordering=-finished_at); default -created_at"
    ),
}
MULTIPLE = ("status", "type")


def add_read_parsers(sub: Any) -> None:
    lst = sub.add_parser(
        "list",
        help="list jobs, newest first, with the API's filters",
        description=(
            "List jobs with the job list's filters of the REST API and the dashboard "
            "(combined with AND), newest first unless --ordering says otherwise."
        ),
    )
    for name, text in LIST_FILTERS.items():
        flags = [f"--{name.replace('_', '-')}", *(["--search"] if name == "q" else [])]
        action = "append" if name in MULTIPLE else "store"
        lst.add_argument(*flags, dest=f"filter_{name}", action=action, help=text)
    lst.add_argument(
        "--limit", type=int, help=f"at most this many jobs (default {LIST_LIMIT}; --csv: all)"
    )
    out = lst.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument(
        "--csv",
        action="store_true",
        help="every job matching, as CSV with the columns of the API's jobs.csv",
    )

    show = sub.add_parser("show", help="show one job with its files")
    show.add_argument("job_id")
    show.add_argument("--json", action="store_true")

    failed = sub.add_parser(
        "failed-lines",
        help="every failed line of an import",
        description=(
            "Every failed line of an import that was kept (up to "
            "JOBCENTER_MAX_FAILED_RECORDS per file), in file and line order, written as "
            "they are read however many there are."
        ),
    )
    failed.add_argument("job_id")
    failed.add_argument(
        "--file", type=int, metavar="N", help="only file N (its index: 0 is the first file)"
    )
    failed.add_argument("--reason", choices=[r.value for r in Reason], metavar="REASON")
    out = failed.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true")
    out.add_argument(
        "--csv",
        action="store_true",
        help="CSV with the columns of the API's failed-lines.csv",
    )


class ReadCommands(JobsCommandBase):
    def do_list(self, options: dict) -> None:
        data = QueryDict(mutable=True)
        for name in LIST_FILTERS:
            value = options[f"filter_{name}"]
            for item in value if isinstance(value, list) else [value]:
                if item is not None:
                    data.appendlist(name, item)
        try:
            jobs = job_list_filtered(user=None, data=data)
        except ServiceError as exc:
            if exc.field not in LIST_FILTERS:
                raise
            flag = f"--{exc.field.replace('_', '-')}"
            raise CommandError(f"{flag}: {exc.errors[exc.field][0]}") from exc
        limit = options["limit"]
        if limit is not None and limit < 1:
            raise CommandError("--limit must be 1 or more")
        if options["csv"]:
            self._write_all(jobs_csv(jobs if limit is None else jobs[:limit]))
            return
        limit = LIST_LIMIT if limit is None else limit
        page = list(jobs[: limit + 1])
        rows = [job_dict(j) for j in page[:limit]]
        text = "\n".join(self._text(r) for r in rows) or "no jobs match"
        if len(page) > limit:
            text += "\n(more jobs match: --limit to see more, --csv writes every one)"
        self._emit(options, rows, text)

    def do_show(self, options: dict) -> None:
        job = job_get(user=None, job_id=options["job_id"])
        data = job_dict(job, files=True)
        self._emit(options, data, self._text(data))

    def do_failed_lines(self, options: dict) -> None:
        job = job_get(user=None, job_id=options["job_id"])
        index = options["file"]
        if index is not None and not job_files(job=job).filter(index=index).exists():
            raise CommandError(f"job {job.pk} has no file {index}")
        lines = job_failed_lines(job=job, file_index=index, reason=options["reason"])
        if options["csv"]:
            self._write_all(failed_lines_csv(lines))
        elif options["json"]:
            self._write_all(self._json_array(lines))
        else:
            self._write_all(self._failed_lines_text(lines))

    @staticmethod
    def _json_array(lines: Any) -> Any:
        yield "["
        for i, line in enumerate(lines.iterator(chunk_size=2000)):
            yield (
                ("," if i else "")
                + "\n  "
                + json.dumps({**failed_line_dict(line), "raw": line.raw})
            )
        yield "\n]\n"

    @staticmethod
    def _failed_lines_text(lines: Any) -> Any:
        any_line = False
        for line in lines.iterator(chunk_size=2000):
            any_line = True
            yield f"{line.file.path}:{line.line_number} {line.reason}: {line.message}\n"
            yield f"    {line.raw}\n"
        if not any_line:
            yield "no failed lines match\n"
