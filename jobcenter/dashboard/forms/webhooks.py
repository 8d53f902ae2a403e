"""The form of a project's webhook (docs/notifications.md)."""

from __future__ import annotations

from typing import Any

from django import forms

from jobcenter.dashboard.forms.common import ServiceErrorsMixin
from jobcenter.notifications.choices import ALL_EVENTS, WebhookEvent
from jobcenter.notifications.services import webhook_kind_choices


class WebhookForm(ServiceErrorsMixin, forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=2000,
        help_text="http(s); its host must be allowed (JOBCENTER_WEBHOOK_ALLOWED_HOSTS).",
        widget=forms.TextInput(attrs={"placeholder": "https://hooks.example.com/jobcenter"}),
    )
    description = forms.CharField(label="Description", required=False, max_length=200)
    events = forms.MultipleChoiceField(
        label="Events",
        choices=WebhookEvent.choices,
        initial=ALL_EVENTS,
        widget=forms.CheckboxSelectMultiple,
        help_text="All four: every ending of a job.",
    )
    kinds = forms.MultipleChoiceField(
        label="Kinds of job",
        choices=webhook_kind_choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every kind.",
    )
    graph_name = forms.CharField(
        label="Graph", required=False, max_length=128, help_text="Blank: every graph."
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)

    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "url": data["url"].strip(),
            "description": data["description"],
            "events": list(data["events"]),
            "kinds": list(data["kinds"]),
            "graph_name": data["graph_name"].strip(),
            "enabled": data["enabled"],
        }
