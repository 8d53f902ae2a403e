"""Where the dashboard opens, and what an empty project says.

With several projects, a new session opens the project the user last chose (remembered for the
user, so after logging out and in, or in another browser), else the one with the most recent
job, else the first by name; never an empty project just because its name sorts first. A
project without jobs shows one empty state that says how to start.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from jobcenter.graphs.services import graph_create
from jobcenter.jobs.models import Job
from jobcenter.projects.models import LastProject
from jobcenter.projects.services import membership_remove, project_remember_last
from tests.factories.jobs import make_job
from tests.factories.projects import project_with_members

pytestmark = pytest.mark.django_db


def logged_in(username: str) -> Client:
    """A browser that has just logged in (a new session, as after logging out)."""
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": f"pw-{username}"})
    assert response.status_code == 302, response.content
    return client


def opened(client: Client, url: str = "/") -> str:
    """The project the job list shows at ``url``."""
    body = client.get(url).content.decode()
    marker = 'class="subtitle">Project <strong>'
    assert marker in body, body[:2000]
    return body.split(marker, 1)[1].split("<", 1)[0]


@pytest.fixture
def projects(project):
    """oscar is in "0" (empty, first by name), alpha and beta; beta has the newest job."""
    empty = project_with_members("0", oscar="operator")
    beta = project_with_members("beta", oscar="viewer")
    old = make_job(project, graph_create(project=project, name="movies", dialect="ges"))
    new = make_job(beta, graph_create(project=beta, name="films", dialect="ges"))
    Job.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=2))
    Job.objects.filter(pk=new.pk).update(created_at=timezone.now() - timedelta(hours=1))
    return {"0": empty, "alpha": project, "beta": beta}


def test_a_new_session_opens_the_project_with_the_latest_job(projects, operator):
    assert opened(logged_in("oscar")) == "beta"
    # a newer job elsewhere moves it
    make_job(projects["alpha"])
    assert opened(logged_in("oscar")) == "alpha"


def test_without_any_job_it_opens_the_first_project_by_name(projects, operator):
    Job.objects.all().delete()
    assert opened(logged_in("oscar")) == "0"


def test_the_project_last_chosen_is_opened_after_logging_out_and_in(projects, operator):
    client = logged_in("oscar")
    assert opened(client, "/?project=0") == "0"
    assert opened(client) == "0"  # the session's
    client.post("/accounts/logout/")
    assert opened(logged_in("oscar")) == "0"  # the user's, although beta has the newest job

    # the project switcher counts as choosing, and so does any browser of the user
    other = logged_in("oscar")
    other.post("/project/", {"project": "alpha"})
    assert opened(other) == "alpha"
    assert opened(logged_in("oscar")) == "alpha"
    assert LastProject.objects.get(user=operator).project == projects["alpha"]

    # a project the user has left is not opened: back to the one with the newest job
    membership_remove(project=projects["alpha"], user=operator)
    assert opened(logged_in("oscar")) == "beta"


def test_remembering_keeps_one_row_per_user(projects, operator):
    for name in ("0", "beta", "0"):
        project_remember_last(user=operator, project=projects[name])
    assert LastProject.objects.filter(user=operator).count() == 1
    assert LastProject.objects.get(user=operator).project == projects["0"]


def test_choosing_where_to_land_costs_a_few_queries_only(
    projects, operator, django_assert_max_num_queries
):
    for _ in range(20):
        make_job(projects["beta"])
    client = logged_in("oscar")
    with django_assert_max_num_queries(16):  # the list itself: 14 (test_views.py)
        assert client.get("/").status_code == 200


def empty_state(client: Client, url: str = "/") -> str:
    body = client.get(url).content.decode()
    assert body.count("No jobs") == 1, body  # one message, not "No jobs" and "No jobs yet"
    return body.split('id="empty-state"', 1)[1].split("</div>", 1)[0]


def test_a_fresh_project_shows_one_empty_state_with_how_to_start(client_for, project, operator):
    state = empty_state(client_for(operator))
    assert "No jobs yet" in state
    assert 'class="btn btn-primary" href="/graphs/new/">Create a graph' in state
    assert "manage.py jobs submit-import" in state
    # once there is a graph, the first step is an import
    graph_create(project=project, name="movies", dialect="ges")
    state = empty_state(client_for(operator))
    assert 'class="btn btn-primary" href="/imports/new/">Start an import' in state


def test_a_viewer_is_told_who_starts_jobs(client_for, project, viewer):
    state = empty_state(client_for(viewer))
    assert "its operators and administrators start them" in state
    assert "btn" not in state


def test_an_empty_filtered_list_says_so_once(client_for, project, operator):
    make_job(project)
    body = client_for(operator).get("/?status=failed").content.decode()
    assert body.count("No jobs") == 1 and "No jobs match these filters" in body
