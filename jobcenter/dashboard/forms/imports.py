"""The import form: GES or GraphScope, files on the server or uploaded."""

from __future__ import annotations

from typing import Any

from django import forms

from jobcenter.dashboard.forms.common import (
    MultipleFileField,
    ServiceErrorsMixin,
    parse_document,
    read_upload,
)
from jobcenter.graphs.formats import GesImportRequest, GraphScopeImportRequest, ImportRequest
from jobcenter.graphs.formats.graphscope import graphscope_import_params
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
    dry_run = forms.BooleanField(
        label="Dry run: check every line, write nothing to the graph",
        required=False,
        initial=False,
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

    def import_request(self) -> ImportRequest:
        """The import this form asks for, in its dialect's request (graphs.formats)."""
        data = self.cleaned_data
        server = data["source"] == "server"
        if data["format"] == "graphscope":
            if server:  # the location is in the mapping already (clean)
                return GraphScopeImportRequest(mapping=data["mapping"])
            return GraphScopeImportRequest(mapping=data["mapping"], files=data["data_files"])
        return GesImportRequest(
            schema_path=(server and data.get("schema_path")) or None,
            vertexset_path=(server and data.get("vertexset_path")) or None,
            edgeset_path=(server and data.get("edgeset_path")) or None,
            delimiter=data.get("delimiter") or ",",
            trim_quote=data.get("trim_quote") or "",
            parallel_edge=data.get("parallel_edge") or "allow",
            ignore_label=bool(data.get("ignore_label")),
            schema=[data["schema_file"]] if not server and data.get("schema_file") else [],
            vertices=(not server and data.get("vertex_files")) or [],
            edges=(not server and data.get("edge_files")) or [],
        )

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
                mapping = parse_document(raw, what=f"mapping file {upload.name!r}")
            elif text.strip():
                mapping = parse_document(text, what="mapping")
            else:
                raise forms.ValidationError("Upload the bulk-loading mapping or paste it here.")
        except forms.ValidationError as exc:
            self.add_error("mapping_file" if upload else "mapping_text", exc)
            return
        location = (data.get("location") or "").strip()
        if location and source == "server":  # the mapping as the import will read it
            located = GraphScopeImportRequest(mapping=mapping, location=location)
            mapping = graphscope_import_params(located)["mapping"]
        data["mapping"] = mapping
        if source == "upload" and not data.get("data_files"):
            self.add_error("data_files", "Choose the data files the mapping names.")
