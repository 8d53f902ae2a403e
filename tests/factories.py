"""Builders for test data, through the same services the product uses."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_create, graph_schema_parse
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_cancel, job_submit_import
from jobcenter.jobs.transitions import FileUpdate, job_claim, job_finish
from jobcenter.projects.choices import Role
from jobcenter.projects.models import Project
from jobcenter.projects.services import membership_set, project_create


def shared_data(*parts: str) -> Path:
    return Path(settings.SHARED_DATA, *parts)


def user_create(username: str, *, superuser: bool = False) -> Any:
    users = get_user_model().objects
    if superuser:
        return users.create_superuser(username=username, password="pw-" + username)
    return users.create_user(username=username, password="pw-" + username)


def project_with_members(name: str = "alpha", **roles: Role) -> Project:
    project = project_create(name=name)
    for username, role in roles.items():
        user = get_user_model().objects.filter(username=username).first() or user_create(username)
        membership_set(project=project, user=user, role=role)
    return project


def ges_graph(project: Project, name: str = "movies", *, schema_xml: bytes | None = None) -> Graph:
    schema = graph_schema_parse(dialect="ges", source=schema_xml) if schema_xml else None
    return graph_create(project=project, name=name, dialect="ges", schema=schema)


def graphscope_graph(project: Project, name: str = "modern") -> Graph:
    import yaml

    definition = yaml.safe_load(shared_data("modern_graph", "graph.yaml").read_text())
    schema = graph_schema_parse(dialect="graphscope", source=definition)
    return graph_create(project=project, name=name, dialect="graphscope", schema=schema)


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


def write_ges_files(directory: Path, *, vertices: int, edges: int) -> dict[str, str]:
    """A generated GES graph: ``vertices`` vertices of label n, ``edges`` edges of label e."""
    directory.mkdir(parents=True, exist_ok=True)
    schema = directory / "schema.xml"
    schema.write_text(
        '<?xml version="1.0"?><PMML version="3.0"><labels>'
        '<label name="n"><properties><property name="v" cardinality="single" dataType="int"/>'
        "</properties></label>"
        '<label name="e"><properties><property name="w" cardinality="single" dataType="double"/>'
        "</properties></label></labels></PMML>"
    )
    vfile = directory / "vertices.csv"
    with vfile.open("w") as fh:
        for i in range(vertices):
            fh.write(f"v{i},n,{i}\n")
    efile = directory / "edges.csv"
    with efile.open("w") as fh:
        for i in range(edges):
            fh.write(f"v{i % vertices},v{(i * 7 + 1) % vertices},e,{i % 100}.5\n")
    return {"schema_path": str(schema), "vertexset_path": str(vfile), "edgeset_path": str(efile)}


def random_ges_files(directory: Path, *, vertices: int, edges: int, seed: int) -> dict[str, str]:
    """A GES graph with uniformly random edges and no properties: no community structure, so
    community detection (louvain, label propagation) works hard on it."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    schema = directory / "schema.xml"
    schema.write_text(
        '<?xml version="1.0"?><PMML version="3.0"><labels><label name="n"></label>'
        '<label name="e"></label></labels></PMML>'
    )
    vfile, efile = directory / "v.csv", directory / "e.csv"
    vfile.write_text("".join(f"v{i},n\n" for i in range(vertices)))
    with efile.open("w") as fh:
        fh.writelines(
            f"v{rng.randrange(vertices)},v{rng.randrange(vertices)},e\n" for _ in range(edges)
        )
    return {"schema_path": str(schema), "vertexset_path": str(vfile), "edgeset_path": str(efile)}


def jobs_in_every_state(
    project: Project,
    graph: Graph,
    operator: Any,
    *,
    make: Callable[..., Job],
    run: Callable[..., Job],
) -> dict[str, Job]:
    """One job in each state, oldest first, made by a test package's ``make`` (a submitted
    job) and moved on by its ``run`` (the worker's claim, heartbeat and finish)."""
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


def wait_for(predicate: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
