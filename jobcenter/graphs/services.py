"""Writes for graphs, and turning an import request into a plan against a graph."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from jobcenter.core.errors import Conflict, InvalidInput
from jobcenter.core.paths import RootedResolver
from jobcenter.graphs.choices import GraphDialect
from jobcenter.graphs.models import Graph
from jobcenter.graphs.plan import ImportPlan, PathResolver, PlanError

if TYPE_CHECKING:
    from jobcenter.graphs.schema import GraphSchema
from jobcenter.projects.models import Project

IMPORT_FORMATS = ("ges", "graphscope")

logger = logging.getLogger("jobcenter.graphs")


@contextlib.contextmanager
def _malformed_input_is_a_plan_error(what: str) -> Iterator[None]:
    """The format parsers validate what users send; should one of them still trip over an
    unexpected shape (a list where a name belongs...), that is a bad request, not a server
    error. Logged with its traceback so that the parser gets a proper check."""
    try:
        yield
    except PlanError:  # a ValueError too, and already says what is wrong
        raise
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, RecursionError) as exc:
        logger.warning("malformed %s slipped past its parser", what, exc_info=exc)
        raise PlanError(
            f"malformed {what}: a value has the wrong type or shape ({type(exc).__name__})",
            field=what,
        ) from exc


def graph_schema_parse(*, dialect: str, source: bytes | dict | None) -> GraphSchema | None:
    """Parse a schema given in a dialect's own form (GES schema.xml bytes, GraphScope dict)."""
    from jobcenter.graphs.formats import ges, graphscope

    if source is None:
        return None
    try:
        with _malformed_input_is_a_plan_error("schema"):
            if dialect == GraphDialect.GES:
                if isinstance(source, dict):
                    raise PlanError("a GES schema is a schema.xml document")
                return ges.parse_schema_xml(source)
            if dialect == GraphDialect.GRAPHSCOPE:
                if not isinstance(source, dict):
                    raise PlanError("a GraphScope graph definition is a JSON/YAML object")
                return graphscope.parse_graph_definition(source)
    except PlanError as exc:
        # The message names the exact place; the field is the schema as a whole.
        raise InvalidInput(f"invalid schema: {exc.message}", field="schema") from exc
    raise InvalidInput(f"unknown dialect {dialect!r}", field="dialect")


def graph_create(
    *,
    project: Project,
    name: str,
    dialect: str,
    schema: GraphSchema | None = None,
    description: str = "",
    user: AbstractBaseUser | None = None,
) -> Graph:
    name = (name or "").strip()
    if not name or len(name) > 128:
        raise InvalidInput("name must be 1 to 128 characters", field="name")
    if dialect not in GraphDialect.values:
        raise InvalidInput(
            f"dialect must be one of {', '.join(GraphDialect.values)}", field="dialect"
        )
    if dialect == GraphDialect.GRAPHSCOPE and schema is None:
        raise InvalidInput("a GraphScope graph needs a schema", field="schema")
    try:
        with transaction.atomic():
            return Graph.objects.create(
                project=project,
                name=name,
                dialect=dialect,
                description=description,
                schema=schema.to_dict() if schema else {},
                created_by=user,
            )
    except IntegrityError:
        raise Conflict(
            f"graph {name!r} already exists in project {project.name}", field="name"
        ) from None


def graph_import_plan(
    *, graph: Graph, params: dict[str, Any], resolve: PathResolver | None = None
) -> ImportPlan:
    """Build the plan for an import into ``graph``; raises PlanError naming what is wrong."""
    from jobcenter.graphs.formats import ges, graphscope
    from jobcenter.graphs.schema import GraphSchema

    resolve = resolve or RootedResolver.for_project(graph.project_id)
    existing = GraphSchema.from_dict(graph.schema) if graph.schema else None
    fmt = params.get("format")
    with _malformed_input_is_a_plan_error("request"):
        if fmt == "ges":
            plan = ges.build_import_plan(
                params.get("request") or {}, existing=existing, resolve=resolve
            )
        elif fmt == "graphscope":
            if existing is None:
                raise PlanError(f"graph {graph.name!r} has no schema to load into", field="graph")
            plan = graphscope.build_import_plan(
                params.get("mapping") or {}, schema=existing, resolve=resolve
            )
        else:
            raise PlanError(f"format must be one of {', '.join(IMPORT_FORMATS)}", field="format")
    if isinstance(resolve, RootedResolver):  # files are shown relative to a root
        shown = tuple(
            dataclasses.replace(spec, display_path=resolve.display(spec.path))
            for spec in plan.files
        )
        plan = dataclasses.replace(plan, files=shown)
    if "max_failed_records" not in (params.get("request") or {}):
        plan = dataclasses.replace(plan, max_failed_records=settings.JOBCENTER_MAX_FAILED_RECORDS)
    return plan


def graph_record_import(*, graph_id: str, schema: GraphSchema) -> None:
    """Mirror the store's schema after a committed import and stamp the data update time."""
    Graph.objects.filter(pk=graph_id).update(
        schema=schema.to_dict(), data_updated_at=timezone.now()
    )


def graph_lock_acquire(*, graph_id: str, job_id: str) -> bool:
    """Take the graph's write lock for a job (a conditional update; True when held)."""
    taken = Graph.objects.filter(pk=graph_id, write_lock="").update(write_lock=job_id)
    return bool(taken) or Graph.objects.filter(pk=graph_id, write_lock=job_id).exists()


def graph_lock_release(*, graph_id: str, job_id: str) -> None:
    Graph.objects.filter(pk=graph_id, write_lock=job_id).update(write_lock="")
