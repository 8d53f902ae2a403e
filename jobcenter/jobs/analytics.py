"""Worker side of the analytics jobs (issue 6): algorithms, filtered queries, index builds,
exports and the graph operations clear, backup and restore.

Every handler runs under the runner's :class:`~jobcenter.jobs.runner.Heartbeat`, whose stop
event is the :class:`~jobcenter.graphs.algorithms.Control`'s: a cancel is seen within a
heartbeat interval and stops the work between chunks, inside igraph (the forked child that
computes is killed) or inside SQLite (a progress handler interrupts the running statement).
Results go to a temporary file and are
published only after the commit gate, so a stopped job keeps nothing.

Graph access: reads (algorithms, queries, exports, backups) run in one SQLite read transaction
on the last committed data: an import running meanwhile is invisible until it commits. Writes
(index build, clear, restore) take the graph's write lock first and wait for a running write
to end. A graph being deleted fails the job clearly.
"""

from __future__ import annotations

import csv
import itertools
import json
import logging
import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.utils import timezone

from jobcenter.core.exports import export_display
from jobcenter.graphs.algorithms import (
    RESIDENT,
    AlgorithmFailed,
    AlgorithmStopped,
    Control,
    run_algorithm,
    warm_graph,
)
from jobcenter.graphs.choices import GraphStatus
from jobcenter.graphs.formats.ges import schema_xml
from jobcenter.graphs.models import Graph
from jobcenter.graphs.plan import PlanError
from jobcenter.graphs.query import (
    NotABackup,
    QuerySpec,
    colliding_key,
    count_matches,
    count_rows,
    create_index,
    inspect_backup,
    label_size,
    page_count,
    readonly_uri,
    record_operation,
    run_query,
    snapshot,
    stored_schema,
    stream_edges,
    stream_vertices,
    table_size,
)
from jobcenter.graphs.schema import GraphSchema
from jobcenter.graphs.services import graph_lock_acquire, graph_lock_release
from jobcenter.graphs.store import GraphStore, StoreError
from jobcenter.graphs.values import LIST_SEPARATOR
from jobcenter.jobs import selectors as job_selectors
from jobcenter.jobs import services
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import (
    InvalidResult,
    ResultReader,
    ResultWriter,
    check_json,
    names_snapshot,
    result_delete,
)
from jobcenter.jobs.runner import SHUTDOWN, Heartbeat, end_stopped

logger = logging.getLogger("jobcenter.jobs")

LOCK_POLL_SECONDS = 0.5
SQLITE_CHECK_STEPS = 20_000  # VM steps between two looks at the stop flag inside a statement


class JobFailed(Exception):
    """The job cannot do its work; ``str()`` is the reason shown to the user."""


