"""Huawei GES input: ``schema.xml`` (:mod:`.schema`), the import-graph request as every face
fills it (:mod:`.request`) and that request checked into an import plan (:mod:`.plan`). See
../shared/reference/ges.md section 6 for the file formats."""

from jobcenter.graphs.formats.ges.plan import (
    FORMATS,
    PARALLEL_EDGE_ACTIONS,
    REQUEST_KEYS,
    build_import_plan,
)
from jobcenter.graphs.formats.ges.request import (
    UPLOAD_PARTS,
    GesImportRequest,
    ges_import_params,
    normalise_request,
)
from jobcenter.graphs.formats.ges.schema import (
    DATA_TYPES,
    MAX_SCHEMA_BYTES,
    parse_schema_xml,
    schema_xml,
)

__all__ = [
    "DATA_TYPES",
    "FORMATS",
    "MAX_SCHEMA_BYTES",
    "PARALLEL_EDGE_ACTIONS",
    "REQUEST_KEYS",
    "UPLOAD_PARTS",
    "GesImportRequest",
    "build_import_plan",
    "ges_import_params",
    "normalise_request",
    "parse_schema_xml",
    "schema_xml",
]
