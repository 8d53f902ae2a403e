"""Jobs: submitted through the real services (``ges_movie_*``), or written as a submit leaves
them (``make_job``) and moved on by playing the worker with the worker-side services
(``run_job``); ``unsaved_job`` for the wires' tests (a wire renders what it is given)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.utils import timezone

from jobcenter.graphs.models import Graph
from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus, JobType
from jobcenter.jobs.models import FailedLine, Job, JobEvent, JobFile
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_cancel, job_submit_import
from jobcenter.jobs.transitions import FileUpdate, job_claim, job_finish, job_heartbeat
from jobcenter.projects.models import Project
from tests.factories.files import shared_data

#: (role, path, bytes) of an import's files, in order: a schema and two data files
SCHEMA_AND_DATA = (
    ("schema", "/data/schema.xml", 10),
    ("vertex", "/data/vertex.csv", 100),
    ("edge", "/data/edge.csv", 50),
)
#: two data files, paths as given relative to an import root
DATA_ONLY = (("vertex", "vertex.csv", 100), ("edge", "edge.csv", 50))


def ges_movie_import(graph: Graph, user: Any = None, **extra: Any) -> Job:
    request = {
        "schema_path": str(shared_data("ges_movie", "schema.xml")),
        "vertexset_path": str(shared_data("ges_movie", "vertex.csv")),
        "edgeset_path": str(shared_data("ges_movie", "edge.csv")),
        **extra,
    }
    return job_submit_import(graph=graph, params={"format": "ges", "request": request}, user=user)


def ges_movie_aborted(graph: Graph, user: Any = None) -> Job:
    """ges_movie run in this process with an error threshold of 3 failed lines: the 4th
    (vertex.csv line 10, after 6 valid lines) aborts it, edge.csv is never reached and nothing
    is committed."""
    job = ges_movie_import(graph, user=user, error_threshold={"max_count": 3})
    execute_job(job_id=job.pk)
    return Job.objects.get(pk=job.pk)


def ges_movie_cancelled(graph: Graph, user: Any) -> Job:
    """A ges_movie import cancelled once its worker had read the schema and vertex files, ended
    as the runner ends a stopped import (jobs.runner.end_stopped: the files' counters as far as
    they got, nothing committed); edge.csv was never reached."""
    job = ges_movie_import(graph, user=user)
    assert job_claim(job_id=job.pk, worker_id="w1") is not None
    job_cancel(job=Job.objects.get(pk=job.pk), user=user)
    now = timezone.now()
    done = {"started_at": now, "finished_at": now}
    files = [
        FileUpdate(0, {"status": "success", "total_lines": 4, "successful_lines": 4, **done}),
        FileUpdate(
            1,
            {
                "status": "partFailed",
                "cause": "4 of 10 lines failed",
                "total_lines": 10,
                "successful_lines": 6,
                "failed_lines": 4,
                **done,
            },
        ),
        FileUpdate(2, {"total_lines": 9}),
    ]
    assert job_finish(
        job_id=job.pk,
        worker_id="w1",
        status=JobStatus.CANCELLED,
        files=files,
        lines_done=10,
        lines_total=19,
    )
    return Job.objects.get(pk=job.pk)


def make_job(
    project: Project,
    graph: Graph | None = None,
    *,
    files: Sequence[tuple[str, str, int]] = SCHEMA_AND_DATA,
    request: dict[str, Any] | None = None,
    **fields: Any,
) -> Job:
    """A submitted import job (as job_submit_import leaves it): its files, its request (by
    default the data files' paths) and its submitted event."""
    fields.setdefault("name", "ImportGraph")
    if request is None:
        request = {f"{role}set_path": path for role, path, _ in files if role != "schema"}
    job = Job.objects.create(
        type=fields.pop("type", JobType.IMPORT),
        project=project,
        graph=graph,
        graph_name=graph.name if graph else "movies",
        params={"format": "ges", "request": {}},
        request=request,
        **fields,
    )
    JobFile.objects.bulk_create(
        JobFile(job=job, index=i, role=role, path=path, bytes_total=size)
        for i, (role, path, size) in enumerate(files)
    )
    JobEvent.objects.create(job=job, kind="submitted", actor=fields.get("submitted_by"))
    return job


def run_job(
    job: Job,
    *,
    status: JobStatus | None = None,
    failed_lines: int = 0,
    progress: float = 40.0,
    worker: str = "w1",
    lines_total: int = 1000,
    lines_per_second: float = 250.0,
    reason: str | None = None,
    vertex_file: dict[str, Any] | None = None,
) -> Job:
    """Play the worker: claim, one heartbeat (at ``progress`` percent of ``lines_total``), and
    (with ``status``) finish, with ``failed_lines`` failed lines in the vertex file and, unless
    it succeeded, ``reason`` (by default how many lines failed); ``vertex_file``: the vertex
    file's fields then (by default its counts and, with failures, its log)."""
    assert job_claim(job_id=job.pk, worker_id=worker) is not None
    job_heartbeat(
        job_id=job.pk,
        worker_id=worker,
        progress=progress,
        lines_done=int(progress * lines_total / 100),
        lines_total=lines_total,
        lines_per_second=lines_per_second,
    )
    if status is not None:
        vertex = job.files.get(role="vertex")
        failed = [
            FailedLine(
                job=job,
                file=vertex,
                line_number=n + 1,
                reason="bad_type",
                message=f"Age 'x{n}' is not an int",
                raw=f"v{n},user,x{n}",
            )
            for n in range(failed_lines)
        ]
        if vertex_file is None:
            vertex_file = {
                "status": "partFailed" if failed_lines else "success",
                "total_lines": 10 + failed_lines,
                "successful_lines": 10,
                "failed_lines": failed_lines,
                "log": "line 1: bad_type: Age is not an int" if failed_lines else "",
            }
        if status == JobStatus.SUCCEEDED:
            reason = ""
        elif reason is None:
            reason = f"{failed_lines} lines failed"
        job_finish(
            job_id=job.pk,
            worker_id=worker,
            status=status,
            fail_reason=reason,
            result={"lines_failed": failed_lines},
            files=[FileUpdate(index=vertex.index, fields=vertex_file)],
            failed=failed,
        )
    job.refresh_from_db()
    return job


def jobs_in_every_state(
    project: Project,
    graph: Graph,
    operator: Any,
    *,
    make: Callable[..., Job] = make_job,
    run: Callable[..., Job] = run_job,
) -> dict[str, Job]:
    """One job in each state, oldest first, made by ``make`` (a submitted job) and moved on by
    ``run`` (the worker's claim, heartbeat and finish)."""
    out: dict[str, Job] = {}
    out["succeeded"] = run(make(project, graph, submitted_by=operator), status=JobStatus.SUCCEEDED)
    out["partially_failed"] = run(
        make(project, graph, submitted_by=operator),
        status=JobStatus.PARTIALLY_FAILED,
        failed_lines=3,
    )
    out["failed"] = run(make(project, graph), status=JobStatus.FAILED)
    cancelled = make(project, graph, submitted_by=operator)
    job_cancel(job=cancelled, user=operator)
    out["cancelled"] = Job.objects.get(pk=cancelled.pk)
    cancelling = run(make(project, graph))
    job_cancel(job=cancelling, user=operator)
    out["cancelling"] = Job.objects.get(pk=cancelling.pk)
    out["running"] = run(make(project, graph, submitted_by=operator))
    out["waiting"] = make(project, graph, submitted_by=operator)
    return out


def unsaved_job(
    status: str,
    job_type: str = JobType.IMPORT,
    *,
    created_at: datetime,
    finished_at: datetime,
    **fields: Any,
) -> Job:
    """A job of project alpha that is not saved, as a wire is given it: ``finished_at`` only
    once it has ended, and by default the progress a wire shows (100 once ended)."""
    terminal = status in TERMINAL_STATUSES
    fields.setdefault("name", "ImportGraph")
    fields.setdefault("progress", 100.0 if terminal else 37.9)
    return Job(
        type=job_type,
        project=Project(name="alpha"),
        status=status,
        created_at=created_at,
        finished_at=finished_at if terminal else None,
        **fields,
    )


def job_after(
    graph: Graph, *depends_on: Job, user: Any = None, accept_partial: bool = False
) -> Job:
    """A pagerank job on ``graph`` submitted through its service to wait for ``depends_on``
    (issue 17, job chains)."""
    from jobcenter.jobs.chains import dependencies_resolve, waiting_for
    from jobcenter.jobs.kinds.algorithm import job_submit_algorithm

    deps = dependencies_resolve(
        project=graph.project, ids=[job.pk for job in depends_on], accept_partial=accept_partial
    )
    with waiting_for(deps):
        return job_submit_algorithm(graph=graph, algorithm="pagerank", user=user)


def job_end(job: Job, status: JobStatus, *, worker: str = "w1") -> Job:
    """Play the worker: claim ``job`` and end it ``status`` (cancelled: through cancelling)."""
    assert job_claim(job_id=job.pk, worker_id=worker) is not None
    if status == JobStatus.CANCELLED:
        Job.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLING)
    reason = "" if status == JobStatus.SUCCEEDED else f"it ended {status}"
    assert job_finish(job_id=job.pk, worker_id=worker, status=status, fail_reason=reason)
    job.refresh_from_db()
    return job
