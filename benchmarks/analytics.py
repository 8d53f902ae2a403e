"""Analytics jobs against the graph library's own time, and filtered queries with and without
an index.

``algorithms``: a generated graph (``--vertices``, ``--edges``, uniformly random edges) is
imported into a graph store; then, in the same run,

- baseline: python-igraph on the same graph already in memory (built from the store's edges
  before timing): ``pagerank()`` and weak components (``GraphBase.connected_components``, the
  membership list the job takes), median of ``--rounds``;
- jobs: the same algorithms as jobs, in this process through ``runner.execute_job`` (claim,
  heartbeat, compute (in a child process unless known to be short), write the result file,
  commit gate, finish):
  the first job after the import (the worker loads a graph into memory when its import ends,
  with ``warm_after_job``, the call the worker's task makes; that load is timed apart), the
  next job, and a job on a worker that does not hold the graph (reads the store and builds).

``--store sqlite|postgresql|both`` (``algorithms`` and ``query``): the graph store the graph is
imported into and read from, through ``jobcenter.graphs.stores.factory`` as every job does
(``postgresql``: a throwaway server, fsync off, as the test suite starts one; the job database
stays SQLite); ``both``: the same graph imported into each, and each round measures both, in
alternating order, against the same library call.

``query``: a graph of ``--vertices`` vertices (label n, int property v uniform in 0..999999,
no edges); first page (100 rows) of ``v BETWEEN a AND b`` sorted by v, before and after an
index job, timed on the store; then the whole query as a job.

``query-memory``: peak RSS of a process running an unindexed filtered query job over the whole
graph (every row matched, streamed into the result file), for two graph sizes: flat memory
means the peak does not grow with the graph.

Run:
  .venv/bin/python benchmarks/analytics.py algorithms [--edges 1000000 --vertices 200000]
      [--store sqlite|postgresql|both]
  .venv/bin/python benchmarks/analytics.py query [--vertices 1000000] [--store ...]
  .venv/bin/python benchmarks/analytics.py query-memory
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import REPO, describe_run, django_in_tempdir

SCHEMA = (
    '<?xml version="1.0"?><PMML version="3.0"><labels>'
    '<label name="n"><properties><property name="v" cardinality="single" dataType="int"/>'
    '</properties></label><label name="e"></label></labels></PMML>'
)


def write_graph(folder: Path, *, vertices: int, edges: int, seed: int = 5) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    (folder / "schema.xml").write_text(SCHEMA)
    with (folder / "v.csv").open("w") as fh:
        fh.writelines(f"v{i},n,{rng.randrange(1_000_000)}\n" for i in range(vertices))
    request = {"schema_path": str(folder / "schema.xml"), "vertexset_path": str(folder / "v.csv")}
    if edges:
        with (folder / "e.csv").open("w") as fh:
            fh.writelines(
                f"v{rng.randrange(vertices)},v{rng.randrange(vertices)},e\n" for _ in range(edges)
            )
        request["edgeset_path"] = str(folder / "e.csv")
    return request


def imported_graph(data: Path, name: str, request: dict[str, str]):
    from jobcenter.graphs.services import graph_create
    from jobcenter.jobs.runner import execute_job
    from jobcenter.jobs.services import job_submit_import
    from jobcenter.projects.models import Project
    from jobcenter.projects.services import project_create

    project = Project.objects.filter(name="bench").first() or project_create(name="bench")
    graph = graph_create(project=project, name=name, dialect="ges")
    job = job_submit_import(graph=graph, params={"format": "ges", "request": request})
    started = time.perf_counter()
    execute_job(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded", job.fail_reason
    print(f"import: {job.lines_total} lines in {time.perf_counter() - started:.1f}s")
    graph.refresh_from_db()
    return graph


def run_job(job) -> tuple[float, object]:
    from jobcenter.jobs.models import Job
    from jobcenter.jobs.runner import execute_job

    started = time.perf_counter()
    execute_job(job_id=job.pk)
    elapsed = time.perf_counter() - started
    job = Job.objects.get(pk=job.pk)
    assert job.status == "succeeded", job.fail_reason
    return elapsed, job


def stores_of(args: argparse.Namespace) -> list[str]:
    """The graph stores to measure, in order. For the PostgreSQL one: a throwaway server (fsync
    off, as the test suite starts one: tests/pgcluster.py), named before Django reads settings."""
    stores = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    if "postgresql" in stores:
        from tests.pgcluster import graph_store_server

        os.environ["JOBCENTER_GRAPH_STORE_URL"] = graph_store_server()
    return stores


def use_store(name: str) -> None:
    """Every store the code opens from now on is of backend ``name`` (read per call by
    jobcenter.graphs.stores.factory)."""
    from django.conf import settings

    settings.JOBCENTER_GRAPH_STORE = name


def algorithms(args: argparse.Namespace) -> None:
    stores = stores_of(args)
    data = django_in_tempdir("jobcenter-bench-algo-")
    # First: it configures OpenMP for forked computations before igraph loads (as a worker).
    from jobcenter.graphs.resident import RESIDENT  # isort: skip
    from jobcenter.graphs import compute  # noqa: F401  # isort: skip

    import igraph as ig

    from jobcenter.graphs.build import build_graph
    from jobcenter.graphs.stores.factory import open_store
    from jobcenter.jobs.models import Job
    from jobcenter.jobs.resident import warm_after_job
    from jobcenter.jobs.services import job_submit_algorithm

    print(f"measured: {describe_run()}; graph stores: {', '.join(stores)}")
    request = write_graph(data / "imports" / "g", vertices=args.vertices, edges=args.edges)
    graphs, imports = {}, {}
    for store_name in stores:
        use_store(store_name)
        print(f"{store_name} store: ", end="")
        graphs[store_name] = imported_graph(data, f"g-{store_name}", request)
        imports[store_name] = Job.objects.filter(graph=graphs[store_name], type="import").latest(
            "created_at"
        )
    for store_name in stores:  # what every job pays to open its graph's store
        use_store(store_name)
        opens = []
        for _ in range(40):
            started = time.perf_counter()
            store = open_store(graphs[store_name])
            store.data_version()
            store.close()
            opens.append(time.perf_counter() - started)
        print(
            f"{store_name} store: open, data_version(), close: median "
            f"{statistics.median(opens) * 1000:.1f} ms of 40"
        )
    use_store(stores[0])
    store = open_store(graphs[stores[0]])
    g, _ = build_graph(store)
    store.close()
    print(f"graph: {g.vcount()} vertices, {g.ecount()} edges; load {os.getloadavg()}")
    library = {
        "pagerank": lambda: g.pagerank(damping=0.85),
        # the membership list from the C layer, as the job takes it (no VertexClustering)
        "connected_components": lambda: ig.GraphBase.connected_components(g, "weak"),
    }
    for name, call in library.items():
        lib_times: list[float] = []
        times = {s: {"load": [], "first": [], "cold": [], "warm": []} for s in stores}
        results = {}
        for round_ in range(args.rounds):
            started = time.perf_counter()
            call()
            lib_times.append(time.perf_counter() - started)
            for store_name in stores if round_ % 2 == 0 else stores[::-1]:
                use_store(store_name)
                graph, measured = graphs[store_name], times[store_name]
                # As a worker does after an import: load the new data, then the first job runs.
                RESIDENT.clear()
                started = time.perf_counter()
                assert warm_after_job(imports[store_name].pk)
                measured["load"].append(time.perf_counter() - started)
                elapsed, job = run_job(job_submit_algorithm(graph=graph, algorithm=name))
                assert job.result["graph_loaded_from"] == "memory"
                measured["first"].append(elapsed)
                # A worker that does not hold the graph (memory budget, warming at start off).
                RESIDENT.clear()
                elapsed, job = run_job(job_submit_algorithm(graph=graph, algorithm=name))
                assert job.result["graph_loaded_from"] == "store"
                measured["cold"].append(elapsed)
                elapsed, job = run_job(job_submit_algorithm(graph=graph, algorithm=name))
                measured["warm"].append(elapsed)
                results[store_name] = job.result["total"]
        base = statistics.median(lib_times)

        def cell(times: list[float], base: float = base) -> str:
            return f"{statistics.median(times):.3f}s ({statistics.median(times) / base:.2f}x)"

        for store_name in stores:
            measured = times[store_name]
            print(
                f"{name}, {store_name} store: library {base:.3f}s | first job after import "
                f"{cell(measured['first'])} [loading after the import "
                f"{statistics.median(measured['load']):.3f}s] | next job {cell(measured['warm'])}"
                f" | job on a worker without the graph {cell(measured['cold'])} | result rows "
                f"{results[store_name]}"
            )
    print(f"load average now {os.getloadavg()}")


def query(args: argparse.Namespace) -> None:
    stores = stores_of(args)
    data = django_in_tempdir("jobcenter-bench-query-")
    print(f"measured: {describe_run()}; graph stores: {', '.join(stores)}")
    request = write_graph(data / "imports" / "q", vertices=args.vertices, edges=0)
    for store_name in stores:
        use_store(store_name)
        print(f"{store_name} store:")
        query_one(data, f"q-{store_name}", request)


def query_one(data: Path, name: str, request: dict[str, str]) -> None:
    from jobcenter.graphs.query import explain, parse_query, run_query, stored_schema
    from jobcenter.graphs.stores.factory import open_store
    from jobcenter.jobs.services import job_submit_index, job_submit_query

    graph = imported_graph(data, name, request)
    raw = {
        "labels": ["n"],
        "filters": [{"property": "v", "predicate": "range", "values": [400_000, 600_000]}],
        "sort": [{"property": "v", "order": "asc"}],
        "limit": 100,
    }

    def first_page() -> tuple[float, str]:
        store = open_store(graph)
        spec = parse_query(raw, stored_schema(store), max_limit=1_000_000)
        times = []
        for _ in range(5):
            started = time.perf_counter()
            rows = next(iter(run_query(store, spec, chunk=100)))
            times.append(time.perf_counter() - started)
        assert len(rows) == 100
        plan = explain(store, spec)
        store.close()
        return statistics.median(times), plan

    before, plan = first_page()
    print(f"first page without index: {before * 1000:.1f} ms ({plan!r})")
    elapsed, _ = run_job(job_submit_index(graph=graph, label="n", property="v"))
    print(f"index job: {elapsed:.2f}s")
    after, plan = first_page()
    print(f"first page with index: {after * 1000:.2f} ms ({plan!r})")
    elapsed, _job = run_job(job_submit_query(graph=graph, query=raw))
    print(f"query job with index (claim to finish, 100 rows): {elapsed * 1000:.1f} ms")


def query_memory_child(vertices: int, data_dir: str | None) -> None:
    """Phase 1 (no ``data_dir``): import a graph in a fresh data dir, print the dir. Phase 2:
    in a new process on that dir, the query job alone, with the peak RSS before and after."""
    if data_dir is None:
        data = django_in_tempdir("jobcenter-bench-qmem-")
        request = write_graph(data / "imports" / "m", vertices=vertices, edges=0)
        graph = imported_graph(data, "m", request)
        print(f"DATA {data} {graph.pk}")
        return
    os.environ["JOBCENTER_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "jobcenter.settings"
    sys.path.insert(0, str(REPO))
    import django

    django.setup()
    import gc

    from jobcenter.graphs.models import Graph
    from jobcenter.jobs import kinds  # noqa: F401 (everything a worker loads)
    from jobcenter.jobs.services import job_submit_query

    graph = Graph.objects.get(name="m")
    raw = {
        "labels": ["n"],
        "filters": [{"property": "v", "predicate": ">=", "values": [0]}],
        "sort": [{"property": "id", "order": "asc"}],
    }
    gc.collect()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    elapsed, job = run_job(job_submit_query(graph=graph, query=raw))
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"RESULT vertices={vertices} rows={job.result['total']} seconds={elapsed:.1f} "
        f"peak_rss_before_query_kb={before} peak_rss_after_query_kb={after} "
        f"growth_kb={after - before}"
    )


def query_memory(args: argparse.Namespace) -> None:
    for n in (250_000, 1_000_000, 3_000_000):
        command = [sys.executable, __file__, "query-memory-child", "--vertices", str(n)]
        out = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=True)
        data = next(x for x in out.stdout.splitlines() if x.startswith("DATA")).split()[1]
        out = subprocess.run(
            [*command, "--data", data], capture_output=True, text=True, cwd=REPO, check=True
        )
        print(next(line for line in out.stdout.splitlines() if line.startswith("RESULT")))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "mode", choices=["algorithms", "query", "query-memory", "query-memory-child"]
    )
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--vertices", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--store",
        choices=["sqlite", "postgresql", "both"],
        default="sqlite",
        help="the graph store (algorithms, query); both: each in the same run, rounds alternating",
    )
    parser.add_argument("--data", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.mode == "algorithms":
        args.vertices = args.vertices or 200_000
        algorithms(args)
    elif args.mode == "query":
        args.vertices = args.vertices or 1_000_000
        query(args)
    elif args.mode == "query-memory":
        query_memory(args)
    else:
        query_memory_child(args.vertices, args.data)


if __name__ == "__main__":
    main()
