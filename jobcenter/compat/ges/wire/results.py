"""A job's result in GES's shape: one page of it as the service plane's ``data.outputs``."""

from __future__ import annotations

from typing import Any

from jobcenter.compat.ges.wire.algorithms import ALGORITHM_RESULTS
from jobcenter.jobs.choices import JobType
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import ResultPage


def _ges_properties(properties: dict[str, Any] | None) -> dict[str, list[Any]]:
    """GES gives every property value as an array (list and set properties hold several)."""
    return {k: v if isinstance(v, list) else [v] for k, v in (properties or {}).items()}


def ges_vertex(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "label": row["label"],
        "properties": _ges_properties(row["properties"]),
    }


def ges_edge(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "source": row["source"],
        "target": row["target"],
        "label": row["label"],
        "properties": _ges_properties(row["properties"]),
    }


def result_outputs(job: Job, page: ResultPage) -> dict[str, Any]:
    """One page of a job's result as GES's ``data.outputs``: a query's ``vertices`` or
    ``edges``; an algorithm's entries under its GES key (``pagerank: [{id: value}]``,
    ``community: [{id: "n"}]``, ``path: [id, ...]``...) with its summary figures."""
    if job.type == JobType.ALGORITHM:
        spec = ALGORITHM_RESULTS.get((job.params or {}).get("algorithm", ""))
        if spec is not None:
            outputs = {spec.summary.get(k, k): v for k, v in page.outputs.items()}
            outputs[spec.output] = [spec.entry(row) for row in page.rows]
            return outputs
    if job.type == JobType.QUERY and page.kind == "vertices":
        return {"vertices": [ges_vertex(row) for row in page.rows]}
    if job.type == JobType.QUERY and page.kind == "edges":
        return {"edges": [ges_edge(row) for row in page.rows]}
    return {**page.outputs, page.kind: page.rows}
