"""One GES import request, whichever face it came through: every face (the native API, the
dashboard's form, ``manage.py jobs submit-import``, GES's service and management planes) fills a
:class:`GesImportRequest` from its own names, and :func:`ges_import_params` turns it into the
form a job keeps and its plan is built from (``ges.plan.build_import_plan`` checks the rest,
with the same messages for every face)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jobcenter.graphs.formats.common import Upload, UploadStore, threshold_request
from jobcenter.graphs.plan import PlanError

# An uploaded part stands for the request key naming that file (or folder).
UPLOAD_PARTS = {"schema": "schema_path", "vertices": "vertexset_path", "edges": "edgeset_path"}

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


@dataclass
class GesImportRequest:
    """A GES import as a face received it. ``request`` holds the request's keys in GES v2's
    snake_case as sent (the native API's and the management plane's whole request; the service
    plane's after :meth:`from_service_plane`); a face that asks for values one by one (a form, a
    command line) sets the named fields, None for "not given", which go over ``request``.
    ``schema``, ``vertices`` and ``edges`` are files uploaded with the request: each stands
    for its path key (``schema_path``...), which the request must then leave out."""

    request: dict[str, Any] = field(default_factory=dict)
    schema_path: str | None = None
    vertexset_path: str | None = None
    edgeset_path: str | None = None
    delimiter: str | None = None
    trim_quote: str | None = None
    parallel_edge: str | None = None  # the action: allow, ignore or override
    ignore_label: bool | None = None  # with parallel_edge
    max_errors: int | None = None  # error_threshold.max_count
    max_error_percent: float | None = None  # error_threshold.max_percent
    schema: Sequence[Upload] = ()
    vertices: Sequence[Upload] = ()
    edges: Sequence[Upload] = ()

    @classmethod
    def from_service_plane(cls, body: dict[str, Any]) -> GesImportRequest:
        """The service plane's camelCase body."""
        return cls(request=normalise_request(body))

    @property
    def has_uploads(self) -> bool:
        return bool(self.schema or self.vertices or self.edges)


def ges_import_params(
    request: GesImportRequest, *, uploads: UploadStore | None = None
) -> dict[str, Any]:
    """``{"format": "ges", "request": {...}}``: the request as a job keeps it, uploads stored
    (by ``uploads``) and named by their paths. Refuses what only the uploads show (PlanError
    naming the part); the plan checks everything else."""
    if len(request.schema) > 1:
        raise PlanError("upload at most one schema file", field="schema")
    shaped = dict(request.request)  # only its top-level keys change
    named = {
        "schema_path": request.schema_path,
        "vertexset_path": request.vertexset_path,
        "edgeset_path": request.edgeset_path,
        "delimiter": request.delimiter,
        "trim_quote": request.trim_quote,
    }
    shaped.update({key: value for key, value in named.items() if value is not None})
    if request.parallel_edge is not None:
        shaped["parallel_edge"] = {"action": request.parallel_edge}
        if request.ignore_label is not None:
            shaped["parallel_edge"]["ignore_label"] = request.ignore_label
    if threshold := threshold_request(request.max_errors, request.max_error_percent):
        shaped["error_threshold"] = threshold
    for part, key in UPLOAD_PARTS.items():
        files = list(getattr(request, part))
        if not files:
            continue
        if shaped.get(key):
            raise PlanError(f"give either {part} files or {key}, not both", field=part)
        if uploads is None:
            raise ValueError("uploaded files need an upload store")
        paths = uploads.store(files, part)
        # One file is named directly; several are read as the directory that holds them.
        shaped[key] = paths[0] if len(paths) == 1 else paths[0].rpartition("/")[0]
    return {"format": "ges", "request": shaped}
