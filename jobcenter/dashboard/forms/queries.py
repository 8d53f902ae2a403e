"""The query form (issue 6): a filtered vertex or edge query with any number of conditions
(shaped like the algorithm form's input; see forms.algorithms)."""

from __future__ import annotations

from typing import Any

from django import forms

from jobcenter.dashboard.forms.common import (
    TARGET_CHOICES,
    ServiceErrorsMixin,
    number_or_text,
    schema_of,
)
from jobcenter.graphs.models import Graph

PREDICATE_CHOICES = [
    ("=", "= equals"),
    ("!=", "≠ differs from"),
    ("<", "< less than"),
    ("<=", "≤ at most"),
    (">", "> more than"),
    (">=", "≥ at least"),
    ("in", "in (any of, comma-separated)"),
    ("range", "range (from … to, inclusive)"),
    ("contains", "contains"),
]
PREDICATE_SYMBOLS = {"!=": "≠", "<=": "≤", ">=": "≥"}
MAX_FILTER_ROWS = 10
ORDER_CHOICES = [("asc", "Ascending"), ("desc", "Descending")]
QUERY_DEFAULT_LIMIT = 1000


def property_choices(graph: Graph, *, empty: str) -> list[Any]:
    """Properties to filter or sort on, grouped by label (the pseudo-properties first)."""
    schema = schema_of(graph)
    choices: list[Any] = [
        ("", empty),
        (
            "Every vertex or edge",
            [
                ("id", "id (vertex id)"),
                ("label", "label"),
                ("source", "source (edge's source id)"),
                ("target", "target (edge's target id)"),
            ],
        ),
    ]
    for label in schema.labels:
        if label.properties:
            choices.append(
                (label.name, [(p.name, f"{p.name} · {p.describe()}") for p in label.properties])
            )
    return choices


class QueryForm(ServiceErrorsMixin, forms.Form):
    """A filtered vertex or edge query. Filter rows are ``f<i>-property``, ``f<i>-op``,
    ``f<i>-value`` and ``f<i>-value2`` (the upper bound of a range); their number travels in
    ``rows`` and changes with the add and remove buttons (plain submit buttons, so that they
    work without script too)."""

    target = forms.ChoiceField(
        label="Find", choices=TARGET_CHOICES, initial="vertices", widget=forms.RadioSelect
    )
    vertex_labels = forms.MultipleChoiceField(
        label="Vertex labels",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every label.",
    )
    edge_labels = forms.MultipleChoiceField(
        label="Edge labels",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every label.",
    )
    sort_property = forms.ChoiceField(label="Sort by", required=False)
    sort_order = forms.ChoiceField(
        label="Order", choices=ORDER_CHOICES, initial="asc", required=False
    )
    offset = forms.CharField(
        label="Skip the first",
        required=False,
        initial="0",
        max_length=16,
        widget=forms.NumberInput(attrs={"min": "0", "step": "1"}),
        help_text="rows (offset)",
    )
    limit = forms.CharField(
        label="Return at most",
        required=False,
        initial=str(QUERY_DEFAULT_LIMIT),
        max_length=16,
        widget=forms.NumberInput(attrs={"min": "1", "step": "1"}),
        help_text="rows (limit); empty: as many as the server allows",
    )

    def __init__(self, *args: Any, graph: Graph, rows: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.graph = graph
        schema = schema_of(graph)
        self.fields["vertex_labels"].choices = [
            (lbl.name, lbl.name) for lbl in schema.vertex_labels()
        ]
        self.fields["edge_labels"].choices = [(lbl.name, lbl.name) for lbl in schema.edge_labels()]
        self.fields["sort_property"].choices = property_choices(graph, empty="Stored order")
        self.rows = max(1, min(MAX_FILTER_ROWS, rows))
        properties = property_choices(graph, empty="Choose a property…")
        for i in range(self.rows):
            self.fields[f"f{i}-property"] = forms.ChoiceField(
                label="Property", choices=properties, required=False
            )
            self.fields[f"f{i}-op"] = forms.ChoiceField(
                label="Condition", choices=PREDICATE_CHOICES, initial="=", required=False
            )
            self.fields[f"f{i}-value"] = forms.CharField(
                label="Value", required=False, max_length=4096
            )
            self.fields[f"f{i}-value2"] = forms.CharField(
                label="To (range only)", required=False, max_length=4096
            )
        self.sent_rows: list[int] = []  # form row of each filter sent to the service

    def filter_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "index": i,
                "number": i + 1,
                "property": self[f"f{i}-property"],
                "op": self[f"f{i}-op"],
                "value": self[f"f{i}-value"],
                "value2": self[f"f{i}-value2"],
            }
            for i in range(self.rows)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for i in range(self.rows):
            prop = data.get(f"f{i}-property")
            value = (data.get(f"f{i}-value") or "").strip()
            if not prop and value:
                self.add_error(f"f{i}-property", "Choose the property this value is for.")
        return data

    def query(self) -> dict[str, Any]:
        """The query as the service takes it (see jobcenter.graphs.query.parse_query)."""
        data = self.cleaned_data
        target = data.get("target") or "vertices"
        labels = data.get("vertex_labels" if target == "vertices" else "edge_labels") or []
        filters = []
        self.sent_rows = []
        for i in range(self.rows):
            prop = data.get(f"f{i}-property")
            if not prop:
                continue
            op = data.get(f"f{i}-op") or "="
            value = data.get(f"f{i}-value") or ""
            if op == "in":
                values: list[Any] = [v.strip() for v in value.split(",") if v.strip()]
            elif op == "range":
                bounds = (value.strip(), (data.get(f"f{i}-value2") or "").strip())
                values = [v for v in bounds if v]  # one missing: the service says 2 are needed
            else:
                values = [value if op == "contains" else value.strip()]
            filters.append({"property": prop, "predicate": op, "values": values})
            self.sent_rows.append(i)
        query: dict[str, Any] = {"target": target, "labels": list(labels), "filters": filters}
        if data.get("sort_property"):
            query["sort"] = [
                {"property": data["sort_property"], "order": data.get("sort_order") or "asc"}
            ]
        for name in ("offset", "limit"):
            raw = (data.get(name) or "").strip()
            if raw:
                query[name] = number_or_text(raw, "whole")
        return query

    def _form_field(self, key: str | None) -> str | None:
        if not key:
            return None
        parts = key.split(".")
        if parts[0] == "filters" and len(parts) > 1 and parts[1].isdigit():
            sent = int(parts[1])
            row = self.sent_rows[sent] if sent < len(self.sent_rows) else 0
            what = parts[2] if len(parts) > 2 else "property"
            if what == "values":
                second = len(parts) > 3 and parts[3] == "1"
                op = self.cleaned_data.get(f"f{row}-op")
                name = f"f{row}-value2" if second and op == "range" else f"f{row}-value"
            else:
                name = f"f{row}-{'op' if what == 'predicate' else 'property'}"
            return name if name in self.fields else None
        if parts[0] == "labels":
            target = self.cleaned_data.get("target") or "vertices"
            return "vertex_labels" if target == "vertices" else "edge_labels"
        if parts[0] == "sort":
            return "sort_order" if parts[-1] == "order" else "sort_property"
        return parts[0] if parts[0] in self.fields else None
