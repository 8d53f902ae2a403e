"""Starting and closing a graph through the API (api/views/memory.py): each is a job, shown by
the job detail with its phase and progress; the permissions are those of every graph job."""

from __future__ import annotations

import pytest

from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from tests.api.conftest import assert_error
from tests.factories.jobs import ges_movie_import

URL = "/api/v1/graphs/"

pytestmark = pytest.mark.django_db(transaction=True)  # jobs run in this process


@pytest.fixture
def movies(graph):
    execute_job(job_id=ges_movie_import(graph).pk)
    return graph


@pytest.mark.parametrize(
    ("action", "type", "name", "cancellable"),
    [("start", "start_graph", "StartGraph", True), ("close", "close_graph", "CloseGraph", False)],
)
def test_start_and_close_are_jobs(api, movies, action, type, name, cancellable):
    response = api.post(f"{URL}{movies.pk}/{action}/")
    assert response.status_code == 201, response.content
    job = response.json()
    assert response["Location"] == f"/api/v1/jobs/{job['id']}/"
    assert (job["type"], job["name"], job["status"], job["graph"], job["cancellable"]) == (
        type,
        name,
        "waiting",
        movies.pk,
        cancellable,
    )
    execute_job(job_id=job["id"])
    detail = api.get(f"/api/v1/jobs/{job['id']}/").json()
    assert (detail["type"], detail["status"], detail["progress"], detail["phase"]) == (
        type,
        "succeeded",
        100.0,
        None,
    )
    assert detail["result"]["graph"] == "movies"
    listed = api.get("/api/v1/jobs/", {"type": type}).json()["results"]
    assert [j["id"] for j in listed] == [job["id"]]


def test_a_start_shows_its_phase_while_it_loads(api, movies):
    job = api.post(f"{URL}{movies.pk}/start/").json()
    Job.objects.filter(pk=job["id"]).update(
        status="running", phase="loading graph", progress=40.0, lines_done=4, lines_total=10
    )
    detail = api.get(f"/api/v1/jobs/{job['id']}/").json()
    assert (detail["phase"], detail["progress"], detail["lines_done"]) == ("loading graph", 40, 4)


def test_who_may_start_and_close(api, viewer_api, client_for, graph, movies, other):
    for action in ("start", "close"):
        assert_error(viewer_api.post(f"{URL}{movies.pk}/{action}/"), 403, "permission_denied")
        assert_error(api.post(f"{URL}{other['graph'].pk}/{action}/"), 404, "not_found")
        assert_error(client_for(None).post(f"{URL}{movies.pk}/{action}/"), 401)
    assert not Job.objects.filter(type__in=("start_graph", "close_graph")).exists()
    # a user outside the project does not see these jobs either
    job = api.post(f"{URL}{movies.pk}/start/").json()
    outsider = client_for(other["project"].members.get(username="bob"))
    assert_error(outsider.get(f"/api/v1/jobs/{job['id']}/"), 404, "not_found")


def test_a_graph_without_data_cannot_be_started(api, graph):
    body = assert_error(api.post(f"{URL}{graph.pk}/start/"), 409, "invalid_state", "graph")
    assert body["message"] == "graph 'movies' has no data yet: import into it before starting it"
    body = {"depends_on": [], "accept_partial": False}
    assert api.post(f"{URL}{graph.pk}/start/", body, format="json").status_code == 409


@pytest.mark.parametrize("action", ["start", "close"])
def test_a_key_start_and_close_do_not_take_is_refused(api, movies, action):
    """Their body is only the jobs they wait for: any other key is a 400 naming it, as in a
    chain step of the same kind (test_chains), not ignored, and no job is submitted."""
    response = api.post(f"{URL}{movies.pk}/{action}/", {"path": "x.csv", "x": 1}, format="json")
    body = assert_error(response, 400, "invalid", "path")
    assert body["errors"] == {
        "path": ["not used: this body takes only depends_on and accept_partial"]
    }
    assert not Job.objects.filter(type__in=("start_graph", "close_graph")).exists()
    body = {"depends_on": [], "accept_partial": True}
    assert api.post(f"{URL}{movies.pk}/{action}/", body, format="json").status_code == 201
