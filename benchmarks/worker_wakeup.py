"""How fast an idle worker starts a new job, and a pagerank job end to end against igraph's call.

A real ``manage.py db_worker`` process (the default poll interval of 1 s, as ``make run`` starts
it) imports a generated graph (``--vertices``, ``--edges``) and then holds it in memory, as
after every import. Then, rounds alternating, in the same run:

- baseline: ``Graph.pagerank()`` of python-igraph on the same graph in this process (built from
  the store's arrays before timing);
- job: a pagerank job submitted to the idle worker through the service every face calls. Its
  start delay is the job's ``started_at - created_at`` (the worker's claim, both stamped by the
  database's clients on this machine); end to end is from just before the submit call to the
  moment this process sees the job finished (polled every 2 ms), and ``finished_at -
  created_at`` as the rows say. The worker's CPU per job (user + sys, its children's
  included) is read once the child that computed has been collected (a child's CPU time is
  its parent's only then; read as soon as the job is seen finished, a round missed it when
  the child was still exiting).

``--store sqlite|postgresql``: the graph store of the worker and of this process (through
``jobcenter.graphs.stores.factory``); ``postgresql`` puts the graphs on the job database's server
(``--database postgres``), else on a throwaway server (fsync off, as tests/pgcluster.py starts).

Also: the worker's CPU time while idle for ``--idle`` seconds (what watching for new tasks costs).

Run:
  .venv/bin/python benchmarks/worker_wakeup.py [--database postgres] [--store postgresql]
      [--rounds 11]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import describe_run, django_in_tempdir, start_worker, stop_workers, worker_env


def cpu_seconds(pid: int) -> float:
    """CPU time (user + sys) of process ``pid`` and of its children that have ended (a job
    computed in a forked child counts)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def children_of(pid: int) -> set[int]:
    """The processes whose parent is ``pid`` (those ended but not yet collected included)."""
    found = set()
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:  # ended meanwhile
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def wait_terminal(job_id: str, timeout: float = 600) -> object:
    from jobcenter.jobs.choices import TERMINAL_STATUSES
    from jobcenter.jobs.models import Job

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.only("status").get(pk=job_id)
        if job.status in TERMINAL_STATUSES:
            return Job.objects.get(pk=job_id)
        time.sleep(0.002)
    raise SystemExit(f"job {job_id} did not end in {timeout}s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--vertices", type=int, default=200_000)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--idle", type=float, default=10.0)
    args = parser.parse_args()

    os.environ["JOBCENTER_GRAPH_STORE"] = args.store  # this process's and the worker's
    if args.store == "postgresql" and args.database == "sqlite":
        from tests.pgcluster import graph_store_server

        os.environ["JOBCENTER_GRAPH_STORE_URL"] = graph_store_server()
    data = django_in_tempdir("jobcenter-bench-wakeup-", args.database)
    from analytics import write_graph

    # First: it configures OpenMP for forked computations before igraph loads (as a worker).
    from jobcenter.graphs import compute  # noqa: F401  # isort: skip

    from jobcenter.graphs.build import build_graph
    from jobcenter.graphs.services import graph_create
    from jobcenter.graphs.stores.factory import open_store
    from jobcenter.jobs.services import job_submit_algorithm, job_submit_import
    from jobcenter.projects.services import project_create

    print(f"measured: {describe_run()}; graph store {args.store}")
    worker = start_worker("--queue-name", "*", env=worker_env(), log=data / "worker.log")
    try:
        request = write_graph(data / "imports" / "g", vertices=args.vertices, edges=args.edges)
        project = project_create(name="bench")
        graph = graph_create(project=project, name="g", dialect="ges")
        started = time.perf_counter()
        imported = wait_terminal(
            job_submit_import(graph=graph, params={"format": "ges", "request": request}).pk
        )
        assert imported.status == "succeeded", imported.fail_reason
        print(
            f"import by the worker (and its load of the graph): "
            f"{time.perf_counter() - started:.1f}s"
        )
        graph.refresh_from_db()
        store = open_store(graph)
        g, _ = build_graph(store)
        store.close()
        print(f"graph: {g.vcount():,} vertices, {g.ecount():,} edges")

        time.sleep(2)
        before = cpu_seconds(worker.pid)
        time.sleep(args.idle)
        idle_cpu = cpu_seconds(worker.pid) - before
        print(
            f"idle worker: {idle_cpu * 1000:.0f} ms of CPU in {args.idle:.0f}s "
            f"({idle_cpu / args.idle * 100:.2f}% of a core)"
        )

        library, start_delay, end_to_end, by_rows, worker_cpu, cpu_library = [], [], [], [], [], []
        uncounted = 0  # rounds whose computing child was not collected within 2 s
        for round_ in range(args.rounds):
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            g.pagerank(damping=0.85)
            library.append(time.perf_counter() - t0)
            cpu_library.append(time.process_time() - cpu0)
            time.sleep(0.5)  # the worker is idle, waiting
            waiting = children_of(worker.pid)  # the standby child, forked ahead
            w0 = cpu_seconds(worker.pid)
            t0 = time.perf_counter()
            job = job_submit_algorithm(graph=graph, algorithm="pagerank")
            job = wait_terminal(job.pk)
            elapsed = time.perf_counter() - t0
            assert job.status == "succeeded", job.fail_reason
            assert job.result["graph_loaded_from"] == "memory", job.result
            # The child that computed sends its result and then exits; the worker collects it
            # meanwhile, and only then is its CPU time the worker's: read after that.
            deadline = time.monotonic() + 2
            while children_of(worker.pid) & waiting and time.monotonic() < deadline:
                time.sleep(0.005)
            if children_of(worker.pid) & waiting:
                uncounted += 1
            worker_cpu.append(cpu_seconds(worker.pid) - w0)
            end_to_end.append(elapsed)
            start_delay.append((job.started_at - job.created_at).total_seconds())
            by_rows.append((job.finished_at - job.created_at).total_seconds())
            print(
                f"  round {round_ + 1}: igraph {library[-1] * 1000:.0f} ms | job: started after "
                f"{start_delay[-1] * 1000:.1f} ms, end to end {elapsed * 1000:.0f} ms "
                f"(rows: {by_rows[-1] * 1000:.0f} ms), worker CPU {worker_cpu[-1] * 1000:.0f} ms"
            )
        base = statistics.median(library)

        def ms(values: list[float]) -> str:
            return f"{statistics.median(values) * 1000:.1f} ms"

        print(
            f"start delay (submit to claim): median {ms(start_delay)}, max "
            f"{max(start_delay) * 1000:.1f} ms (target <= 100 ms median)"
        )
        print(f"igraph pagerank in memory: median {ms(library)} (CPU {ms(cpu_library)})")
        print(
            f"pagerank job end to end: median {ms(end_to_end)} = "
            f"{statistics.median(end_to_end) / base:.2f}x igraph (target <= 1.3x); "
            f"by the job's rows {ms(by_rows)} = {statistics.median(by_rows) / base:.2f}x; "
            f"worker CPU per job (its children included) {ms(worker_cpu)} = "
            f"{statistics.median(worker_cpu) / statistics.median(cpu_library):.2f}x igraph's CPU"
            + (f" ({uncounted} rounds without their child's CPU)" if uncounted else "")
        )
    finally:
        stop_workers([worker])


if __name__ == "__main__":
    main()
