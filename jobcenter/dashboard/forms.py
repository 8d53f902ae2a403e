"""Forms of the dashboard: they only check and shape input; services do the work."""

from __future__ import annotations

import json
from typing import Any

import yaml
from django import forms
from django.core.files.uploadedfile import UploadedFile

from jobcenter.core.errors import ServiceError
from jobcenter.graphs.choices import GraphDialect
from jobcenter.graphs.models import Graph

FORMAT_CHOICES = [
    ("ges", "GES (schema.xml + CSV)"),
    ("graphscope", "GraphScope Interactive (bulk-loading mapping)"),
]
SOURCE_CHOICES = [("server", "Files on the server"), ("upload", "Upload files")]
PARALLEL_EDGE_CHOICES = [
    ("allow", "Allow (keep every edge)"),
    ("ignore", "Ignore (keep the first)"),
    ("override", "Override (keep the last)"),
]
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


def parse_document(text: str, *, what: str) -> dict[str, Any]:
    """A JSON or YAML object (YAML is a superset of JSON, but JSON errors read better)."""
    text = text.strip()
    if not text:
        raise forms.ValidationError(f"the {what} is empty")
    try:
        data = json.loads(text) if text[:1] in "{[" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise forms.ValidationError(
            f"the {what} is neither valid YAML nor JSON: {detail}"
        ) from None
    if not isinstance(data, dict):
        raise forms.ValidationError(f"the {what} must be a mapping (an object), not a list or text")
    return data


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


