"""A graph operation job's request (clear, backup, restore, delete)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from jobcenter.api.serializers.chains import DependsOnSerializer
from jobcenter.api.serializers.fields import TextField
from jobcenter.jobs.services import GRAPH_OPERATIONS


class GraphOperationInputSerializer(DependsOnSerializer):
    operation = serializers.ChoiceField(choices=list(GRAPH_OPERATIONS))
    path = TextField(
        max_length=1024,
        required=False,
        help_text="backup: target file; restore: source file (required); others: none.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        needs_path = attrs["operation"] in ("backup", "restore")
        if needs_path and "path" not in attrs:
            raise serializers.ValidationError({"path": [f"required for {attrs['operation']}"]})
        if not needs_path and "path" in attrs:
            raise serializers.ValidationError({"path": [f"not used by {attrs['operation']}"]})
        return attrs
