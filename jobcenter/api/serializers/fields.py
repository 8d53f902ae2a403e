"""The field types and value checks of the native API's bodies: strict text and whole numbers,
JSON objects every database stores, documents as text or file, UTC times, blank as null."""

from __future__ import annotations

import json
import math
from datetime import UTC
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from jobcenter.core.documents import DocumentError, read_document
from jobcenter.core.text import storable

MAX_JSON_BYTES = 5 * 1024**2


def json_safe(value: Any, *, field: str) -> Any:
    """``value`` as plain JSON that every database stores: finite numbers, string keys, no NUL
    characters (PostgreSQL's jsonb refuses them). Raises ValidationError naming ``field``."""

    def walk(item: Any, path: str) -> None:
        if isinstance(item, str):
            if not storable(item):
                raise serializers.ValidationError(
                    {path: ["NUL characters and unpaired surrogates are not allowed"]}
                )
        elif isinstance(item, dict):
            for key, child in item.items():
                walk(key, path)
                walk(child, f"{path}.{key}")
        elif isinstance(item, list | tuple):
            for i, child in enumerate(item):
                walk(child, f"{path}.{i}")
        elif isinstance(item, float) and not math.isfinite(item):
            raise serializers.ValidationError({path: ["numbers must be finite"]})

    try:
        text = json.dumps(value, default=str, allow_nan=False)
    except (ValueError, TypeError, RecursionError):
        raise serializers.ValidationError({field: ["not representable as JSON"]}) from None
    if len(text) > MAX_JSON_BYTES:
        raise serializers.ValidationError({field: [f"larger than {MAX_JSON_BYTES} bytes"]})
    plain = json.loads(text)
    walk(plain, field)
    return plain


def parse_object(text: str, *, field: str) -> dict[str, Any]:
    """A JSON or YAML document that must be an object (read by jobcenter.core.documents)."""
    try:
        value = read_document(text, what=field, field=field)
    except DocumentError as exc:
        raise serializers.ValidationError({field: [exc.detail]}) from None
    return json_safe(value, field=field)


class UtcDateTimeField(serializers.DateTimeField):
    """Always UTC (``...Z``), whatever time zone a request may have activated."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("default_timezone", UTC)
        super().__init__(**kwargs)


class BlankAsNullCharField(serializers.CharField):
    """An optional text column: ``""`` is shown as ``null``."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        return value or None


@extend_schema_field(
    {"type": "object", "additionalProperties": True, "nullable": True, "readOnly": True}
)
class NullableObjectField(serializers.JSONField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)


@extend_schema_field({"type": "object", "additionalProperties": True})
class ObjectField(serializers.JSONField):
    """A JSON object in a request body."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, dict):
            raise serializers.ValidationError("must be a JSON object")
        return json_safe(data, field=self.field_name or "value")


@extend_schema_field({"type": "string"})
class TextOrFileField(serializers.Field):
    """A document sent either as a text field or as an uploaded file (``curl -F x=@file``)."""

    max_bytes = MAX_JSON_BYTES

    def to_internal_value(self, data: Any) -> str:
        if hasattr(data, "read"):
            if data.size is not None and data.size > self.max_bytes:
                raise serializers.ValidationError(f"larger than {self.max_bytes} bytes")
            raw = data.read(self.max_bytes + 1)
            if len(raw) > self.max_bytes:
                raise serializers.ValidationError(f"larger than {self.max_bytes} bytes")
            try:
                data = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise serializers.ValidationError("not UTF-8 text") from None
        if not isinstance(data, str):
            raise serializers.ValidationError("give the document as text or as a file")
        if "\x00" in data:
            raise serializers.ValidationError("NUL characters are not allowed")
        return data

    def to_representation(self, value: Any) -> str:
        return str(value)


class StrictTextMixin:
    """Text fields take text only: DRF would turn ``123`` into ``"123"`` silently."""

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, str):
            self.fail("invalid")  # type: ignore[attr-defined]
        return super().to_internal_value(data)  # type: ignore[misc]


class TextField(StrictTextMixin, serializers.CharField):
    pass


class SlugTextField(StrictTextMixin, serializers.SlugField):
    pass


class WholeNumberField(serializers.IntegerField):
    """Whole numbers only: DRF would take ``"5"`` and ``true`` as 5 and 1."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def username_field(source: str, help_text: str) -> serializers.CharField:
    return serializers.CharField(
        source=source, allow_null=True, read_only=True, help_text=help_text
    )
