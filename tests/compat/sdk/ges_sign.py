"""Runs inside the huaweicloudsdkges virtualenv: signs request descriptions with the official
``huaweicloudsdkcore`` Signer and prints what the SDK would send.

stdin:  {"ak", "sk", "requests": [{"method", "host", "resource_path", "query": [[k, v]...],
         "headers": {...}, "body": "..." | null}]}
stdout: [{"uri", "headers", "body"}] (uri = path + canonical query string, as the SDK sends it)
"""

from __future__ import annotations

import json
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer


def main() -> None:
    spec = json.load(sys.stdin)
    signer = Signer(BasicCredentials(spec["ak"], spec["sk"]))
    out = []
    for item in spec["requests"]:
        body = item.get("body")
        request = SdkRequest(
            method=item["method"],
            schema="http",
            host=item["host"],
            resource_path=item["resource_path"],
            query_params=[tuple(pair) for pair in item.get("query", [])],
            header_params=dict(item.get("headers", {})),
            body=body.encode() if body is not None else None,
        )
        request = signer.sign(request)
        out.append(
            {
                "uri": request.uri,
                "headers": request.header_params,
                "body": request.body.decode() if request.body else None,
            }
        )
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
