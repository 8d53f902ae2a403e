"""Huawei Cloud IAM's permanent access key API over the credentials services: users create,
list, inspect and revoke their own AK/SK pairs (superusers: anyone's). Names and errors come
from ``wire``. Callers authenticate like on GES: ``X-Auth-Token``, ``Authorization: Token`` or
an SDK-HMAC-SHA256 signature made with another of their keys.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from rest_framework.exceptions import ParseError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.compat.common import (
    DialectView,
    HeaderTokenAuthentication,
    XAuthTokenAuthentication,
)
from jobcenter.compat.ges.auth import SdkHmacAuthentication
from jobcenter.compat.iam import wire
from jobcenter.core.errors import NotFound, PermissionDenied
from jobcenter.credentials.models import AccessKey
from jobcenter.credentials.selectors import access_key_get, access_key_list, access_key_owner
from jobcenter.credentials.services import access_key_create, access_key_revoke


class IamView(DialectView):
    authentication_classes = [
        XAuthTokenAuthentication,
        SdkHmacAuthentication,
        HeaderTokenAuthentication,
    ]
    permission_classes = [IsAuthenticated]
    error_response = staticmethod(wire.error_response)

    def target_user(self, user_id: str | None) -> AbstractBaseUser:
        """The user whose keys are meant (see access_key_owner), in IAM's errors."""
        try:
            return access_key_owner(caller=self.request.user, user_id=user_id)
        except PermissionDenied:
            raise wire.not_yours(user_id) from None
        except NotFound:
            raise wire.bad_request(f"user {user_id} does not exist") from None

    def key(self, access_key: str) -> AccessKey:
        try:
            return access_key_get(user=self.request.user, access_key=access_key)
        except NotFound:
            raise wire.key_not_found(access_key) from None


class CredentialListView(IamView):
    """``POST /v3.0/OS-CREDENTIAL/credentials`` (create; 201 with the secret, shown only
    here) and ``GET /v3.0/OS-CREDENTIAL/credentials[?user_id=]`` (list)."""

    def get(self, request: Request) -> Response:
        user = self.target_user(request.query_params.get("user_id"))
        return Response(wire.credential_list(list(access_key_list(user=user))))

    def post(self, request: Request) -> Response:
        try:
            body = request.data
        except ParseError as exc:
            raise wire.bad_request(f"the body is not valid JSON: {exc.detail}") from None
        user_id, description = wire.create_request(body)
        key, secret = access_key_create(user=self.target_user(user_id), description=description)
        return Response(wire.credential_created(key, secret), status=201)


class CredentialDetailView(IamView):
    """``GET`` and ``DELETE /v3.0/OS-CREDENTIAL/credentials/{access_key}`` (delete revokes:
    the key stops working at once and stays listed as inactive)."""

    def get(self, request: Request, access_key: str) -> Response:
        return Response(wire.credential_detail(self.key(access_key)))

    def delete(self, request: Request, access_key: str) -> Response:
        access_key_revoke(key=self.key(access_key), by=request.user)
        return Response(status=204)


class IamUnknownView(IamView):
    permission_classes: list = []

    def dispatch_any(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise wire.unknown_endpoint(request.method or "", request.path[:200])

    get = post = put = patch = delete = dispatch_any
