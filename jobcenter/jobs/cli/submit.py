"""``manage.py jobs submit-import``: an import of files under the import roots (GES or
GraphScope), optionally creating the graph first."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError
from django.db import transaction

from jobcenter.core.documents import read_document_file
from jobcenter.core.errors import ServiceError
from jobcenter.core.paths import RootedResolver, path_problem, shown
from jobcenter.graphs.formats import GesImportRequest, GraphScopeImportRequest, ImportRequest
from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_create, graph_schema_parse
from jobcenter.jobs.chains import dependencies_resolve, waiting_for
from jobcenter.jobs.cli.common import JobsCommandBase, job_dict
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import job_submit_import_request
from jobcenter.projects.models import Project


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


def add_submit_parsers(sub: Any) -> None:
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
    submit.add_argument(
        "--dry-run",
        action="store_true",
        help="validate every line as the import would, and write nothing to the graph",
    )
    submit.add_argument(
        "--depends-on",
        action="append",
        default=[],
        metavar="JOB_ID",
        help="wait for this job of the project to succeed first (repeat for several)",
    )
    submit.add_argument(
        "--accept-partial",
        action="store_true",
        help="with --depends-on: also run after a dependency that partially failed",
    )
    submit.add_argument("--user", help="act as this user (default: first superuser)")
    submit.add_argument("--wait", action="store_true", help="follow progress until the end")
    submit.add_argument("--json", action="store_true")


class SubmitCommands(JobsCommandBase):
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
        if options["accept_partial"] and not options["depends_on"]:
            raise CommandError("--accept-partial needs --depends-on")
        try:
            deps = (
                dependencies_resolve(
                    project=project,
                    ids=options["depends_on"],
                    accept_partial=options["accept_partial"],
                )
                if options["depends_on"]
                else None
            )
            with waiting_for(deps):
                return job_submit_import_request(
                    graph=graph, request=request, user=user, dry_run=options["dry_run"]
                )
        except ServiceError as exc:
            resolver = RootedResolver.for_project(project.pk)
            raise CommandError(_as_typed(exc.message, typed, resolver)) from exc
