"""Webhooks of a project and their deliveries (an outbox: a delivery row is written in the
same transaction as the job's ending, then sent by a worker, at least once)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from jobcenter.core.ids import new_id
from jobcenter.notifications.choices import DeliveryStatus


class Webhook(models.Model):
    """A URL told about the ends of a project's jobs, filtered by event, kind and graph.

    The secret signs every delivery (HMAC-SHA256); it is stored encrypted
    (``jobcenter.credentials.crypto``) and shown only once, when the webhook is created.
    """

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    project = models.ForeignKey(
        "projects.Project", on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.CharField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    # Event names (choices.WebhookEvent), at least one.
    events = models.JSONField(default=list)
    # Job types (empty: every kind) and a graph name (blank: every graph).
    kinds = models.JSONField(default=list, blank=True)
    graph_name = models.CharField(max_length=128, blank=True)
    secret_encrypted = models.TextField(editable=False)
    enabled = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["project", "enabled"], name="webhook_project_enabled")]

    def __str__(self) -> str:
        return self.url


class Delivery(models.Model):
    """One event for one webhook. Its id travels in the ``Jobcenter-Delivery`` header and the
    body, so a receiver can drop a repeat (delivery is at least once)."""

    id = models.CharField(primary_key=True, max_length=32, default=new_id, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=32)
    # Not a foreign key: the log outlives a purged job (and jobs sit above this app).
    job_id = models.CharField(max_length=32, blank=True)
    body = models.TextField()  # the JSON sent, the same bytes on every attempt
    status = models.CharField(
        max_length=12, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    created_at = models.DateTimeField()
    # Next attempt (pending) or the end of the current attempt's lease (being sent); None once
    # delivered or given up.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Retries stop after this (JOBCENTER_WEBHOOK_RETRY_FOR after creation or a resend).
    retry_until = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    status_code = models.PositiveIntegerField(null=True, blank=True)  # of the last attempt
    latency_ms = models.FloatField(null=True, blank=True)  # of the last attempt
    error = models.TextField(blank=True)  # of the last attempt that failed

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
            models.Index(fields=["webhook", "-created_at", "-id"], name="delivery_webhook"),
        ]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.event} {self.id}"