class _Run:
    """One analytics job in a worker: heartbeat, control, finishing by outcome."""

    def __init__(self, job: Job, worker_id: str) -> None:
        self.job = job
        self.worker_id = worker_id
        self.control = Control()
        self.beat = Heartbeat(
            job_id=job.pk,
            worker_id=worker_id,
            snapshot=self.snapshot,
            stop_event=self.control.stop,
        )
        self.writer: ResultWriter | None = None
        self.on_stop: list[Callable[[], None]] = []  # cleanups of a stopped or failed job
        self.locked_graph: str | None = None

    def snapshot(self) -> dict[str, Any]:
        c = self.control
        return {
            "progress": min(99.9, c.progress),
            "lines_done": c.done,
            "lines_total": c.total,
            "lines_per_second": 0.0,
        }

    def graph(self) -> Graph:
        """The job's graph, fresh from the database; JobFailed when it is gone or going."""
        graph = Graph.objects.filter(pk=self.job.graph_id).first() if self.job.graph_id else None
        if graph is None:
            raise JobFailed(f"graph {self.job.graph_name!r} was deleted")
        if graph.status != GraphStatus.READY:
            raise JobFailed(f"graph {graph.name!r} is being deleted")
        return graph

    def lock(self, graph: Graph) -> None:
        """Take the graph's write lock, waiting for a running write (stops on a cancel)."""
        while not graph_lock_acquire(graph_id=graph.pk, job_id=self.job.pk):
            if self.control.stop.wait(LOCK_POLL_SECONDS):
                raise AlgorithmStopped()
            self.graph()  # deleted meanwhile?
        self.locked_graph = graph.pk

    def watch_sqlite(self, store: GraphStore) -> None:
        """Let a stop interrupt the store's running statement (a long scan, an index build)."""
        stop = self.control.stop
        store.conn.set_progress_handler(lambda: 1 if stop.is_set() else 0, SQLITE_CHECK_STEPS)

    def gate(self) -> None:
        """The point of no return (see services.job_commit_gate)."""
        if not services.job_commit_gate(job_id=self.job.pk, worker_id=self.worker_id):
            raise AlgorithmStopped()

    def execute(self, work: Callable[[_Run], dict[str, Any] | None]) -> None:
        self.beat.start()
        try:
            result = work(self)
        except _ENDS_EARLY as exc:
            self._cleanup()
            self.beat.finish()  # before reading why it was stopped
            self._end_early(exc)
            return
        except BaseException:
            self._cleanup()
            raise
        finally:
            self.beat.finish()
            if self.locked_graph:
                graph_lock_release(graph_id=self.locked_graph, job_id=self.job.pk)
        # A published result belongs to a succeeded job only: when that status cannot be
        # written (the database refuses, the job is no longer ours), the result goes, so that
        # no failed job leaves one behind for the result pages to read.
        try:
            finished = self._finish(JobStatus.SUCCEEDED, result=result)
        except BaseException:
            self._unpublish()
            raise
        if not finished:
            self._unpublish()

    def _end_early(self, exc: BaseException) -> None:
        """End the job as ``exc`` says: stopped (asked to, or SQLite interrupted because it
        was), else failed with the reason."""
        stopped = isinstance(exc, AlgorithmStopped | _Interrupted) or (
            isinstance(exc, sqlite3.Error) and self.control.stop.is_set()
        )
        if stopped:
            end_stopped(
                job=self.job,
                worker_id=self.worker_id,
                reason=self.beat.reason,
                progress=self.control.progress,
            )
        elif isinstance(exc, sqlite3.Error):
            self._finish(JobStatus.FAILED, fail_reason=f"graph store error: {exc}")
        else:
            reason = exc.message if isinstance(exc, PlanError) else str(exc)
            self._finish(JobStatus.FAILED, fail_reason=reason, progress=self.control.progress)

    def _unpublish(self) -> None:
        if self.writer is not None:
            result_delete(self.job.pk)

    def _cleanup(self) -> None:
        if self.writer is not None:
            self.writer.discard()
        for cleanup in self.on_stop:
            try:
                cleanup()
            except OSError:
                logger.exception("cleanup of job %s failed", self.job.pk)

    def _finish(self, status: JobStatus, **fields: Any) -> bool:
        c = self.control
        return services.job_finish(
            job_id=self.job.pk,
            worker_id=self.worker_id,
            status=status,
            lines_done=c.done,
            lines_total=c.total,
            **fields,
        )


class _Interrupted(Exception):
    pass


# What ends a job before its work is done, as stopped or failed (see _Run._end_early).
_ENDS_EARLY = (
    AlgorithmStopped,
    _Interrupted,
    JobFailed,
    AlgorithmFailed,
    InvalidResult,
    PlanError,
    StoreError,
    sqlite3.Error,
)


def _open(graph: Graph) -> GraphStore:
    return GraphStore(graph.store_path)


# --- algorithms ---------------------------------------------------------------------------------


def algorithm(*, job: Job, worker_id: str) -> None:
    def work(run: _Run) -> dict[str, Any]:
        graph = run.graph()
        store = _open(graph)
        try:
            run.watch_sqlite(store)
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
            _write_rows(run, writer, result.rows, base=85.0, span=15.0, total=result.expected)
        summary = writer.finish(result.outputs)
        summary["algorithm"] = job.params["algorithm"]
        summary["graph_loaded_from"] = "memory" if result.graph_in_memory else "store"
        summary["seconds_loading"] = round(result.seconds_loading, 3)
        check_json(summary, "result")
        run.gate()
        writer.publish()
        return summary

    _Run(job, worker_id).execute(work)


def _write_rows(
    run: _Run,
    writer: ResultWriter,
    rows: Iterator[tuple],
    *,
    base: float,
    span: float,
    total: int | None,
    chunk: int = 20_000,
) -> None:
    control = run.control
    control.total = total or 0
    rows = iter(rows)
    while batch := list(itertools.islice(rows, chunk)):
        writer.add(batch)
        control.done = writer.count
        if total:
            control.progress = base + span * min(1.0, writer.count / total)
        control.check()
    control.done = control.total = writer.count


# --- filtered queries ---------------------------------------------------------------------------


def query(*, job: Job, worker_id: str) -> None:
    spec = QuerySpec.from_dict(job.params["query"])

    def work(run: _Run) -> dict[str, Any]:
        graph = run.graph()
        store = _open(graph)
        control = run.control
        columns = (
            ["id", "label", "properties"]
            if spec.target == "vertices"
            else ["source", "target", "label", "properties"]
        )
        writer = run.writer = ResultWriter(job.pk, kind=spec.target, columns=columns)
        try:
            run.watch_sqlite(store)
            with snapshot(store):
                total = table_size(store, spec.target)
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

    _Run(job, worker_id).execute(work)


