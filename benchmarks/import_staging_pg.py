"""The PostgreSQL store's import: one transaction writing into the graph's tables (what the
store does) against a staging table swapped in at commit (issue 15: "measure which").

The staging variant is a prototype of this script only (the store is not changed). Both
sides write the same rows, the ones a real import wrote: a generated GES graph (``--vertices``,
``--edges``; tests/factories/files.py ``write_ges_files``) is imported once through the import
service (``job_submit_import``, run in this process by ``runner.execute_job``) into a
PostgreSQL store, and its vertex and edge rows are read back as ``COPY`` text (the edges without
their generated id). Every table a side writes has the store's own layout, indexes and
constraints (``CREATE TABLE ... (LIKE <the store's table> INCLUDING ALL)``). Sides, each in one
transaction on a connection of its own, rounds alternating their order:

- ``direct`` (what is built): ``COPY`` into the graph's existing tables, their indexes kept up
  row by row;
- ``staging``: new tables created in the transaction (in a schema of their own; with
  ``wal_level=minimal`` their writes skip the WAL, the files are synced at commit), ``COPY``
  into them, the existing rows copied in first when the graph has some (the swap replaces the
  whole table), the indexes and constraints built afterwards, then the old table dropped and
  the new one moved in (``ALTER TABLE ... SET SCHEMA``), all before ``COMMIT``.

Two cases: ``empty`` (a first import: vertices and edges into an empty graph) and ``holds``
(an import of ``--edges`` more edges into a graph that already holds the whole generated
graph). Each on two servers started by this script: ``wal_level=minimal`` (``max_wal_senders
=0``: no replica can follow it) and ``replica`` (the default, what replicas and point-in-time
recovery need). PostgreSQL's defaults otherwise (fsync and synchronous commit on; ``--fast``
turns them off). A ``CHECKPOINT`` before each side. Printed per side: wall time, the server
backend's CPU, WAL written; and in the ``holds`` case what a reader whose ``REPEATABLE READ``
snapshot was taken before the import (and that had not read the edges yet) counts afterwards.

Run:
  .venv/bin/python benchmarks/import_staging_pg.py [--edges 1000000] [--rounds 3] [--fast]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pg import cpu_seconds, throwaway_server
from _setup import describe_run, django_in_tempdir

TARGET, STAGE = "bench_target", "bench_stage"


def columns(conn, table: str, *, generated: bool = True) -> list[str]:
    """The table's columns in order (without identity columns unless ``generated``)."""
    rows = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
        "AND NOT attisdropped AND (%s OR attidentity = '') ORDER BY attnum",
        (table, generated),
    ).fetchall()
    return [r[0] for r in rows]


def dump(conn, statement: str) -> bytes:
    with conn.cursor().copy(statement) as copy:
        return b"".join(bytes(block) for block in copy)


def load(conn, table: str, cols: list[str], payload: bytes) -> None:
    with conn.cursor().copy(f"COPY {table}({', '.join(cols)}) FROM STDIN") as copy:
        for start in range(0, len(payload), 1 << 20):
            copy.write(payload[start : start + (1 << 20)])


def sync_identity(conn, table: str) -> None:
    """Set the identity sequences of ``table`` past the ids it holds."""
    for col in columns(conn, table):
        seq = conn.execute("SELECT pg_get_serial_sequence(%s, %s)", (table, col)).fetchone()[0]
        if seq:
            conn.execute(f"SELECT setval('{seq}', coalesce((SELECT max({col}) FROM {table}), 1))")  # noqa: S608


