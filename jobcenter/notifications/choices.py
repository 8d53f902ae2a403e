from __future__ import annotations

from django.db import models


class WebhookEvent(models.TextChoices):
    """What a webhook can be told: a job's ending, by how it ended ("finished" is all four)."""

    SUCCEEDED = "job.succeeded", "Job succeeded"
    PARTIALLY_FAILED = "job.partially_failed", "Job partially failed"
    FAILED = "job.failed", "Job failed"
    CANCELLED = "job.cancelled", "Job cancelled"


ALL_EVENTS = [event.value for event in WebhookEvent]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # waiting for its first or next attempt (or being sent)
    DELIVERED = "delivered", "Delivered"  # the receiver answered 2xx
    FAILED = "failed", "Failed"  # gave up: no 2xx within JOBCENTER_WEBHOOK_RETRY_FOR
