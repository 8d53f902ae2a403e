"""Password guessing on ``POST /api/v1/auth/token/`` is throttled per user name and per client
address (jobcenter/credentials/throttle.py): 429 with Retry-After in the API's error shape."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from jobcenter.credentials.models import LoginFailureCount
from tests.api.conftest import assert_error, token_for
from tests.factories.projects import user_create

pytestmark = pytest.mark.django_db

URL = "/api/v1/auth/token/"
WINDOW = 15 * 60


def token(client: APIClient, username: str, password: str, address: str = "192.0.2.1") -> object:
    return client.post(
        URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address
    )


def test_thirty_wrong_passwords_then_the_right_one_is_refused(operator, caplog):
    client = APIClient()
    with caplog.at_level(logging.WARNING, logger="jobcenter.security"):
        answers = [token(client, "oscar", f"guess-{i}").status_code for i in range(30)]
    assert answers == [400] * 10 + [429] * 20  # 10 checked, then none
    locked = [r.getMessage() for r in caplog.records if r.name == "jobcenter.security"]
    assert locked == [
        "login locked out: 10 failed logins for this user name in 900 s "
        "(user name 'oscar', address 192.0.2.1)"
    ]
    response = token(client, "oscar", "pw-oscar")
    assert_error(response, 429, "throttled")
    assert "too many failed logins" in response.json()["message"]
    assert "try again in 15 minutes" in response.json()["message"]
    assert 0 < int(response["Retry-After"]) <= WINDOW
    # from another address too: the user name is locked, wherever the guesses come from
    assert token(client, "oscar", "pw-oscar", address="198.51.100.7").status_code == 429
    # a lockout stops password checks only: the user's API token still works
    api = APIClient(HTTP_AUTHORIZATION=f"Token {token_for(operator)}")
    assert api.get("/api/v1/projects/").status_code == 200


def test_the_lockout_ends_with_its_window(operator):
    client = APIClient()
    for i in range(10):
        token(client, "oscar", f"guess-{i}")
    assert token(client, "oscar", "pw-oscar").status_code == 429
    # the window started 15 minutes ago (as if the clock had moved on)
    LoginFailureCount.objects.update(
        window_start=LoginFailureCount.objects.get(scope="user").window_start
        - timedelta(seconds=WINDOW)
    )
    assert token(client, "oscar", "pw-oscar").status_code == 200


def test_one_address_guessing_many_user_names_is_locked_out(operator):
    client = APIClient()
    answers = [token(client, f"user{i}", "guess").status_code for i in range(50)]
    assert answers == [400] * 50
    # the 51st attempt from that address is refused, even a right password of a real user
    assert_error(token(client, "oscar", "pw-oscar"), 429, "throttled")
    # the same user from another address is fine
    assert token(client, "oscar", "pw-oscar", address="198.51.100.7").status_code == 200


def test_a_success_does_not_clear_the_address_count(operator):
    """An attacker logging in to their own account between guesses gains nothing."""
    client = APIClient()
    for i in range(49):
        assert token(client, f"victim{i}", "guess").status_code == 400
    assert token(client, "oscar", "pw-oscar").status_code == 200
    assert token(client, "victim", "guess").status_code == 400  # the 50th failure
    assert token(client, "oscar", "pw-oscar").status_code == 429


def test_successes_are_not_counted(operator):
    client = APIClient()
    for _ in range(60):
        assert token(client, "oscar", "pw-oscar").status_code == 200
    assert sum(LoginFailureCount.objects.values_list("failures", flat=True)) == 0
    for i in range(9):
        assert token(client, "oscar", f"guess-{i}").status_code == 400
    assert token(client, "oscar", "pw-oscar").status_code == 200
    assert token(client, "oscar", "guess-9").status_code == 400
    assert token(client, "oscar", "pw-oscar").status_code == 429


def test_user_names_and_addresses_are_not_stored(operator):
    token(APIClient(), "my-secret-password", "guess", address="203.0.113.9")
    stored = list(LoginFailureCount.objects.values("scope", "key"))
    assert sorted(row["scope"] for row in stored) == ["address", "user"]
    for row in stored:
        assert "my-secret" not in row["key"] and "203.0.113" not in row["key"]
        assert len(row["key"]) == 64


@override_settings(JOBCENTER_LOGIN_MAX_FAILURES_PER_USER=3, JOBCENTER_LOGIN_FAILURE_WINDOW=60)
def test_the_limits_are_settings(operator):
    client = APIClient()
    assert [token(client, "oscar", "guess").status_code for _ in range(4)] == [400] * 3 + [429]
    assert int(token(client, "oscar", "pw-oscar")["Retry-After"]) <= 60


@override_settings(
    JOBCENTER_LOGIN_MAX_FAILURES_PER_USER=0, JOBCENTER_LOGIN_MAX_FAILURES_PER_ADDRESS=0
)
def test_zero_turns_the_throttle_off(operator):
    client = APIClient()
    assert {token(client, "oscar", "guess").status_code for _ in range(60)} == {400}
    assert token(client, "oscar", "pw-oscar").status_code == 200


def test_the_schema_documents_the_429(client_for, operator):
    schema = client_for(operator).get("/api/schema/", {"format": "json"}).json()
    responses = schema["paths"][URL]["post"]["responses"]
    assert "429" in responses


def test_another_user_of_a_shared_address_is_not_locked_by_one_users_lockout(operator):
    user_create("carol")
    client = APIClient()
    for i in range(10):
        token(client, "oscar", f"guess-{i}")
    assert token(client, "oscar", "pw-oscar").status_code == 429
    assert token(client, "carol", "pw-carol").status_code == 200
