"""Several machines played on one (issue 15): one PostgreSQL (the graph store; on the
PostgreSQL pass the job database too), one web server (this test process, a data directory of
its own) and three real ``db_worker`` processes, each with its own ``JOBCENTER_DATA_DIR``. Their
only common local directories are the shared storage (uploads, results), the import root and
the export root, which every machine sees (mounted shares).

Thirty mixed jobs over five graphs (four GES graphs, one GraphScope graph) all end right, a ``kill -9`` of the worker running an import
is swept by another worker ("worker lost", the graph as before), and the final graphs equal
those of a one-worker run of the same jobs (minus the killed import)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from jobcenter.core.ids import worker_id_for
from jobcenter.graphs.models import Graph
from jobcenter.graphs.services import graph_create, graph_schema_parse
from jobcenter.graphs.stores.factory import open_store, store_delete, store_exists
from jobcenter.jobs.chains import ChainStep, chain_submit
from jobcenter.jobs.choices import TERMINAL_STATUSES, EventKind, JobStatus
from jobcenter.jobs.models import Job
from jobcenter.jobs.services import (
    job_cancel,
    job_submit_algorithm,
    job_submit_export,
    job_submit_import,
    job_submit_query,
)
from tests.api.conftest import token_for
from tests.factories.files import GES_SCHEMA, PACED, write_ges_files
from tests.factories.graphs import ges_graph
from tests.factories.waiting import wait_for
from tests.machines import Machines, worker_env
from tests.pgcluster import graph_store_server

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

GRAPHS = 5
GRAPHSCOPE = 4  # the GraphScope graph; the others are GES graphs
# The GraphScope graph holds what a GES graph of GES_SCHEMA holds: vertices n(id, v) keyed by
# id, edges e(w) from n to n.
DEFINITION = {
    "vertex_types": [
        {
            "type_name": "n",
            "primary_keys": ["id"],
            "properties": [
                {"property_name": "id", "property_type": {"string": {"long_text": ""}}},
                {"property_name": "v", "property_type": {"primitive_type": "DT_SIGNED_INT32"}},
            ],
        }
    ],
    "edge_types": [
        {
            "type_name": "e",
            "vertex_type_pair_relations": [{"source_vertex": "n", "destination_vertex": "n"}],
            "properties": [
                {"property_name": "w", "property_type": {"primitive_type": "DT_DOUBLE"}}
            ],
        }
    ],
}
# A worker beats often (a cancel lands at once) and is lost after a few silent seconds; every
# worker sweeps, so another machine's sweep ends a killed worker's job. Its imports are paced
# (the big one is still running when it is cancelled or killed; the others are small).
QUICK = {
    "JOBCENTER_HEARTBEAT_INTERVAL": "0.2",
    "JOBCENTER_STALE_AFTER": "5",
    "JOBCENTER_SWEEP_INTERVAL": "0.5",
    **PACED,
}
# Vertices v{i} < FILTER_BELOW match the query; every base graph has more.
FILTER_BELOW = 50


def base_size(i: int) -> tuple[int, int]:
    return 100 * (i + 1), 500 * (i + 1)


def append_size(i: int) -> tuple[int, int]:
    return 20 * (i + 1), 60 * (i + 1)


def write_append_files(directory: Path, *, vertices: int, edges: int) -> dict[str, str]:
    """New vertices a{i} and edges from each to an existing vertex v{i} (appended onto a
    ``write_ges_files`` graph)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "schema.xml").write_text(GES_SCHEMA)
    (directory / "vertices.csv").write_text("".join(f"a{i},n,{-i}\n" for i in range(vertices)))
    (directory / "edges.csv").write_text(
        "".join(f"a{i % vertices},v{i},e,{i}.25\n" for i in range(edges))
    )
    return {
        "schema_path": str(directory / "schema.xml"),
        "vertexset_path": str(directory / "vertices.csv"),
        "edgeset_path": str(directory / "edges.csv"),
    }


