"""Requests signed the way the official Huawei Cloud SDK signs them (SDK-HMAC-SHA256).

The signature is recomputed exactly as ``huaweicloudsdkcore.signer.signer.Signer`` computes
it (huaweicloudsdkcore 3.1.x)::

    CanonicalRequest = Method \\n CanonicalURI \\n CanonicalQueryString \\n
                       CanonicalHeaders \\n SignedHeaders \\n HexSHA256(body)
    StringToSign     = "SDK-HMAC-SHA256" \\n X-Sdk-Date \\n HexSHA256(CanonicalRequest)
    Signature        = HexHMAC-SHA256(secret key, StringToSign)

- CanonicalURI: the decoded path split on "/", each segment percent-encoded (only ``~`` and
  unreserved characters kept), joined, with a trailing "/" added.
- CanonicalQueryString: the decoded ``(name, value)`` pairs sorted, each side percent-encoded
  the same way, ``name=value`` joined by "&".
- CanonicalHeaders: ``name:value`` (name lower-cased, value stripped) for each signed header,
  in the order of SignedHeaders, each followed by "\\n"; SignedHeaders is ``a;b;c``.
- Body hash: of the empty string when there is no body; the ``X-Sdk-Content-Sha256`` header's
  value when the client sent one (the SDK sends ``UNSIGNED-PAYLOAD`` for non-JSON bodies) —
  we honour it only when that header is itself signed.

The header is ``Authorization: SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<list>,
Signature=<hex>``, with ``X-Sdk-Date: yyyyMMddTHHmmssZ`` (UTC). A request is refused (401) when
the key is unknown or revoked, the signature does not match, ``host`` or ``x-sdk-date`` are not
signed, or the date is more than JOBCENTER_SIGNATURE_MAX_SKEW seconds (15 minutes) away.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote

from django.conf import settings
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from jobcenter.credentials.selectors import access_key_resolve
from jobcenter.credentials.services import access_key_touch

ALGORITHM = "SDK-HMAC-SHA256"
DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
CONTENT_SHA256_HEADER = "x-sdk-content-sha256"
REQUIRED_SIGNED = ("host", "x-sdk-date")

# What an access key can look like (ours are 20 upper-case letters and digits); anything else
# is unknown without asking the database.
_ACCESS_KEY = re.compile(r"^[A-Za-z0-9]{1,64}\Z")
_AUTH = re.compile(
    r"^SDK-HMAC-SHA256\s+Access=(?P<access>[^,\s]+),\s*"
    r"SignedHeaders=(?P<headers>[^,\s]+),\s*Signature=(?P<signature>[0-9a-fA-F]+)\s*$"
)


def _encode(value: str) -> str:
    return quote(value, safe="~")


def canonical_uri(path: str) -> str:
    uri = "/".join(_encode(segment) for segment in path.split("/"))
    return uri if uri.endswith("/") else uri + "/"


def canonical_query(query_string: str) -> str:
    pairs = sorted(parse_qsl(query_string, keep_blank_values=True))
    return "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)


def canonical_request(
    *,
    method: str,
    path: str,
    query_string: str,
    headers: Mapping[str, str],
    signed_headers: list[str],
    body: bytes,
) -> str:
    """``headers`` maps lower-case names to values for (at least) every signed header."""
    canonical_headers = "".join(f"{name}:{headers[name].strip()}\n" for name in signed_headers)
    if not body:
        payload_hash = EMPTY_SHA256
    elif CONTENT_SHA256_HEADER in signed_headers:
        payload_hash = headers[CONTENT_SHA256_HEADER].strip()
    else:
        payload_hash = hashlib.sha256(body).hexdigest()
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query_string),
            canonical_headers,
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def string_to_sign(canonical: str, sdk_date: str) -> str:
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"{ALGORITHM}\n{sdk_date}\n{digest}"


def signature(secret: str, to_sign: str) -> str:
    return hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()


def _meta_header(meta: Mapping[str, Any], name: str) -> str | None:
    if name == "content-type":
        key = "CONTENT_TYPE"
    elif name == "content-length":
        key = "CONTENT_LENGTH"
    else:
        key = "HTTP_" + name.upper().replace("-", "_")
    value = meta.get(key)
    if value is None:
        return None
    # WSGI hands header values over as latin-1; the SDK signed the UTF-8 text.
    try:
        return str(value).encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return str(value)


class SdkHmacAuthentication(BaseAuthentication):
    """DRF authentication for ``Authorization: SDK-HMAC-SHA256 ...`` requests.

    Other ``Authorization`` schemes are left to the other authenticators.
    """

    clock: Callable[[], datetime] = staticmethod(lambda: datetime.now(UTC))

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith(ALGORITHM + " "):
            return None
        match = _AUTH.match(header)
        if match is None:
            raise AuthenticationFailed(f"malformed {ALGORITHM} Authorization header")
        signed = match["headers"].split(";")
        if len(signed) != len(set(signed)) or any(n != n.lower() for n in signed):
            raise AuthenticationFailed("SignedHeaders must be lower-case and unique")
        missing = [name for name in REQUIRED_SIGNED if name not in signed]
        if missing:
            raise AuthenticationFailed(f"the signature must cover {', '.join(missing)}")
        sdk_date = request.META.get("HTTP_X_SDK_DATE", "").strip()
        try:
            moment = datetime.strptime(sdk_date, DATE_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            raise AuthenticationFailed("X-Sdk-Date must be yyyyMMddTHHmmssZ (UTC)") from None
        skew = abs((self.clock() - moment).total_seconds())
        if skew > settings.JOBCENTER_SIGNATURE_MAX_SKEW:
            raise AuthenticationFailed(
                f"X-Sdk-Date {sdk_date} is {int(skew)} s away from the server's clock "
                f"(at most {settings.JOBCENTER_SIGNATURE_MAX_SKEW} s are accepted)"
            )
        headers: dict[str, str] = {}
        for name in signed:
            value = _meta_header(request.META, name)
            if value is None:
                raise AuthenticationFailed(f"signed header {name} is missing from the request")
            headers[name] = value
        access = match["access"]
        resolved = access_key_resolve(access_key=access) if _ACCESS_KEY.match(access) else None
        if resolved is None:
            raise AuthenticationFailed("unknown or revoked access key")
        canonical = canonical_request(
            method=request.method or "GET",
            path=request._request.path,
            query_string=request.META.get("QUERY_STRING", ""),
            headers=headers,
            signed_headers=signed,
            body=request._request.body,
        )
        expected = signature(resolved.secret, string_to_sign(canonical, sdk_date))
        if not hmac.compare_digest(expected, match["signature"].lower()):
            raise AuthenticationFailed("the request signature does not match")
        access_key_touch(key=resolved.key)
        return resolved.key.user, resolved.key

    def authenticate_header(self, request: Request) -> str:
        return ALGORITHM
