"""Fixtures for the dashboard's view tests: logged-in clients and jobs in every state, made with
the real services (the worker is played by calling the worker-side services)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_create
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.models import FailedLine, Job, JobEvent, JobFile
from jobcenter.jobs.transitions import FileUpdate, job_claim, job_finish, job_heartbeat
from jobcenter.projects.models import Project
from tests.factories import jobs_in_every_state

HTMX = {"HTTP_HX_REQUEST": "true"}


def make_job(project: Project, graph: Graph | None = None, **fields: Any) -> Job:
    """A submitted import job (as job_submit_import leaves it) with a schema and two data files."""
    fields.setdefault("name", "ImportGraph")
    job = Job.objects.create(
        type=fields.pop("type", JobType.IMPORT),
        project=project,
        graph=graph,
        graph_name=graph.name if graph else "movies",
        params={"format": "ges", "request": {}},
        request={"vertexset_path": "/data/vertex.csv", "edgeset_path": "/data/edge.csv"},
        **fields,
    )
    JobFile.objects.bulk_create(
        [
            JobFile(job=job, index=0, role="schema", path="/data/schema.xml", bytes_total=10),
            JobFile(job=job, index=1, role="vertex", path="/data/vertex.csv", bytes_total=100),
            JobFile(job=job, index=2, role="edge", path="/data/edge.csv", bytes_total=50),
        ]
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
) -> Job:
    """Play the worker: claim, one heartbeat, and (with ``status``) finish."""
    assert job_claim(job_id=job.pk, worker_id=worker) is not None
    job_heartbeat(
        job_id=job.pk,
        worker_id=worker,
        progress=progress,
        lines_done=int(progress * 10),
        lines_total=1000,
        lines_per_second=250.0,
    )
    if status is not None:
        vertex = job.files.get(index=1)
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
        job_finish(
            job_id=job.pk,
            worker_id=worker,
            status=status,
            fail_reason="" if status == JobStatus.SUCCEEDED else f"{failed_lines} lines failed",
            result={"lines_failed": failed_lines},
            files=[
                FileUpdate(
                    index=1,
                    fields={
                        "status": "partFailed" if failed_lines else "success",
                        "total_lines": 10 + failed_lines,
                        "successful_lines": 10,
                        "failed_lines": failed_lines,
                        "log": "line 1: bad_type: Age is not an int" if failed_lines else "",
                    },
                )
            ],
            failed=failed,
        )
    job.refresh_from_db()
    return job


@pytest.fixture
def graph(project) -> Graph:
    return graph_create(project=project, name="movies", dialect="ges")


@pytest.fixture
def jobs(project, graph, operator) -> dict[str, Job]:
    """One job in each state of project alpha, oldest first."""
    return jobs_in_every_state(project, graph, operator, make=make_job, run=run_job)


@pytest.fixture
def client_for(db) -> Callable[[Any], Client]:
    """``client_for(user)``: a client logged in as the user (CSRF checks on, as in a browser)."""

    def make(user: Any) -> Client:
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def oscar(client_for, operator) -> Client:
    return client_for(operator)


@pytest.fixture
def vera(client_for, viewer) -> Client:
    return client_for(viewer)


def csrf_token(client: Client, url: str = "/") -> str:
    """The CSRF token a page served to this client carries (as a browser would read it)."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    return (
        response.cookies["csrftoken"].value
        if "csrftoken" in response.cookies
        else (client.cookies["csrftoken"].value)
    )


def post(client: Client, url: str, data: dict | None = None, *, htmx: bool = False, **extra: Any):
    """A POST carrying the CSRF token the way the dashboard sends it (header, from the page)."""
    token = csrf_token(client)
    headers = {"HTTP_X_CSRFTOKEN": token, **(HTMX if htmx else {}), **extra}
    return client.post(url, data or {}, **headers)
