"""Huawei GES input: ``schema.xml`` (PMML labels) and the import-graph request.

The request is taken in its snake_case form (management plane v2, our native API);
:func:`normalise_request` turns the service plane's camelCase body into it. See
../shared/reference/ges.md section 6 for the file formats.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from jobcenter.graphs.plan import (
    CsvOptions,
    ErrorThreshold,
    FileSpec,
    ImportPlan,
    PathResolver,
    PlanError,
)
from jobcenter.graphs.schema import GraphSchema, LabelDef, PropertyDef

# GES refuses metadata files over 10 MB (GES.7069).
MAX_SCHEMA_BYTES = 10 * 1024 * 1024
DATA_TYPES = {
    "char": "char",
    "char array": "char_array",
    "float": "float",
    "double": "double",
    "bool": "bool",
    "long": "long",
    "int": "int",
    "date": "date",
    "enum": "enum",
    "string": "string",
}
REQUEST_KEYS = frozenset(
    {
        "schema_path",
        "vertexset_path",
        "edgeset_path",
        "vertexset_format",
        "edgeset_format",
        "log_dir",
        "parallel_edge",
        "delimiter",
        "trim_quote",
        "offline",
        "encoding",
        "error_threshold",
        "max_failed_records",
    }
)
FORMATS = ("csv", "txt")
PARALLEL_EDGE_ACTIONS = ("allow", "ignore", "override")
_CAMEL = {
    "schemaPath": "schema_path",
    "vertexsetPath": "vertexset_path",
    "edgesetPath": "edgeset_path",
    "vertexsetFormat": "vertexset_format",
    "edgesetFormat": "edgeset_format",
    "logDir": "log_dir",
    "parallelEdge": "parallel_edge",
    "trimQuote": "trim_quote",
    "errorThreshold": "error_threshold",
    "maxFailedRecords": "max_failed_records",
}
_CAMEL_PARALLEL = {"ignoreLabel": "ignore_label", "sortKeyColumn": "sort_key_column"}
_CAMEL_THRESHOLD = {"maxCount": "max_count", "maxPercent": "max_percent"}


# --- schema.xml --------------------------------------------------------------------------------


def _local(tag: str) -> str:
    """Tag name without its XML namespace."""
    return tag.rsplit("}", 1)[-1]


def parse_schema_xml(source: bytes) -> GraphSchema:
    """Parse GES metadata (PMML ``<labels><label><properties><property/>``) safely: no
    entity expansion, no external references. Raises PlanError naming the problem."""
    if len(source) > MAX_SCHEMA_BYTES:
        raise PlanError(f"the schema file is larger than {MAX_SCHEMA_BYTES // (1024 * 1024)} MB")
    try:
        root = SafeET.fromstring(source)
    except DefusedXmlException as exc:
        raise PlanError(f"the schema file uses forbidden XML features ({exc})") from None
    except SafeET.ParseError as exc:
        raise PlanError(f"the schema file is not well-formed XML: {exc}") from None
    labels_elements = [el for el in root.iter() if _local(el.tag) == "labels"]
    if not labels_elements:
        raise PlanError("the schema file has no <labels> element")
    labels: list[LabelDef] = []
    for element in labels_elements[0]:
        if _local(element.tag) != "label":
            continue
        labels.append(_label(element))
    if not labels:
        raise PlanError("the schema file defines no labels")
    return GraphSchema.build("global", labels)


def _label(element: Element) -> LabelDef:
    name = element.get("name")
    if not name:
        raise PlanError("a <label> has no name attribute")
    kind = element.get("type", "any")
    if kind not in ("vertex", "edge", "any", "general"):
        raise PlanError(f"label {name!r}: type must be vertex, edge or general, not {kind!r}")
    props: list[PropertyDef] = []
    for holder in element:
        if _local(holder.tag) != "properties":
            continue
        for prop in holder:
            if _local(prop.tag) == "property":
                props.append(_property(name, prop))
    return LabelDef(
        name=name,
        kind="any" if kind == "general" else kind,
        properties=tuple(props),
        original={"type": kind} if kind != "any" else None,
    )


def _property(label: str, element: Element) -> PropertyDef:
    where = f"label {label!r}"
    name = element.get("name")
    if not name:
        raise PlanError(f"{where}: a <property> has no name attribute")
    where = f"{where}: property {name!r}"
    raw_type = (element.get("dataType") or "").strip()
    data_type = DATA_TYPES.get(raw_type) or DATA_TYPES.get(raw_type.lower())
    if data_type is None:
        raise PlanError(
            f"{where}: unknown dataType {raw_type!r} (expected one of {', '.join(DATA_TYPES)})"
        )
    cardinality = (element.get("cardinality") or "single").strip().lower()
    max_length = None
    if data_type == "char_array":
        size = element.get("maxDataSize")
        if size is None:
            raise PlanError(f"{where}: a char array needs maxDataSize")
        max_length = _positive_int(size, f"{where}: maxDataSize")
    enum_values: tuple[str, ...] = ()
    if data_type == "enum":
        count = _positive_int(element.get("typeNameCount"), f"{where}: typeNameCount")
        values = []
        for i in range(1, count + 1):
            value = element.get(f"typeName{i}")
            if value is None:
                raise PlanError(f"{where}: typeNameCount is {count} but typeName{i} is missing")
            values.append(value)
        enum_values = tuple(values)
    return PropertyDef(
        name=name,
        type=data_type,
        cardinality=cardinality,
        max_length=max_length,
        enum_values=enum_values,
        original={"dataType": raw_type},
    )


def _positive_int(text: str | None, what: str) -> int:
    try:
        value = int(text or "")
    except ValueError:
        raise PlanError(f"{what} must be a positive integer, not {text!r}") from None
    if value <= 0:
        raise PlanError(f"{what} must be a positive integer, not {text!r}")
    return value


def schema_xml(schema: GraphSchema) -> str:
    """A schema back in GES's schema.xml form (for exports and for showing it to GES users)."""
    from xml.sax.saxutils import quoteattr

    reverse = {v: k for k, v in DATA_TYPES.items()}
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<PMML version="3.0" xmlns="http://www.dmg.org/PMML-3-0">',
        "  <labels>",
    ]
    for label in schema.labels:
        # The kind too (GES's optional type attribute), so that a re-import is identical.
        kind = f' type="{label.kind}"' if label.kind in ("vertex", "edge") else ""
        out.append(f"    <label name={quoteattr(label.name)}{kind}>")
        out.append("      <properties>")
        for prop in label.properties:
            attrs = [
                f"name={quoteattr(prop.name)}",
                f"cardinality={quoteattr(prop.cardinality)}",
                f"dataType={quoteattr(reverse.get(prop.type, 'string'))}",
            ]
            if prop.type == "char_array" and prop.max_length:
                attrs.append(f'maxDataSize="{prop.max_length}"')
            if prop.enum_values:
                attrs.append(f'typeNameCount="{len(prop.enum_values)}"')
                attrs.extend(
                    f"typeName{i}={quoteattr(v)}" for i, v in enumerate(prop.enum_values, 1)
                )
            out.append(f"        <property {' '.join(attrs)}/>")
        out.append("      </properties>")
        out.append("    </label>")
    out += ["  </labels>", "</PMML>", ""]
    return "\n".join(out)


