"""Writes for webhooks: create (the secret is returned once), change, delete; the outbox (a
job's ending queues its deliveries in the ending's own transaction); the sender's claim and
record of an attempt; resending a delivery.

Jobs sit above this app: the job side (``jobcenter.jobs.endings``) hands a :class:`JobEnding`
in, so nothing here imports the jobs app.
"""

from __future__ import annotations

import json
import random
import secrets
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from jobcenter.core.errors import InvalidInput, InvalidState, PermissionDenied
from jobcenter.core.ids import new_id
from jobcenter.credentials.crypto import encrypt_secret
from jobcenter.notifications.addresses import check_url
from jobcenter.notifications.choices import ALL_EVENTS, DeliveryStatus
from jobcenter.notifications.models import Delivery, Webhook
from jobcenter.projects.choices import Role
from jobcenter.projects.models import Project
from jobcenter.projects.selectors import user_has_role

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
MAX_WEBHOOKS_PER_PROJECT = 20
_UNSET: Any = object()

# The job types a webhook's kind filter may name, as (value, label) pairs: the jobs app's
# JobType, handed in when that app starts (jobs sit above this app; see jobcenter/jobs/apps.py).
KIND_CHOICES: list[tuple[str, str]] = []


def webhook_kind_choices() -> list[tuple[str, str]]:
    """What a kind filter may name: the one rule, also the API's and the dashboard's choices."""
    if not KIND_CHOICES:
        raise RuntimeError("the jobs app has not handed in the job types yet")
    return KIND_CHOICES


def require_admin(user: AbstractBaseUser | AnonymousUser | None, project: Project) -> None:
    """Webhooks hold secrets and point the server at URLs: project admins only."""
    if user is None or not user_has_role(user=user, project=project, role=Role.ADMIN):
        raise PermissionDenied(f"managing webhooks needs the admin role in {project.name}")


def _events(events: Sequence[str]) -> list[str]:
    if isinstance(events, str) or not isinstance(events, Sequence):
        raise InvalidInput("events must be a list of event names", field="events")
    unknown = [e for e in events if e not in ALL_EVENTS]
    if unknown:
        raise InvalidInput(
            f"unknown event {unknown[0]!r}; events are {', '.join(ALL_EVENTS)}", field="events"
        )
    if not events:
        raise InvalidInput("events must name at least one event", field="events")
    return [e for e in ALL_EVENTS if e in events]


def _kinds(kinds: Sequence[str]) -> list[str]:
    if isinstance(kinds, str) or not isinstance(kinds, Sequence):
        raise InvalidInput("kinds must be a list of job types", field="kinds")
    known = {value for value, _label in webhook_kind_choices()}
    for kind in kinds:
        if not isinstance(kind, str) or kind not in known:
            raise InvalidInput(f"kinds: {str(kind)[:40]!r} is not a job type", field="kinds")
    return sorted(set(kinds))


def _text(value: str, name: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidInput(f"{name} must be at most {limit} characters", field=name)
    return value


def webhook_create(
    *,
    project: Project,
    user: AbstractBaseUser | None,
    url: str,
    events: Sequence[str] = tuple(ALL_EVENTS),
    kinds: Sequence[str] = (),
    graph_name: str = "",
    description: str = "",
    enabled: bool = True,
) -> tuple[Webhook, str]:
    """A new webhook. Returns it and its secret, which is never shown again."""
    require_admin(user, project)
    check_url(url)
    if Webhook.objects.filter(project=project).count() >= MAX_WEBHOOKS_PER_PROJECT:
        raise InvalidState(
            f"project {project.name} already has {MAX_WEBHOOKS_PER_PROJECT} webhooks; "
            "delete one first"
        )
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    webhook = Webhook.objects.create(
        project=project,
        url=url,
        events=_events(events),
        kinds=_kinds(kinds),
        graph_name=_text(graph_name, "graph_name", 128),
        description=_text(description, "description", 200),
        enabled=enabled,
        secret_encrypted=encrypt_secret(secret),
        created_by=user,
    )
    return webhook, secret


def webhook_update(
    *,
    webhook: Webhook,
    user: AbstractBaseUser | None,
    url: str = _UNSET,
    events: Sequence[str] = _UNSET,
    kinds: Sequence[str] = _UNSET,
    graph_name: str = _UNSET,
    description: str = _UNSET,
    enabled: bool = _UNSET,
) -> Webhook:
    """Change what is given; the secret stays."""
    require_admin(user, webhook.project)
    if url is not _UNSET:
        check_url(url)
        webhook.url = url
    if events is not _UNSET:
        webhook.events = _events(events)
    if kinds is not _UNSET:
        webhook.kinds = _kinds(kinds)
    if graph_name is not _UNSET:
        webhook.graph_name = _text(graph_name, "graph_name", 128)
    if description is not _UNSET:
        webhook.description = _text(description, "description", 200)
    if enabled is not _UNSET:
        webhook.enabled = bool(enabled)
    webhook.save()
    return webhook


def webhook_delete(*, webhook: Webhook, user: AbstractBaseUser | None) -> None:
    """The webhook and its delivery log; pending deliveries are not sent."""
    require_admin(user, webhook.project)
    webhook.delete()


# --- the outbox -------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobEnding:
    """A job that has just ended, as the job side describes it."""

    job_id: str
    project_id: int
    project_name: str
    type: str
    status: str  # a terminal JobStatus value
    graph_name: str
    job: dict[str, Any] = field(default_factory=dict)  # the body's "job" object

    @property
    def event(self) -> str:
        return f"job.{self.status}"


def _wants(webhook: Webhook, ending: JobEnding) -> bool:
    return (
        ending.event in webhook.events
        and (not webhook.kinds or ending.type in webhook.kinds)
        and (not webhook.graph_name or webhook.graph_name == ending.graph_name)
    )


def deliveries_enqueue(ending: JobEnding) -> list[Delivery]:
    """The deliveries of a job's ending, one per enabled webhook that wants it. Called in the
    transaction that ends the job, so either both are written or neither (nothing lost if the
    worker dies between the two)."""
    hooks = [
        hook
        for hook in Webhook.objects.filter(project_id=ending.project_id, enabled=True)
        if _wants(hook, ending)
    ]
    if not hooks:
        return []
    now = timezone.now()
    until = now + timedelta(seconds=settings.JOBCENTER_WEBHOOK_RETRY_FOR)
    deliveries = []
    for hook in hooks:
        delivery_id = new_id()
        body = {
            "id": delivery_id,
            "type": ending.event,
            "created_at": now.isoformat().replace("+00:00", "Z"),
            "project": ending.project_name,
            "webhook": hook.pk,
            "job": ending.job,
        }
        deliveries.append(
            Delivery(
                id=delivery_id,
                webhook=hook,
                event=ending.event,
                job_id=ending.job_id,
                body=json.dumps(body, separators=(",", ":"), ensure_ascii=False),
                created_at=now,
                next_attempt_at=now,
                retry_until=until,
            )
        )
    Delivery.objects.bulk_create(deliveries)
    if transaction.get_connection().in_atomic_block:
        transaction.on_commit(_announce)
    return deliveries


# Set when deliveries were queued by this process: its sender (if it runs one) looks at once;
# senders in other processes find them at their next poll.
WAKE = threading.Event()


def _announce() -> None:
    WAKE.set()


def delivery_resend(*, delivery: Delivery, user: AbstractBaseUser | None) -> Delivery:
    """Send a delivery again (same id and body; new timestamp and signature), with a fresh day
    of retries."""
    require_admin(user, delivery.webhook.project)
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        retry_until=now + timedelta(seconds=settings.JOBCENTER_WEBHOOK_RETRY_FOR),
    )
    transaction.on_commit(_announce)
    delivery.refresh_from_db()
    return delivery