# --- index builds -------------------------------------------------------------------------------


def index(*, job: Job, worker_id: str) -> None:
    target, label, column = job.params["target"], job.params["label"], job.params["column"]

    def work(run: _Run) -> dict[str, Any]:
        graph = run.graph()
        run.lock(graph)
        store = _open(graph)
        control = run.control
        try:
            rows = label_size(store, target, label)
            control.set_phase("building index", 5.0, rows)
            run.watch_sqlite(store)
            try:
                store.conn.execute("BEGIN IMMEDIATE")
                name = create_index(store, target, label, column)
                run.gate()
                store.conn.execute("COMMIT")
            except BaseException:
                if store.conn.in_transaction:
                    store.conn.execute("ROLLBACK")
                raise
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

    _Run(job, worker_id).execute(work)


# --- exports ------------------------------------------------------------------------------------


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


STAGING_NAME_BYTES = 64  # of the target's name kept in its staging name


def staging_name(name: str, job_id: str) -> str:
    """The name of a temporary sibling of a target called ``name``: ``.<start of name>.<job
    id>.part``, at most 1 + 64 + 1 + 32 + 5 bytes whatever the target's name, so that any
    name accepted at submission also fits here (with room for SQLite's ``-journal``)."""
    start = os.fsencode(name)[:STAGING_NAME_BYTES].decode("utf-8", "ignore")
    return f".{start}.{job_id}.part"


def _staging(target: Path, run: _Run) -> Path:
    """A temporary sibling of ``target``, removed when the job stops or fails."""
    staging = target.with_name(staging_name(target.name, run.job.pk))
    if staging.exists():
        shutil.rmtree(staging) if staging.is_dir() else staging.unlink()
    run.on_stop.append(
        lambda: (
            shutil.rmtree(staging, ignore_errors=True)
            if staging.is_dir()
            else staging.unlink(missing_ok=True)
        )
    )
    return staging


def _publish(staging: Path, target: Path) -> None:
    if target.exists():
        raise JobFailed(
            f"{export_display(target)} appeared while the export ran; nothing was overwritten"
        )
    os.replace(staging, target)


def _export_result(job: Job, worker_id: str) -> None:
    target = Path(job.params["path"])
    source_id = job.params["job"]

    def work(run: _Run) -> dict[str, Any]:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = _staging(target, run)
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
        _publish(staging, target)
        return {"path": export_display(target), "rows": reader.total, "source_job": source_id}

    _Run(job, worker_id).execute(work)


def _export_graph(job: Job, worker_id: str) -> None:
    target = Path(job.params["path"])

    def work(run: _Run) -> dict[str, Any]:
        graph = run.graph()
        store = _open(graph)
        control = run.control
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = _staging(target, run)
        staging.mkdir()
        try:
            run.watch_sqlite(store)
            with snapshot(store):
                schema = stored_schema(store) or (
                    GraphSchema.from_dict(graph.schema) if graph.schema else None
                )
                if schema is None or not schema.labels:
                    raise JobFailed(f"graph {graph.name!r} has no schema to export")
                if schema.id_scope != "global" and (clash := colliding_key(store)):
                    raise JobFailed(
                        f"vertex id {clash[0]!r} is used by labels {', '.join(clash[1])}: GES "
                        "vertex ids are global, so this graph cannot be exported in GES format"
                    )
                vertices, edges = count_rows(store)
                control.set_phase("exporting", 1.0, vertices + edges)
                (staging / "schema.xml").write_text(schema_xml(schema), encoding="utf-8")
                props = {label.name: label.properties for label in schema.labels}
                done = 0
                for name, stream, lead in (
                    ("vertex.csv", stream_vertices, 2),
                    ("edge.csv", stream_edges, 3),
                ):
                    with (staging / name).open("w", newline="", encoding="utf-8") as handle:
                        writer = csv.writer(handle, lineterminator="\n")
                        for rows in stream(store):
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
        _publish(staging, target)
        return {
            "path": export_display(target),
            "format": "ges",
            "files": ["schema.xml", "vertex.csv", "edge.csv"],
            "vertices": vertices,
            "edges": edges,
        }

    _Run(job, worker_id).execute(work)


# --- graph operations: clear, backup, restore ---------------------------------------------------


def graph_operation(*, job: Job, worker_id: str) -> None:
    operation = job.params.get("operation")
    work = {"clear": _clear, "backup": _backup, "restore": _restore}[operation]
    _Run(job, worker_id).execute(lambda run: work(run, job))


def _clear(run: _Run, job: Job) -> dict[str, Any]:
    graph = run.graph()
    run.lock(graph)
    store = _open(graph)
    try:
        vertices, edges = count_rows(store)
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
    RESIDENT.forget(graph.store_path)
    Graph.objects.filter(pk=graph.pk).update(data_updated_at=timezone.now())
    return summary


