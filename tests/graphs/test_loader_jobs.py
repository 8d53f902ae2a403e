"""Messy bytes through a whole import job (runner, heartbeat, job database), for both dialects:
the job ends with per-line failures, never ``internal error``, and every failed line's raw text
and message are saved for real (NUL and undecodable bytes escaped). The store invariants are
checked after each test against these jobs' rows (tests/graphs/invariants.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from jobcenter.core.ids import new_id
from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_create, graph_schema_parse
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.models import FailedLine, Job
from jobcenter.jobs.runner import execute_job
from jobcenter.jobs.services import job_submit_import
from tests.factories.graphs import ges_graph
from tests.graphs.conftest import MOVIE_SCHEMA
from tests.graphs.test_loader_integrity import DEFINITION

pytestmark = pytest.mark.django_db(transaction=True)


def run(job: Job) -> Job:
    execute_job(job_id=job.pk)
    return Job.objects.get(pk=job.pk)


def folder(imports_dir: Path, **files: bytes | str) -> Path:
    directory = imports_dir / new_id()
    directory.mkdir()
    for name, data in files.items():
        path = directory / name
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return directory


def failed_lines(job: Job) -> list[tuple[int, int, str, str, str]]:
    return list(
        FailedLine.objects.filter(job=job)
        .order_by("file__index", "line_number")
        .values_list("file__index", "line_number", "reason", "raw", "message")
    )


def test_ges_job_with_bare_crs_nul_and_undecodable_bytes(project, imports_dir):
    files = folder(
        imports_dir,
        **{
            "schema.xml": MOVIE_SCHEMA,
            "v.csv": b"\xef\xbb\xbfa1,user,A,1\r\r\nb\xff1,user,B,2\nc\x001,user,C,x\n"
            b"d1,user,D\r,4\ne1,user,E,5\r",
            "e.csv": b"a1,e1,friends\nc\x001,a1,friends\r\nb\xff1,a1,friends\n",
        },
    )
    graph = ges_graph(project)
    request = {
        "schema_path": str(files / "schema.xml"),
        "vertexset_path": str(files / "v.csv"),
        "edgeset_path": str(files / "e.csv"),
    }
    job = run(job_submit_import(graph=graph, params={"format": "ges", "request": request}))
    assert job.status == JobStatus.PARTIALLY_FAILED, job.fail_reason
    assert failed_lines(job) == [
        (1, 2, "encoding", "b\\xff1,user,B,2", "the line is not valid utf-8"),
        (1, 3, "bad_type", "c\\x001,user,C,x", "Age: 'x' is not an int"),
        (1, 4, "malformed", "d1,user,D\r,4", failed_lines(job)[2][4]),
        (2, 2, "missing_vertex", "c\\x001,a1,friends", "source vertex 'c\\x001' does not exist"),
        (2, 3, "encoding", "b\\xff1,a1,friends", "the line is not valid utf-8"),
    ]
    counts = list(job.files.values_list("total_lines", "successful_lines", "failed_lines"))
    assert counts == [(3, 3, 0), (5, 2, 3), (3, 1, 2)]  # the schema file: 3 labels
    assert "byte order mark" in job.files.get(index=1).log
    assert job.result["vertices_added"] == 2 and job.result["edges_added"] == 1


def test_graphscope_job_with_bare_crs_nul_and_undecodable_bytes(project, imports_dir):
    files = folder(
        imports_dir,
        **{
            "p.csv": b"\xef\xbb\xbfid,age\n1,30\r\r\n2\xff,40\n3,x\x00\n4\r,50\n5,60",
            "k.csv": b"src,dst,w\n1,5,0.5\r\n3,1,1.5\n1,2\xff,2.5\n",
        },
    )
    schema = graph_schema_parse(dialect="graphscope", source={"schema": DEFINITION})
    graph = graph_create(project=project, name="p", dialect="graphscope", schema=schema)
    mapping = {
        "loading_config": {
            "data_source": {"location": str(files)},
            "import_option": "init",
            "format": {"metadata": {"delimiter": ",", "header_row": True}},
        },
        "vertex_mappings": [
            {
                "type_name": "p",
                "inputs": ["p.csv"],
                "column_mappings": [
                    {"column": {"name": "id"}, "property": "id"},
                    {"column": {"name": "age"}, "property": "age"},
                ],
            }
        ],
        "edge_mappings": [
            {
                "type_triplet": {"edge": "k", "source_vertex": "p", "destination_vertex": "p"},
                "inputs": ["k.csv"],
            }
        ],
    }
    job = run(job_submit_import(graph=graph, params={"format": "graphscope", "mapping": mapping}))
    assert job.status == JobStatus.PARTIALLY_FAILED, job.fail_reason
    rows = failed_lines(job)
    assert [r[:4] for r in rows] == [
        (0, 3, "encoding", "2\\xff,40"),
        (0, 4, "bad_type", "3,x\\x00"),
        (0, 5, "malformed", "4\r,50"),
        (1, 3, "missing_vertex", "3,1,1.5"),
        (1, 4, "encoding", "1,2\\xff,2.5"),
    ]
    assert rows[1][4] == "age: 'x\\x00' is not an int"
    assert Graph.objects.get(pk=graph.pk).status == "ready"
    assert job.result["vertices_added"] == 2 and job.result["edges_added"] == 1
