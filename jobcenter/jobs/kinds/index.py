"""The index kind: an index built on ``label.property`` of a graph's vertices or edges (later
queries on it use the index).

- Phases: "waiting for the graph" (its write lock), "building index".
- Retry: the same index, checked again against the graph's schema.
- Result: the index's name, its target, label and property, and how many rows it covers.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from jobcenter.core.errors import InvalidInput
from jobcenter.graphs.indexes import create_index
from jobcenter.graphs.models import Graph
from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.stores.factory import open_store
from jobcenter.jobs.choices import JobDialect, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import Kind, Number, register
from jobcenter.jobs.submit import (
    graph_schema,
    require_ready,
    retry_common,
    retry_graph,
    submit_graph_job,
)
from jobcenter.jobs.work import Run


def job_submit_index(
    *,
    graph: Graph,
    label: Any,
    property: Any,
    target: Any = "vertices",
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    request: dict[str, Any] | None = None,
    name: str = "BuildIndex",
    retry_of: Job | None = None,
) -> Job:
    """Queue an index build on ``label.property`` (later queries on it use the index)."""
    from jobcenter.graphs.indexes import resolve_index
    from jobcenter.graphs.query import TARGETS

    require_ready(graph, user)
    if target not in TARGETS:
        raise InvalidInput("parameter [target] is invalid! expected vertices or edges", "target")
    if not isinstance(label, str) or not isinstance(property, str):
        raise InvalidInput("parameter [label] is invalid! expected a label name", field="label")
    try:
        column = resolve_index(graph_schema(graph), target, label, property)
    except PlanError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    params = {"target": target, "label": label, "property": property, "column": column}
    return submit_graph_job(
        graph=graph,
        project=graph.project,
        type=JobType.INDEX,
        name=name,
        params=params,
        request=request
        if request is not None
        else {"target": target, "label": label, "property": property},
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


def index(*, job: Job, worker_id: str) -> None:
    target, label, column = job.params["target"], job.params["label"], job.params["column"]

    def work(run: Run) -> dict[str, Any]:
        graph = run.graph()
        run.lock(graph)
        store = open_store(graph)
        control = run.control
        try:
            rows = store.label_size(target, label)
            control.set_phase("building index", 5.0, rows)
            run.watch_store(store)
            name = create_index(store, target, label, column, before_commit=run.gate)
            control.done = rows
        finally:
            store.close()
        return {
            "index": name,
            "target": target,
            "label": label,
            "property": job.params["property"],
            "rows": rows,
        }

    Run(job, worker_id).execute(work)


def retry(job: Job, user: AbstractBaseUser | None) -> Job:
    params = job.params
    return job_submit_index(
        graph=retry_graph(job),
        target=params["target"],
        label=params["label"],
        property=params["property"],
        **retry_common(job, user),
    )


def progress_text(job: Job, short: bool, number: Number) -> str:
    """Waiting for the graph, or the rows indexed (Kind.progress_text)."""
    total, phase = job.lines_total, getattr(job, "phase", "")
    if phase == "waiting for the graph" or (
        not phase and not total and float(job.progress or 0) < 5
    ):
        return "waiting for the graph" if short else "Waiting for other writes to the graph"
    return (
        f"indexing {number(total)} rows" if short else f"Building the index on {number(total)} rows"
    )


KIND = register(
    Kind(
        type=JobType.INDEX,
        handler=index,
        retry=retry,
        cancellable=True,
        phases=("waiting for the graph", "building index"),
        result="the index built: its name, target, label, property and rows",
        progress_text=progress_text,
    )
)