class Server:
    """One throwaway server holding the real import's graph (``source``) and the target."""

    def __init__(self, wal_level: str, fast: bool) -> None:
        import psycopg

        extra = {"wal_level": wal_level}
        if wal_level == "minimal":
            extra["max_wal_senders"] = "0"
        self.wal_level = wal_level
        self.pg = throwaway_server(durable=not fast, **extra)
        self.pg.create_database("graphs")
        self.url = self.pg.url("graphs")
        self.admin = psycopg.connect(self.url, autocommit=True)

    def import_graph(self, files: dict[str, str], name: str) -> float:
        """The real import, through the service, into a store on this server; its seconds."""
        from django.conf import settings

        from jobcenter.graphs.services import graph_create
        from jobcenter.jobs.models import Job
        from jobcenter.jobs.runner import execute_job
        from jobcenter.jobs.services import job_submit_import
        from jobcenter.projects.models import Project
        from jobcenter.projects.services import project_create

        settings.JOBCENTER_GRAPH_STORE = "postgresql"
        settings.JOBCENTER_GRAPH_STORE_URL = self.url
        project = Project.objects.filter(name="bench").first() or project_create(name="bench")
        graph = graph_create(project=project, name=name, dialect="ges")
        job = job_submit_import(graph=graph, params={"format": "ges", "request": files})
        started = time.perf_counter()
        execute_job(job_id=job.pk)
        elapsed = time.perf_counter() - started
        job = Job.objects.get(pk=job.pk)
        assert job.status == "succeeded", job.fail_reason
        (self.source,) = self.admin.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'edge' "
            "AND table_schema NOT IN (%s, %s)",
            (TARGET, STAGE),
        ).fetchone()
        self.tables = [
            r[0]
            for r in self.admin.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
                "ORDER BY table_name",
                (self.source,),
            )
        ]
        src = self.source
        self.vcols = columns(self.admin, f"{src}.vertex")
        self.ecols = columns(self.admin, f"{src}.edge", generated=False)
        vcols, ecols = ", ".join(self.vcols), ", ".join(self.ecols)
        eorder = ", ".join(c for c in columns(self.admin, f"{src}.edge") if c not in self.ecols)
        vselect = f"SELECT {vcols} FROM {src}.vertex ORDER BY 1"  # noqa: S608
        eselect = f"SELECT {ecols} FROM {src}.edge ORDER BY {eorder or 1}"  # noqa: S608
        self.vertices = dump(self.admin, f"COPY ({vselect}) TO STDOUT")
        self.edges = dump(self.admin, f"COPY ({eselect}) TO STDOUT")
        return elapsed

    def prepare(self, case: str) -> None:
        """The target graph, committed: the store's tables, empty or holding the source's rows."""
        a, src = self.admin, self.source
        a.execute(f"DROP SCHEMA IF EXISTS {TARGET} CASCADE")
        a.execute(f"DROP SCHEMA IF EXISTS {STAGE} CASCADE")
        a.execute(f"CREATE SCHEMA {TARGET}")
        for table in self.tables:
            a.execute(f"CREATE TABLE {TARGET}.{table} (LIKE {src}.{table} INCLUDING ALL)")
            if case == "holds":
                a.execute(
                    f"INSERT INTO {TARGET}.{table} OVERRIDING SYSTEM VALUE "  # noqa: S608
                    f"SELECT * FROM {src}.{table}"
                )
                sync_identity(a, f"{TARGET}.{table}")
        a.execute(f"VACUUM ANALYZE {', '.join(f'{TARGET}.{t}' for t in self.tables)}")
        a.execute("CHECKPOINT")

    def payload(self, case: str) -> list[tuple[str, list[str], bytes]]:
        edges = ("edge", self.ecols, self.edges)
        return [edges] if case == "holds" else [("vertex", self.vcols, self.vertices), edges]

    def wal(self) -> int:
        return int(self.admin.execute("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0])

    def run(self, side: str, case: str) -> dict[str, float]:
        import psycopg

        reader = None
        if case == "holds":  # a reader's snapshot, taken before the import; no edge read yet
            reader = psycopg.connect(self.url)
            reader.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            reader.execute("SELECT 1").fetchone()
        with psycopg.connect(self.url, autocommit=True) as conn:
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            wal, cpu = self.wal(), cpu_seconds(backend)
            started = time.perf_counter()
            with conn.transaction():
                for table, cols, data in self.payload(case):
                    if side == "direct":
                        load(conn, f"{TARGET}.{table}", cols, data)
                    else:
                        self.swap_in(conn, table, cols, data, merge=case == "holds")
                committing = time.perf_counter()
            done = time.perf_counter()
            result = {
                "wall": done - started,
                "commit": done - committing,
                "cpu": cpu_seconds(backend) - cpu,
                "wal": self.wal() - wal,
            }
        counts = {
            t: self.admin.execute(f"SELECT count(*) FROM {TARGET}.{t}").fetchone()[0]  # noqa: S608
            for t in ("vertex", "edge")
        }
        result["rows"] = counts["vertex"] + counts["edge"]
        if reader is not None:
            result["reader"] = reader.execute(f"SELECT count(*) FROM {TARGET}.edge").fetchone()[0]  # noqa: S608
            reader.close()
        return result

    def swap_in(self, conn, table: str, cols: list[str], data: bytes, *, merge: bool) -> None:
        """The staging prototype for one table: a new table, filled, indexed, swapped in."""
        old, new = f"{TARGET}.{table}", f"{STAGE}.{table}"
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {STAGE}")
        conn.execute(
            f"CREATE TABLE {new} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY "
            "INCLUDING GENERATED)"
        )
        if merge:
            conn.execute(f"INSERT INTO {new} OVERRIDING SYSTEM VALUE SELECT * FROM {old}")  # noqa: S608
            sync_identity(conn, new)
        load(conn, new, cols, data)
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = "
            "%s::regclass AND contype IN ('p', 'u') ORDER BY contype",
            (old,),
        ).fetchall()
        for name, definition in constraints:
            conn.execute(f"ALTER TABLE {new} ADD CONSTRAINT {name} {definition}")
        indexes = conn.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s::regclass "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)",
            (old,),
        ).fetchall()
        for (definition,) in indexes:
            conn.execute(definition.replace(f" ON {old} ", f" ON {new} ", 1))
        conn.execute(f"DROP TABLE {old}")
        conn.execute(f"ALTER TABLE {new} SET SCHEMA {TARGET}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--vertices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fast", action="store_true", help="PostgreSQL without fsync")
    parser.add_argument("--wal-levels", nargs="+", default=["minimal", "replica"])
    args = parser.parse_args()

    data = django_in_tempdir("jobcenter-bench-staging-")
    from tests.factories.files import write_ges_files

    print(f"measured: {describe_run()} (the job database; the graphs on the servers below)")
    files = write_ges_files(data / "imports" / "graph", vertices=args.vertices, edges=args.edges)
    durability = "fsync off" if args.fast else "fsync and synchronous commit on"
    print(
        f"graph: {args.vertices:,} vertices, {args.edges:,} edges; PostgreSQL {durability}; "
        f"wal_level {', '.join(args.wal_levels)}"
    )
    table: list[tuple[str, ...]] = []
    for level in args.wal_levels:
        server = Server(level, args.fast)
        seconds = server.import_graph(files, f"g-{level}")
        print(
            f"\nwal_level={level}: the real import (service, execute_job, one transaction) "
            f"{seconds:.2f}s; payload {len(server.vertices) / 1e6:.1f} MB of vertices, "
            f"{len(server.edges) / 1e6:.1f} MB of edges (COPY text)"
        )
        for case in ("empty", "holds"):
            results: dict[str, list[dict]] = {"direct": [], "staging": []}
            for round_ in range(args.rounds):
                order = ["direct", "staging"] if round_ % 2 == 0 else ["staging", "direct"]
                for side in order:
                    server.prepare(case)
                    r = server.run(side, case)
                    results[side].append(r)
                    reader = (
                        f", a reader's earlier snapshot counts {r['reader']:,} edges"
                        if ("reader" in r)
                        else ""
                    )
                    print(
                        f"  {case} round {round_ + 1} {side}: {r['wall']:.2f}s (commit "
                        f"{r['commit']:.2f}s), backend CPU {r['cpu']:.2f}s, WAL "
                        f"{r['wal'] / 1e6:.0f} MB, {r['rows']:,} rows{reader}; load "
                        f"{os.getloadavg()[0]:.2f}"
                    )
            rows = {s: {r["rows"] for r in results[s]} for s in results}
            assert rows["direct"] == rows["staging"] and len(rows["direct"]) == 1, rows
            med = {
                s: {k: statistics.median(r[k] for r in results[s]) for k in results[s][0]}
                for s in results
            }
            ratio = statistics.median(
                s["wall"] / d["wall"]
                for d, s in zip(results["direct"], results["staging"], strict=True)
            )
            for side in ("direct", "staging"):
                m = med[side]
                table.append(
                    (
                        level,
                        case,
                        side,
                        f"{m['wall']:.2f}s",
                        f"{m['commit']:.2f}s",
                        f"{m['cpu']:.2f}s",
                        f"{m['wal'] / 1e6:.0f} MB",
                        f"{m['reader']:,.0f}" if "reader" in m else "-",
                        f"{ratio:.2f}" if side == "staging" else "",
                    )
                )
    head = ("wal_level", "case", "side", "wall", "commit", "backend CPU", "WAL", "reader")
    print(f"\nmedians of {args.rounds} rounds ('x': staging wall / direct wall, per round):")
    print(" | ".join((*head, "x")))
    for row in table:
        print(" | ".join(row))
    print("load average now " + " / ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
