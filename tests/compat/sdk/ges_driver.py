"""Runs inside the huaweicloudsdkges virtualenv (never imported by the test suite itself).

Reads one JSON command per line on stdin and writes one JSON answer per line on stdout. SDK
calls go through the official ``GesClient`` (v2, signed with the access key in GES_AK/GES_SK,
project GES_PROJECT, endpoint GES_ENDPOINT); ``signed`` sends any request signed by the
official ``huaweicloudsdkcore`` Signer, for the service plane (which the SDK has no client for)
and for signatures made wrong on purpose.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from urllib.parse import urlparse

import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials, GlobalCredentials
from huaweicloudsdkcore.exceptions.exceptions import ServiceResponseException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkges.v2 import (
    GesClient,
    ImportGraph2Request,
    ImportGraphReq,
    ImportGraphReqParallelEdge,
    ListJobs2Request,
    ShowJob2Request,
    StartGraph2Request,
    StartGraphReq,
    StopGraph2Request,
)
from huaweicloudsdkiam.v3 import (
    CreateCredentialOption,
    CreatePermanentAccessKeyRequest,
    CreatePermanentAccessKeyRequestBody,
    DeletePermanentAccessKeyRequest,
    IamClient,
    ListPermanentAccessKeysRequest,
    ShowPermanentAccessKeyRequest,
)

ENDPOINT = os.environ["GES_ENDPOINT"]


def client(ak=None, sk=None, project=None):
    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    config.ignore_ssl_verification = True
    credentials = BasicCredentials(
        ak or os.environ["GES_AK"], sk or os.environ["GES_SK"], project or os.environ["GES_PROJECT"]
    )
    return (
        GesClient.new_builder()
        .with_http_config(config)
        .with_credentials(credentials)
        .with_endpoint(ENDPOINT)
        .build()
    )


def iam_client():
    config = HttpConfig.get_default_config()
    config.timeout = (5, 30)
    # domain_id given: the SDK would otherwise ask Huawei Cloud's IAM for it
    credentials = GlobalCredentials(os.environ["GES_AK"], os.environ["GES_SK"], "jobcenter")
    return (
        IamClient.new_builder()
        .with_http_config(config)
        .with_credentials(credentials)
        .with_endpoint(ENDPOINT)
        .build()
    )


def call(fn):
    try:
        response = fn()
    except ServiceResponseException as exc:
        return {
            "ok": False,
            "status_code": exc.status_code,
            "error_code": exc.error_code,
            "error_msg": exc.error_msg,
        }
    return {"ok": True, "status_code": response.status_code, "value": response.to_dict()}


class Runner:
    def list_jobs2(self, credentials=None, **filters):
        return call(lambda: client(**(credentials or {})).list_jobs2(ListJobs2Request(**filters)))

    def show_job2(self, graph_id, job_id, credentials=None):
        request = ShowJob2Request(graph_id=graph_id, job_id=job_id)
        return call(lambda: client(**(credentials or {})).show_job2(request))

    def import_graph2(self, graph_id, body):
        body = dict(body)
        if "parallel_edge" in body:
            body["parallel_edge"] = ImportGraphReqParallelEdge(**body["parallel_edge"])
        request = ImportGraph2Request(graph_id=graph_id, body=ImportGraphReq(**body))
        return call(lambda: client().import_graph2(request))

    def start_graph2(self, graph_id, body=None):
        body = StartGraphReq(**body) if body is not None else None
        request = StartGraph2Request(graph_id=graph_id, body=body)
        return call(lambda: client().start_graph2(request))

    def stop_graph2(self, graph_id):
        return call(lambda: client().stop_graph2(StopGraph2Request(graph_id=graph_id)))

    def iam_create(self, user_id, description=""):
        body = CreatePermanentAccessKeyRequestBody(
            credential=CreateCredentialOption(user_id=user_id, description=description)
        )
        return call(
            lambda: iam_client().create_permanent_access_key(
                CreatePermanentAccessKeyRequest(body=body)
            )
        )

    def iam_list(self, user_id=None):
        request = ListPermanentAccessKeysRequest(user_id=user_id)
        return call(lambda: iam_client().list_permanent_access_keys(request))

    def iam_show(self, access_key):
        request = ShowPermanentAccessKeyRequest(access_key=access_key)
        return call(lambda: iam_client().show_permanent_access_key(request))

    def iam_delete(self, access_key):
        request = DeletePermanentAccessKeyRequest(access_key=access_key)
        return call(lambda: iam_client().delete_permanent_access_key(request))

    def signed(self, method, path, query=None, body=None, sdk_date=None, ak=None, sk=None):
        """A request signed by the SDK's own Signer (optionally with a given X-Sdk-Date)."""
        url = urlparse(ENDPOINT)
        headers = {"Content-Type": "application/json", "X-Project-Id": os.environ["GES_PROJECT"]}
        if sdk_date:
            headers["X-Sdk-Date"] = sdk_date
        data = json.dumps(body).encode() if body is not None else None
        request = SdkRequest(
            method=method,
            schema=url.scheme,
            host=url.netloc,
            resource_path=path,
            query_params=sorted((query or {}).items()),
            header_params=headers,
            body=data,
        )
        credentials = BasicCredentials(ak or os.environ["GES_AK"], sk or os.environ["GES_SK"])
        request = Signer(credentials).sign(request)
        response = requests.request(
            method,
            f"{url.scheme}://{url.netloc}{request.uri}",
            headers=request.header_params,
            data=request.body,
            timeout=30,
        )
        try:
            payload = response.json()
        except ValueError:
            payload = response.text
        return {"status_code": response.status_code, "body": payload}


def main() -> None:
    runner = Runner()
    for line in sys.stdin:
        command = json.loads(line)
        op = command.pop("op")
        try:
            reply = getattr(runner, op)(**command)
        except Exception:
            reply = {"crash": traceback.format_exc()}
        sys.stdout.write(json.dumps(reply, default=str) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
