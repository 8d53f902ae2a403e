"""A GraphScope bulk-loading configuration (SchemaMapping) checked against the graph's schema
and the files it names: the :class:`ImportPlan` that runs it. See
../shared/reference/graphscope-interactive.md section 7."""

from __future__ import annotations

import codecs
import csv
from pathlib import Path
from typing import Any

from jobcenter.graphs.formats.common import error_threshold, max_failed_records
from jobcenter.graphs.plan import (
    ColumnMapping,
    CsvOptions,
    FileSpec,
    ImportPlan,
    PathResolver,
    PlanError,
)
from jobcenter.graphs.schema import GraphSchema, LabelDef

# init and overwrite replace the graph's data with the files' (as GraphScope rebuilds a graph
# from its bulk load); append, our extension, adds to it.
IMPORT_OPTIONS = ("init", "overwrite", "append")
MAPPING_KEYS = frozenset(
    {
        "graph",
        "loading_config",
        "vertex_mappings",
        "edge_mappings",
        "error_threshold",
        "max_failed_records",
    }
)


def build_import_plan(
    mapping: dict[str, Any], *, schema: GraphSchema, resolve: PathResolver
) -> ImportPlan:
    """Validate a SchemaMapping against the graph's schema and the files it names."""
    if not isinstance(mapping, dict):
        raise PlanError("the bulk-loading configuration must be an object")
    unknown = sorted(set(mapping) - MAPPING_KEYS)
    if unknown:
        raise PlanError(f"unknown field {unknown[0]!r}", field=unknown[0])
    config = mapping.get("loading_config") or {}
    if not isinstance(config, dict):
        raise PlanError("loading_config must be an object", field="loading_config")
    source = config.get("data_source") or {}
    if not isinstance(source, dict):
        raise PlanError("loading_config.data_source must be an object", field="loading_config")
    scheme = source.get("scheme", "file")
    if scheme != "file":
        raise PlanError(
            f"loading_config.data_source.scheme {scheme!r} is not supported (only file)",
            field="loading_config",
        )
    location = source.get("location")
    if location is not None:
        if not isinstance(location, str):
            raise PlanError("data_source.location must be a string", field="loading_config")
        location = location.removeprefix("@") or None
    mode = config.get("import_option", "init")
    if mode not in IMPORT_OPTIONS:
        raise PlanError(
            f"loading_config.import_option must be init or overwrite, not {mode!r}",
            field="loading_config",
        )
    csv_options = _csv_options(config.get("format"))
    vertex_mappings = mapping.get("vertex_mappings") or []
    edge_mappings = mapping.get("edge_mappings") or []
    if not isinstance(vertex_mappings, list) or not isinstance(edge_mappings, list):
        raise PlanError("vertex_mappings and edge_mappings must be lists", field="vertex_mappings")
    if not vertex_mappings and not edge_mappings:
        raise PlanError("the configuration maps no files", field="vertex_mappings")
    files: list[FileSpec] = []
    for i, entry in enumerate(vertex_mappings):
        files += _vertex_files(
            entry, f"vertex_mappings[{i}]", schema, csv_options, resolve, location
        )
    for i, entry in enumerate(edge_mappings):
        files += _edge_files(entry, f"edge_mappings[{i}]", schema, csv_options, resolve, location)
    return ImportPlan(
        schema=schema,
        files=tuple(files),
        parallel_edge="allow",
        mode=mode,
        threshold=error_threshold(mapping.get("error_threshold"), field="error_threshold"),
        max_failed_records=max_failed_records(mapping),
    )


