"""Several machines played on one: real worker processes, each with a data directory of its
own (graph stores, results, uploads) and no local directory shared with the others but the
shared storage; the web server is this test process, with a third data directory.

What needs the PostgreSQL graph store (issue 15) is left out here: each worker keeps the
graphs it imported, so the jobs on a graph run on the worker that imported it (one worker runs
while they do)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from jobcenter.graphs.models import Graph
from jobcenter.jobs.choices import TERMINAL_STATUSES, EventKind, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import result_path
from jobcenter.jobs.services import job_submit_algorithm, job_submit_import
from tests.api.conftest import token_for
from tests.factories.files import PACED, shared_data, write_ges_files
from tests.factories.graphs import ges_graph
from tests.factories.waiting import wait_for
from tests.machines import STORAGE_KINDS, shared_storage_setting, worker_env

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

MOVIE = shared_data("ges_movie")


@pytest.fixture
def machines(settings, tmp_path, worker_factory):
    """``start(name, kind, **env)``: a worker process on machine ``name``."""

    def start(name: str, kind: str, **env: str):
        settings.STORAGES = {
            **settings.STORAGES,
            "jobcenter": shared_storage_setting(kind, tmp_path / "shared"),
        }
        return worker_factory(
            **worker_env(settings, tmp_path / name, kind, tmp_path / "shared"), **env
        )

    return start


def ended(job_id: str, timeout: float = 60) -> Job:
    wait_for(lambda: Job.objects.get(pk=job_id).status in TERMINAL_STATUSES, timeout=timeout)
    return Job.objects.get(pk=job_id)


@pytest.mark.parametrize("kind", STORAGE_KINDS)
def test_an_upload_is_imported_and_its_result_read_on_other_machines(
    kind, machines, project, operator, tmp_path
):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(operator)}")
    graph = ges_graph(project)
    machines("worker-a", kind)  # the settings of this process (the web) name the storage
    response = api.post(
        f"/api/v1/graphs/{graph.pk}/import/",
        {
            "format": "ges",
            "schema": SimpleUploadedFile("schema.xml", (MOVIE / "schema.xml").read_bytes()),
            "vertices": [SimpleUploadedFile("vertex.csv", (MOVIE / "vertex.csv").read_bytes())],
            "edges": [SimpleUploadedFile("edge.csv", (MOVIE / "edge.csv").read_bytes())],
            "options": '{"delimiter": ","}',
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    imported = ended(response.json()["id"])
    assert imported.status == JobStatus.PARTIALLY_FAILED, imported.fail_reason
    assert (imported.result["vertices_added"], imported.result["edges_added"]) == (6, 5)
    worker_uploads = tmp_path / "worker-a" / "uploads" / f"project-{project.pk}"
    assert len(list(worker_uploads.rglob("*.csv"))) == 2  # fetched by the worker

    ranked = ended(job_submit_algorithm(graph=graph, algorithm="pagerank", user=operator).pk)
    assert ranked.status == JobStatus.SUCCEEDED, ranked.fail_reason
    assert (tmp_path / "worker-a" / "results" / f"{ranked.pk}.sqlite3").exists()
    assert not result_path(ranked.pk).exists()  # the web's own result directory
    page = api.get(f"/api/v1/jobs/{ranked.pk}/result/?limit=100")
    assert page.status_code == 200, page.content
    rows = page.json()["rows"]
    assert len(rows) == 6 and abs(sum(r["pagerank"] for r in rows) - 1.0) < 1e-6
    assert api.get(f"/api/v1/jobs/{ranked.pk}/result.csv").status_code == 200
    assert result_path(ranked.pk).exists()  # fetched into the web's own result directory


def test_a_worker_killed_on_one_machine_is_swept_by_another(machines, project, imports_dir):
    graph = ges_graph(project)
    files = write_ges_files(imports_dir / "big", vertices=20_000, edges=6_000_000)
    job = job_submit_import(graph=graph, params={"format": "ges", "request": files})
    quick = {"JOBCENTER_STALE_AFTER": "3", "JOBCENTER_SWEEP_INTERVAL": "0.5"}
    worker_a = machines(
        "worker-a", "directory", JOBCENTER_HEARTBEAT_INTERVAL="0.2", **quick, **PACED
    )
    wait_for(lambda: Job.objects.get(pk=job.pk).lines_done > 0, timeout=60)
    lost = Job.objects.get(pk=job.pk).worker_id
    assert Graph.objects.get(pk=graph.pk).write_lock == job.pk
    worker_a.kill()
    machines("worker-b", "directory", **quick)
    job = ended(job.pk, timeout=30)
    assert (job.status, job.fail_reason) == (JobStatus.FAILED, "worker lost")
    assert job.events.filter(kind=EventKind.RECOVERED, message=f"worker lost ({lost})").exists()
    assert Graph.objects.get(pk=graph.pk).write_lock == ""