# --- the import request ------------------------------------------------------------------------


def normalise_request(body: Any) -> Any:
    """The service plane's camelCase import body in the snake_case form (other values are
    passed through; validation happens in :func:`build_import_plan`). ``parallelEdge`` may be
    a bare action string in older GES versions."""
    if not isinstance(body, dict):
        return body
    out: dict[str, Any] = {}
    for key, value in body.items():
        new_key = _CAMEL.get(key, key)
        if new_key == "parallel_edge":
            if isinstance(value, str):
                value = {"action": value}
            elif isinstance(value, dict):
                value = {_CAMEL_PARALLEL.get(k, k): v for k, v in value.items()}
        elif new_key == "error_threshold" and isinstance(value, dict):
            value = {_CAMEL_THRESHOLD.get(k, k): v for k, v in value.items()}
        out[new_key] = value
    return out


def build_import_plan(
    request: dict[str, Any], *, existing: GraphSchema | None, resolve: PathResolver
) -> ImportPlan:
    """Validate a GES import request against the graph and its files; the plan to run it."""
    if not isinstance(request, dict):
        raise PlanError("the import request must be an object")
    unknown = sorted(set(request) - REQUEST_KEYS)
    if unknown:
        raise PlanError(
            f"unknown field {unknown[0]!r} (expected: {', '.join(sorted(REQUEST_KEYS))})",
            field=unknown[0],
        )
    schema_path = _optional_str(request, "schema_path")
    vertex_path = _optional_str(request, "vertexset_path")
    edge_path = _optional_str(request, "edgeset_path")
    if not (schema_path or vertex_path or edge_path):
        raise PlanError(
            "give at least one of schema_path, vertexset_path and edgeset_path",
            field="edgeset_path",
        )
    for key in ("vertexset_format", "edgeset_format"):
        value = _optional_str(request, key)
        if value and value.lower() not in FORMATS:
            raise PlanError(f"{key} must be csv or txt, not {value!r}", field=key)
    _optional_str(request, "log_dir")
    if "offline" in request and not isinstance(request["offline"], bool):
        raise PlanError("offline must be true or false", field="offline")
    csv_options = _csv_options(request)
    action, ignore_label = _parallel_edge(request.get("parallel_edge"))
    threshold = error_threshold(request.get("error_threshold"), field="error_threshold")

    files: list[FileSpec] = []
    schema = existing if existing is not None and existing.labels else None
    if schema_path:
        (path,) = _resolve(resolve, schema_path, "schema_path", allow_dir=False)
        try:
            data = _read_limited(path)
            new = parse_schema_xml(data)
        except PlanError as exc:
            raise PlanError(
                f"schema_path {schema_path!r}: {exc.message}", field="schema_path"
            ) from None
        try:
            schema = schema.merge(new) if schema is not None else new
        except PlanError as exc:
            raise PlanError(
                f"schema_path {schema_path!r} does not fit the graph's schema: {exc.message}",
                field="schema_path",
            ) from None
        files.append(
            FileSpec(
                role="schema",
                path=path,
                layout="schema",
                display_path=schema_path,
                schema_labels=new.label_names,
            )
        )
    if schema is None:
        raise PlanError(
            "the graph has no schema yet: give schema_path with the import", field="schema_path"
        )
    if schema.id_scope != "global":
        raise PlanError(
            "this graph was defined in GraphScope's format; import it with a GraphScope "
            "bulk-loading configuration",
            field="format",
        )
    for key, role, layout in (
        ("vertexset_path", "vertex", "ges_vertex"),
        ("edgeset_path", "edge", "ges_edge"),
    ):
        raw = _optional_str(request, key)
        if not raw:
            continue
        for path in _resolve(resolve, raw, key, allow_dir=True):
            files.append(
                FileSpec(
                    role=role,
                    path=path,
                    layout=layout,
                    csv=csv_options,
                    display_path=raw
                    if path.name == Path(raw).name
                    else f"{raw.rstrip('/')}/{path.name}",
                )
            )
    return ImportPlan(
        schema=schema,
        files=tuple(files),
        parallel_edge=action,
        ignore_label=ignore_label,
        mode="append",
        threshold=threshold,
        max_failed_records=max_failed_records(request),
    )


