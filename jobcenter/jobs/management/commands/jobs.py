"""``manage.py jobs``: the operators' command line over the same services as the API."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.http import QueryDict

from jobcenter.core.documents import read_document_file
from jobcenter.core.errors import ServiceError
from jobcenter.core.paths import RootedResolver, path_problem, shown
from jobcenter.graphs.formats import GesImportRequest, GraphScopeImportRequest, ImportRequest
from jobcenter.graphs.models import Graph
from jobcenter.graphs.plan import Reason
from jobcenter.graphs.services import graph_create, graph_schema_parse
from jobcenter.jobs.choices import ACTIVE_STATUSES, RETRYABLE_STATUSES, TERMINAL_STATUSES
from jobcenter.jobs.downloads import failed_lines_csv, jobs_csv
from jobcenter.jobs.filtersets import ORDERING_FIELDS, JobFilterSet
from jobcenter.jobs.models import FailedLine, Job
from jobcenter.jobs.selectors import (
    file_status,
    job_failed_lines,
    job_files,
    job_get,
    job_list_filtered,
)
from jobcenter.jobs.services import (
    job_cancel,
    job_cancel_many,
    job_retry,
    job_retry_many,
    job_submit_import_request,
)
from jobcenter.projects.models import Project


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


SHOWN_FAILED_LINES = 20  # by jobs show; jobs failed-lines lists them all
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


def job_dict(job: Job, *, files: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": job.pk,
        "type": job.type,
        "name": job.name,
        "project": job.project.name,
        "graph": job.graph_name,
        "status": job.status,
        "progress": round(job.progress, 1),
        "lines_done": job.lines_done,
        "lines_total": job.lines_total,
        "lines_per_second": job.lines_per_second,
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at),
        "finished_at": _iso(job.finished_at),
        "fail_reason": job.fail_reason or None,
        "cancellable": job.cancellable,
        "submitted_by": job.submitted_by.get_username() if job.submitted_by else None,
        "cancel_requested_by": (
            job.cancel_requested_by.get_username() if job.cancel_requested_by else None
        ),
        "cancel_requested_at": _iso(job.cancel_requested_at),
    }
    if files:
        data["files"] = [
            {
                "role": f.role,
                "path": f.path,
                "status": file_status(job, f),  # "skipped": not finished when the job ended
                "total_lines": f.total_lines,
                "successful_lines": f.successful_lines,  # passed validation
                "failed_lines": f.failed_lines,
                "committed_lines": f.committed_lines,  # None while the job is active
                "cause": f.cause or None,
            }
            for f in job_files(job=job)
        ]
        data["failed_lines_total"] = sum(f["failed_lines"] for f in data["files"])
        data["failed_lines_kept"] = job_failed_lines(job=job).count()
        data["failed_lines"] = [
            failed_line_dict(line) for line in job_failed_lines(job=job)[:SHOWN_FAILED_LINES]
        ]
    return data


def failed_line_dict(line: FailedLine) -> dict[str, Any]:
    return {
        "file": line.file.path,
        "line": line.line_number,
        "reason": line.reason,
        "message": line.message,
    }


def _document(path: str, option: str) -> Any:
    """The YAML or JSON document in the file ``--option`` names (a file of this machine, not
    under the import roots: it is the caller's own), by the one document reader
    (jobcenter.core.documents); its DocumentError ends the command with the reason."""
    if problem := path_problem(path):
        raise CommandError(f"--{option} {shown(path)!r} {problem}")
    return read_document_file(Path(path), what=f"--{option} file {shown(path)!r}")


def _from_here(path: str | None) -> str | None:
    """A server-side path given on the command line, read from the current directory as every
    command line reads paths (an absolute one as it is). Whether it may be read is still the
    import roots' (and the project's uploads') decision, with the same answers as elsewhere."""
    if not path or os.path.isabs(path):
        return path
    return os.path.join(os.getcwd(), path)  # not normalised: "link/.." is the OS's to follow


def _as_typed(message: str, typed: dict[str, str], resolver: RootedResolver) -> str:
    """``message`` naming each path as the user typed it rather than as it was passed on
    (absolute, or shown relative to its import root)."""
    for given, passed in typed.items():
        for form in {passed, shown(passed), resolver.shown(passed)}:
            message = message.replace(repr(form), repr(shown(given)))
    return message


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


class Command(BaseCommand):
    help = "Submit, list, show, cancel (one, or all matching a filter) and retry jobs."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)

        submit = sub.add_parser(
            "submit-import",
            help="queue an import of files under the import roots",
            description=(
                "Queue an import. --schema, --vertices and --edges are read from the current "
                "directory (or are absolute) and must lie inside an import root "
                "(JOBCENTER_IMPORT_ROOTS) or the project's uploads; --mapping and "
                "--graph-definition are your own files, anywhere."
            ),
        )
        submit.add_argument("--project", required=True)
        submit.add_argument("--graph", required=True, help="graph name or id")
        submit.add_argument("--format", choices=["ges", "graphscope"], required=True)
        submit.add_argument("--schema", help="GES: schema.xml path")
        submit.add_argument("--vertices", help="GES: vertex file or directory")
        submit.add_argument("--edges", help="GES: edge file or directory")
        submit.add_argument("--delimiter", default=None)
        submit.add_argument("--trim-quote", default=None)
        submit.add_argument("--parallel-edge", choices=["allow", "ignore", "override"])
        submit.add_argument("--mapping", help="GraphScope: bulk-loading config (YAML or JSON)")
        submit.add_argument("--create-graph", action="store_true", help="create the graph first")
        submit.add_argument("--graph-definition", help="GraphScope: graph.yaml for --create-graph")
        submit.add_argument("--max-errors", type=int, help="abort after this many failed lines")
        submit.add_argument("--max-error-percent", type=float, help="abort above this %% failed")
        submit.add_argument("--user", help="act as this user (default: first superuser)")
        submit.add_argument("--wait", action="store_true", help="follow progress until the end")
        submit.add_argument("--json", action="store_true")

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

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, "do_" + options["action"].replace("-", "_"))(options)
        except ServiceError as exc:
            raise CommandError(exc.message) from exc

    # --- helpers ----------------------------------------------------------------------------

    def _user(self, name: str | None) -> Any:
        users = get_user_model().objects
        if name:
            user = users.filter(username=name).first()
            if user is None:
                raise CommandError(f"user {name!r} does not exist")
            return user
        return users.filter(is_superuser=True).order_by("pk").first()

    def _emit(self, options: dict, data: Any, text: str) -> None:
        self.stdout.write(json.dumps(data, indent=2) if options.get("json") else text)

    def _text(self, data: dict) -> str:
        lines = [
            f"{data['id']}  {data['name']}  graph={data['graph']}  {data['status']}  "
            f"{data['progress']}%  ({data['lines_done']}/{data['lines_total']} lines)"
        ]
        if data.get("fail_reason"):
            lines.append(f"  reason: {data['fail_reason']}")
        for f in data.get("files", []):
            lines.append(
                f"  {f['role']:<6} {f['path']}: {f['status'] or '-'}  total={f['total_lines']} "
                f"valid={f['successful_lines']} failed={f['failed_lines']} "
                f"committed={'-' if f['committed_lines'] is None else f['committed_lines']}"
                + (f"  ({f['cause']})" if f["cause"] else "")
            )
        for fl in data.get("failed_lines", []):
            lines.append(f"    {fl['file']}:{fl['line']} {fl['reason']}: {fl['message']}")
        if data.get("failed_lines_total"):
            lines.append(self._failed_lines_summary(data))
        return "\n".join(lines)

    def _failed_lines_summary(self, data: dict) -> str:
        total, kept = data["failed_lines_total"], data["failed_lines_kept"]
        text = f"  showing {len(data['failed_lines'])} of {total:,} failed lines"
        if kept < total:
            text += f", {kept:,} of them kept (JOBCENTER_MAX_FAILED_RECORDS per file)"
        which = "them all" if kept == total else "the kept ones"
        return f"{text}; `jobs failed-lines {data['id']}` lists {which} (--csv for a CSV)"

    # --- actions ----------------------------------------------------------------------------

    def do_submit_import(self, options: dict) -> None:
        with transaction.atomic():  # a refused import does not leave a created graph behind
            job = self._submit_import(options)
        if options["wait"]:
            job = self._follow(job, quiet=options["json"])
        self._emit(options, job_dict(job, files=True), self._text(job_dict(job, files=True)))

    def _submit_import(self, options: dict) -> Job:
        user = self._user(options["user"])
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"project {options['project']!r} does not exist")
        graph = (
            Graph.objects.filter(project=project, pk=options["graph"]).first()
            or Graph.objects.filter(project=project, name=options["graph"]).first()
        )
        fmt = options["format"]
        if graph is None:
            if not options["create_graph"]:
                raise CommandError(
                    f"graph {options['graph']!r} does not exist (use --create-graph)"
                )
            schema = None
            if fmt == "graphscope":
                if not options["graph_definition"]:
                    raise CommandError("--graph-definition is needed to create a GraphScope graph")
                definition = _document(options["graph_definition"], "graph-definition")
                schema = graph_schema_parse(dialect=fmt, source=definition)
            graph = graph_create(
                project=project, name=options["graph"], dialect=fmt, schema=schema, user=user
            )
        typed = {
            given: passed
            for given in (options["schema"], options["vertices"], options["edges"])
            if given and (passed := _from_here(given)) != given
        }
        request: ImportRequest
        if fmt == "ges":
            request = GesImportRequest(
                schema_path=_from_here(options["schema"]),
                vertexset_path=_from_here(options["vertices"]),
                edgeset_path=_from_here(options["edges"]),
                delimiter=options["delimiter"],
                trim_quote=options["trim_quote"],
                parallel_edge=options["parallel_edge"] or None,
                max_errors=options["max_errors"],
                max_error_percent=options["max_error_percent"],
            )
        else:
            if not options["mapping"]:
                raise CommandError("--mapping is required for --format graphscope")
            request = GraphScopeImportRequest(
                mapping=_document(options["mapping"], "mapping"),
                default_location=str(Path(options["mapping"]).resolve().parent),
                max_errors=options["max_errors"],
                max_error_percent=options["max_error_percent"],
            )
        try:
            return job_submit_import_request(graph=graph, request=request, user=user)
        except ServiceError as exc:
            resolver = RootedResolver.for_project(project.pk)
            raise CommandError(_as_typed(exc.message, typed, resolver)) from exc

    def _follow(self, job: Job, *, quiet: bool) -> Job:
        """Wait for the job's end, showing its progress: one line redrawn on a terminal, a
        line per change otherwise (logs, pipes)."""
        tty = self.stderr.isatty()
        shown = ""
        while True:
            job.refresh_from_db()
            text = (
                f"{job.status:<16} {job.progress:5.1f}%  {job.lines_done}/{job.lines_total} lines"
            )
            if not quiet and text != shown:
                self.stderr.write(("\r" + text) if tty else text, ending="" if tty else "\n")
                shown = text
            if job.status in TERMINAL_STATUSES:
                if not quiet and tty:
                    self.stderr.write("")
                return job
            time.sleep(0.5)

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

    def _write_all(self, lines: Any) -> None:
        """Lines of text (e.g. a CSV), written as they come: memory stays flat at any size. A
        reader that stops early (``| head``) ends the output, without a traceback."""
        try:
            for line in lines:
                self.stdout.write(line, ending="")
            self.stdout.flush()
        except BrokenPipeError:
            # Python would still fail flushing stdout at exit: point it at nothing.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())

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
