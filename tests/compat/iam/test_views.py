"""Huawei Cloud IAM's permanent access key API: users create, list, inspect and revoke their
own AK/SK pairs, and the pairs sign GES requests at once."""

from __future__ import annotations

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.credentials.models import AccessKey
from jobcenter.credentials.services import MAX_ACTIVE_KEYS_PER_USER
from tests.compat.ges.test_auth import official_sign, sdk_request, send

pytestmark = pytest.mark.django_db

CREDENTIALS = "/v3.0/OS-CREDENTIAL/credentials"


def client_for(user) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_X_AUTH_TOKEN=Token.objects.create(user=user).key)
    return client


def iam_error(response, status: int) -> str:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == status, body
    assert set(body["error"]) == {"code", "message", "title"}
    return body["error"]["message"]


def test_a_user_creates_uses_lists_and_revokes_own_keys(project, operator):
    client = client_for(operator)
    response = client.post(
        CREDENTIALS,
        {"credential": {"user_id": "oscar", "description": "laptop"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()["credential"]
    assert set(created) == {"access", "secret", "status", "user_id", "create_time", "description"}
    assert (created["user_id"], created["status"], created["description"]) == (
        "oscar",
        "active",
        "laptop",
    )
    ak, sk = created["access"], created["secret"]
    assert len(ak) == 20 and len(sk) == 40 and created["create_time"].endswith("Z")
    stored = AccessKey.objects.get(access_key=ak)
    assert sk not in stored.secret_encrypted  # encrypted at rest

    # the secret is never shown again
    listed = client.get(CREDENTIALS).json()["credentials"]
    assert [(k["access"], k["status"]) for k in listed] == [(ak, "active")]
    assert "secret" not in listed[0]
    shown = client.get(f"{CREDENTIALS}/{ak}").json()["credential"]
    assert "secret" not in shown and shown["last_use_time"] is None

    # the new pair signs GES requests, the way the official SDK signs them
    (signed,) = official_sign(ak, sk, [sdk_request("/v2/alpha/graphs/jobs")])
    assert send(APIClient(), signed).status_code == 200
    assert client.get(f"{CREDENTIALS}/{ak}").json()["credential"]["last_use_time"]

    # revoking (DELETE) stops it at once; it stays listed as inactive
    assert client.delete(f"{CREDENTIALS}/{ak}").status_code == 204
    assert send(APIClient(), signed).status_code == 401
    assert client.get(CREDENTIALS).json()["credentials"][0]["status"] == "inactive"
    assert "already revoked" in iam_error(client.delete(f"{CREDENTIALS}/{ak}"), 400)


def test_a_user_id_is_optional_and_a_signed_request_may_manage_keys(project, operator):
    client = client_for(operator)
    response = client.post(CREDENTIALS, {"credential": {}}, format="json")
    assert response.status_code == 201
    created = response.json()["credential"]
    # a request signed with that key creates another one (as with Huawei IAM)
    body = {"credential": {"description": "ci"}}
    (signed,) = official_sign(
        created["access"],
        created["secret"],
        [sdk_request(CREDENTIALS, method="POST", body=body)],
    )
    response = send(APIClient(), signed, method="POST", CONTENT_TYPE="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["credential"]["description"] == "ci"
    assert AccessKey.objects.filter(user=operator).count() == 2


def test_keys_of_others_are_out_of_reach(project, operator, viewer, admin_user):
    ak = client_for(operator).post(CREDENTIALS, {"credential": {}}, format="json").json()
    ak = ak["credential"]["access"]
    as_vera = client_for(viewer)
    assert as_vera.get(CREDENTIALS).json() == {"credentials": []}
    for method in ("get", "delete"):
        message = iam_error(getattr(as_vera, method)(f"{CREDENTIALS}/{ak}"), 404)
        assert message == iam_error(getattr(as_vera, method)(f"{CREDENTIALS}/NOPE"), 404).replace(
            "NOPE", ak
        )
    response = as_vera.post(CREDENTIALS, {"credential": {"user_id": "oscar"}}, format="json")
    assert "only your own" in iam_error(response, 403)
    assert "only your own" in iam_error(as_vera.get(CREDENTIALS, {"user_id": "oscar"}), 403)
    assert AccessKey.objects.get(access_key=ak).is_active

    # a superuser manages anyone's keys
    as_root = client_for(admin_user)
    listed = as_root.get(CREDENTIALS, {"user_id": "oscar"}).json()["credentials"]
    assert [k["access"] for k in listed] == [ak]
    response = as_root.post(CREDENTIALS, {"credential": {"user_id": "vera"}}, format="json")
    assert response.status_code == 201 and response.json()["credential"]["user_id"] == "vera"
    response = as_root.post(CREDENTIALS, {"credential": {"user_id": "nobody"}}, format="json")
    assert "does not exist" in iam_error(response, 400)
    assert as_root.delete(f"{CREDENTIALS}/{ak}").status_code == 204


def test_invalid_requests(project, operator):
    client = client_for(operator)
    for body in ([], {}, {"credential": "x"}, {"credential": {"user_id": 5}}):
        iam_error(client.post(CREDENTIALS, body, format="json"), 400)
    response = client.post(CREDENTIALS, {"credential": {"description": 5}}, format="json")
    iam_error(response, 400)
    response = client.post(CREDENTIALS, {"credential": {"description": "x" * 201}}, format="json")
    iam_error(response, 400)
    iam_error(client.post(CREDENTIALS, b"{", content_type="application/json"), 400)
    for _ in range(MAX_ACTIVE_KEYS_PER_USER):
        assert client.post(CREDENTIALS, {"credential": {}}, format="json").status_code == 201
    assert "revoke one first" in iam_error(
        client.post(CREDENTIALS, {"credential": {}}, format="json"), 400
    )
    iam_error(client.put(f"{CREDENTIALS}/X", {}, format="json"), 405)
    iam_error(client.get("/v3.0/OS-USERS/users"), 404)


def test_credentials_are_required(project, operator):
    anonymous = APIClient()
    iam_error(anonymous.get(CREDENTIALS), 401)
    iam_error(anonymous.post(CREDENTIALS, {"credential": {}}, format="json"), 401)
    iam_error(anonymous.get(CREDENTIALS, HTTP_X_AUTH_TOKEN="wrong"), 401)
    assert AccessKey.objects.count() == 0
