"""The algorithm form (issue 6): one group of fields per algorithm.

The forms only shape what a person typed into the request the services take; the services
validate it (the same checks as for the API) and their errors are shown next to the field
they name. Numbers that do not parse are passed on as typed, so that the service's message
("parameter [alpha] is invalid! expected a number in (0.0, 1.0)") is the one shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms

from jobcenter.dashboard.forms.common import ServiceErrorsMixin, number_or_text, schema_of
from jobcenter.graphs.algorithms import ALGORITHMS, REQUIRED
from jobcenter.graphs.models import Graph
from jobcenter.graphs.query import NUMERIC_TYPES


@dataclass(frozen=True)
class ParamUI:
    """How one algorithm parameter is asked for."""

    label: str
    kind: str  # number | whole | bool | vertex | vertex_label | weight | text
    help: str = ""


ALGORITHM_TITLES = {
    "pagerank": "PageRank",
    "personalized_pagerank": "Personalized PageRank",
    "shortest_path": "Shortest path",
    "single_source_shortest_paths": "Single-source shortest paths",
    "connected_components": "Connected components",
    "k_core": "k-core",
    "label_propagation": "Label propagation",
    "louvain": "Louvain communities",
    "triangle_count": "Triangle count",
    "degree_statistics": "Degree statistics",
}

PARAM_UI = {
    "alpha": ParamUI(
        "Damping factor (alpha)",
        "number",
        "Chance of following an edge rather than jumping; between 0 and 1, exclusive.",
    ),
    "directed": ParamUI("Follow edge directions", "bool", "Off: every edge counts both ways."),
    "source": ParamUI("Source vertex", "vertex", "The vertex id, as imported."),
    "source_label": ParamUI(
        "Source vertex type", "vertex_label", "Needed only when several types use that id."
    ),
    "target": ParamUI("Target vertex", "vertex", "The vertex id, as imported."),
    "target_label": ParamUI(
        "Target vertex type", "vertex_label", "Needed only when several types use that id."
    ),
    "weight": ParamUI(
        "Edge weight", "weight", "A numeric edge property added up along paths; none counts hops."
    ),
    "k": ParamUI("k", "whole", "Keep the vertices whose coreness is at least k (0: all)."),
    "seed": ParamUI("Random seed", "whole", "The same seed gives the same communities."),
    "resolution": ParamUI(
        "Resolution", "number", "Above 1: more, smaller communities; below 1: fewer, larger."
    ),
}


def algorithm_title(name: str) -> str:
    return ALGORITHM_TITLES.get(name) or name.replace("_", " ").capitalize()


def param_ui(name: str) -> ParamUI:
    return PARAM_UI.get(name) or ParamUI(name.replace("_", " ").capitalize(), "text")


class AlgorithmForm(ServiceErrorsMixin, forms.Form):
    """An algorithm and its parameters: one group of fields per algorithm (named
    ``<algorithm>-<parameter>``), of which the chosen one's is sent to the service."""

    algorithm = forms.ChoiceField(label="Algorithm", widget=forms.RadioSelect)

    def __init__(self, *args: Any, graph: Graph, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.graph = graph
        schema = schema_of(graph)
        self.fields["algorithm"].choices = [(name, algorithm_title(name)) for name in ALGORITHMS]
        vertex_labels = [("", "Any type")] + [
            (lbl.name, lbl.name) for lbl in schema.vertex_labels()
        ]
        weights = [("", "None: count hops")]
        for label in schema.edge_labels():
            for prop in label.properties:
                numeric = prop.type in NUMERIC_TYPES and prop.type != "bool"
                if (
                    numeric
                    and prop.cardinality == "single"
                    and (prop.name, prop.name) not in weights
                ):
                    weights.append((prop.name, prop.name))
        # Vertex types only matter where ids are per type (GraphScope); GES ids are global.
        self.per_type_ids = schema.id_scope != "global"
        self.groups: list[dict[str, Any]] = []
        for name, definition in ALGORITHMS.items():
            names = []
            for param, (_check, default) in definition.params.items():
                ui = param_ui(param)
                if ui.kind == "vertex_label" and not self.per_type_ids:
                    continue
                key = f"{name}-{param}"
                required = default is REQUIRED
                initial = None if required or default is None else default
                if ui.kind == "bool":
                    field: forms.Field = forms.BooleanField(
                        label=ui.label, required=False, initial=bool(initial)
                    )
                elif ui.kind == "vertex_label":
                    field = forms.ChoiceField(label=ui.label, choices=vertex_labels, required=False)
                elif ui.kind == "weight":
                    field = forms.ChoiceField(label=ui.label, choices=weights, required=False)
                elif ui.kind in ("number", "whole"):
                    attrs = {"step": "1" if ui.kind == "whole" else "any", "inputmode": "decimal"}
                    field = forms.CharField(
                        label=ui.label,
                        required=False,
                        max_length=64,
                        initial=initial,
                        widget=forms.NumberInput(attrs=attrs),
                    )
                else:
                    field = forms.CharField(
                        label=ui.label,
                        required=False,
                        max_length=4096,
                        initial=initial,
                        widget=forms.TextInput(
                            attrs={"autocomplete": "off", "spellcheck": "false"}
                        ),
                    )
                # Required is the service's to say (it names the parameter); the label shows it.
                field.widget.attrs["data-required"] = "true" if required else "false"
                field.help_text = ui.help
                field.param_required = required  # type: ignore[attr-defined]
                self.fields[key] = field
                names.append(key)
            self.groups.append(
                {
                    "name": name,
                    "title": algorithm_title(name),
                    "description": definition.description,
                    "keys": names,
                }
            )

    def group_fields(self) -> list[dict[str, Any]]:
        """The groups with their bound fields, for the template."""
        return [{**group, "fields": [self[key] for key in group["keys"]]} for group in self.groups]

    def parameters(self) -> dict[str, Any]:
        """The chosen algorithm's parameters as the service takes them (empty: its default)."""
        name = self.cleaned_data["algorithm"]
        params: dict[str, Any] = {}
        for param in ALGORITHMS[name].params:
            key = f"{name}-{param}"
            if key not in self.fields:
                continue
            value = self.cleaned_data.get(key)
            kind = param_ui(param).kind
            if kind == "bool":
                params[param] = bool(value)
            elif value in (None, ""):
                continue
            elif kind in ("number", "whole"):
                params[param] = number_or_text(str(value), kind)
            else:
                params[param] = value
        return params

    def _form_field(self, key: str | None) -> str | None:
        if not key:
            return None
        if key.startswith("parameters."):
            chosen = self.cleaned_data.get("algorithm") if hasattr(self, "cleaned_data") else ""
            name = f"{chosen}-{key.split('.', 1)[1]}"
            return name if name in self.fields else None
        return key if key in self.fields else None
