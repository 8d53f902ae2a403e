"""Signing in: a username and password exchanged for the user's API token."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.schema import errors, ok
from jobcenter.api.serializers.auth import TokenInputSerializer, TokenSerializer
from jobcenter.api.views.base import ApiView
from jobcenter.core.errors import InvalidInput
from jobcenter.credentials.throttle import login_lockout


class TokenView(ApiView):
    """Exchange a username and password for the user's API token (created on first use)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=["auth"],
        operation_id="auth_token",
        summary="Get your API token",
        auth=[],
        request=TokenInputSerializer,
        responses={
            200: ok(TokenSerializer, "Your token (the same one on every call)."),
            **errors(400, 415, 429),
        },
    )
    def post(self, request: Request) -> Response:
        data = TokenInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None:
            raise login_lockout(request._request) or InvalidInput(
                "username or password is wrong", field="password"
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "username": user.get_username()})
