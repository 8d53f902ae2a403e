"""``compat.ges.wire.results``: job results in GES's shape (``data.outputs``)."""

from __future__ import annotations

from jobcenter.compat.ges.wire import service
from jobcenter.jobs.choices import JobStatus, JobType
from jobcenter.jobs.results import ResultPage
from tests.compat.ges.wire.conftest import make_job


def algorithm_page(algorithm: str, columns: list[str], rows: list[tuple], outputs: dict) -> dict:
    job = make_job(
        JobStatus.SUCCEEDED,
        JobType.ALGORITHM,
        name="Algorithm",
        params={"algorithm": algorithm, "parameters": {}},
    )
    page = ResultPage(
        kind="rows" if algorithm == "shortest_path" else "vertices",
        columns=columns,
        outputs=outputs,
        total=len(rows),
        offset=0,
        limit=100,
        rows=[dict(zip(columns, row, strict=True)) for row in rows],
    )
    return service.service_job_status(job, files=[], page=page)["data"]["outputs"]


def test_algorithm_results_in_ges_shape():
    out = algorithm_page(
        "pagerank", ["id", "label", "pagerank"], [("a", "n", 0.5)], {"vertices": 1}
    )
    assert out["pagerank"] == [{"a": 0.5}] and out["vertices"] == 1
    out = algorithm_page(
        "connected_components",
        ["id", "label", "component"],
        [("a", "n", 0), ("b", "n", 1)],
        {"components": 2, "largest": 1},
    )
    assert out["community"] == [{"a": "0"}, {"b": "1"}]
    assert (out["community_num"], out["Max_WCC_size"]) == (2, 1)
    out = algorithm_page(
        "louvain",
        ["id", "label", "community"],
        [("a", "n", 3)],
        {"communities": 1, "modularity": 0},
    )
    assert out["community"] == [{"a": "3"}] and out["community_num"] == 1
    out = algorithm_page(
        "shortest_path",
        ["step", "id", "label", "distance"],
        [(0, "a", "n", 0.0), (1, "b", "n", 1.0)],
        {"found": True, "hops": 1},
    )
    assert out["path"] == ["a", "b"] and out["hops"] == 1
    out = algorithm_page(
        "degree_statistics",
        ["id", "label", "in_degree", "out_degree", "degree"],
        [("a", "n", 1, 2, 3)],
        {},
    )
    assert out["degree"] == [{"a": {"in_degree": 1, "out_degree": 2, "degree": 3}}]
    out = algorithm_page("triangle_count", ["id", "label", "triangles"], [("a", "n", 2)],
                         {"triangles": 4})  # fmt: skip
    assert out["triangles"] == [{"a": 2}] and out["triangle_count"] == 4
