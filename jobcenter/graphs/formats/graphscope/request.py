"""One GraphScope import request, whichever face it came through: every face (the native API,
the dashboard's form, ``manage.py jobs submit-import``, GraphScope's ``dataloading``) fills a
:class:`GraphScopeImportRequest` from its own names, and :func:`graphscope_import_params` turns
it into the form a job keeps and its plan is built from (``graphscope.plan.build_import_plan``
checks the rest, with the same messages for every face)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jobcenter.graphs.formats.common import Upload, UploadStore, threshold_request
from jobcenter.graphs.plan import PlanError


@dataclass
class GraphScopeImportRequest:
    """A GraphScope import as a face received it: the bulk-loading configuration
    (SchemaMapping) as sent, and what a face asks for besides. ``location`` is the folder the
    inputs are read from, over the mapping's own; ``default_location`` the one used when the
    mapping names none. ``files`` are data files uploaded with the request: the mapping's inputs
    name them by file name (``@name`` as the GraphScope SDK writes it too)."""

    mapping: Any
    location: str | None = None
    default_location: str | None = None
    max_errors: int | None = None  # error_threshold.max_count
    max_error_percent: float | None = None  # error_threshold.max_percent
    files: Sequence[Upload] = ()

    @property
    def has_uploads(self) -> bool:
        return bool(self.files)


def graphscope_import_params(
    request: GraphScopeImportRequest, *, uploads: UploadStore | None = None
) -> dict[str, Any]:
    """``{"format": "graphscope", "mapping": {...}}``: the request as a job keeps it, uploads
    stored (by ``uploads``) and named by their paths. Refuses what only the uploads show
    (PlanError naming the part); the plan checks everything else."""
    mapping = request.mapping
    changes = request.location or request.default_location or request.files
    threshold = threshold_request(request.max_errors, request.max_error_percent)
    if isinstance(mapping, dict) and (changes or threshold):  # else the plan says what is wrong
        mapping = copy.deepcopy(mapping)  # the face's own stays as it was sent
        if request.location:
            source = _data_source(mapping)
            if source is not None:
                source.setdefault("scheme", "file")
                source["location"] = request.location
        if request.default_location:
            source = _data_source(mapping)
            if source is not None:
                source.setdefault("location", request.default_location)
        if threshold:
            mapping["error_threshold"] = threshold
        if request.files:
            if uploads is None:
                raise ValueError("uploaded files need an upload store")
            _name_uploads(mapping, list(request.files), uploads)
    return {"format": "graphscope", "mapping": mapping}


def _data_source(mapping: dict[str, Any]) -> dict[str, Any] | None:
    """``loading_config.data_source``, made when missing (None: one of them is not an object;
    the plan says so)."""
    config = mapping.setdefault("loading_config", {})
    source = config.setdefault("data_source", {}) if isinstance(config, dict) else None
    return source if isinstance(source, dict) else None


def _name_uploads(mapping: dict[str, Any], files: list[Upload], uploads: UploadStore) -> None:
    """The files stored, and each input naming one of them by file name set to its path."""
    names = [uploads.name(f.name or "") for f in files]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PlanError(f"two uploaded files are named {duplicates[0]!r}", field="files")
    by_name = dict(zip(names, uploads.store(files, "files"), strict=True))
    for group in ("vertex_mappings", "edge_mappings"):
        entries = mapping.get(group)
        for entry in entries if isinstance(entries, list) else ():
            inputs = entry.get("inputs") if isinstance(entry, dict) else None
            if not isinstance(inputs, list):
                continue
            for i, raw in enumerate(inputs):
                if not isinstance(raw, str):
                    continue
                wanted = uploads.name(raw.lstrip("@"))
                if wanted not in by_name:
                    raise PlanError(
                        f"input {raw!r} is not among the uploaded files "
                        f"({', '.join(sorted(by_name))})",
                        field="mapping",
                    )
                inputs[i] = by_name[wanted]
    config = mapping.get("loading_config")
    if isinstance(config, dict):
        source = config.get("data_source")
        if isinstance(source, dict):
            source.pop("location", None)  # the inputs name the uploads from the roots