def uploaded(path: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(Path(path).name, Path(path).read_bytes())


def graphscope_mapping(parts: list[dict[str, str]]) -> dict:
    """A GraphScope import (it replaces the graph's data) of the vertex and edge files of
    ``parts`` (GES files: each line ``key,n,v`` or ``src,dst,e,w``)."""
    return {
        "loading_config": {
            "data_source": {"location": "/"},
            "import_option": "overwrite",
            "format": {"metadata": {"delimiter": ",", "header_row": False}},
        },
        "vertex_mappings": [
            {
                "type_name": "n",
                "inputs": [part["vertexset_path"] for part in parts],
                "column_mappings": [
                    {"column": {"index": 0}, "property": "id"},
                    {"column": {"index": 2}, "property": "v"},
                ],
            }
        ],
        "edge_mappings": [
            {
                "type_triplet": {"edge": "e", "source_vertex": "n", "destination_vertex": "n"},
                "inputs": [part["edgeset_path"] for part in parts],
                "source_vertex_mappings": [{"column": {"index": 0}, "property": "id"}],
                "destination_vertex_mappings": [{"column": {"index": 1}, "property": "id"}],
                "column_mappings": [{"column": {"index": 3}, "property": "w"}],
            }
        ],
    }


def make_graphs(project, prefix: str) -> list[Graph]:
    schema = graph_schema_parse(dialect="graphscope", source={"schema": DEFINITION})
    return [
        graph_create(project=project, name=f"{prefix}{i}", dialect="graphscope", schema=schema)
        if i == GRAPHSCOPE
        else ges_graph(project, name=f"{prefix}{i}")
        for i in range(GRAPHS)
    ]


@dataclass
class Files:
    base: list[dict[str, str]]
    append: list[dict[str, str]]
    big: dict[str, str]


@pytest.fixture
def files(imports_dir) -> Files:
    root = imports_dir / "many"
    return Files(
        base=[
            write_ges_files(root / f"base{i}", vertices=base_size(i)[0], edges=base_size(i)[1])
            for i in range(GRAPHS)
        ],
        append=[
            write_append_files(
                root / f"add{i}", vertices=append_size(i)[0], edges=append_size(i)[1]
            )
            for i in range(GRAPHS)
        ],
        # long enough to be seen running, cancelled and killed part-way
        big=write_ges_files(root / "big", vertices=20_000, edges=2_000_000),
    )


@pytest.fixture
def postgresql_graphs(settings) -> Iterator[str]:
    """Graph data on PostgreSQL for this process and the workers; the stores are dropped."""
    url = graph_store_server()
    settings.JOBCENTER_GRAPH_STORE = "postgresql"
    settings.JOBCENTER_GRAPH_STORE_URL = url
    yield url
    for graph in Graph.objects.all():
        store_delete(graph)


def ended(job: Job, timeout: float = 120) -> Job:
    wait_for(lambda: Job.objects.get(pk=job.pk).status in TERMINAL_STATUSES, timeout=timeout)
    return Job.objects.get(pk=job.pk)


def running(job: Job, timeout: float = 120) -> Job:
    """Once the job's worker has reported lines read (the import is part-way)."""
    wait_for(lambda: Job.objects.get(pk=job.pk).lines_done > 0, timeout=timeout)
    return Job.objects.get(pk=job.pk)


def counts(graph: Graph) -> dict:
    store = open_store(graph)
    try:
        return store.counts()
    finally:
        store.close()


def content(graph: Graph) -> tuple[list[tuple], list[tuple]]:
    store = open_store(graph)
    try:
        return store.vertices(), store.edges()
    finally:
        store.close()


def expected_counts(i: int, *, appended: bool) -> dict:
    (v, e), (av, ae) = base_size(i), append_size(i)
    return {
        "vertices": {"n": v + (av if appended else 0)},
        "edges": {"e": e + (ae if appended else 0)},
    }


@dataclass
class Played:
    jobs: list[Job] = field(default_factory=list)

    def add(self, job: Job) -> Job:
        self.jobs.append(job)
        return job


def play(
    graphs: list[Graph],
    files: Files,
    api: APIClient,
    exports: str,
    kill: Callable[[Job], None] | None = None,
) -> Played:
    """The job list, submitted through the services and the API in phases (the jobs of a
    phase run at once on whichever workers claim them), every job checked as it ends. ``kill``: also a
    big import on graph 0, handed to ``kill`` once it runs (it must be ended "worker lost")."""
    played = Played()
    user = graphs[0].project.members.get(username="oscar")

    def upload(graph: Graph, request: dict[str, str]) -> Job:
        """An import of uploaded files through the API: the web stores them in the shared
        storage, the worker that claims the job fetches them."""
        response = api.post(
            f"/api/v1/graphs/{graph.pk}/import/",
            {
                "format": "ges",
                "schema": uploaded(request["schema_path"]),
                "vertices": [uploaded(request["vertexset_path"])],
                "edges": [uploaded(request["edgeset_path"])],
                "options": '{"delimiter": ","}',
            },
            format="multipart",
        )
        assert response.status_code == 201, response.content
        return played.add(Job.objects.get(pk=response.json()["id"]))

    def ges(graph: Graph, request: dict[str, str]) -> Job:
        return played.add(
            job_submit_import(graph=graph, params={"format": "ges", "request": request}, user=user)
        )

    def graphscope(graph: Graph, parts: list[dict[str, str]]) -> Job:
        return played.add(
            job_submit_import(
                graph=graph,
                params={"format": "graphscope", "mapping": graphscope_mapping(parts)},
                user=user,
            )
        )

    # 1. an import into each graph (5)
    firsts = [
        graphscope(g, [files.base[i]]) if i == GRAPHSCOPE else ges(g, files.base[i])
        for i, g in enumerate(graphs)
    ]
    for i, job in enumerate(firsts):
        job = ended(job)
        assert job.status == JobStatus.SUCCEEDED, (job.status, job.fail_reason)
        v, e = base_size(i)
        assert (job.result["vertices_added"], job.result["edges_added"]) == (v, e)
        assert counts(graphs[i]) == expected_counts(i, appended=False)

    graphs = [Graph.objects.get(pk=g.pk) for g in graphs]  # with the schema imported

    # 2. on each graph: pagerank, a filtered query, an export of the graph (15)
    ranks, queries, graph_exports = [], [], []
    for i, graph in enumerate(graphs):
        ranks.append(played.add(job_submit_algorithm(graph=graph, algorithm="pagerank", user=user)))
        queries.append(
            played.add(
                job_submit_query(
                    graph=graph,
                    query={
                        "labels": ["n"],
                        "filters": [{"property": "v", "predicate": "<", "values": [FILTER_BELOW]}],
                    },
                    user=user,
                )
            )
        )
        graph_exports.append(
            played.add(job_submit_export(graph=graph, path=f"{exports}/graph{i}", user=user))
        )
    for i in range(GRAPHS):
        v, e = base_size(i)
        rank = ended(ranks[i])
        assert rank.status == JobStatus.SUCCEEDED, rank.fail_reason
        page = api.get(f"/api/v1/jobs/{rank.pk}/result/?limit=1000")
        assert page.status_code == 200, page.content
        rows = page.json()["rows"]
        assert len(rows) == v and abs(sum(r["pagerank"] for r in rows) - 1.0) < 1e-6
        query = ended(queries[i])
        assert query.status == JobStatus.SUCCEEDED, query.fail_reason
        page = api.get(f"/api/v1/jobs/{query.pk}/result/?limit=1000")
        assert page.status_code == 200, page.content
        assert sorted(r["id"] for r in page.json()["rows"]) == sorted(
            f"v{k}" for k in range(FILTER_BELOW)
        )
        export = ended(graph_exports[i])
        assert export.status == JobStatus.SUCCEEDED, export.fail_reason
        assert (export.result["vertices"], export.result["edges"]) == (v, e)

    # 3. a big import on graph 1, cancelled part-way, with a pagerank chained after it (2);
    # the kill (1); appends of uploaded files onto graphs 2-4 (3); exports of two pagerank
    # results (2)
    cancelled, after = chain_submit(
        project=graphs[1].project,
        steps=[
            ChainStep(
                submit=lambda created: job_submit_import(
                    graph=graphs[1], params={"format": "ges", "request": files.big}, user=user
                )
            ),
            ChainStep(
                submit=lambda created: job_submit_algorithm(
                    graph=graphs[1], algorithm="pagerank", user=user
                ),
                depends_on=[0],
            ),
        ],
    )
    played.add(cancelled)
    played.add(after)
    killed = ges(graphs[0], files.big) if kill else None
    appends = {i: upload(graphs[i], files.append[i]) for i in (2, 3)}
    # the GraphScope graph: its data replaced with the base and appended files
    appends[GRAPHSCOPE] = graphscope(graphs[GRAPHSCOPE], [files.base[4], files.append[4]])
    result_exports = [
        played.add(
            job_submit_export(source_job=ended(ranks[i]), path=f"{exports}/rank{i}.csv", user=user)
        )
        for i in (0, 1)
    ]
    job_cancel(job=running(cancelled), user=user)
    if killed is not None:
        kill(running(killed))
    cancelled = ended(cancelled, timeout=60)
    assert cancelled.status == JobStatus.CANCELLED, (cancelled.status, cancelled.fail_reason)
    after = ended(after, timeout=30)
    assert after.status == JobStatus.CANCELLED, after.status
    for i, job in enumerate(result_exports):
        job = ended(job)
        assert job.status == JobStatus.SUCCEEDED, job.fail_reason
        assert job.result["rows"] == base_size(i)[0]
    assert counts(graphs[1]) == expected_counts(1, appended=False)  # as before the cancel

    # 4. the uploaded appends onto graphs 0 and 1 (the killed and the cancelled import's graphs) (2)
    appends |= {i: upload(graphs[i], files.append[i]) for i in (0, 1)}
    for i, job in sorted(appends.items()):
        job = ended(job)
        assert job.status == JobStatus.SUCCEEDED, (i, job.status, job.fail_reason)
        added = (job.result["vertices_added"], job.result["edges_added"])
        if i == GRAPHSCOPE:
            total = expected_counts(i, appended=True)
            assert added == (total["vertices"]["n"], total["edges"]["e"])
        else:
            assert added == append_size(i)
        assert counts(graphs[i]) == expected_counts(i, appended=True)
    for graph in graphs:
        assert Graph.objects.get(pk=graph.pk).write_lock == ""
    return played


def test_thirty_jobs_on_three_worker_machines_equal_a_one_worker_run(
    settings, tmp_path, worker_factory, project, operator, files, postgresql_graphs
):
    machines = Machines(settings, tmp_path, "directory")
    machines.on("web")
    exports = tmp_path / "exports"  # a share every machine mounts, as the import root
    settings.JOBCENTER_EXPORT_ROOTS = [exports]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token_for(operator)}")

    def start(name: str):
        return worker_factory(
            **worker_env(settings, machines.data_dir(name), machines.kind, machines.shared),
            JOBCENTER_GRAPH_STORE="postgresql",
            JOBCENTER_GRAPH_STORE_URL=postgresql_graphs,
            JOBCENTER_EXPORT_ROOTS=str(exports),
            **QUICK,
        )

    workers = [start(f"worker-{n}") for n in "abc"]
    by_id = {worker_id_for(w.pid): w for w in workers}
    swept: list[Job] = []

    def kill(job: Job) -> None:
        before = counts(job.graph)
        assert Graph.objects.get(pk=job.graph_id).write_lock == job.pk
        by_id[job.worker_id].kill()
        lost = ended(job, timeout=60)
        assert (lost.status, lost.fail_reason) == (JobStatus.FAILED, "worker lost")
        assert lost.events.filter(
            kind=EventKind.RECOVERED, message=f"worker lost ({job.worker_id})"
        ).exists()
        assert counts(job.graph) == before
        swept.append(lost)

    started = time.monotonic()
    graphs = make_graphs(project, "many")
    played = play(graphs, files, api, "multi", kill=kill)
    assert len(played.jobs) == 30 and len(swept) == 1
    ran_on = set(
        Job.objects.filter(pk__in=[j.pk for j in played.jobs]).values_list("worker_id", flat=True)
    )
    assert len(ran_on - {""}) >= 2, ran_on  # the jobs really spread over the machines
    many = time.monotonic() - started
    # No machine but the shared ones holds graph data: the stores are on PostgreSQL.
    for n in "abc":
        assert not list((machines.data_dir(f"worker-{n}") / "graphs").glob("*.sqlite3"))
    # The four uploaded appends (two data files each) went through the shared storage, each
    # fetched by the one worker that imported it.
    fetched = [
        path.name
        for n in "abc"
        for path in (machines.data_dir(f"worker-{n}") / "uploads").rglob("*.csv")
    ]
    assert len(fetched) == 8, fetched
    for worker in workers:
        worker.stop()

    start("solo")
    started = time.monotonic()
    solo = make_graphs(project, "solo")
    assert len(play(solo, files, api, "solo").jobs) == 29
    print(f"three workers: {many:.1f}s, one worker: {time.monotonic() - started:.1f}s")
    for mine, theirs in zip(graphs, solo, strict=True):
        assert store_exists(mine) and counts(mine) == counts(theirs)
        assert content(mine) == content(theirs)
    assert os.listdir(exports / "multi") and sorted(os.listdir(exports / "multi")) == sorted(
        os.listdir(exports / "solo")
    )