def _csv_options(value: Any) -> CsvOptions:
    value = value or {}
    if not isinstance(value, dict):
        raise PlanError("loading_config.format must be an object", field="loading_config")
    kind = value.get("type", "csv")
    if kind != "csv":
        raise PlanError(
            f"loading_config.format.type {kind!r} is not supported (only csv)",
            field="loading_config",
        )
    meta = value.get("metadata") or {}
    if not isinstance(meta, dict):
        raise PlanError("loading_config.format.metadata must be an object", field="loading_config")

    def char(key: str, default: str) -> str:
        text = meta.get(key, default)
        if not isinstance(text, str) or len(text) != 1 or text in "\r\n":
            raise PlanError(
                f"format.metadata.{key} must be a single character, not {text!r}",
                field="loading_config",
            )
        return text

    def flag(key: str, default: bool) -> bool:
        value = meta.get(key, default)
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if not isinstance(value, bool):
            raise PlanError(f"format.metadata.{key} must be true or false", field="loading_config")
        return value

    delimiter = char("delimiter", "|")
    quoting = flag("quoting", False)
    quote = char("quote_char", '"')
    escaping = flag("escaping", False)
    escape = char("escape_char", "\\")
    if quoting and quote == delimiter:
        raise PlanError(
            "format.metadata.quote_char and delimiter must differ", field="loading_config"
        )
    return CsvOptions(
        delimiter=delimiter,
        quotechar=quote if quoting else None,
        doublequote=flag("double_quote", True),
        escapechar=escape if escaping else None,
        header_row=flag("header_row", True),
    )


def _inputs(
    entry: dict[str, Any], where: str, resolve: PathResolver, location: str | None
) -> list[tuple[str, Path]]:
    inputs = entry.get("inputs")
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
        raise PlanError(f"{where}.inputs must be a non-empty list of file paths", field=where)
    found: list[tuple[str, Path]] = []
    for raw in inputs:
        name = raw.removeprefix("@")
        try:
            paths = resolve(name, base=location, allow_dir=True)
        except PlanError as exc:
            raise PlanError(f"{where}.inputs: {exc.message}", field=where) from None
        found += [(raw if len(paths) == 1 else f"{raw.rstrip('/')}/{p.name}", p) for p in paths]
    return found


def _header(path: Path, options: CsvOptions) -> list[str] | None:
    if not options.header_row:
        return None
    try:
        # Read as the loader reads (a UTF-8 BOM skipped, lines ended by LF only).
        encoding = "utf-8-sig" if codecs.lookup(options.encoding).name == "utf-8" else None
        with path.open(
            encoding=encoding or options.encoding, errors="replace", newline="\n"
        ) as handle:
            reader = csv.reader(
                handle,
                delimiter=options.delimiter,
                quotechar=options.quotechar,
                quoting=csv.QUOTE_MINIMAL if options.quotechar else csv.QUOTE_NONE,
                escapechar=options.escapechar,
            )
            return next((row for row in reader if row), [])  # blank lines are not the header
    except (OSError, csv.Error):
        return []


def _column(value: Any, where: str, header: list[str] | None) -> int:
    """A ``{index, name}`` column reference -> a 0-based index (the index wins; a name alone
    is looked up in the file's header row)."""
    if not isinstance(value, dict):
        raise PlanError(f"{where}.column must be an object with index or name", field=where)
    index = value.get("index")
    name = value.get("name")
    if index is not None:
        if isinstance(index, bool) or not isinstance(index, int) or index < 0:
            raise PlanError(f"{where}.column.index must be a non-negative integer", field=where)
        return index
    if not isinstance(name, str) or not name:
        raise PlanError(f"{where}.column needs an index or a name", field=where)
    if header is None:
        raise PlanError(
            f"{where}.column names {name!r} but the files have no header row; give an index",
            field=where,
        )
    if name not in header:
        raise PlanError(f"{where}.column {name!r} is not in the header row {header}", field=where)
    return header.index(name)


def _column_mappings(
    entry: dict[str, Any], where: str, label: LabelDef, header: list[str] | None, first: int
) -> tuple[ColumnMapping, ...]:
    raw = entry.get("column_mappings")
    if raw is None or raw == []:
        # Columns map to the properties in order (edges: after the two endpoint columns).
        return tuple(ColumnMapping(first + i, p.name) for i, p in enumerate(label.properties))
    if not isinstance(raw, list):
        raise PlanError(f"{where}.column_mappings must be a list", field=where)
    mappings: list[ColumnMapping] = []
    seen: set[str] = set()
    for i, item in enumerate(raw):
        iw = f"{where}.column_mappings[{i}]"
        if not isinstance(item, dict):
            raise PlanError(f"{iw} must be an object", field=where)
        prop = item.get("property")
        if not isinstance(prop, str) or label.property(prop) is None:
            raise PlanError(
                f"{iw}.property {prop!r} is not a property of {label.name} "
                f"({', '.join(p.name for p in label.properties) or 'it has none'})",
                field=where,
            )
        if prop in seen:
            raise PlanError(f"{iw}: property {prop!r} is mapped twice", field=where)
        seen.add(prop)
        mappings.append(ColumnMapping(_column(item.get("column"), iw, header), prop))
    return tuple(mappings)


