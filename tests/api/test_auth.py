"""Who is calling (session, Token, Bearer, X-Auth-Token), who may do what (viewer, operator,
admin), and what outsiders learn (nothing: 404, never 403)."""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.jobs.models import Job
from tests.api.conftest import assert_error, token_for
from tests.factories.jobs import ges_movie_import
from tests.factories.projects import user_create

pytestmark = pytest.mark.django_db


# --- the ways to authenticate ------------------------------------------------------------------


@pytest.mark.parametrize("how", ["token", "bearer", "x-auth-token"])
def test_the_three_token_headers(client_for, jobs, operator, how):
    response = client_for(operator, how=how).get("/api/v1/jobs/")
    assert response.status_code == 200 and response.json()["count"] == len(jobs)


def test_keywords_are_case_insensitive(operator, jobs):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"bearer {token_for(operator)}")
    assert client.get("/api/v1/jobs/").status_code == 200


def test_session_auth_for_the_browser_with_csrf_on_writes(jobs, operator):
    client = APIClient(enforce_csrf_checks=True)
    assert client.login(username="oscar", password="pw-oscar")
    assert client.get("/api/v1/jobs/").status_code == 200
    url = f"/api/v1/jobs/{jobs['waiting'].pk}/cancel/"
    assert_error(client.post(url), 403, "permission_denied")  # no CSRF token
    assert Job.objects.get(pk=jobs["waiting"].pk).status == "waiting"
    client.cookies["csrftoken"] = csrf = "k" * 32  # as the dashboard's pages set it
    assert client.post(url, HTTP_X_CSRFTOKEN=csrf).json()["status"] == "cancelled"


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_AUTHORIZATION": "Token " + "0" * 40},
        {"HTTP_AUTHORIZATION": "Bearer"},
        {"HTTP_AUTHORIZATION": "Token a b"},
        {"HTTP_AUTHORIZATION": "Token ключ"},
        {"HTTP_X_AUTH_TOKEN": "not-a-token!"},
        {"HTTP_X_AUTH_TOKEN": "0" * 40},
    ],
)
def test_bad_credentials_are_401(db, headers):
    response = APIClient().get("/api/v1/jobs/", **headers)
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == 'Token realm="jobcenter"'


def test_an_inactive_users_token_stops_working(client_for, operator):
    client = client_for(operator)
    operator.is_active = False
    operator.save()
    assert_error(client.get("/api/v1/jobs/"), 401, "authentication_failed")


def test_unsupported_schemes_are_anonymous(db):
    response = APIClient().get("/api/v1/jobs/", HTTP_AUTHORIZATION="Basic b3NjYXI6cHc=")
    assert_error(response, 401, "not_authenticated")


# --- where tokens come from -------------------------------------------------------------------


