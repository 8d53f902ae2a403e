"""GraphScope Interactive input: the graph definition (:mod:`.schema`), the import request as
every face fills it (:mod:`.request`) and its bulk-loading configuration checked into an import
plan (:mod:`.plan`). See ../shared/reference/graphscope-interactive.md sections 5 and 7."""

from jobcenter.graphs.formats.graphscope.plan import (
    IMPORT_OPTIONS,
    MAPPING_KEYS,
    build_import_plan,
)
from jobcenter.graphs.formats.graphscope.request import (
    GraphScopeImportRequest,
    graphscope_import_params,
)
from jobcenter.graphs.formats.graphscope.schema import (
    PRIMITIVE_TYPES,
    graph_definition,
    parse_graph_definition,
)

__all__ = [
    "IMPORT_OPTIONS",
    "MAPPING_KEYS",
    "PRIMITIVE_TYPES",
    "GraphScopeImportRequest",
    "build_import_plan",
    "graph_definition",
    "graphscope_import_params",
    "parse_graph_definition",
]
