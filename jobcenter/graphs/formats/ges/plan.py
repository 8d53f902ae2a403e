"""A GES import request (snake_case, as management plane v2 and our native API name its keys)
checked against the graph and its files: the :class:`ImportPlan` that runs it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jobcenter.graphs.formats.common import error_threshold, max_failed_records
from jobcenter.graphs.formats.ges.schema import MAX_SCHEMA_BYTES, parse_schema_xml
from jobcenter.graphs.plan import CsvOptions, FileSpec, ImportPlan, PathResolver, PlanError
from jobcenter.graphs.schema import GraphSchema

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
