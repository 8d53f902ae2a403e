"""The service around the resources: the health probe, the OpenAPI schema and its two readers
(Swagger UI, ReDoc), and the JSON answer to any other URL under /api/."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.db import connection
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.urls import Resolver404, resolve
from drf_spectacular.utils import OpenApiResponse, extend_schema
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

# The request bodies' exact schemas (drf-spectacular extensions, found once imported), for the
# document SchemaView serves and for manage.py spectacular (both load the URLs, so this module).
from jobcenter.api import schema_bodies  # noqa: F401
from jobcenter.api.authentication import API_AUTHENTICATION
from jobcenter.api.exceptions import error_body
from jobcenter.api.schema import ok
from jobcenter.api.serializers.service import HealthSerializer
from jobcenter.api.views.base import ApiErrorsMixin, ApiView

logger = logging.getLogger("jobcenter.api")


class HealthView(ApiView):
    """For load balancers: no authentication, no data."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    query_params = None  # a probe's cache-busting parameters are not an error

    @extend_schema(
        tags=["health"],
        operation_id="health",
        summary="Is the service up?",
        description="200 when the web server can reach its database, 503 otherwise.",
        auth=[],
        responses={
            200: ok(HealthSerializer, "Up."),
            503: OpenApiResponse(HealthSerializer, description="The database is unreachable."),
        },
    )
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:  # any database failure means "not healthy", never a 500
            logger.exception("health check failed")
            return Response({"status": "unavailable"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        return Response({"status": "ok"})


# --- the OpenAPI schema and its two readers ---------------------------------------------------


class SchemaView(ApiErrorsMixin, SpectacularAPIView):
    """The OpenAPI 3 schema (YAML, or JSON with ``?format=json`` / ``Accept``); signed-in only."""

    authentication_classes = API_AUTHENTICATION
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "head"]


class _SignedInPage(ApiErrorsMixin):
    """Swagger UI and ReDoc pages: anonymous browsers are sent to the login page first."""

    authentication_classes = API_AUTHENTICATION
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "head"]

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return super().get(request, *args, **kwargs)  # type: ignore[misc]

    def permission_denied(self, request: Request, message: Any = None, code: Any = None) -> None:
        if not request.successful_authenticator:
            return  # handled in get(): a redirect, not a 401 page
        super().permission_denied(request, message, code)  # type: ignore[misc]


class SwaggerView(_SignedInPage, SpectacularSwaggerSplitView):
    """Its script comes from the same URL with ``?script`` (not inline: the CSP allows none)."""

    template_name = "api/swagger_ui.html"


class RedocView(_SignedInPage, SpectacularRedocView):
    template_name = "api/redoc.html"


# --- anything else under /api/ -----------------------------------------------------------------


def not_found(request: HttpRequest, path: str = "") -> Any:
    """Unknown API URLs get the JSON error shape; a missing trailing slash is redirected
    (308 keeps the method and body)."""
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            target = request.path + "/"
            if request.META.get("QUERY_STRING"):
                target += "?" + request.META["QUERY_STRING"]
            return HttpResponsePermanentRedirect(target, status=308)
    return JsonResponse(
        error_body("not_found", f"no API endpoint at {request.path[:200]}"), status=404
    )