def _resolve(resolve: PathResolver, raw: str, field: str, *, allow_dir: bool) -> list[Path]:
    try:
        return resolve(raw, allow_dir=allow_dir)
    except PlanError as exc:
        raise PlanError(f"{field}: {exc.message}", field=field) from None


def _read_limited(path: Path) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SCHEMA_BYTES + 1)
    except OSError as exc:
        raise PlanError(f"cannot read the file: {exc.strerror or exc}") from None
    return data


def _optional_str(request: dict[str, Any], key: str) -> str | None:
    value = request.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PlanError(f"{key} must be a string", field=key)
    return value


def _single_char(value: Any, key: str, *, allow_empty: bool) -> str:
    if not isinstance(value, str):
        raise PlanError(f"{key} must be a string", field=key)
    if value == "" and allow_empty:
        return value
    if len(value) != 1:
        raise PlanError(f"{key} must be a single character, not {value!r}", field=key)
    if value in "\r\n":
        raise PlanError(f"{key} cannot be a line break", field=key)
    return value


def _csv_options(request: dict[str, Any]) -> CsvOptions:
    delimiter = _single_char(request.get("delimiter", ","), "delimiter", allow_empty=False)
    quote = _single_char(request.get("trim_quote", '"'), "trim_quote", allow_empty=True)
    if quote and quote == delimiter:
        raise PlanError("trim_quote and delimiter must differ", field="trim_quote")
    encoding = request.get("encoding", "utf-8")
    if not isinstance(encoding, str):
        raise PlanError("encoding must be a string", field="encoding")
    try:
        import codecs

        codecs.lookup(encoding)
    except LookupError:
        raise PlanError(f"unknown encoding {encoding!r}", field="encoding") from None
    return CsvOptions(delimiter=delimiter, quotechar=quote or None, encoding=encoding)


