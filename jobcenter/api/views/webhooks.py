"""Webhooks of a project (project admins): create (the secret is in that answer only), list,
change, disable, delete; their deliveries, and resending one (docs/notifications.md)."""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from jobcenter.api.pagination import PAGE_PARAMS, paginate
from jobcenter.api.schema import errors, id_parameter, ok, page_parameters
from jobcenter.api.serializers.common import paginated
from jobcenter.api.serializers.webhooks import (
    DeliverySerializer,
    WebhookCreatedSerializer,
    WebhookCreateSerializer,
    WebhookSerializer,
    WebhookUpdateSerializer,
)
from jobcenter.api.views.base import ApiView, created, path_ref, validated
from jobcenter.api.views.projects import PROJECT, _project
from jobcenter.notifications.models import Webhook
from jobcenter.notifications.selectors import (
    delivery_get,
    delivery_list,
    webhook_get,
    webhook_list,
)
from jobcenter.notifications.services import (
    delivery_resend,
    webhook_create,
    webhook_delete,
    webhook_update,
)

WEBHOOK_ID = id_parameter("webhook_id", "webhook")
DELIVERY_ID = id_parameter("delivery_id", "delivery")
_ID = re.compile(r"[0-9a-f]{32}")


def _webhook(request: Request, project: str, webhook_id: str) -> Webhook:
    obj = _project(request, project)
    return webhook_get(
        project=obj,
        user=request.user,
        webhook_id=path_ref(webhook_id, "webhook", "webhook_id", _ID),
    )


def _location(webhook: Webhook) -> str:
    return f"/api/v1/projects/{webhook.project.name}/webhooks/{webhook.pk}/"


class WebhookListView(ApiView):
    query_params = PAGE_PARAMS

    @extend_schema(
        tags=["webhooks"],
        operation_id="webhooks_list",
        summary="A project's webhooks (project admins)",
        parameters=[PROJECT, *page_parameters()],
        responses={
            200: ok(paginated(WebhookSerializer), "One page of webhooks."),
            **errors(400, 401, 403, 404),
        },
    )
    def get(self, request: Request, project: str) -> Response:
        hooks = webhook_list(project=_project(request, project), user=request.user)
        page = paginate(request, hooks)
        return Response(page.envelope(WebhookSerializer(page.results, many=True).data))

    @extend_schema(
        tags=["webhooks"],
        operation_id="webhooks_create",
        summary="Add a webhook (project admins)",
        description=(
            "Its URL's host must be in the server's JOBCENTER_WEBHOOK_ALLOWED_HOSTS. The answer "
            "carries the secret that signs every delivery: it is never shown again."
        ),
        parameters=[PROJECT],
        request=WebhookCreateSerializer,
        responses={
            201: ok(WebhookCreatedSerializer, "The new webhook and its secret."),
            **errors(400, 401, 403, 404, 409, 415),
        },
    )
    def post(self, request: Request, project: str) -> Response:
        obj = _project(request, project)
        data = validated(WebhookCreateSerializer, request.data)
        webhook, secret = webhook_create(project=obj, user=request.user, **data)
        webhook.secret = secret  # type: ignore[attr-defined]
        return created(WebhookCreatedSerializer(webhook).data, _location(webhook))


class WebhookDetailView(ApiView):
    @extend_schema(
        tags=["webhooks"],
        operation_id="webhooks_retrieve",
        summary="One webhook (project admins)",
        parameters=[PROJECT, WEBHOOK_ID],
        responses={200: ok(WebhookSerializer, "The webhook."), **errors(401, 403, 404)},
    )
    def get(self, request: Request, project: str, webhook_id: str) -> Response:
        return Response(WebhookSerializer(_webhook(request, project, webhook_id)).data)

    @extend_schema(
        tags=["webhooks"],
        operation_id="webhooks_partial_update",
        summary="Change a webhook, or disable it (project admins)",
        description="The secret stays as it is.",
        parameters=[PROJECT, WEBHOOK_ID],
        request=WebhookUpdateSerializer,
        responses={
            200: ok(WebhookSerializer, "The webhook as it is now."),
            **errors(401, 403, 404, 415),
        },
    )
    def patch(self, request: Request, project: str, webhook_id: str) -> Response:
        webhook = _webhook(request, project, webhook_id)
        data = validated(WebhookUpdateSerializer, request.data)
        webhook = webhook_update(webhook=webhook, user=request.user, **data)
        return Response(WebhookSerializer(webhook).data)

    @extend_schema(
        tags=["webhooks"],
        operation_id="webhooks_destroy",
        summary="Delete a webhook and its delivery log (project admins)",
        parameters=[PROJECT, WEBHOOK_ID],
        responses={204: OpenApiResponse(description="Deleted."), **errors(401, 403, 404)},
    )
    def delete(self, request: Request, project: str, webhook_id: str) -> Response:
        webhook_delete(webhook=_webhook(request, project, webhook_id), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeliveryListView(ApiView):
    query_params = PAGE_PARAMS

    @extend_schema(
        tags=["webhooks"],
        operation_id="webhooks_deliveries_list",
        summary="A webhook's deliveries, newest first, with status code and latency",
        parameters=[PROJECT, WEBHOOK_ID, *page_parameters()],
        responses={
            200: ok(paginated(DeliverySerializer), "One page of deliveries."),
            **errors(400, 401, 403, 404),
        },
    )
    def get(self, request: Request, project: str, webhook_id: str) -> Response:
        page = paginate(request, delivery_list(webhook=_webhook(request, project, webhook_id)))
        return Response(page.envelope(DeliverySerializer(page.results, many=True).data))


class DeliveryResendView(ApiView):
    @extend_schema(
        tags=["webhooks"],
        operation_id="webhooks_deliveries_resend",
        summary="Send a delivery again (same id and body, a new signature)",
        parameters=[PROJECT, WEBHOOK_ID, DELIVERY_ID],
        request=None,
        responses={
            202: ok(DeliverySerializer, "Queued: a worker sends it within moments."),
            **errors(401, 403, 404),
        },
    )
    def post(self, request: Request, project: str, webhook_id: str, delivery_id: str) -> Any:
        webhook = _webhook(request, project, webhook_id)
        delivery = delivery_get(
            webhook=webhook,
            delivery_id=path_ref(delivery_id, "delivery", "delivery_id", _ID),
        )
        delivery = delivery_resend(delivery=delivery, user=request.user)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)
