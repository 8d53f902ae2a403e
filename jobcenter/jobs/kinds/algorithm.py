"""The algorithm kind: one of ``jobcenter.graphs.algorithms.ALGORITHMS`` run on a graph's
committed data (the worker's resident copy when it holds one).

- Phases: "loading graph" (edges read from the store), "building graph", "computing",
  "writing result" (set by the algorithm's ``Control``; see graphs/compute.py).
- Retry: the same algorithm and parameters, checked again against the graph.
- Result: a result file (``jobs.results``): one row per vertex (values) or per item found,
  with the algorithm's outputs.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from jobcenter.core.errors import InvalidInput
from jobcenter.graphs.algorithms import parse_algorithm, run_algorithm
from jobcenter.graphs.models import Graph
from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.stores.factory import open_store, store_exists
from jobcenter.jobs.choices import JobDialect, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import Kind, Number, register
from jobcenter.jobs.results import ResultWriter, check_json, names_snapshot
from jobcenter.jobs.submit import (
    graph_schema,
    require_ready,
    retry_common,
    retry_graph,
    submit_graph_job,
)
from jobcenter.jobs.work import Run, write_rows


def _vertex_finder(graph: Graph) -> Any:
    from jobcenter.graphs.build import find_vertices

    def find(key: str) -> list[tuple[int, str, str]]:
        if not store_exists(graph):
            return []
        store = open_store(graph)
        try:
            return find_vertices(store, key)
        finally:
            store.close()

    return find


def job_submit_algorithm(
    *,
    graph: Graph,
    algorithm: Any,
    parameters: Any = None,
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    request: dict[str, Any] | None = None,
    name: str = "Algorithm",
    retry_of: Job | None = None,
) -> Job:
    """Queue an algorithm (see jobcenter.graphs.algorithms.ALGORITHMS) on ``graph``."""
    require_ready(graph, user)
    try:
        algorithm, params = parse_algorithm(
            algorithm, parameters, schema=graph_schema(graph), find=_vertex_finder(graph)
        )
    except PlanError as exc:
        raise InvalidInput(exc.message, field=exc.field) from exc
    return submit_graph_job(
        graph=graph,
        project=graph.project,
        type=JobType.ALGORITHM,
        name=name,
        params={"algorithm": algorithm, "parameters": params},
        request=request if request is not None else {"algorithm": algorithm, "parameters": params},
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


def algorithm(*, job: Job, worker_id: str) -> None:
    def work(run: Run) -> dict[str, Any]:
        graph = run.graph()
        store = open_store(graph)
        try:
            run.watch_store(store)
            result = run_algorithm(
                store, job.params["algorithm"], job.params["parameters"], run.control
            )
        finally:
            store.close()
        writer = run.writer = ResultWriter(job.pk, kind=result.kind, columns=result.columns)
        if result.values is not None and result.names is not None:
            names_snapshot(result.names_key, result.names)  # once per graph version
            writer.add_vertex_values(
                names_key=result.names_key, values=result.values, indices=result.indices
            )
            run.control.done = run.control.total = writer.count
        else:
            write_rows(run, writer, result.rows, base=85.0, span=15.0, total=result.expected)
        summary = writer.finish(result.outputs)
        summary["algorithm"] = job.params["algorithm"]
        summary["graph_loaded_from"] = "memory" if result.graph_in_memory else "store"
        summary["seconds_loading"] = round(result.seconds_loading, 3)
        check_json(summary, "result")
        run.gate()
        writer.publish()
        return summary

    Run(job, worker_id).execute(work)


def retry(job: Job, user: AbstractBaseUser | None) -> Job:
    return job_submit_algorithm(
        graph=retry_graph(job),
        algorithm=job.params["algorithm"],
        parameters=job.params["parameters"],
        **retry_common(job, user),
    )


# Its phases as its worker stores them (Job.phase); a job without one (stored by an older
# worker) is placed by its percentage: loading 0-40, building 40-50, computing 50-85, writing
# from 85.
_STAGES = ((40, "loading graph"), (50, "building graph"), (85, "computing"))


def _stage(job: Job, progress: float) -> str:
    phase = getattr(job, "phase", "")
    if phase in ("loading graph", "building graph", "computing", "writing result"):
        return phase
    return next((name for bound, name in _STAGES if progress < bound), "writing result")


def progress_text(job: Job, short: bool, number: Number) -> str:
    """Its phase, with edges read or rows written (Kind.progress_text; docs/analytics.md)."""
    done, total = job.lines_done, job.lines_total
    stage = _stage(job, float(job.progress or 0))
    if stage == "loading graph":
        if not total:
            return "loading" if short else "Loading the graph"
        return (
            f"loading {number(done)}/{number(total)} edges"
            if short
            else f"Loading the graph: {number(done)} of {number(total)} edges read"
        )
    if stage == "building graph":
        return "building" if short else "Building the graph in memory"
    if stage == "computing":
        name = job.params.get("algorithm", "") if isinstance(job.params, dict) else ""
        return "computing" if short else f"Computing {name}".strip()
    if not total:
        return "writing" if short else "Writing the result"
    return (
        f"writing {number(done)}/{number(total)} rows"
        if short
        else f"Writing the result: {number(done)} of {number(total)} rows"
    )


KIND = register(
    Kind(
        type=JobType.ALGORITHM,
        handler=algorithm,
        retry=retry,
        cancellable=True,
        computes=True,
        result_rows=True,
        named_by="algorithm",
        phases=("loading graph", "building graph", "computing", "writing result"),
        result="a result file: a value per vertex, or the rows the algorithm found; its outputs",
        progress_text=progress_text,
    )
)
