"""What the dashboard's forms share: multiple uploads, reading a JSON/YAML document, placing a
service's errors next to the fields they concern, and a graph's schema as the forms read it."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from jobcenter.core.documents import DocumentError, read_document
from jobcenter.core.errors import ServiceError
from jobcenter.graphs.models import Graph
from jobcenter.graphs.schema import GraphSchema

MAX_DEFINITION_BYTES = 10 * 1024 * 1024  # GES refuses metadata files above 10 MB, so do we


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Any number of uploaded files (Django's documented pattern)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def parse_document(source: str | bytes, *, what: str) -> dict[str, Any]:
    """A JSON or YAML object, read by the one document reader (jobcenter.core.documents)."""
    try:
        return read_document(source, what=what)
    except DocumentError as exc:
        raise forms.ValidationError(exc.message) from None


def read_upload(upload: UploadedFile, *, what: str) -> bytes:
    if upload.size is not None and upload.size > MAX_DEFINITION_BYTES:
        raise forms.ValidationError(f"the {what} is larger than 10 MB")
    return upload.read()


class ServiceErrorsMixin:
    """Shows a service's error next to the field it concerns (``field_map`` translates the
    service's field names into this form's), else above the form."""

    field_map: dict[str, str] = {}

    def add_service_error(self, exc: ServiceError) -> None:
        placed = False
        errors = exc.errors or {}
        for key, messages in errors.items():
            target = self._form_field(key)
            for message in messages if isinstance(messages, list) else [messages]:
                self.add_error(target, str(message))  # type: ignore[attr-defined]
                placed = True
        if not placed:
            self.add_error(self._form_field(exc.field), exc.message)  # type: ignore[attr-defined]

    def _form_field(self, key: str | None) -> str | None:
        if not key:
            return None
        head = key.split(".", 1)[0].split("[", 1)[0]
        name = self.field_map.get(key) or self.field_map.get(head) or head
        return name if name in self.fields else None  # type: ignore[attr-defined]


TARGET_CHOICES = [("vertices", "Vertices"), ("edges", "Edges")]


def number_or_text(raw: str, kind: str) -> Any:
    """``raw`` as the number the service expects, or as typed when it is not one."""
    text = raw.strip()
    try:
        return int(text) if kind == "whole" else float(text)
    except ValueError:
        return text


def schema_of(graph: Graph) -> GraphSchema:
    return GraphSchema.from_dict(graph.schema) if graph.schema else GraphSchema(id_scope="global")
