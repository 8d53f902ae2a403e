"""Webhooks of a project and their deliveries (docs/notifications.md)."""

from __future__ import annotations

from rest_framework import serializers

from jobcenter.api.serializers.fields import TextField, UtcDateTimeField
from jobcenter.notifications.choices import ALL_EVENTS, DeliveryStatus, WebhookEvent
from jobcenter.notifications.services import webhook_kind_choices


class WebhookSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices), read_only=True
    )
    kinds = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text="Job types; empty: every kind."
    )
    graph_name = serializers.CharField(read_only=True, help_text="Blank: every graph.")
    enabled = serializers.BooleanField(read_only=True)
    created_at = UtcDateTimeField(read_only=True)


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text="Signs every delivery (Jobcenter-Signature). Shown only in this response.",
    )


class WebhookCreateSerializer(serializers.Serializer):
    url = TextField(
        max_length=2000,
        help_text="http(s) URL; its host must be in JOBCENTER_WEBHOOK_ALLOWED_HOSTS.",
    )
    description = TextField(required=False, allow_blank=True, max_length=200)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=WebhookEvent.choices),
        required=False,
        min_length=1,
        max_length=len(ALL_EVENTS),
        help_text="Default: all four (every ending).",
    )
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=webhook_kind_choices()),
        required=False,
        max_length=32,
        help_text="Job types (import, algorithm...); empty: every kind.",
    )
    graph_name = TextField(
        required=False, allow_blank=True, max_length=128, help_text="Blank: every graph."
    )
    enabled = serializers.BooleanField(required=False)


class WebhookUpdateSerializer(WebhookCreateSerializer):
    url = TextField(
        required=False,
        max_length=2000,
        help_text="http(s) URL; its host must be in JOBCENTER_WEBHOOK_ALLOWED_HOSTS.",
    )


class DeliverySerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True, help_text="Also the Jobcenter-Delivery header.")
    event = serializers.ChoiceField(choices=WebhookEvent.choices, read_only=True)
    job_id = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, read_only=True)
    attempts = serializers.IntegerField(read_only=True)
    status_code = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Of the last attempt (null: no answer)."
    )
    latency_ms = serializers.FloatField(
        read_only=True, allow_null=True, help_text="Of the last attempt."
    )
    error = serializers.CharField(read_only=True, help_text="Of the last failed attempt.")
    created_at = UtcDateTimeField(read_only=True)
    last_attempt_at = UtcDateTimeField(read_only=True, allow_null=True)
    next_attempt_at = UtcDateTimeField(read_only=True, allow_null=True)
    delivered_at = UtcDateTimeField(read_only=True, allow_null=True)
