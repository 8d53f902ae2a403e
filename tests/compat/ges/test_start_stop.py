"""GES's management plane starts and stops (closes) a graph as jobs of the start graph and
close graph kinds (compat/ges/views.py MgmtStartGraphView, MgmtStopGraphView), and lists them
in its job center as ``GraphManagement`` jobs named ``StartGraph`` and ``CloseGraph``."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.credentials.services import access_key_create
from jobcenter.graphs.models import Graph
from jobcenter.jobs.choices import TERMINAL_STATUSES
from jobcenter.jobs.models import Job
from jobcenter.jobs.runner import execute_job
from tests.factories.graphs import ges_graph
from tests.factories.jobs import ges_movie_import
from tests.factories.projects import project_with_members
from tests.factories.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)  # jobs run in this process


@pytest.fixture
def api(operator) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_AUTH_TOKEN=Token.objects.create(user=operator).key)
    return client


@pytest.fixture
def movies(project) -> Graph:
    graph = ges_graph(project, "movies")
    execute_job(job_id=ges_movie_import(graph).pk)
    return graph


def mgmt_error(response, status: int = 400) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error_code", "error_msg"}
    return body


def test_start_and_stop_are_job_center_jobs(api, movies):
    started = api.post("/v2/alpha/graphs/movies/start", {}, format="json")
    assert started.status_code == 200, started.content
    assert set(started.json()) == {"job_id"}
    start_id = started.json()["job_id"]
    stopped = api.post(f"/v2/alpha/graphs/{movies.pk}/stop")  # by id, and without a body
    assert stopped.status_code == 200, stopped.content
    stop_id = stopped.json()["job_id"]
    assert Job.objects.get(pk=start_id).dialect == Job.objects.get(pk=stop_id).dialect == "ges"

    listed = api.get("/v2/alpha/graphs/jobs").json()
    rows = {j["job_id"]: j for j in listed["job_list"]}
    assert set(rows) >= {start_id, stop_id}
    for job_id, name in ((start_id, "StartGraph"), (stop_id, "CloseGraph")):
        row = rows[job_id]
        assert (row["job_type"], row["job_name"], row["status"]) == (
            "GraphManagement",
            name,
            "pending",
        )
        assert row["related_graph"] == "movies" and "job_detail" not in row

    for job_id in (start_id, stop_id):
        execute_job(job_id=job_id)
        shown = api.get(f"/v2/alpha/graphs/movies/jobs/{job_id}/status").json()
        assert (shown["status"], shown["fail_reason"], shown["job_progress"]) == (
            "success",
            None,
            100.0,
        )
    assert not Graph.objects.get(pk=movies.pk).kept_in_memory  # stopped last

    # the service plane lists them too, under the same names, and its cancel refuses them
    jobs = api.get("/ges/v1.0/alpha/graphs/movies/jobs/status").json()["jobs"]
    types = {j["jobId"]: (j["taskType"], j["canStop"]) for j in jobs}
    assert types[start_id] == ("StartGraph", False)
    assert types[stop_id] == ("CloseGraph", False)


def test_start_and_stop_errors(api, project, movies):
    assert mgmt_error(api.post("/v2/alpha/graphs/nope/start"))["error_code"] == "GES.7000"
    assert mgmt_error(api.post("/v2/alpha/graphs/nope/stop"))["error_code"] == "GES.7000"
    project_with_members("beta")
    assert mgmt_error(api.post("/v2/beta/graphs/movies/start"))["error_code"] == "GES.0016"
    backup = {"graph_backup_id": "b1"}
    body = mgmt_error(api.post("/v2/alpha/graphs/movies/start", backup, format="json"))
    assert body["error_code"] == "GES.0001" and "graph_backup_id" in body["error_msg"]
    body = mgmt_error(api.post("/v2/alpha/graphs/movies/start", [1], format="json"))
    assert body["error_code"] == "GES.7016"
    ges_graph(project, "empty")
    body = mgmt_error(api.post("/v2/alpha/graphs/empty/start"))
    assert body["error_msg"] == "graph 'empty' has no data yet: import into it before starting it"
    assert not Job.objects.filter(type__in=("start_graph", "close_graph")).exists()


@pytest.mark.slow
def test_the_official_sdk_starts_and_stops_a_graph(
    project, operator, movies, ges_sdk, worker_factory
):
    key, secret = access_key_create(user=operator)
    sdk = ges_sdk(key.access_key, secret, "alpha")
    worker_factory()
    replies = [
        sdk("start_graph2", graph_id="movies", body={}),
        sdk("stop_graph2", graph_id="movies"),
    ]
    for reply in replies:
        assert reply["ok"] and reply["status_code"] == 200, reply
    ids = [reply["value"]["job_id"] for reply in replies]
    ended = Job.objects.filter(pk__in=ids, status__in=TERMINAL_STATUSES)
    wait_for(lambda: ended.count() == 2, timeout=60)
    listed = sdk("list_jobs2", graph_name="movies")
    assert listed["ok"], listed
    rows = {j["job_id"]: j for j in listed["value"]["job_list"]}
    assert [(rows[i]["job_name"], rows[i]["job_type"], rows[i]["status"]) for i in ids] == [
        ("StartGraph", "GraphManagement", "success"),
        ("CloseGraph", "GraphManagement", "success"),
    ]
    shown = sdk("show_job2", graph_id="movies", job_id=ids[0])
    assert shown["ok"] and shown["value"]["job_name"] == "StartGraph", shown
