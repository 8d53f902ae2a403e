"""The query kind: a filtered vertex or edge query; its rows are kept as the job's result.

- Phases: "querying" (rows read and written together).
- Retry: the same query, checked again against the graph's schema.
- Result: a result file of vertices (id, label, properties) or edges (source, target, label,
  properties); the job's result also says how many rows matched.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from jobcenter.core.errors import InvalidInput
from jobcenter.graphs.models import Graph
from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.query import QuerySpec, count_matches, run_query, snapshot
from jobcenter.graphs.stores.factory import open_store
from jobcenter.jobs.choices import JobDialect, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import Kind, Number, register
from jobcenter.jobs.results import ResultWriter
from jobcenter.jobs.submit import (
    graph_schema,
    require_ready,
    retry_common,
    retry_graph,
    submit_graph_job,
)
from jobcenter.jobs.work import Run


def job_submit_query(
    *,
    graph: Graph,
    query: Any,
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    request: dict[str, Any] | None = None,
    name: str = "",
    retry_of: Job | None = None,
) -> Job:
    """Queue a filtered vertex or edge query; its rows are kept as the job's result."""
    from django.conf import settings

    from jobcenter.graphs.query import parse_query

    require_ready(graph, user)
    try:
        spec = parse_query(query, graph_schema(graph), max_limit=settings.JOBCENTER_QUERY_MAX_ROWS)
    except PlanError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    return submit_graph_job(
        graph=graph,
        project=graph.project,
        type=JobType.QUERY,
        name=name or ("VertexQuery" if spec.target == "vertices" else "EdgeQuery"),
        params={"query": spec.to_dict()},
        request=request if request is not None else spec.to_dict(),
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


def query(*, job: Job, worker_id: str) -> None:
    spec = QuerySpec.from_dict(job.params["query"])

    def work(run: Run) -> dict[str, Any]:
        graph = run.graph()
        store = open_store(graph)
        control = run.control
        columns = (
            ["id", "label", "properties"]
            if spec.target == "vertices"
            else ["source", "target", "label", "properties"]
        )
        writer = run.writer = ResultWriter(job.pk, kind=spec.target, columns=columns)
        try:
            run.watch_store(store)
            with snapshot(store):
                total = store.table_size(spec.target)
                wanted = min(total, spec.limit) if spec.limit is not None else total
                control.set_phase("querying", 1.0, wanted)
                for rows in run_query(store, spec):
                    writer.add(rows)
                    control.done = writer.count
                    control.progress = 1.0 + 98.0 * writer.count / wanted if wanted else 99.0
                    control.check()
                # Every match was returned unless an offset or a full limit cut some off.
                cut = spec.offset or (spec.limit is not None and writer.count >= spec.limit)
                matched = count_matches(store, spec) if cut else writer.count
        finally:
            store.close()
        control.total = writer.count
        summary = writer.finish({"returned": writer.count, "offset": spec.offset})
        summary["matched"] = matched  # the job's record, not the result's outputs (GES shape)
        run.gate()
        writer.publish()
        return summary

    Run(job, worker_id).execute(work)


def retry(job: Job, user: AbstractBaseUser | None) -> Job:
    return job_submit_query(
        graph=retry_graph(job), query=job.params["query"], **retry_common(job, user)
    )


def progress_text(job: Job, short: bool, number: Number) -> str:
    """Rows found so far (Kind.progress_text)."""
    done, total = job.lines_done, job.lines_total
    if short:
        return f"{number(done)} rows found"
    return f"{number(done)} rows found" + (f" (at most {number(total)})" if total else "")


KIND = register(
    Kind(
        type=JobType.QUERY,
        handler=query,
        retry=retry,
        cancellable=True,
        result_rows=True,
        phases=("querying",),
        result="a result file of the matching vertices or edges, and how many matched",
        progress_text=progress_text,
    )
)