# --- the sender's writes ----------------------------------------------------------------------


def lease_seconds() -> float:
    """How long an attempt holds its delivery: past it, another sender may take it again (the
    first one died); so it outlasts the request's timeout."""
    return settings.JOBCENTER_WEBHOOK_TIMEOUT * 2 + 30


def delivery_claim(*, delivery_id: str, attempts: int, now: datetime) -> bool:
    """Take a due delivery for one attempt: a conditional update on its attempt count, so two
    senders never both take it (an attempt whose sender died is taken again after its lease)."""
    return bool(
        Delivery.objects.filter(
            pk=delivery_id,
            status=DeliveryStatus.PENDING,
            attempts=attempts,
            next_attempt_at__lte=now,
        ).update(
            attempts=F("attempts") + 1,
            last_attempt_at=now,
            next_attempt_at=now + timedelta(seconds=lease_seconds()),
        )
    )


def backoff(attempts: int) -> float:
    """Seconds before the next attempt after ``attempts`` failed ones: exponential from
    JOBCENTER_WEBHOOK_RETRY_BASE, at most JOBCENTER_WEBHOOK_RETRY_MAX, with +-10% jitter."""
    base = settings.JOBCENTER_WEBHOOK_RETRY_BASE * 2 ** min(max(attempts - 1, 0), 30)
    delay = min(base, settings.JOBCENTER_WEBHOOK_RETRY_MAX)
    return delay * random.uniform(0.9, 1.1)


def delivery_record(
    *,
    delivery_id: str,
    attempt: int,
    ok: bool,
    status_code: int | None,
    latency_ms: float | None,
    error: str = "",
) -> str | None:
    """The outcome of attempt number ``attempt``: delivered, or the next attempt scheduled
    (failed once the next one would be past ``retry_until``). Returns the new status, or None
    when the delivery was meanwhile taken again (its lease ran out) or deleted."""
    now = timezone.now()
    mine = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, attempts=attempt)
    common = {"status_code": status_code, "latency_ms": latency_ms, "last_attempt_at": now}
    if ok:
        done = mine.update(
            status=DeliveryStatus.DELIVERED,
            next_attempt_at=None,
            delivered_at=now,
            error="",
            **common,
        )
        return DeliveryStatus.DELIVERED if done else None
    row = mine.values_list("retry_until", flat=True).first()
    if row is None:
        return None
    following = now + timedelta(seconds=backoff(attempt))
    if following > row:
        done = mine.update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, error=error[:2000], **common
        )
        return DeliveryStatus.FAILED if done else None
    done = mine.update(next_attempt_at=following, error=error[:2000], **common)
    return DeliveryStatus.PENDING if done else None


def deliveries_expire(*, now: datetime | None = None) -> int:
    """Remove delivered and given-up deliveries older than JOBCENTER_WEBHOOK_LOG_DAYS (0: keep
    them for ever); pending ones stay whatever their age. Returns how many were removed."""
    days = settings.JOBCENTER_WEBHOOK_LOG_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    removed, _ = Delivery.objects.filter(
        status__in=(DeliveryStatus.DELIVERED, DeliveryStatus.FAILED), created_at__lt=cutoff
    ).delete()
    return removed
