"""Projects and membership: site administrators create projects, project admins manage
members and their roles; everybody sees only their own projects."""

from __future__ import annotations

import pytest

from jobcenter.projects.models import Membership, Project
from jobcenter.projects.selectors import project_role
from tests.api.conftest import assert_error
from tests.factories.projects import user_create

URL = "/api/v1/projects/"

pytestmark = pytest.mark.django_db


def test_my_projects_with_my_role(api, viewer_api, admin_api, project, other):
    mine = api.get(URL).json()
    assert mine["count"] == 1
    assert mine["results"][0]["name"] == "alpha" and mine["results"][0]["role"] == "operator"
    assert set(mine["results"][0]) == {
        "name",
        "description",
        "created_at",
        "role",
        "result_retention_days",
        "effective_result_retention_days",
    }
    assert viewer_api.get(URL).json()["results"][0]["role"] == "viewer"
    everything = admin_api.get(URL).json()["results"]
    assert [(p["name"], p["role"]) for p in everything] == [("alpha", "admin"), ("beta", "admin")]
    assert api.get(URL + "alpha/").json()["role"] == "operator"
    assert_error(api.get(URL + "beta/"), 404, "not_found", "project")
    assert_error(api.get(URL + "nope/"), 404, "not_found", "project")


def test_a_site_administrator_creates_a_project_and_becomes_its_admin(client_for, db):
    staff = user_create("stella")
    staff.is_staff = True
    staff.save()
    response = client_for(staff).post(URL, {"name": "gamma", "description": "g"}, format="json")
    assert response.status_code == 201, response.content
    assert response["Location"] == "/api/v1/projects/gamma/"
    assert response.json()["role"] == "admin"
    project = Project.objects.get(name="gamma")
    assert project_role(user=staff, project=project) == "admin"


@pytest.mark.parametrize(
    ("payload", "status", "field"),
    [
        ({"name": "alpha"}, 409, "name"),
        ({"name": "Not a slug!"}, 400, "name"),
        ({"name": ""}, 400, "name"),
        ({"name": "x" * 65}, 400, "name"),
        ({"name": 42}, 400, "name"),
        ({}, 400, "name"),
        ({"name": "ok", "description": None}, 400, "description"),
    ],
)
def test_bad_project_creations(admin_api, project, payload, status, field):
    code = {400: "invalid", 409: "conflict"}[status]
    assert_error(admin_api.post(URL, payload, format="json"), status, code, field)
    assert Project.objects.count() == 1


def test_only_site_administrators_create_projects(client_for, project, project_admin):
    assert_error(
        client_for(project_admin).post(URL, {"name": "gamma"}, format="json"),
        403,
        "permission_denied",
    )
    assert_error(client_for(None).post(URL, {"name": "gamma"}, format="json"), 401)
    assert not Project.objects.filter(name="gamma").exists()


def test_members_list(viewer_api, project, other):
    members = viewer_api.get(URL + "alpha/members/").json()
    assert [(m["username"], m["role"]) for m in members["results"]] == [
        ("oscar", "operator"),
        ("vera", "viewer"),
    ]
    assert set(members["results"][0]) == {"username", "role", "created_at"}
    assert_error(viewer_api.get(URL + "beta/members/"), 404, "not_found")


def test_a_project_admin_adds_members_and_changes_their_role(client_for, project, project_admin):
    api = client_for(project_admin)
    user_create("newbie")
    added = api.post(URL + "alpha/members/", {"username": "newbie", "role": "viewer"}, "json")
    assert added.status_code == 200, added.content
    assert added.json()["username"] == "newbie" and added.json()["role"] == "viewer"
    changed = api.post(URL + "alpha/members/", {"username": "newbie", "role": "operator"}, "json")
    assert changed.json()["role"] == "operator"
    assert Membership.objects.get(project=project, user__username="newbie").role == "operator"
    # the new operator can now see the project
    newbie = Membership.objects.get(user__username="newbie").user
    assert client_for(newbie).get(URL + "alpha/").json()["role"] == "operator"


def test_a_project_admin_removes_members(client_for, project, project_admin, viewer):
    api = client_for(project_admin)
    assert api.delete(URL + "alpha/members/vera/").status_code == 204
    assert not Membership.objects.filter(project=project, user=viewer).exists()
    assert_error(client_for(viewer).get(URL + "alpha/"), 404, "not_found")
    assert_error(api.delete(URL + "alpha/members/vera/"), 404, "not_found", "username")
    assert_error(api.delete(URL + "alpha/members/nobody/"), 404, "not_found", "username")


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"username": "ghost", "role": "viewer"}, "username"),
        ({"username": "vera", "role": "owner"}, "role"),
        ({"username": "vera"}, "role"),
        ({"username": 7, "role": "viewer"}, "username"),
    ],
)
def test_bad_member_changes(client_for, project, project_admin, payload, field):
    response = client_for(project_admin).post(URL + "alpha/members/", payload, "json")
    assert_error(response, 400, "invalid", field)
    assert Membership.objects.get(project=project, user__username="vera").role == "viewer"


def test_operators_and_viewers_do_not_manage_members(api, viewer_api, client_for, project, other):
    for client in (api, viewer_api):
        assert_error(
            client.post(URL + "alpha/members/", {"username": "vera", "role": "admin"}, "json"),
            403,
            "permission_denied",
        )
        assert_error(client.delete(URL + "alpha/members/vera/"), 403, "permission_denied")
    assert_error(
        api.post(URL + "beta/members/", {"username": "oscar", "role": "admin"}, "json"),
        404,
        "not_found",
    )
    assert Membership.objects.get(project=project, user__username="vera").role == "viewer"
    assert not Membership.objects.filter(project=other["project"], user__username="oscar").exists()


def test_project_admins_set_the_result_retention(client_for, api, project, settings):
    from jobcenter.projects.choices import Role
    from jobcenter.projects.services import membership_set
    from tests.factories.projects import user_create

    settings.JOBCENTER_RESULT_RETENTION_DAYS = 30
    boss = user_create("boss")
    membership_set(project=project, user=boss, role=Role.ADMIN)
    admin = client_for(boss)
    assert admin.get(URL + "alpha/").json()["effective_result_retention_days"] == 30
    changed = admin.patch(URL + "alpha/", {"result_retention_days": 7}, format="json")
    assert changed.status_code == 200, changed.content
    assert changed.json()["result_retention_days"] == 7
    assert changed.json()["effective_result_retention_days"] == 7
    back = admin.patch(URL + "alpha/", {"result_retention_days": None}, format="json").json()
    assert (back["result_retention_days"], back["effective_result_retention_days"]) == (None, 30)
    for bad in (-1, "7", 1.5, True, 40_000):
        response = admin.patch(URL + "alpha/", {"result_retention_days": bad}, format="json")
        assert_error(response, 400, "invalid", "result_retention_days")
    assert_error(api.patch(URL + "alpha/", {"description": "x"}, format="json"), 403)
    assert_error(admin.patch(URL + "beta/", {"description": "x"}, format="json"), 404)
