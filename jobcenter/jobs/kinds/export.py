"""The export kind: a whole graph in GES format (a folder with schema.xml, vertex.csv and
edge.csv) or a finished job's result (one CSV file), written under the export roots.

- Phases: "exporting" (rows written).
- Retry: the same export (the target must still not exist; a result's job must still exist).
- Result: the path written (as shown), with its rows, or its vertices and edges.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser

from jobcenter.core.errors import InvalidInput, InvalidState
from jobcenter.core.exports import export_display
from jobcenter.graphs.formats.ges import schema_xml
from jobcenter.graphs.models import Graph
from jobcenter.graphs.query import snapshot, stored_schema
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.stores.factory import open_store
from jobcenter.graphs.values import LIST_SEPARATOR
from jobcenter.jobs.chains import will_wait_for
from jobcenter.jobs.choices import JobDialect, JobStatus, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import Kind, Number, kind_of, register
from jobcenter.jobs.results import ResultReader
from jobcenter.jobs.submit import (
    require_ready,
    require_role,
    retry_common,
    retry_graph,
    submit_graph_job,
)
from jobcenter.jobs.work import JobFailed, Run, publish, staging_path
from jobcenter.projects.choices import Role


def job_submit_export(
    *,
    path: Any,
    graph: Graph | None = None,
    source_job: Job | None = None,
    format: Any = None,
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    request: dict[str, Any] | None = None,
    name: str = "",
    retry_of: Job | None = None,
) -> Job:
    """Export a whole graph (``graph``; GES format: a folder with schema.xml, vertex.csv and
    edge.csv) or a finished job's result (``source_job``; one CSV file) to ``path`` under the
    export roots. The target must not exist yet."""
    from jobcenter.core.exports import export_target
    from jobcenter.jobs.results import result_exists

    if (graph is None) == (source_job is None):
        raise InvalidInput("export either a graph or a job's result", field="source")
    if source_job is not None:
        require_role(user, source_job.project, Role.OPERATOR)
        # A job this export depends on (a chain: "then export the result") has its result
        # once it succeeds; the export waits for it.
        waits = will_wait_for(source_job.pk) and kind_of(source_job.type).result_rows
        if not waits and (
            source_job.status != JobStatus.SUCCEEDED or not result_exists(source_job.pk)
        ):
            raise InvalidState(f"job {source_job.pk} has no result to export", field="job")
        target = export_target(path, field="path")
        params = {"source": "result", "job": source_job.pk, "path": str(target)}
        # The export belongs to the graph the result was computed on (it reads only the
        # result file, so a graph being deleted does not stop it): per-graph job lists, such
        # as GES's service plane, show it next to the job it exports.
        return submit_graph_job(
            graph=source_job.graph,
            graph_name=source_job.graph_name,
            require_ready=False,
            project=source_job.project,
            type=JobType.EXPORT,
            name=name or "ExportResult",
            params=params,
            request=request if request is not None else {"job": source_job.pk, "path": path},
            user=user,
            dialect=dialect,
            retry_of=retry_of,
        )
    assert graph is not None
    require_ready(graph, user)
    if format not in (None, "ges"):
        raise InvalidInput("parameter [format] is invalid! expected ges", field="format")
    target = export_target(path, field="path")
    return submit_graph_job(
        graph=graph,
        project=graph.project,
        type=JobType.EXPORT,
        name=name or "ExportGraph",
        params={"source": "graph", "format": "ges", "path": str(target)},
        request=request if request is not None else {"format": "ges", "path": path},
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


def _csv_value(prop: Any, value: Any) -> str:
    """A stored value as GES writes it in a data file."""
    if value is None:
        return ""
    if prop is not None and prop.cardinality != "single":
        return LIST_SEPARATOR.join(_scalar_text(v) for v in json.loads(value))
    return _scalar_text(value)


def _scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def export(*, job: Job, worker_id: str) -> None:
    if job.params["source"] == "graph":
        _export_graph(job, worker_id)
    else:
        _export_result(job, worker_id)


def _export_result(job: Job, worker_id: str) -> None:
    target = Path(job.params["path"])
    source_id = job.params["job"]

    def work(run: Run) -> dict[str, Any]:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_path(target, run)
        try:
            reader = ResultReader(source_id)
        except FileNotFoundError:
            raise JobFailed(f"job {source_id} has no result (any more)") from None
        control = run.control
        with reader, staging.open("w", newline="", encoding="utf-8") as handle:
            control.set_phase("exporting", 1.0, reader.total)
            writer = csv.writer(handle)
            writer.writerow(reader.columns)
            for i, row in enumerate(reader.iter_rows(), start=1):
                writer.writerow(row)
                if i % 10_000 == 0:
                    control.done = i
                    control.progress = 1.0 + 98.0 * i / max(1, reader.total)
                    control.check()
            control.done = reader.total
        run.gate()
        publish(staging, target)
        return {"path": export_display(target), "rows": reader.total, "source_job": source_id}

    Run(job, worker_id).execute(work)


def _export_graph(job: Job, worker_id: str) -> None:
    target = Path(job.params["path"])

    def work(run: Run) -> dict[str, Any]:
        graph = run.graph()
        store = open_store(graph)
        control = run.control
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = staging_path(target, run)
        staging.mkdir()
        try:
            run.watch_store(store)
            with snapshot(store):
                schema = stored_schema(store) or (
                    GraphSchema.from_dict(graph.schema) if graph.schema else None
                )
                if schema is None or not schema.labels:
                    raise JobFailed(f"graph {graph.name!r} has no schema to export")
                if schema.id_scope != "global" and (clash := store.colliding_key()):
                    raise JobFailed(
                        f"vertex id {clash[0]!r} is used by labels {', '.join(clash[1])}: GES "
                        "vertex ids are global, so this graph cannot be exported in GES format"
                    )
                vertices, edges = store.count_rows()
                control.set_phase("exporting", 1.0, vertices + edges)
                (staging / "schema.xml").write_text(schema_xml(schema), encoding="utf-8")
                props = {label.name: label.properties for label in schema.labels}
                done = 0
                for name, stream, lead in (
                    ("vertex.csv", store.stream_vertices, 2),
                    ("edge.csv", store.stream_edges, 3),
                ):
                    with (staging / name).open("w", newline="", encoding="utf-8") as handle:
                        writer = csv.writer(handle, lineterminator="\n")
                        for rows in stream():
                            for row in rows:
                                label_props = props.get(row[lead - 1], ())
                                writer.writerow(
                                    [
                                        *row[:lead],
                                        *(
                                            _csv_value(p, row[lead + i])
                                            for i, p in enumerate(label_props)
                                        ),
                                    ]
                                )
                            done += len(rows)
                            control.done = done
                            control.progress = 1.0 + 98.0 * done / max(1, vertices + edges)
                            control.check()
        finally:
            store.close()
        run.gate()
        publish(staging, target)
        return {
            "path": export_display(target),
            "format": "ges",
            "files": ["schema.xml", "vertex.csv", "edge.csv"],
            "vertices": vertices,
            "edges": edges,
        }

    Run(job, worker_id).execute(work)


def retry(job: Job, user: AbstractBaseUser | None) -> Job:
    params, common = job.params, retry_common(job, user)
    if params.get("source") == "result":
        source = Job.objects.filter(pk=params["job"]).first()
        if source is None:
            raise InvalidState(f"job {params['job']} no longer exists")
        return job_submit_export(source_job=source, path=params["path"], **common)
    return job_submit_export(graph=retry_graph(job), path=params["path"], **common)


def progress_text(job: Job, short: bool, number: Number) -> str:
    """Rows written (Kind.progress_text)."""
    done, total = job.lines_done, job.lines_total
    if short:
        return f"{number(done)}/{number(total)} rows"
    return f"{number(done)} of {number(total)} rows written"


KIND = register(
    Kind(
        type=JobType.EXPORT,
        handler=export,
        retry=retry,
        cancellable=True,
        phases=("exporting",),
        result="files under the export roots: the path, with its rows or its vertices and edges",
        progress_text=progress_text,
    )
)
