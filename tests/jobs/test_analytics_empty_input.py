"""Every algorithm on empty input (issue 12, section 3): a graph that was never written, one
whose data was cleared, one of isolated vertices, one whose only edge is a loop and one with a
single edge, run by the worker's real path (claim, heartbeat, result file, finish). A job's
result and summary are always valid JSON (no NaN, no Infinity) and are served as such by every
face."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from jobcenter.core.errors import InvalidInput
from jobcenter.graphs.algorithms import ALGORITHMS
from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_create, graph_schema_parse
from jobcenter.jobs.choices import TERMINAL_STATUSES, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.results import ResultReader, result_path
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import (
    job_submit_algorithm,
    job_submit_graph_operation,
    job_submit_import,
)
from tests.factories.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = (
    '<?xml version="1.0"?><PMML version="3.0"><labels>'
    '<label name="n"></label>'
    '<label name="e"><properties><property name="w" cardinality="single" dataType="double"/>'
    "</properties></label></labels></PMML>"
)

# name -> (vertex lines, edge lines); None: the graph is never written at all
SHAPES: dict[str, tuple[list[str], list[str]] | None] = {
    "never_written": None,
    "no_vertices": ([], []),
    "isolated": (["a,n", "b,n", "c,n"], []),
    "loop_only": (["a,n", "b,n"], ["a,a,e,1.0"]),
    "one_edge": (["a,n", "b,n"], ["a,b,e,2.5"]),
}

SOURCED = {"personalized_pagerank", "shortest_path", "single_source_shortest_paths"}


def run(job: Job) -> Job:
    execute_job(job_id=job.pk)
    return Job.objects.get(pk=job.pk)


def shaped_graph(project: Any, shape: str) -> Graph:
    schema = graph_schema_parse(dialect="ges", source=SCHEMA.encode())
    graph = graph_create(
        project=project, name=shape.replace("_", "-"), dialect="ges", schema=schema
    )
    lines = SHAPES[shape]
    if lines is None:
        return graph
    folder = Path(settings.IMPORTS_DIR) / f"empty-{shape}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "schema.xml").write_text(SCHEMA)
    (folder / "v.csv").write_text("".join(f"{line}\n" for line in lines[0]))
    (folder / "e.csv").write_text("".join(f"{line}\n" for line in lines[1]))
    request = {
        "schema_path": str(folder / "schema.xml"),
        "vertexset_path": str(folder / "v.csv"),
        "edgeset_path": str(folder / "e.csv"),
    }
    job = run(job_submit_import(graph=graph, params={"format": "ges", "request": request}))
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    return Graph.objects.get(pk=graph.pk)


def strict_json(value: Any) -> Any:
    """``value`` through JSON as the databases and the API take it: NaN and Infinity refused."""
    return json.loads(json.dumps(value, allow_nan=False))


def parameters(algorithm: str, shape: str) -> dict[str, Any]:
    if algorithm == "shortest_path":
        return {"source": "a", "target": "b"}
    if algorithm in SOURCED:
        return {"source": "a"}
    return {}


def expected(algorithm: str, shape: str) -> tuple[dict[str, Any], list[tuple]]:
    """What docs/analytics.md ("Empty input") says ``algorithm`` gives on ``shape``: figures
    of its summary, and its rows (``None`` for a value only checked to be a number)."""
    vertices = {"never_written": [], "no_vertices": [], "isolated": ["a", "b", "c"]}.get(
        shape, ["a", "b"]
    )
    n, edge = len(vertices), shape == "one_edge"
    each = [(v, "n") for v in vertices]
    if algorithm == "pagerank":
        return {"vertices": n}, [(*v, None) for v in each]
    if algorithm == "personalized_pagerank":
        if edge:
            return {"vertices": n, "source": "a"}, [("a", "n", None), ("b", "n", None)]
        return {"vertices": n, "source": "a"}, [(*v, 1.0 if v[0] == "a" else 0.0) for v in each]
    if algorithm == "shortest_path":
        if edge:
            path = [(0, "a", "n", 0.0), (1, "b", "n", 1.0)]
            return {"found": True, "hops": 1, "distance": 1.0}, path
        return {"found": False, "hops": 0, "distance": None}, []
    if algorithm == "single_source_shortest_paths":
        rows = [("a", "n", 0.0), ("b", "n", 1.0)] if edge else [("a", "n", 0.0)]
        return {"source": "a", "reached": len(rows), "unreachable": n - len(rows)}, rows
    if algorithm == "connected_components":
        components = [(*v, 0 if edge else i) for i, v in enumerate(each)]
        return {"components": 1 if edge else n, "largest": 2 if edge else min(n, 1)}, components
    if algorithm == "k_core":
        return {"k": 0, "max_core": int(edge), "in_core": n}, [(*v, int(edge)) for v in each]
    if algorithm in ("label_propagation", "louvain"):
        figures: dict[str, Any] = {"communities": 1 if edge else n}
        if algorithm == "louvain":  # undefined without an edge (loops do not count)
            figures["modularity"] = 0.0 if edge else None
        return figures, [(*v, None) for v in each]
    if algorithm == "triangle_count":
        return {"triangles": 0}, [(*v, 0) for v in each]
    assert algorithm == "degree_statistics"
    if n == 0:
        empty = {"min": None, "max": None, "mean": None, "median": None}
        return {"vertices": 0, "edges": 0, "degree": empty, "in_degree": empty}, []
    if shape == "isolated":
        zero = {"min": 0, "max": 0, "mean": 0.0, "median": 0}
        return {"vertices": 3, "edges": 0, "degree": zero}, [(*v, 0, 0, 0) for v in each]
    if shape == "loop_only":  # a loop counts once as in- and once as out-degree
        degree = {"min": 0, "max": 2, "mean": 1.0, "median": 1.0}
        return {"vertices": 2, "edges": 1, "degree": degree}, [
            ("a", "n", 1, 1, 2),
            ("b", "n", 0, 0, 0),
        ]
    degree = {"min": 1, "max": 1, "mean": 1.0, "median": 1.0}
    return {"vertices": 2, "edges": 1, "degree": degree}, [("a", "n", 0, 1, 1), ("b", "n", 1, 0, 1)]


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_every_algorithm_on_empty_input(project, operator, algorithm, shape):
    graph = shaped_graph(project, shape)
    params = parameters(algorithm, shape)
    if algorithm in SOURCED and shape in ("never_written", "no_vertices"):
        # no vertex to start from: refused at submission, nothing queued
        with pytest.raises(InvalidInput) as info:
            job_submit_algorithm(graph=graph, algorithm=algorithm, parameters=params)
        assert info.value.message == (
            "parameter [source] is invalid! vertex 'a' does not exist in the graph"
        )
        assert not Job.objects.filter(type="algorithm").exists()
        return
    job = run(job_submit_algorithm(graph=graph, algorithm=algorithm, parameters=params))
    assert job.status == JobStatus.SUCCEEDED, job.fail_reason
    assert strict_json(job.result) == job.result
    figures, rows = expected(algorithm, shape)
    assert {k: job.result["outputs"][k] for k in figures} == figures
    with ResultReader(job.pk) as reader:
        assert strict_json(reader.outputs) == reader.outputs == job.result["outputs"]
        stored = list(reader.iter_rows())
        page = reader.page(offset=0, limit=100)
    assert strict_json(page.rows) == page.rows and page.total == len(rows)
    assert len(stored) == len(rows)
    for got, want in zip(stored, rows, strict=True):
        assert all(math.isfinite(x) for x in got if isinstance(x, float))
        assert [w if w is not None else g for g, w in zip(got, want, strict=True)] == list(got)
    if algorithm in ("pagerank", "personalized_pagerank") and rows:
        assert sum(r[-1] for r in stored) == pytest.approx(1.0)


def test_a_source_removed_after_submission_fails_the_job_clearly(project, operator):
    graph = shaped_graph(project, "one_edge")
    job = job_submit_algorithm(
        graph=graph, algorithm="single_source_shortest_paths", parameters={"source": "a"}
    )
    cleared = run(job_submit_graph_operation(graph=graph, operation="clear", user=operator))
    assert cleared.status == JobStatus.SUCCEEDED, cleared.fail_reason
    job = run(job)
    assert job.status == JobStatus.FAILED
    assert job.fail_reason == "source vertex 'a' no longer exists in the graph"
    assert not result_path(job.pk).exists()


@pytest.mark.slow
def test_a_real_worker_runs_every_algorithm_on_isolated_vertices(project, worker_factory):
    graph = shaped_graph(project, "isolated")
    jobs = {
        name: job_submit_algorithm(
            graph=graph, algorithm=name, parameters=parameters(name, "isolated")
        )
        for name in ALGORITHMS
    }
    worker_factory()
    wait_for(
        lambda: all(Job.objects.get(pk=j.pk).status in TERMINAL_STATUSES for j in jobs.values()),
        timeout=90,
    )
    for name, job in jobs.items():
        job.refresh_from_db()
        assert job.status == JobStatus.SUCCEEDED, (name, job.fail_reason)
        figures, rows = expected(name, "isolated")
        assert {k: job.result["outputs"][k] for k in figures} == figures
        assert job.result["total"] == len(rows)
    assert jobs["louvain"].result["outputs"]["modularity"] is None
