"""Forms of the graph pages: creating a graph, building an index, and the path of an export,
backup or restore."""

from __future__ import annotations

from typing import Any

from django import forms

from jobcenter.dashboard.forms.common import (
    TARGET_CHOICES,
    ServiceErrorsMixin,
    parse_document,
    read_upload,
    schema_of,
)
from jobcenter.graphs.choices import GraphDialect
from jobcenter.graphs.models import Graph


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
                    raw,
                    what=f"graph definition file {upload.name!r}" if upload else "graph definition",
                )
        except forms.ValidationError as exc:
            self.add_error(target, exc)
        return data


class IndexForm(ServiceErrorsMixin, forms.Form):
    """An index on one property of one label (``column`` is ``<label>:<property>`` by
    position in the schema, so that names with any character travel safely)."""

    target = forms.ChoiceField(
        label="Index", choices=TARGET_CHOICES, initial="vertices", widget=forms.RadioSelect
    )
    column = forms.ChoiceField(label="Label and property")

    field_map = {"label": "column", "property": "column"}

    def __init__(self, *args: Any, graph: Graph, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.schema = schema_of(graph)
        choices: list[Any] = [("", "Choose a property…")]
        for li, label in enumerate(self.schema.labels):
            if label.properties:
                choices.append(
                    (
                        label.name,
                        [
                            (f"{li}:{pi}", f"{label.name}.{p.name} · {p.describe()}")
                            for pi, p in enumerate(label.properties)
                        ],
                    )
                )
        self.fields["column"].choices = choices

    def label_property(self) -> tuple[str, str]:
        li, pi = (int(x) for x in self.cleaned_data["column"].split(":"))
        label = self.schema.labels[li]
        return label.name, label.properties[pi].name


class GraphPathForm(ServiceErrorsMixin, forms.Form):
    """The file or folder of an export, backup or restore (used with a prefix per operation)."""

    path = forms.CharField(label="Path", max_length=1024)

    def __init__(self, *args: Any, label: str = "Path", help_text: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["path"].label = label
        self.fields["path"].help_text = help_text
        self.fields["path"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})