def test_drf_create_token_makes_a_working_token(db, jobs):
    out = io.StringIO()
    call_command("drf_create_token", "oscar", stdout=out)
    key = re.search(r"[0-9a-f]{40}", out.getvalue()).group(0)
    response = APIClient().get("/api/v1/jobs/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200


def test_an_admin_creates_a_token_in_the_admin_site(admin_user, operator):
    browser = Client()
    browser.force_login(admin_user)
    response = browser.post("/admin/authtoken/tokenproxy/add/", {"user": operator.pk})
    assert response.status_code == 302, response.content[:300]
    key = Token.objects.get(user=operator).key
    assert APIClient().get("/api/v1/projects/", HTTP_X_AUTH_TOKEN=key).status_code == 200


def test_a_user_exchanges_username_and_password_for_the_token(db, operator):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/", {"username": "oscar", "password": "pw-oscar"}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"token": token_for(operator), "username": "oscar"}
    wrong = client.post(
        "/api/v1/auth/token/", {"username": "oscar", "password": "nope"}, format="json"
    )
    assert_error(wrong, 400, "invalid", "password")


# --- anonymous: 401 everywhere but the health check --------------------------------------------


def test_health_needs_no_auth_and_says_nothing(db):
    response = APIClient().get("/api/health/", {"probe": "1"})
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def operations(client: APIClient) -> list[tuple[str, str]]:
    schema = client.get("/api/schema/", {"format": "json"}).json()
    return [(m.upper(), p) for p, item in schema["paths"].items() for m in item]


def test_every_operation_but_health_is_401_for_anonymous(client_for, operator, jobs, graph):
    values = {
        "{job_id}": jobs["failed"].pk,
        "{graph_id}": graph.pk,
        "{index}": "0",
        "{project}": "alpha",
        "{username}": "vera",
    }
    anonymous = APIClient()
    checked = 0
    for method, path in operations(client_for(operator)):
        url = path
        for placeholder, value in values.items():
            url = url.replace(placeholder, value)
        response = anonymous.generic(method, url)
        if path == "/api/health/" or path == "/api/v1/auth/token/":
            continue  # public: the health check, and the password-for-token exchange
        assert_error(response, 401, "not_authenticated")
        checked += 1
    assert checked >= 20
    assert Job.objects.filter(status="cancelled").count() == 1  # nothing changed
    # the schema and its readers need a signed-in user too
    assert_error(anonymous.get("/api/schema/"), 401, "not_authenticated")
    for page in ("/api/schema/swagger-ui/", "/api/schema/redoc/"):
        response = anonymous.get(page)
        assert response.status_code == 302
        assert response["Location"] == f"/accounts/login/?next={page}"


# --- roles ----------------------------------------------------------------------------------------


def test_a_viewer_reads_everything_and_changes_nothing(viewer_api, jobs, graph):
    job = jobs["partially_failed"]
    for url in (
        "/api/v1/jobs/",
        f"/api/v1/jobs/{job.pk}/",
        f"/api/v1/jobs/{job.pk}/files/",
        f"/api/v1/jobs/{job.pk}/files/0/",
        f"/api/v1/jobs/{job.pk}/failed-lines/",
        f"/api/v1/jobs/{job.pk}/failed-lines.csv",
        f"/api/v1/jobs/{job.pk}/timeline/",
        "/api/v1/graphs/",
        f"/api/v1/graphs/{graph.pk}/",
        "/api/v1/projects/",
        "/api/v1/projects/alpha/",
        "/api/v1/projects/alpha/members/",
    ):
        assert viewer_api.get(url).status_code == 200, url
    writes = [
        ("post", f"/api/v1/jobs/{jobs['waiting'].pk}/cancel/", None),
        ("post", f"/api/v1/jobs/{job.pk}/retry/", None),
        ("post", f"/api/v1/graphs/{graph.pk}/import/", {"format": "ges", "request": {}}),
        ("delete", f"/api/v1/graphs/{graph.pk}/", None),
        ("post", "/api/v1/graphs/", {"project": "alpha", "name": "g", "dialect": "ges"}),
        ("post", "/api/v1/projects/alpha/members/", {"username": "vera", "role": "admin"}),
        ("delete", "/api/v1/projects/alpha/members/oscar/", None),
        ("post", "/api/v1/projects/", {"name": "mine"}),
    ]
    for method, url, data in writes:
        response = getattr(viewer_api, method)(url, data, format="json")
        assert_error(response, 403, "permission_denied")


def test_an_operator_submits_cancels_and_retries_but_does_not_manage_members(
    api, jobs, graph, operator
):
    job = ges_movie_import(graph, user=operator)
    assert api.post(f"/api/v1/jobs/{job.pk}/cancel/").status_code == 200
    assert api.post(f"/api/v1/jobs/{job.pk}/retry/").status_code == 201
    created = api.post("/api/v1/graphs/", {"project": "alpha", "name": "g", "dialect": "ges"})
    assert created.status_code in (201, 415)  # multipart is not read here: JSON below
    created = api.post(
        "/api/v1/graphs/", {"project": "alpha", "name": "g2", "dialect": "ges"}, format="json"
    )
    assert created.status_code == 201
    assert api.delete(f"/api/v1/graphs/{created.json()['id']}/").status_code == 202
    assert_error(
        api.post("/api/v1/projects/alpha/members/", {"username": "vera", "role": "admin"}, "json"),
        403,
    )


def test_a_superuser_acts_as_admin_everywhere(admin_api, other):
    assert admin_api.post(f"/api/v1/jobs/{other['job'].pk}/cancel/").status_code == 200
    response = admin_api.post(
        "/api/v1/projects/beta/members/", {"username": "bob", "role": "viewer"}, format="json"
    )
    assert response.status_code == 200


# --- outsiders learn nothing --------------------------------------------------------------------


def test_objects_of_other_projects_are_404_exactly_like_missing_ones(api, other):
    job, graph = other["job"].pk, other["graph"].pk
    missing_job, missing_graph = "f" * 32, "e" * 32
    requests = [
        ("get", "/api/v1/jobs/{job}/"),
        ("get", "/api/v1/jobs/{job}/files/"),
        ("get", "/api/v1/jobs/{job}/files/0/"),
        ("get", "/api/v1/jobs/{job}/failed-lines/"),
        ("get", "/api/v1/jobs/{job}/failed-lines.csv"),
        ("get", "/api/v1/jobs/{job}/files/0/failed-lines/"),
        ("get", "/api/v1/jobs/{job}/timeline/"),
        ("post", "/api/v1/jobs/{job}/cancel/"),
        ("post", "/api/v1/jobs/{job}/retry/"),
        ("get", "/api/v1/graphs/{graph}/"),
        ("delete", "/api/v1/graphs/{graph}/"),
        ("post", "/api/v1/graphs/{graph}/import/"),
    ]
    for method, template in requests:
        foreign = getattr(api, method)(template.format(job=job, graph=graph), format="json")
        missing = getattr(api, method)(
            template.format(job=missing_job, graph=missing_graph), format="json"
        )
        body = assert_error(foreign, 404, "not_found")
        assert body["code"] == missing.json()["code"] and missing.status_code == 404
        assert body["message"].replace(job, "X").replace(graph, "X") == missing.json()[
            "message"
        ].replace(missing_job, "X").replace(missing_graph, "X")
    for method, url in [
        ("get", "/api/v1/projects/beta/"),
        ("get", "/api/v1/projects/beta/members/"),
        ("post", "/api/v1/projects/beta/members/"),
        ("delete", "/api/v1/projects/beta/members/bob/"),
    ]:
        body = assert_error(getattr(api, method)(url, {}, format="json"), 404, "not_found")
        assert body["message"] == "project 'beta' does not exist"
    assert Job.objects.get(pk=job).status == "waiting"


# --- who did what, and when ----------------------------------------------------------------------


class Recorder(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_writes_are_recorded_with_who_and_when(api, jobs):
    audit = logging.getLogger("jobcenter.audit")
    recorder = Recorder()
    audit.addHandler(recorder)
    try:
        api.post(f"/api/v1/jobs/{jobs['waiting'].pk}/cancel/")
        api.get("/api/v1/jobs/")
    finally:
        audit.removeHandler(recorder)
    assert len(recorder.records) == 1  # reads are not audited
    record = recorder.records[0]
    assert record.getMessage() == f"POST /api/v1/jobs/{jobs['waiting'].pk}/cancel/ by oscar -> 200"
    configured = next(h for h in audit.handlers if h is not recorder)
    line = configured.format(record)
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} audit: POST ", line), line
    job = Job.objects.get(pk=jobs["waiting"].pk)
    assert job.cancel_requested_by.username == "oscar" and job.cancel_requested_at
    event = job.events.get(kind="cancel_requested")
    assert (event.actor.username, event.at) == ("oscar", event.at)


def test_user_create_helper_is_not_a_member_anywhere(db, client_for):
    lonely = user_create("lonely")
    assert client_for(lonely).get("/api/v1/jobs/").json()["count"] == 0
    assert client_for(lonely).get("/api/v1/projects/").json()["count"] == 0
