"""Reads for webhooks and their deliveries."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, QuerySet

from jobcenter.core.errors import NotFound
from jobcenter.credentials.crypto import decrypt_secret
from jobcenter.notifications.choices import DeliveryStatus
from jobcenter.notifications.models import Delivery, Webhook
from jobcenter.notifications.services import require_admin
from jobcenter.projects.models import Project


def webhook_list(*, project: Project, user: AbstractBaseUser | AnonymousUser) -> QuerySet[Webhook]:
    require_admin(user, project)
    return Webhook.objects.filter(project=project).order_by("created_at", "id")


def webhook_get(
    *, project: Project, user: AbstractBaseUser | AnonymousUser, webhook_id: str
) -> Webhook:
    require_admin(user, project)
    webhook = (
        Webhook.objects.select_related("project").filter(project=project, pk=webhook_id).first()
    )
    if webhook is None:
        raise NotFound(f"webhook {webhook_id[:40]!r} does not exist", field="webhook_id")
    return webhook


def delivery_list(*, webhook: Webhook) -> QuerySet[Delivery]:
    """A webhook's deliveries, newest first (the body left out: it is the one big column)."""
    return Delivery.objects.filter(webhook=webhook).defer("body").order_by("-created_at", "-id")


def delivery_get(*, webhook: Webhook, delivery_id: str) -> Delivery:
    delivery = (
        Delivery.objects.select_related("webhook__project")
        .filter(webhook=webhook, pk=delivery_id)
        .first()
    )
    if delivery is None:
        raise NotFound(f"delivery {delivery_id[:40]!r} does not exist", field="delivery_id")
    return delivery


# --- the sender's reads -----------------------------------------------------------------------


def deliveries_due(*, now: datetime, limit: int) -> list[tuple[str, int]]:
    """(id, attempts) of pending deliveries whose time has come, oldest due first."""
    return list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", "attempts")[:limit]
    )


def delivery_for_sending(delivery_id: str) -> tuple[Delivery, str] | None:
    """The delivery with its webhook, and the webhook's secret in clear."""
    delivery = Delivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None:
        return None
    return delivery, decrypt_secret(delivery.webhook.secret_encrypted)


def delivery_counts() -> dict[str, int]:
    """Deliveries by status, over every project (for /metrics)."""
    rows = Delivery.objects.values("status").annotate(n=Count("pk")).order_by()
    counts = {status.value: 0 for status in DeliveryStatus}
    counts.update({row["status"]: row["n"] for row in rows})
    return counts
