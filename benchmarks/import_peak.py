"""Peak memory of the import alone: ``run_import`` in this fresh process, VmHWM after it.

The files are those of ``benchmarks/import_memory.py`` (``--vertices`` vertex lines, then an
edge file of ``--megabytes``); that script measures a real worker, which after an import also
loads the graph into memory; this one measures the loader on its own (issue 14: the import's
peak at most 300 MB on the 1 GB edge file).

Run: .venv/bin/python benchmarks/import_peak.py --megabytes 1024 [--vertices 1000000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import REPO, import_files
from import_memory import write_files

sys.path.insert(0, str(REPO))


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=float, default=1024)
    parser.add_argument("--vertices", type=int, default=1_000_000)
    args = parser.parse_args()
    import django
    from django.conf import settings

    settings.configure()  # RootedResolver reads no settings when given its roots
    django.setup()
    import jobcenter.graphs.loader  # noqa: F401 (imported before the peak is read)
    from jobcenter.graphs.stores.sqlite import SqliteStore

    root = Path(tempfile.mkdtemp(prefix="jobcenter-peak-"))
    try:
        size = int(args.megabytes * 1024**2)
        files = write_files(root, vertices=args.vertices, edge_bytes=size)
        before = peak_mb()
        store = SqliteStore(root / "graph.sqlite3")
        wall, cpu = time.perf_counter(), time.process_time()
        summary, _ = import_files(files, store, root)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        store.close()
        print(
            f"{args.megabytes:g} MiB edge file, {args.vertices:,} vertices: "
            f"{summary.lines_total:,} lines ({summary.lines_failed} failed) in {wall:.0f}s, "
            f"{cpu:.0f}s CPU; peak RSS {peak_mb():.0f} MB (before the import {before:.0f} MB)"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("target: peak of the 1 GB import at most 300 MB")


if __name__ == "__main__":
    main()
