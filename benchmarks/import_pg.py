"""Import into the PostgreSQL graph store against a bare COPY of the same files.

One generated GES graph (``--vertices`` vertex lines, ``--edges`` edge lines, every line valid),
on a PostgreSQL server (``--url``, else a throwaway one started as the test suite does: fsync
off). Sides, alternating their order over ``--rounds`` rounds, each in the same process:

- ``bare``: ``COPY ... FROM STDIN (FORMAT csv)`` of the two files' bytes into two untyped
  tables (text columns) in one transaction: no validation, no ids, no accounting;
- ``jobcenter``: ``run_import`` into a ``PostgresStore`` (every field converted and checked,
  endpoints resolved, every line counted, the batches written with COPY, one transaction
  committed with its summary).

Targets (issue 15): jobcenter >= 0.5x bare and >= 300,000 lines/s.

Run: .venv/bin/python benchmarks/import_pg.py [--edges 1000000] [--rounds 3] [--url URL]
"""

from __future__ import annotations

import argparse
import atexit
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import REPO, import_files

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
sys.path.insert(0, str(REPO))


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def bare(url: str, files: dict[str, str]) -> None:
    import psycopg

    schema = f"bare_{uuid.uuid4().hex}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
        conn.execute(f"CREATE TABLE {schema}.vertex (id text, label text, p0 text)")
        conn.execute(f"CREATE TABLE {schema}.edge (src text, dst text, label text, p0 text)")
        sources = (("vertex", files["vertexset_path"]), ("edge", files["edgeset_path"]))
        with conn.transaction():
            for table, path in sources:
                statement = f"COPY {schema}.{table} FROM STDIN (FORMAT csv)"
                with conn.cursor().copy(statement) as copy, open(path, "rb") as handle:
                    while block := handle.read(1 << 20):
                        copy.write(block)
        conn.execute(f"DROP SCHEMA {schema} CASCADE")


def ours(url: str, files: dict[str, str], root: Path) -> int:
    from jobcenter.graphs.stores.postgresql import PostgresStore

    location = (url, f"g_{uuid.uuid4().hex}")
    store = PostgresStore.open(location, create=True)
    try:
        summary, _ = import_files(files, store, root)
        loaded = sum(n for kind in store.counts().values() for n in kind.values())
    finally:
        store.close()
        PostgresStore.delete(location)
    if summary.lines_failed or loaded != summary.lines_total:
        raise SystemExit(f"the import stored {loaded} of {summary.lines_total} lines")
    return summary.lines_total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--vertices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--url", default="")
    args = parser.parse_args()
    import django

    django.setup()
    from tests.factories.files import write_ges_files
    from tests.pgcluster import graph_store_server

    url = args.url or graph_store_server()
    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    root = Path(tempfile.mkdtemp(prefix="import-pg-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    files = write_ges_files(root / "graph", vertices=args.vertices, edges=args.edges)
    lines = args.vertices + args.edges
    times: dict[str, list[tuple[float, float]]] = {"bare": [], "jobcenter": []}
    for round_ in range(args.rounds):
        order = ["bare", "jobcenter"] if round_ % 2 == 0 else ["jobcenter", "bare"]
        said = []
        for side in order:
            wall, cpu = time.perf_counter(), cpu_seconds()
            if side == "bare":
                bare(url, files)
            else:
                ours(url, files, root)
            wall, cpu = time.perf_counter() - wall, cpu_seconds() - cpu
            times[side].append((wall, cpu))
            said.append(f"{side} {wall:.2f}s/{cpu:.2f}s cpu (this process)")
        print(f"round {round_ + 1}: " + ", ".join(said))
    print(f"\n{lines:,} lines ({args.vertices:,} vertices, {args.edges:,} edges)")
    print(f"{'side':<10} {'median wall':>12} {'median cpu':>11} {'lines/s':>10}")
    for side, measured in times.items():
        wall = statistics.median(w for w, _ in measured)
        cpu = statistics.median(c for _, c in measured)
        print(f"{side:<10} {wall:>11.2f}s {cpu:>10.2f}s {lines / wall:>10,.0f}")
    ratio = statistics.median(
        b[0] / j[0] for b, j in zip(times["bare"], times["jobcenter"], strict=True)
    )
    rate = lines / statistics.median(w for w, _ in times["jobcenter"])
    print(f"jobcenter speed relative to bare COPY: {ratio:.2f} (target >= 0.5)")
    print(f"jobcenter lines/s: {rate:,.0f} (target >= 300,000)")


if __name__ == "__main__":
    main()
