"""Peak memory of a real worker importing a 1 GB edge file (and a 100 MB one, for the slope).

A real ``manage.py db_worker`` process runs each import as a job; its peak resident set
(``VmHWM`` in /proc/<pid>/status) is read when the job has ended, next to the worker's peak
before any import (Django, the task engine, an idle worker). The vertex set is the same for
both sizes (``--vertices``, default 1,000,000: the in-memory key index at its default cap),
so any growth between the two files would be memory that grows with file size.
Target (issue 2): at most 300 MB for the 1 GB file.

Run: .venv/bin/python benchmarks/import_memory.py [--gigabytes 1.0] [--vertices 1000000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import REPO, django_in_tempdir


def write_files(directory: Path, *, vertices: int, edge_bytes: int) -> dict[str, str]:
    directory.mkdir(parents=True, exist_ok=True)
    schema = directory / "schema.xml"
    schema.write_text(
        '<?xml version="1.0"?><PMML version="3.0"><labels>'
        '<label name="n"><properties><property name="v" cardinality="single" dataType="int"/>'
        "</properties></label>"
        '<label name="e"><properties><property name="w" cardinality="single" dataType="double"/>'
        '<property name="note" cardinality="single" dataType="string"/>'
        "</properties></label></labels></PMML>"
    )
    vfile = directory / "vertices.csv"
    with vfile.open("w") as fh:
        fh.writelines(f"v{i},n,{i}\n" for i in range(vertices))
    efile = directory / "edges.csv"
    written, i = 0, 0
    with efile.open("w") as fh:
        while written < edge_bytes:
            chunk = "".join(
                f"v{j % vertices},v{(j * 7919 + 1) % vertices},e,{j % 100}.5,edge number {j}\n"
                for j in range(i, i + 100_000)
            )
            fh.write(chunk)
            written += len(chunk)
            i += 100_000
    return {"schema_path": str(schema), "vertexset_path": str(vfile), "edgeset_path": str(efile)}


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--gigabytes", type=float, default=1.0)
    parser.add_argument("--vertices", type=int, default=1_000_000)
    args = parser.parse_args()
    data = django_in_tempdir("jobcenter-memory-")
    from jobcenter.graphs.services import graph_create
    from jobcenter.jobs.models import Job
    from jobcenter.jobs.services import job_submit_import
    from jobcenter.projects.services import project_create

    project = project_create(name="bench")
    sizes = [("100 MB", 100 * 1024**2), (f"{args.gigabytes:g} GB", int(args.gigabytes * 1024**3))]
    for label, size in sizes:
        files = write_files(
            data / "imports" / label.replace(" ", ""), vertices=args.vertices, edge_bytes=size
        )
        actual = os.path.getsize(files["edgeset_path"])
        worker = subprocess.Popen(
            [sys.executable, str(REPO / "manage.py"), "db_worker", "--no-reload",
             "--interval", "0.1", "--no-startup-delay"],
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            time.sleep(3)
            idle = peak_rss_mb(worker.pid)
            graph = graph_create(project=project, name=label, dialect="ges")
            job = job_submit_import(graph=graph, params={"format": "ges", "request": files})
            started = time.perf_counter()
            while Job.objects.get(pk=job.pk).status in ("waiting", "running"):
                time.sleep(0.5)
            elapsed = time.perf_counter() - started
            peak = peak_rss_mb(worker.pid)
            job.refresh_from_db()
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        print(
            f"{label} edge file ({actual / 1024**2:,.0f} MiB, {job.lines_total:,} lines, "
            f"{args.vertices:,} vertices): {job.status} in {elapsed:.0f}s "
            f"({job.lines_total / elapsed:,.0f} lines/s); worker peak RSS {peak:.0f} MB "
            f"(idle worker {idle:.0f} MB)",
            flush=True,
        )
        assert job.status == "succeeded", job.fail_reason
    print("target: peak of the 1 GB import at most 300 MB")


if __name__ == "__main__":
    main()