class ImportForm(ServiceErrorsMixin, forms.Form):
    graph = forms.ChoiceField(label="Graph")
    format = forms.ChoiceField(
        label="Format", choices=FORMAT_CHOICES, initial="ges", widget=forms.RadioSelect
    )
    source = forms.ChoiceField(
        label="Where the files are",
        choices=SOURCE_CHOICES,
        initial="server",
        widget=forms.RadioSelect,
    )
    # GES, files on the server
    schema_path = forms.CharField(
        label="Schema file (schema.xml)",
        required=False,
        help_text="Optional when the graph already has every label the data uses.",
    )
    vertexset_path = forms.CharField(
        label="Vertex file or folder",
        required=False,
        help_text="CSV lines: id,label,properties…",
    )
    edgeset_path = forms.CharField(
        label="Edge file or folder",
        required=False,
        help_text="CSV lines: source,target,label,properties…",
    )
    # GES, uploads
    schema_file = forms.FileField(label="Schema file (schema.xml)", required=False)
    vertex_files = MultipleFileField(label="Vertex files", required=False)
    edge_files = MultipleFileField(label="Edge files", required=False)
    # GES options
    delimiter = forms.CharField(label="Delimiter", initial=",", max_length=1, required=False)
    trim_quote = forms.CharField(label="Quote character", initial='"', max_length=1, required=False)
    parallel_edge = forms.ChoiceField(
        label="Parallel edges", choices=PARALLEL_EDGE_CHOICES, initial="allow"
    )
    ignore_label = forms.BooleanField(
        label="Edges with different labels between the same vertices are parallel",
        initial=True,
        required=False,
    )
    # GraphScope
    mapping_file = forms.FileField(label="Bulk-loading mapping file (YAML or JSON)", required=False)
    mapping_text = forms.CharField(
        label="…or paste the mapping",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )
    location = forms.CharField(
        label="Folder the mapping's inputs are relative to",
        required=False,
        help_text="Sets loading_config.data_source.location; leave empty when the mapping has it.",
    )
    data_files = MultipleFileField(
        label="Data files",
        required=False,
        help_text="Matched to the mapping's inputs by file name.",
    )

    field_map = {
        "schema": "schema_file",
        "vertices": "vertex_files",
        "edges": "edge_files",
        "files": "data_files",
        "mapping": "mapping_text",
        "vertex_mappings": "mapping_text",
        "edge_mappings": "mapping_text",
        "loading_config": "mapping_text",
        "request": None,  # type: ignore[dict-item]
    }

    def __init__(self, *args: Any, graphs: list[Graph], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.graphs = {graph.pk: graph for graph in graphs}
        self.fields["graph"].choices = [("", "Choose a graph…")] + [
            (graph.pk, f"{graph.name} ({graph.get_dialect_display()})") for graph in graphs
        ]

    def _form_field(self, key: str | None) -> str | None:
        name = super()._form_field(key)
        upload = (
            self.cleaned_data.get("source") == "upload" if hasattr(self, "cleaned_data") else False
        )
        if upload:
            name = {
                "schema_path": "schema_file",
                "vertexset_path": "vertex_files",
                "edgeset_path": "edge_files",
            }.get(name or "", name)
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        graph_id = data.get("graph")
        if graph_id:
            data["graph_obj"] = self.graphs.get(graph_id)
        fmt, source = data.get("format"), data.get("source")
        if fmt == "ges":
            self._clean_ges(data, source)
        elif fmt == "graphscope":
            self._clean_graphscope(data, source)
        return data

    def ges_options(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "delimiter": data.get("delimiter") or ",",
            "trim_quote": data.get("trim_quote") or "",
            "parallel_edge": {
                "action": data.get("parallel_edge") or "allow",
                "ignore_label": bool(data.get("ignore_label")),
            },
        }

    def _clean_ges(self, data: dict[str, Any], source: str | None) -> None:
        if source == "server":
            for name in ("schema_path", "vertexset_path", "edgeset_path"):
                data[name] = (data.get(name) or "").strip()
            if not any(data[n] for n in ("schema_path", "vertexset_path", "edgeset_path")):
                self.add_error(
                    "vertexset_path", "Name at least one file: schema, vertices or edges."
                )
        elif source == "upload" and not (
            data.get("schema_file") or data.get("vertex_files") or data.get("edge_files")
        ):
            self.add_error("vertex_files", "Choose at least one file to upload.")

    def _clean_graphscope(self, data: dict[str, Any], source: str | None) -> None:
        upload, text = data.get("mapping_file"), (data.get("mapping_text") or "")
        try:
            if upload:
                raw = read_upload(upload, what="mapping file")
                mapping = parse_document(raw.decode("utf-8", "replace"), what="mapping file")
            elif text.strip():
                mapping = parse_document(text, what="mapping")
            else:
                raise forms.ValidationError("Upload the bulk-loading mapping or paste it here.")
        except forms.ValidationError as exc:
            self.add_error("mapping_file" if upload else "mapping_text", exc)
            return
        location = (data.get("location") or "").strip()
        if location and source == "server":
            config = mapping.setdefault("loading_config", {})
            if isinstance(config, dict):
                source_cfg = config.setdefault("data_source", {})
                if isinstance(source_cfg, dict):
                    source_cfg.setdefault("scheme", "file")
                    source_cfg["location"] = location
        data["mapping"] = mapping
        if source == "upload" and not data.get("data_files"):
            self.add_error("data_files", "Choose the data files the mapping names.")


class GraphForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label="Name", max_length=128)
    dialect = forms.ChoiceField(
        label="Schema language",
        choices=GraphDialect.choices,
        initial=GraphDialect.GES,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    schema_file = forms.FileField(
        label="Schema file",
        required=False,
        help_text="GES: schema.xml (optional, an import can bring it). "
        "GraphScope: the graph definition (graph.yaml).",
    )
    schema_text = forms.CharField(
        label="…or paste the schema",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
    )

    field_map = {"schema": "schema_text", "labels": "schema_text", "vertex_types": "schema_text"}

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        dialect = data.get("dialect")
        upload, text = data.get("schema_file"), (data.get("schema_text") or "").strip()
        target = "schema_file" if upload else "schema_text"
        try:
            raw: bytes | None = read_upload(upload, what="schema file") if upload else None
            if raw is None and text:
                raw = text.encode()
            if dialect == GraphDialect.GES:
                data["schema_source"] = raw
            elif dialect == GraphDialect.GRAPHSCOPE:
                if raw is None:
                    raise forms.ValidationError("A GraphScope graph needs its graph definition.")
                data["schema_source"] = parse_document(
                    raw.decode("utf-8", "replace"), what="graph definition"
                )
        except forms.ValidationError as exc:
            self.add_error(target, exc)
        return data
