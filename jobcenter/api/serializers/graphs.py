"""Graphs as listed and in detail (with the normalised schema), and creating one."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from jobcenter.api.serializers.fields import (
    SlugTextField,
    TextField,
    UtcDateTimeField,
    json_safe,
    username_field,
)
from jobcenter.graphs.choices import GraphDialect, GraphStatus


class GraphSerializer(serializers.Serializer):
    id = serializers.CharField(read_only=True)
    project = serializers.CharField(source="project.name", read_only=True)
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    dialect = serializers.ChoiceField(choices=GraphDialect.choices, read_only=True)
    status = serializers.ChoiceField(choices=GraphStatus.choices, read_only=True)
    created_by = username_field("created_by.username", "Who created it.")
    created_at = UtcDateTimeField(read_only=True)
    data_updated_at = UtcDateTimeField(
        allow_null=True, read_only=True, help_text="Last committed import; null if none."
    )


class GraphDetailSerializer(GraphSerializer):
    schema = serializers.JSONField(read_only=True, help_text="The normalised schema.")


class GraphCreateSerializer(serializers.Serializer):
    project = SlugTextField(max_length=64)
    name = TextField(max_length=128)
    dialect = serializers.ChoiceField(choices=GraphDialect.choices)
    description = TextField(required=False, allow_blank=True, max_length=4000)
    schema = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text=(
            "GES: the schema.xml document as a string (optional). GraphScope: the graph "
            'definition object (`{"schema": {"vertex_types": ..., "edge_types": ...}}`, '
            "as in graph.yaml or CreateGraphRequest; required)."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        schema = attrs.get("schema")
        if attrs["dialect"] == GraphDialect.GES:
            if schema is not None and not isinstance(schema, str):
                raise serializers.ValidationError(
                    {"schema": ["a GES schema is the schema.xml document, as a string"]}
                )
            attrs["schema_source"] = None
            if schema:
                try:
                    source = schema.encode("utf-8")
                except UnicodeEncodeError:
                    source = b""
                if not source or b"\x00" in source or len(source) > 10 * 1024**2:
                    raise serializers.ValidationError({"schema": ["not a schema.xml document"]})
                attrs["schema_source"] = source
        else:
            if not isinstance(schema, dict):
                raise serializers.ValidationError(
                    {"schema": ["a GraphScope graph needs its definition, a JSON object"]}
                )
            schema = json_safe(schema, field="schema")
            if "schema" not in schema and ("vertex_types" in schema or "edge_types" in schema):
                schema = {"name": attrs["name"], "schema": schema}
            attrs["schema_source"] = schema
        return attrs

    def validate_name(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError("must not be blank")
        return value