def _vertex_files(
    entry: Any,
    where: str,
    schema: GraphSchema,
    options: CsvOptions,
    resolve: PathResolver,
    location: str | None,
) -> list[FileSpec]:
    if not isinstance(entry, dict):
        raise PlanError(f"{where} must be an object", field="vertex_mappings")
    name = entry.get("type_name")
    label = schema.label(name) if isinstance(name, str) else None
    if label is None or label.kind != "vertex":
        raise PlanError(
            f"{where}.type_name {name!r} is not a vertex type of the graph "
            f"({', '.join(lb.name for lb in schema.labels if lb.kind == 'vertex')})",
            field="vertex_mappings",
        )
    specs = []
    for display, path in _inputs(entry, where, resolve, location):
        columns = _column_mappings(entry, where, label, _header(path, options), 0)
        if label.primary_key not in {c.property for c in columns}:
            raise PlanError(
                f"{where}: the primary key {label.primary_key!r} of {label.name} is not mapped "
                "to a column",
                field="vertex_mappings",
            )
        specs.append(
            FileSpec(
                role="vertex",
                path=path,
                layout="mapped_vertex",
                csv=options,
                label=label.name,
                columns=columns,
                display_path=display,
            )
        )
    return specs


def _edge_files(
    entry: Any,
    where: str,
    schema: GraphSchema,
    options: CsvOptions,
    resolve: PathResolver,
    location: str | None,
) -> list[FileSpec]:
    if not isinstance(entry, dict):
        raise PlanError(f"{where} must be an object", field="edge_mappings")
    triplet = entry.get("type_triplet")
    if not isinstance(triplet, dict):
        raise PlanError(
            f"{where}.type_triplet must be an object with edge, source_vertex and "
            "destination_vertex",
            field="edge_mappings",
        )
    edge, source, target = (
        triplet.get("edge"),
        triplet.get("source_vertex"),
        triplet.get("destination_vertex"),
    )
    label = schema.label(edge) if isinstance(edge, str) else None
    if label is None or label.kind != "edge":
        raise PlanError(
            f"{where}.type_triplet.edge {edge!r} is not an edge type of the graph",
            field="edge_mappings",
        )
    if not any(r.source == source and r.target == target for r in label.relations):
        pairs = ", ".join(f"{r.source}->{r.target}" for r in label.relations)
        raise PlanError(
            f"{where}: edge type {edge} does not connect {source!r} to {target!r} ({pairs})",
            field="edge_mappings",
        )
    specs = []
    for display, path in _inputs(entry, where, resolve, location):
        header = _header(path, options)
        source_column = _endpoint_column(entry, "source_vertex_mappings", where, header, 0)
        target_column = _endpoint_column(entry, "destination_vertex_mappings", where, header, 1)
        specs.append(
            FileSpec(
                role="edge",
                path=path,
                layout="mapped_edge",
                csv=options,
                label=label.name,
                source_label=source,
                target_label=target,
                columns=_column_mappings(entry, where, label, header, 2),
                source_column=source_column,
                target_column=target_column,
                display_path=display,
            )
        )
    return specs


def _endpoint_column(
    entry: dict[str, Any], key: str, where: str, header: list[str] | None, default: int
) -> int:
    value = entry.get(key)
    if value is None or value == []:
        return default
    if not isinstance(value, list) or len(value) != 1 or not isinstance(value[0], dict):
        raise PlanError(f"{where}.{key} must be a list with one column mapping", field=where)
    return _column(value[0].get("column"), f"{where}.{key}[0]", header)