def _parallel_edge(value: Any) -> tuple[str, bool]:
    if value is None:
        return "allow", True
    if isinstance(value, str):
        value = {"action": value}
    if not isinstance(value, dict):
        raise PlanError("parallel_edge must be an object", field="parallel_edge")
    unknown = sorted(set(value) - {"action", "ignore_label", "sort_key_column"})
    if unknown:
        raise PlanError(f"parallel_edge: unknown field {unknown[0]!r}", field="parallel_edge")
    action = value.get("action", "allow")
    if action not in PARALLEL_EDGE_ACTIONS:
        raise PlanError(
            f"parallel_edge.action must be allow, ignore or override, not {action!r}",
            field="parallel_edge",
        )
    ignore_label = value.get("ignore_label", True)
    if not isinstance(ignore_label, bool):
        raise PlanError("parallel_edge.ignore_label must be true or false", field="parallel_edge")
    if value.get("sort_key_column") not in (None, ""):
        raise PlanError(
            "parallel_edge.sort_key_column is not supported: edges carry no sort key here",
            field="parallel_edge",
        )
    return action, ignore_label


def error_threshold(value: Any, *, field: str) -> ErrorThreshold:
    """``{"max_count": n, "max_percent": p}`` (either may be left out)."""
    if value is None:
        return ErrorThreshold()
    if not isinstance(value, dict):
        raise PlanError(f"{field} must be an object", field=field)
    unknown = sorted(set(value) - {"max_count", "max_percent"})
    if unknown:
        raise PlanError(f"{field}: unknown field {unknown[0]!r}", field=field)
    count = value.get("max_count")
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 0):
        raise PlanError(f"{field}.max_count must be a non-negative integer", field=field)
    percent = value.get("max_percent")
    if percent is not None and (
        isinstance(percent, bool) or not isinstance(percent, int | float) or not 0 <= percent <= 100
    ):
        raise PlanError(f"{field}.max_percent must be a number from 0 to 100", field=field)
    return ErrorThreshold(max_count=count, max_percent=None if percent is None else float(percent))


def max_failed_records(request: dict[str, Any]) -> int:
    value = request.get("max_failed_records", 10_000)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise PlanError(
            "max_failed_records must be an integer from 0 to 1000000", field="max_failed_records"
        )
    return value