def _backup(run: _Run, job: Job) -> dict[str, Any]:
    target = Path(job.params["path"])
    graph = run.graph()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = _staging(target, run)
    store = _open(graph)
    try:
        pages = page_count(store)
        run.control.set_phase("copying", 1.0, pages)
        copy = sqlite3.connect(staging)
        try:

            def progress(status: int, remaining: int, total: int) -> None:
                run.control.done = total - remaining
                run.control.progress = 1.0 + 98.0 * (total - remaining) / max(1, total)
                if run.control.stop.is_set():
                    raise _Interrupted()

            store.conn.backup(copy, pages=1024, progress=progress)
            # A backup is one self-contained file: reading it (a restore) then needs no -wal
            # or -shm beside it, whose names might not fit next to a long backup name.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
        vertices, edges = count_rows(store)
    finally:
        store.close()
    run.gate()
    _publish(staging, target)
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


def _restore(run: _Run, job: Job) -> dict[str, Any]:
    source = Path(job.params["path"])
    graph = run.graph()
    schema = _check_backup(source)
    run.lock(graph)
    store = _open(graph)
    try:
        run.control.set_phase("restoring", 10.0)
        backup = sqlite3.connect(readonly_uri(source), uri=True)
        try:
            run.gate()
            backup.backup(store.conn)
        finally:
            backup.close()
        # A new data version, so that no cached copy of the old data is ever used.
        record_operation(store, job.pk, {"operation": "restore", "path": export_display(source)})
        vertices, edges = count_rows(store)
    finally:
        store.close()
    RESIDENT.forget(graph.store_path)
    Graph.objects.filter(pk=graph.pk).update(
        schema=schema.to_dict() if schema else {}, data_updated_at=timezone.now()
    )
    return {
        "operation": "restore",
        "path": export_display(source),
        "vertices": vertices,
        "edges": edges,
    }


# --- graphs kept in memory ----------------------------------------------------------------------
# A worker holds the graphs it built (jobcenter.graphs.algorithms.RESIDENT). It builds a graph
# as soon as a write to it (import, clear, restore) has finished, and at start the graphs of the
# latest algorithm jobs, so that algorithm jobs find their graph in memory instead of paying to
# read it out of the store (which takes longer than pagerank itself: docs/benchmarks.md).


def warm(graph: Graph) -> bool:
    """Build ``graph`` in this worker's memory with its vertex-id snapshot; ``False`` when it
    cannot be (being deleted, never written, larger than the memory budget, the worker is
    shutting down). Never raises: a graph that fails to load here fails its algorithm jobs
    with the reason instead."""
    if graph.status != GraphStatus.READY or not graph.store_path.exists():
        return False
    try:
        store = _open(graph)
        try:
            loaded = warm_graph(store, stop=SHUTDOWN)
        finally:
            store.close()
        if loaded is None:
            logger.info("graph %s is larger than JOBCENTER_GRAPH_MEMORY_MB; not kept", graph.pk)
            return False
        names_snapshot(loaded.names_key, loaded.names)
        if not loaded.cached:
            logger.info(
                "graph %s (%s) loaded into memory: %d vertices, %d edges in %.2f s",
                graph.name,
                graph.pk,
                loaded.graph.vcount(),
                loaded.graph.ecount(),
                loaded.seconds_loading,
            )
        return True
    except AlgorithmStopped:
        return False
    except Exception:
        logger.exception("could not load graph %s into memory", graph.pk)
        return False


def warm_after_job(job_id: str) -> bool:
    """After a job that changed a graph's data ended well, load the new data into memory,
    unless jobs are waiting: a head start for later jobs never delays queued ones (a waiting
    algorithm job then loads the graph itself, and the worker keeps it)."""
    try:
        job = Job.objects.filter(pk=job_id).select_related("graph").first()
        if job is None or job.graph is None:
            return False
        if job.status not in (JobStatus.SUCCEEDED, JobStatus.PARTIALLY_FAILED):
            return False
        wrote = job.type == JobType.IMPORT or (
            job.type == JobType.GRAPH_OPERATION
            and job.params.get("operation") in ("clear", "restore")
        )
        if not wrote or job_selectors.job_waiting_exists():
            return False
    except Exception:  # the job's own outcome is recorded already; this is only a head start
        logger.exception("could not look up job %s", job_id)
        return False
    return warm(job.graph)


def warm_recent(limit: int) -> list[Graph]:
    """At worker start: load the graphs of the latest algorithm jobs, most recent first, as
    many as ``limit`` and the memory budget allow."""
    if limit <= 0:
        return []
    return [graph for graph in job_selectors.graphs_last_analysed(limit=limit) if warm(graph)]
