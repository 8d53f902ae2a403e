"""An import's request: files named on the server (JSON), or uploaded (multipart/form-data)."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from jobcenter.api.serializers.chains import ACCEPT_PARTIAL_HELP, DependsOnSerializer
from jobcenter.api.serializers.fields import ObjectField, TextField, TextOrFileField, parse_object
from jobcenter.graphs.formats import GesImportRequest, GraphScopeImportRequest, ImportRequest
from jobcenter.graphs.services import IMPORT_FORMATS


class ImportInputSerializer(DependsOnSerializer):
    """An import of files already on the server, under the import roots."""

    format = serializers.ChoiceField(choices=IMPORT_FORMATS)
    request = ObjectField(
        required=False,
        help_text=(
            "GES: the import request (GES v2 snake_case keys: schema_path, vertexset_path, "
            "edgeset_path, delimiter, trim_quote, parallel_edge, error_threshold...)."
        ),
    )
    mapping = ObjectField(
        required=False,
        help_text="GraphScope: the SchemaMapping (loading_config, vertex_mappings...).",
    )
    name = TextField(required=False, max_length=128, default="ImportGraph")
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Validate every line as the import would (same counts and failed lines) and write "
            "nothing to the graph."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        key, other = ("request", "mapping") if attrs["format"] == "ges" else ("mapping", "request")
        if key not in attrs:
            raise serializers.ValidationError({key: [f"required for format {attrs['format']}"]})
        if other in attrs:
            raise serializers.ValidationError({other: [f"not used by format {attrs['format']}"]})
        return attrs

    def import_request(self) -> ImportRequest:
        data = self.validated_data
        if data["format"] == "ges":
            return GesImportRequest(request=data["request"])
        return GraphScopeImportRequest(mapping=data["mapping"])


class ImportUploadSerializer(DependsOnSerializer):
    """An import whose files are uploaded with the request (multipart/form-data)."""

    # Form fields are text: "true" / "false" (DependsOnSerializer's is JSON's true / false).
    accept_partial = serializers.BooleanField(
        required=False, default=False, help_text=ACCEPT_PARTIAL_HELP
    )
    format = serializers.ChoiceField(choices=IMPORT_FORMATS)
    schema = serializers.FileField(required=False, help_text="GES: schema.xml.")
    vertices = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="GES: vertex files."
    )
    edges = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="GES: edge files."
    )
    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="GraphScope: the data files the mapping's inputs name (by file name).",
    )
    options = TextOrFileField(
        required=False,
        help_text=(
            'GES: other request keys as a JSON object, e.g. {"delimiter": "|"} (text or a file).'
        ),
    )
    mapping = TextOrFileField(
        required=False,
        help_text="GraphScope: the SchemaMapping, JSON or YAML (text, or bulk_load.yaml as file).",
    )
    name = TextField(required=False, max_length=128, default="ImportGraph")
    dry_run = serializers.BooleanField(
        required=False,
        default=False,
        help_text=(
            "Validate every line as the import would (same counts and failed lines) and write "
            "nothing to the graph."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:  # a misspelt part would otherwise be dropped without a word
            known = ", ".join(self.fields)
            raise serializers.ValidationError({unknown[0]: [f"unknown field; known: {known}"]})
        # A part the format does not use is refused when sent at all, even empty.
        if attrs["format"] == "ges":
            wrong = [k for k in ("files", "mapping") if k in self.initial_data]
            attrs["options"] = parse_object(attrs.get("options") or "{}", field="options")
        else:
            wrong = [
                k for k in ("schema", "vertices", "edges", "options") if k in self.initial_data
            ]
            if not attrs.get("mapping"):
                raise serializers.ValidationError({"mapping": ["required for format graphscope"]})
            attrs["options"] = parse_object(attrs["mapping"], field="mapping")
        if wrong:
            raise serializers.ValidationError({wrong[0]: [f"not used by format {attrs['format']}"]})
        return attrs

    def import_request(self) -> ImportRequest:
        data = self.validated_data
        if data["format"] == "ges":
            return GesImportRequest(
                request=data["options"],
                schema=[data["schema"]] if data.get("schema") else [],
                vertices=data.get("vertices") or [],
                edges=data.get("edges") or [],
            )
        return GraphScopeImportRequest(mapping=data["options"], files=data.get("files") or [])
