"""Forms of the dashboard: they only check and shape input; services do the work."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

from jobcenter.core.documents import DocumentError, read_document
from jobcenter.core.errors import ServiceError
from jobcenter.graphs.algorithms import ALGORITHMS, REQUIRED
from jobcenter.graphs.choices import GraphDialect
from jobcenter.graphs.models import Graph
from jobcenter.graphs.query import NUMERIC_TYPES
from jobcenter.graphs.schema import GraphSchema

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
                mapping = parse_document(raw, what=f"mapping file {upload.name!r}")
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
                    raw,
                    what=f"graph definition file {upload.name!r}" if upload else "graph definition",
                )
        except forms.ValidationError as exc:
            self.add_error(target, exc)
        return data


# --- analytics (issue 6): algorithms, queries, indexes, graph operations ---------------------
# The forms only shape what a person typed into the request the services take; the services
# validate it (the same checks as for the API) and their errors are shown next to the field
# they name. Numbers that do not parse are passed on as typed, so that the service's message
# ("parameter [alpha] is invalid! expected a number in (0.0, 1.0)") is the one shown.


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


def _number_or_text(raw: str, kind: str) -> Any:
    """``raw`` as the number the service expects, or as typed when it is not one."""
    text = raw.strip()
    try:
        return int(text) if kind == "whole" else float(text)
    except ValueError:
        return text


def _schema_of(graph: Graph) -> GraphSchema:
    return GraphSchema.from_dict(graph.schema) if graph.schema else GraphSchema(id_scope="global")


class AlgorithmForm(ServiceErrorsMixin, forms.Form):
    """An algorithm and its parameters: one group of fields per algorithm (named
    ``<algorithm>-<parameter>``), of which the chosen one's is sent to the service."""

    algorithm = forms.ChoiceField(label="Algorithm", widget=forms.RadioSelect)

    def __init__(self, *args: Any, graph: Graph, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.graph = graph
        schema = _schema_of(graph)
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
                params[param] = _number_or_text(str(value), kind)
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
TARGET_CHOICES = [("vertices", "Vertices"), ("edges", "Edges")]
ORDER_CHOICES = [("asc", "Ascending"), ("desc", "Descending")]
QUERY_DEFAULT_LIMIT = 1000


def property_choices(graph: Graph, *, empty: str) -> list[Any]:
    """Properties to filter or sort on, grouped by label (the pseudo-properties first)."""
    schema = _schema_of(graph)
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
        schema = _schema_of(graph)
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
                query[name] = _number_or_text(raw, "whole")
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
        self.schema = _schema_of(graph)
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
