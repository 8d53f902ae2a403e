"""The import dialects: each turns an import request, as every face fills it, into the one
:class:`~jobcenter.graphs.plan.ImportPlan` the loader runs (``ges/``, ``graphscope/``; what
they share in ``common.py``). No Django here: faces map their own names onto the request
objects and render the errors (PlanError, naming the field) in their own shape."""

from __future__ import annotations

from typing import Any

from jobcenter.graphs.formats.common import UploadStore
from jobcenter.graphs.formats.ges.request import GesImportRequest, ges_import_params
from jobcenter.graphs.formats.graphscope.request import (
    GraphScopeImportRequest,
    graphscope_import_params,
)

ImportRequest = GesImportRequest | GraphScopeImportRequest


def import_params(request: ImportRequest, *, uploads: UploadStore | None = None) -> dict[str, Any]:
    """The request in the form a job keeps and its plan is built from, by its dialect."""
    if isinstance(request, GesImportRequest):
        return ges_import_params(request, uploads=uploads)
    return graphscope_import_params(request, uploads=uploads)
