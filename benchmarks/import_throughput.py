"""Import throughput: our loader against a bare csv + sqlite3.executemany loader, same files.

A generated GES graph (``--edges`` edge lines plus ``--vertices`` vertex lines) is imported,
alternately, by

- the bare baseline: ``csv.reader`` rows straight into two SQLite tables with
  ``executemany`` in one transaction; no validation, no ids, no accounting;
- jobcenter's loader (``run_import``): every line parsed and validated against the schema
  (types, labels, column counts), endpoints and duplicate ids checked, rows stored in the
  graph store, every file counted, one transaction committed with its summary.

Both write to a fresh SQLite file on the same disk. Rounds alternate so that machine noise
hits both alike; medians are compared. Targets (issue 2): at least 300,000 lines/s, and at
least half the bare loader's speed.

Run: .venv/bin/python benchmarks/import_throughput.py [--edges 1000000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import csv
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import REPO

from tests.factories.files import write_ges_files

sys.path.insert(0, str(REPO))


def bare_load(files: dict[str, str], target: Path) -> float:
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE vertex (id, label, p0)")
    conn.execute("CREATE TABLE edge (src, dst, label, p0)")
    started = time.perf_counter()
    conn.execute("BEGIN")
    with open(files["vertexset_path"], newline="") as handle:
        conn.executemany("INSERT INTO vertex VALUES (?, ?, ?)", csv.reader(handle))
    with open(files["edgeset_path"], newline="") as handle:
        conn.executemany("INSERT INTO edge VALUES (?, ?, ?, ?)", csv.reader(handle))
    conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed


def our_load(files: dict[str, str], target: Path, root: Path, job_id: str) -> tuple[float, int]:
    from jobcenter.core.paths import RootedResolver
    from jobcenter.graphs.formats.ges import build_import_plan
    from jobcenter.graphs.loader import run_import
    from jobcenter.graphs.plan import ImportProgress
    from jobcenter.graphs.store import GraphStore

    plan = build_import_plan(files, existing=None, resolve=RootedResolver([root]))
    progress = ImportProgress.for_plan(plan)
    store = GraphStore(target)
    started = time.perf_counter()
    summary = run_import(plan, store, job_id=job_id, progress=progress, commit_gate=lambda s: True)
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed, summary.lines_failed


def main() -> None:
    import django
    from django.conf import settings

    settings.configure()  # RootedResolver reads no settings when given its roots
    django.setup()
    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--vertices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="jobcenter-throughput-"))
    files = write_ges_files(root / "graph", vertices=args.vertices, edges=args.edges)
    lines = args.vertices + args.edges
    bare_times, our_times = [], []
    for round_no in range(args.rounds):
        bare_times.append(bare_load(files, root / f"bare{round_no}.sqlite3"))
        elapsed, failed = our_load(files, root / f"ours{round_no}.sqlite3", root, f"r{round_no}")
        assert failed == 0, f"{failed} lines failed"
        our_times.append(elapsed)
        print(
            f"round {round_no + 1}: bare {bare_times[-1]:.2f}s, jobcenter {our_times[-1]:.2f}s, "
            f"ratio {bare_times[-1] / our_times[-1]:.2f}",
            flush=True,
        )
        for path in root.glob("*.sqlite3*"):
            path.unlink()
    bare, ours = statistics.median(bare_times), statistics.median(our_times)
    ratio = statistics.median(b / o for b, o in zip(bare_times, our_times, strict=True))
    print(f"\nlines per import: {lines:,} ({args.edges:,} edges, {args.vertices:,} vertices)")
    print(f"bare csv+executemany  median {bare:.2f}s  {lines / bare:>10,.0f} lines/s")
    print(f"jobcenter loader      median {ours:.2f}s  {lines / ours:>10,.0f} lines/s")
    print(f"speed relative to the bare loader (median of rounds): {ratio:.2f}  (target >= 0.50)")
    print(f"throughput target 300,000 lines/s: {'met' if lines / ours >= 300_000 else 'NOT met'}")


if __name__ == "__main__":
    main()
