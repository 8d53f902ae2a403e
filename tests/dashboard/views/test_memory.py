"""The start and close buttons of a graph's page (dashboard/views/memory.py), and how the job
list and the job page show those jobs: their phase and progress while they load, their result."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from jobcenter.graphs.models import Graph
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.transitions import job_claim, job_heartbeat
from tests.dashboard.conftest import post
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import

pytestmark = pytest.mark.django_db(transaction=True)  # jobs run in this process


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def movies(project, operator) -> Graph:
    graph = ges_graph(project)
    execute_job(job_id=ges_movie_import(graph, user=operator).pk)
    return Graph.objects.get(pk=graph.pk)


def submitted_job(response) -> Job:
    assert response.status_code == 200, response.status_code
    job_id = re.search(r"/jobs/([0-9a-f]{32})/", response["HX-Redirect"]).group(1)
    return Job.objects.get(pk=job_id)


def test_start_and_close_buttons(oscar, vera, movies):
    page = html(oscar.get(f"/graphs/{movies.pk}/"))
    assert 'id="op-start"' in page and 'id="op-close"' in page
    assert 'id="memory-state">not started<' in page
    viewer_page = html(vera.get(f"/graphs/{movies.pk}/"))
    assert 'id="memory-state"' in viewer_page and 'id="op-start"' not in viewer_page

    start = submitted_job(post(oscar, f"/graphs/{movies.pk}/memory/start/", htmx=True))
    assert (start.type, start.name, start.status) == ("start_graph", "StartGraph", "waiting")
    execute_job(job_id=start.pk)
    assert 'id="memory-state">started<' in html(oscar.get(f"/graphs/{movies.pk}/"))
    page = html(oscar.get(f"/jobs/{start.pk}/"))
    assert "Start graph" in page and "Succeeded" in page

    close = submitted_job(post(oscar, f"/graphs/{movies.pk}/memory/close/", htmx=True))
    assert (close.type, close.name) == ("close_graph", "CloseGraph")
    execute_job(job_id=close.pk)
    assert 'id="memory-state">not started<' in html(oscar.get(f"/graphs/{movies.pk}/"))
    assert "dropped from this worker" in html(oscar.get(f"/jobs/{close.pk}/"))

    listed = html(oscar.get(reverse("dashboard:job_list"), {"type": "start_graph"}))
    assert start.pk in listed and close.pk not in listed


def test_who_may_press_them_and_what_they_refuse(oscar, vera, client_for, project, movies):
    assert post(vera, f"/graphs/{movies.pk}/memory/start/", htmx=True).status_code == 403
    outsider = client_for(project.members.model.objects.get(username="outsider"))
    assert post(outsider, f"/graphs/{movies.pk}/memory/close/", htmx=True).status_code == 404
    assert post(oscar, f"/graphs/{movies.pk}/memory/warm/", htmx=True).status_code == 404
    empty = ges_graph(project, "empty")
    response = post(oscar, f"/graphs/{empty.pk}/memory/start/", htmx=True)
    assert response.status_code == 409
    assert "has no data yet: import into it before starting it" in html(response)
    assert not Job.objects.filter(type__in=("start_graph", "close_graph")).exists()


def test_a_loading_start_shows_its_phase_and_progress(oscar, movies, operator):
    start = submitted_job(post(oscar, f"/graphs/{movies.pk}/memory/start/", htmx=True))
    job_claim(job_id=start.pk, worker_id="w1")
    job_heartbeat(
        job_id=start.pk,
        worker_id="w1",
        progress=30.0,
        lines_done=3_000,
        lines_total=8_000,
        lines_per_second=0.0,
        phase="loading graph",
    )
    page = html(oscar.get(f"/jobs/{start.pk}/"))
    assert "Loading graph: 3,000 of 8,000" in page
    assert 'aria-valuenow="30"' in page
    listed = html(oscar.get(reverse("dashboard:job_list")))
    assert "loading graph 3.0k/8.0k" in listed
