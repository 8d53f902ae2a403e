"""The dashboard's and the admin site's login and password-change pages under the login
throttle: a locked-out attempt gets the form back with a clear message, 429 and Retry-After."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories.projects import user_create

pytestmark = pytest.mark.django_db


def post(client: Client, url: str, data: dict) -> object:
    return client.post(url, data, REMOTE_ADDR="192.0.2.1")


def test_the_login_page_locks_a_user_out_after_ten_wrong_passwords(operator):
    browser = Client()
    for i in range(10):
        response = post(browser, "/accounts/login/", {"username": "oscar", "password": f"x{i}"})
        assert response.status_code == 200
        assert b"Please enter a correct username and password" in response.content
    response = post(browser, "/accounts/login/", {"username": "oscar", "password": "pw-oscar"})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert "_auth_user_id" not in browser.session
    text = response.content.decode()
    assert "Too many failed logins for this user name or from this address" in text
    assert "try again in 15 minutes" in text
    assert 'name="username"' in text  # the form, to try again later
    # another user is not affected
    response = post(browser, "/accounts/login/", {"username": "vera", "password": "pw-vera"})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_admin_login_is_throttled_too(admin_user):
    browser = Client()
    for i in range(10):
        response = post(browser, "/admin/login/", {"username": "root", "password": f"x{i}"})
        assert response.status_code == 200
    response = post(browser, "/admin/login/", {"username": "root", "password": "pw-root"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Too many failed logins" in response.content.decode()
    assert browser.get("/admin/").status_code == 302  # not logged in


def test_the_admin_login_still_works(admin_user):
    browser = Client()
    response = post(browser, "/admin/login/", {"username": "root", "password": "pw-root"})
    assert response.status_code == 302
    assert browser.get("/admin/").status_code == 200


@pytest.mark.parametrize("url", ["/accounts/password_change/", "/admin/password_change/"])
def test_guessing_the_old_password_with_a_stolen_session_is_throttled(url, db):
    user = user_create("root", superuser=True)
    browser = Client()
    browser.force_login(user)
    change = {"new_password1": "N3w-passphrase!", "new_password2": "N3w-passphrase!"}
    for i in range(10):
        response = post(browser, url, {"old_password": f"x{i}", **change})
        assert response.status_code == 200
        assert "Your old password was entered incorrectly" in response.content.decode()
    response = post(browser, url, {"old_password": "pw-root", **change})
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("pw-root")


def test_a_password_change_with_the_right_old_password_works(operator):
    browser = Client()
    browser.force_login(operator)
    response = post(
        browser,
        "/accounts/password_change/",
        {
            "old_password": "pw-oscar",
            "new_password1": "N3w-passphrase!",
            "new_password2": "N3w-passphrase!",
        },
    )
    assert response.status_code == 302
    operator.refresh_from_db()
    assert operator.check_password("N3w-passphrase!")
