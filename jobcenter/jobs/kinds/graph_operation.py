"""The graph-operation kind: ``delete`` (waits for a running write, then removes the graph
and its data), ``clear`` (every vertex and edge removed, the schema kept), ``backup`` (a
consistent copy of the graph's store under the export roots) and ``restore`` (the graph's data
and schema replaced by a backup).

- Phases: "waiting for the graph" (its write lock), then "deleting", "clearing", "copying" or
  "restoring".
- Not cancellable once running (short and all-or-nothing); a deletion cannot be retried.
- Result: what the operation did (vertices and edges removed, copied or restored; the path).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from jobcenter.core.errors import InvalidInput, InvalidState
from jobcenter.core.exports import export_display, export_fetch
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.models import Graph
from jobcenter.graphs.query import stored_schema
from jobcenter.graphs.resident import RESIDENT
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.services import graph_lock_acquire
from jobcenter.graphs.stores.base import NotABackup
from jobcenter.graphs.stores.factory import (
    inspect_backup,
    open_store,
    store_delete,
    store_key,
)
from jobcenter.jobs import transitions
from jobcenter.jobs.choices import EventKind, JobDialect, JobStatus, JobType
from jobcenter.jobs.dispatch import dispatch, record_event
from jobcenter.jobs.models import Job
from jobcenter.jobs.registry import Kind, Number, register
from jobcenter.jobs.runner import Heartbeat
from jobcenter.jobs.submit import (
    require_ready,
    require_role,
    retry_graph,
    submit_graph_job,
)
from jobcenter.jobs.work import Interrupted, JobFailed, Run, publish, staging_path
from jobcenter.projects.choices import Role

GRAPH_OPERATIONS = ("delete", "clear", "backup", "restore")
LOCK_POLL_SECONDS = 1.0  # a deletion waiting for a running write


def graph_delete_submit(
    *, graph: Graph, user: AbstractBaseUser | None = None, dialect: str = JobDialect.NATIVE
) -> Job:
    """Deleting a graph is a job: it waits for a running write to finish, then removes the
    graph and its data. The graph stops accepting new work at once."""
    require_role(user, graph.project, Role.OPERATOR)
    with transaction.atomic():
        if not Graph.objects.filter(pk=graph.pk, status=GraphStatus.READY).update(
            status=GraphStatus.DELETING
        ):
            raise InvalidState(f"graph {graph.name!r} is already being deleted", field="graph")
        job = Job.objects.create(
            type=JobType.GRAPH_OPERATION,
            name="DeleteGraph",
            project=graph.project,
            graph=graph,
            graph_name=graph.name,
            dialect=dialect,
            request={"graph": graph.name},
            params={"operation": "delete"},
            cancellable=False,
            submitted_by=user,
        )
        record_event(job.id, EventKind.SUBMITTED, actor=user)
        dispatch(job)
    return job


def job_submit_graph_operation(
    *,
    graph: Graph,
    operation: Any,
    path: Any = None,
    user: AbstractBaseUser | None = None,
    dialect: str = JobDialect.NATIVE,
    retry_of: Job | None = None,
) -> Job:
    """A graph operation as a job: ``delete``, ``clear`` (remove every vertex and edge, keep
    the schema), ``backup`` (a consistent copy of the graph's store to ``path`` under the
    export roots) or ``restore`` (replace the graph's data and schema by a backup)."""
    from jobcenter.core.exports import backup_source, export_target

    if operation == "delete":
        return graph_delete_submit(graph=graph, user=user, dialect=dialect)
    if operation not in GRAPH_OPERATIONS:
        raise InvalidInput(
            f"parameter [operation] is invalid! expected one of {', '.join(GRAPH_OPERATIONS)}",
            field="operation",
        )
    require_ready(graph, user)
    params: dict[str, Any] = {"operation": operation}
    if operation == "backup":
        params["path"] = str(export_target(path, field="path"))
    elif operation == "restore":
        params["path"] = str(backup_source(path, field="path"))
    elif path is not None:
        raise InvalidInput("parameter [path] is invalid! clear takes no path", field="path")
    names = {"clear": "ClearGraph", "backup": "BackupGraph", "restore": "RestoreGraph"}
    return submit_graph_job(
        graph=graph,
        project=graph.project,
        type=JobType.GRAPH_OPERATION,
        name=names[operation],
        params=params,
        request={"operation": operation, **({"path": path} if path is not None else {})},
        user=user,
        dialect=dialect,
        retry_of=retry_of,
    )


# --- worker -----------------------------------------------------------------------------------


def graph_operation(*, job: Job, worker_id: str) -> None:
    """Deletion waits for a running write to end; clear, backup and restore run as analytics
    jobs do (:class:`~jobcenter.jobs.work.Run`)."""
    operation = job.params.get("operation")
    if operation in ("clear", "backup", "restore"):
        work = {"clear": _clear, "backup": _backup, "restore": _restore}[operation]
        Run(job, worker_id).execute(lambda run: work(run, job))
        return
    _delete(job=job, worker_id=worker_id)


def _delete(*, job: Job, worker_id: str) -> None:
    graph = job.graph
    if job.params.get("operation") != "delete":
        transitions.job_finish(
            job_id=job.pk,
            worker_id=worker_id,
            status=JobStatus.FAILED,
            fail_reason=f"unknown graph operation {job.params.get('operation')!r}",
        )
        return
    if graph is None:
        transitions.job_finish(job_id=job.pk, worker_id=worker_id, status=JobStatus.SUCCEEDED)
        return
    stop = threading.Event()
    phase = ["waiting for the graph"]
    beat = Heartbeat(
        job_id=job.pk,
        worker_id=worker_id,
        stop_event=stop,
        snapshot=lambda: {
            "progress": 0.0,
            "lines_done": 0,
            "lines_total": 0,
            "lines_per_second": 0.0,
            "phase": phase[0],
        },
    )
    beat.start()
    try:
        while not graph_lock_acquire(graph_id=graph.pk, job_id=job.pk):
            if stop.wait(LOCK_POLL_SECONDS):
                return  # lost: the sweeper ended this job
        phase[0] = "deleting"
        key, doomed = store_key(graph), Graph(pk=graph.pk)  # (delete() clears graph.pk)
        graph.delete()
        store_delete(doomed)
        RESIDENT.forget(key)
    finally:
        beat.finish()
    transitions.job_finish(job_id=job.pk, worker_id=worker_id, status=JobStatus.SUCCEEDED)


def _clear(run: Run, job: Job) -> dict[str, Any]:
    graph = run.graph()
    run.lock(graph)
    store = open_store(graph)
    try:
        vertices, edges = store.count_rows()
        run.control.set_phase("clearing", 10.0, vertices + edges)
        schema = stored_schema(store)
        store.begin(width=store.width(), schema=schema.to_dict() if schema else graph.schema)
        store.clear()
        run.gate()
        summary = {"operation": "clear", "vertices_removed": vertices, "edges_removed": edges}
        store.commit(job_id=job.pk, summary=summary)
        run.control.done = vertices + edges
    finally:
        store.close()
    RESIDENT.forget(store_key(graph))
    Graph.objects.filter(pk=graph.pk).update(data_updated_at=timezone.now())
    return summary


def _backup(run: Run, job: Job) -> dict[str, Any]:
    target = Path(job.params["path"])
    graph = run.graph()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = staging_path(target, run)
    store = open_store(graph)
    try:
        run.control.set_phase("copying", 1.0, store.backup_size())

        def progress(done: int, total: int) -> None:
            run.control.done = done
            run.control.progress = 1.0 + 98.0 * done / max(1, total)
            if run.control.stop.is_set():
                raise Interrupted()

        store.backup(staging, progress=progress)
        vertices, edges = store.count_rows()
    finally:
        store.close()
    run.gate()
    publish(staging, target)
    return {
        "operation": "backup",
        "path": export_display(target),
        "vertices": vertices,
        "edges": edges,
    }


def _check_backup(path: Path) -> GraphSchema | None:
    try:
        return inspect_backup(path)
    except NotABackup as exc:
        raise JobFailed(str(exc)) from None


def _restore(run: Run, job: Job) -> dict[str, Any]:
    source = Path(job.params["path"])
    export_fetch(source)  # a backup written on another machine
    graph = run.graph()
    schema = _check_backup(source)
    run.lock(graph)
    store = open_store(graph)
    try:
        run.control.set_phase("restoring", 10.0)
        store.restore(source, before=run.gate)
        # A new data version, so that no cached copy of the old data is ever used.
        store.record_operation(job.pk, {"operation": "restore", "path": export_display(source)})
        vertices, edges = store.count_rows()
    finally:
        store.close()
    RESIDENT.forget(store_key(graph))
    Graph.objects.filter(pk=graph.pk).update(
        schema=schema.to_dict() if schema else {}, data_updated_at=timezone.now()
    )
    return {
        "operation": "restore",
        "path": export_display(source),
        "vertices": vertices,
        "edges": edges,
    }


def retry(job: Job, user: AbstractBaseUser | None) -> Job:
    return job_submit_graph_operation(
        graph=retry_graph(job),
        operation=job.params["operation"],
        path=job.params.get("path"),
        user=user,
        dialect=job.dialect,
        retry_of=job,
    )


def retry_refused(job: Job) -> str | None:
    params = job.params if isinstance(job.params, dict) else {}
    if params.get("operation") == "delete":
        return f"jobs of type {job.get_type_display().lower()} cannot be retried"
    return None


def progress_text(job: Job, short: bool, number: Number) -> str:
    """Pages copied by a backup, what a clear removes, a restore or a deletion; empty (the
    phase is shown) otherwise (Kind.progress_text)."""
    done, total = job.lines_done, job.lines_total
    operation = job.params.get("operation", "") if isinstance(job.params, dict) else ""
    if operation == "backup" and total:
        if short:
            return f"{number(done)}/{number(total)} pages"
        return f"{number(done)} of {number(total)} pages copied"
    if operation == "clear" and total:
        return (
            f"clearing {number(total)}" if short else f"Removing {number(total)} vertices and edges"
        )
    words = {"restore": "Restoring from the backup", "delete": "Deleting the graph"}
    text = words.get(operation, "")
    return text.lower() if short else text


KIND = register(
    Kind(
        type=JobType.GRAPH_OPERATION,
        handler=graph_operation,
        retry=retry,
        retry_refused=retry_refused,
        cancellable=False,
        writes_graph=lambda job: job.params.get("operation") in ("clear", "restore"),
        phases=("waiting for the graph", "deleting", "clearing", "copying", "restoring"),
        result="what the operation did: vertices and edges removed, copied or restored",
        progress_text=progress_text,
    )
)
