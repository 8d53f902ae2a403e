"""SDK-HMAC-SHA256 verification, against signatures made by the official huaweicloudsdkcore
Signer (run in the SDK's own virtualenv), and X-Auth-Token."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from jobcenter.credentials.services import access_key_create, access_key_revoke
from tests.compat.sdk_process import sdk_python

pytestmark = pytest.mark.django_db

SIGN_SCRIPT = Path(__file__).resolve().parent.parent / "sdk" / "ges_sign.py"
HOST = "testserver"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"


def official_sign(ak: str, sk: str, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done = subprocess.run(
        [str(sdk_python("ges")), str(SIGN_SCRIPT)],
        input=json.dumps({"ak": ak, "sk": sk, "requests": requests}),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def sdk_request(
    resource_path: str,
    *,
    method: str = "GET",
    query: list | None = None,
    body: Any = None,
    date: datetime | None = None,
    project: str = "alpha",
) -> dict[str, Any]:
    """A request as the GES SDK builds it before signing (same headers, same order)."""
    headers = {
        "User-Agent": "huaweicloud-usdk-python/3.0",
        "X-Project-Id": project,
        "Content-Type": "application/json",
    }
    if date is not None:
        headers["X-Sdk-Date"] = date.strftime(DATE_FORMAT)
    return {
        "method": method,
        "host": HOST,
        "resource_path": resource_path,
        "query": query or [],
        "headers": headers,
        "body": json.dumps(body, ensure_ascii=False) if body is not None else None,
    }


def send(client: APIClient, signed: dict[str, Any], method: str = "GET", **changes: str):
    meta = {}
    for name, value in signed["headers"].items():
        key = name.upper().replace("-", "_")
        meta[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    meta.update(changes)
    uri = meta.pop("URI", signed["uri"])
    body = signed["body"].encode() if signed["body"] else b""
    content_type = meta.pop("CONTENT_TYPE", "application/octet-stream")
    return client.generic(method, uri, data=body, content_type=content_type, **meta)


@pytest.fixture
def key(operator):
    key, secret = access_key_create(user=operator)
    return key.access_key, secret, key


def test_signatures_of_the_official_signer_verify(project, key):
    ak, sk, _ = key
    client = APIClient()
    odd_graph = "movie night ü+ä~"
    cases = [
        sdk_request("/v2/alpha/graphs/jobs"),
        sdk_request(
            "/v2/alpha/graphs/jobs",
            query=[
                ("status", "partiallyFailed"),
                ("limit", 10),
                ("offset", 0),
                ("graph_name", "a b+c=d&e~ü"),
                ("start_time", "2019-03-27"),
            ],
        ),
        sdk_request(f"/v2/alpha/graphs/{quote(odd_graph, safe='')}/jobs/123/status"),
        sdk_request(
            f"/ges/v1.0/alpha/graphs/{quote(odd_graph, safe='')}/action",
            method="POST",
            query=[("action_id", "import-graph")],
            body={"edgesetPath": "ü/e.csv", "delimiter": ","},
        ),
        # an encoded "/" is a path separator once decoded, for the signer as for routing
        sdk_request(f"/v2/alpha/graphs/{quote('a/b', safe='')}/jobs/123/status"),
    ]
    signed = official_sign(ak, sk, cases)
    responses = [send(client, s, method=c["method"]) for c, s in zip(cases, signed, strict=True)]
    # every request got past authentication (the views then answer as GES does)
    assert [r.status_code for r in responses] == [200, 200, 400, 400, 400]
    assert responses[0].json() == {"job_count": 0, "job_list": []}
    assert responses[2].json()["error_code"] == "GES.7000"  # the graph does not exist
    assert responses[3].json()["errorCode"] == "GES.8000"
    assert responses[4].json()["error_code"] == "GES.0001"  # no such endpoint


def test_tampering_wrong_secret_and_unknown_keys_are_refused(project, key):
    ak, sk, _ = key
    client = APIClient()
    good = official_sign(ak, sk, [sdk_request("/v2/alpha/graphs/jobs", query=[("limit", 5)])])[0]
    assert send(client, good).status_code == 200

    def refused(response) -> str:
        assert response.status_code == 401, response.content
        body = response.json()
        assert body["error_code"] == "APIGW.0301"
        return body["error_msg"]

    assert "does not match" in refused(
        send(client, good, URI="/v2/alpha/graphs/jobs?limit=6")  # changed query
    )
    assert "does not match" in refused(send(client, good, HTTP_X_PROJECT_ID="beta"))
    assert "does not match" in refused(send(client, good, HTTP_HOST="localhost"))
    wrong_sk = official_sign(ak, sk[::-1], [sdk_request("/v2/alpha/graphs/jobs")])[0]
    assert "does not match" in refused(send(client, wrong_sk))
    unknown = official_sign("NOSUCHKEY0000000000", sk, [sdk_request("/v2/alpha/graphs/jobs")])[0]
    assert "unknown or revoked" in refused(send(client, unknown))
    auth = good["headers"]["Authorization"]
    assert "malformed" in refused(send(client, good, HTTP_AUTHORIZATION=auth + ", Extra=1"))
    unsigned_host = auth.replace("host;", "")
    assert "must cover host" in refused(send(client, good, HTTP_AUTHORIZATION=unsigned_host))


def test_request_date_more_than_15_minutes_off_is_refused(project, key):
    ak, sk, _ = key
    client = APIClient()
    now = datetime.now(UTC)
    cases = [
        sdk_request("/v2/alpha/graphs/jobs", date=now - timedelta(minutes=14)),
        sdk_request("/v2/alpha/graphs/jobs", date=now + timedelta(minutes=14)),
        sdk_request("/v2/alpha/graphs/jobs", date=now - timedelta(minutes=16)),
        sdk_request("/v2/alpha/graphs/jobs", date=now + timedelta(minutes=16)),
    ]
    statuses = [send(client, s).status_code for s in official_sign(ak, sk, cases)]
    assert statuses == [200, 200, 401, 401]


def test_revoked_key_is_refused(project, key):
    ak, sk, access_key = key
    client = APIClient()
    signed = official_sign(ak, sk, [sdk_request("/v2/alpha/graphs/jobs")] * 2)
    assert send(client, signed[0]).status_code == 200
    access_key_revoke(key=access_key)
    response = send(client, signed[1])
    assert response.status_code == 401 and "revoked" in response.json()["error_msg"]
    access_key.refresh_from_db()
    assert access_key.last_used_at is not None


def test_x_auth_token_and_missing_credentials(project, operator):
    client = APIClient()
    response = client.get("/v2/alpha/graphs/jobs")
    assert response.status_code == 401
    assert response.json()["error_code"] == "APIGW.0301"
    response = client.get("/ges/v1.0/alpha/graphs/g/jobs/status")
    assert response.status_code == 401
    assert response.json()["errorCode"] == "GES.8007"
    assert client.get("/v2/alpha/graphs/jobs", HTTP_X_AUTH_TOKEN="nope").status_code == 401
    token = Token.objects.create(user=operator)
    response = client.get("/v2/alpha/graphs/jobs", HTTP_X_AUTH_TOKEN=token.key)
    assert response.status_code == 200 and response.json() == {"job_count": 0, "job_list": []}
