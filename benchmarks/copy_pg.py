"""Bare ``COPY`` into an untyped table: rows per second per stream on a PostgreSQL server.

The ceiling an import into PostgreSQL is measured against: the edge file of a generated GES
graph (tests/factories/files.py ``write_ges_files``, the files the import tests and benchmarks
use: ``src,dst,label,weight``) sent by ``COPY ... FROM STDIN (FORMAT csv)`` through psycopg in
1 MiB blocks into a table of four ``text`` columns (no types, no index, no constraint), one
transaction. One stream, then ``--streams`` at once (each its own process, connection and
table), ``--rounds`` times, alternating; the median round is printed with the CPU of each
stream's client process and of its server backend over its COPY, the time the backend was
runnable but waiting for a core, and what the backends waited on (pg_stat_activity every
20 ms): which of them is the limit.

The server is a throwaway one of the benchmark's own (PostgreSQL's defaults: fsync and
synchronous commit on; ``--fast``: off, as the test suite runs), its files in /tmp.

Run:
  .venv/bin/python benchmarks/copy_pg.py [--edges 2000000] [--streams 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _pg import cpu_seconds, sched_seconds, throwaway_server
from _setup import REPO

from tests.factories.files import write_ges_files

BLOCK = 1 << 20


def stream(url: str, table: str, path: str, barrier, results) -> None:
    """One COPY of ``path`` into ``table``; puts (rows, seconds, client CPU, backend CPU)."""
    import psycopg

    with psycopg.connect(url) as conn:
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        conn.execute(f"TRUNCATE {table}")
        conn.commit()
        barrier.wait()
        client0, server0 = time.process_time(), cpu_seconds(backend)
        queued0 = sched_seconds(backend)[1]
        started = time.perf_counter()
        with conn.cursor() as cur, open(path, "rb") as fh:
            with cur.copy(f"COPY {table} FROM STDIN (FORMAT csv)") as copy:
                while block := fh.read(BLOCK):
                    copy.write(block)
            rows = cur.rowcount
        conn.commit()
        seconds = time.perf_counter() - started
        results.put(
            (
                rows,
                seconds,
                time.process_time() - client0,
                cpu_seconds(backend) - server0,
                sched_seconds(backend)[1] - queued0,
            )
        )


class Waits(threading.Thread):
    """What the COPY backends wait on, every 20 ms (CPU when they wait on nothing)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop = url, threading.Event()
        self.seen: collections.Counter = collections.Counter()

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(0.02):
                for kind, event in conn.execute(
                    "SELECT coalesce(wait_event_type, 'CPU'), coalesce(wait_event, '') "
                    "FROM pg_stat_activity WHERE query LIKE 'COPY raw_%' AND state = 'active'"
                ):
                    self.seen[f"{kind}:{event}" if event else kind] += 1


def round_of(url: str, path: Path, streams: int, waits: Waits) -> list[tuple]:
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(streams), ctx.Queue()
    procs = [
        ctx.Process(target=stream, args=(url, f"raw_{n}", str(path), barrier, results))
        for n in range(streams)
    ]
    for proc in procs:
        proc.start()
    sampler = Waits(url)
    sampler.start()
    found = [results.get(timeout=1800) for _ in procs]
    sampler.stop.set()
    sampler.join()
    waits.seen.update(sampler.seen)
    for proc in procs:
        proc.join()
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vertices", type=int, default=200_000)
    parser.add_argument("--edges", type=int, default=2_000_000)
    parser.add_argument("--streams", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--fast", action="store_true", help="PostgreSQL without fsync")
    args = parser.parse_args()

    import subprocess

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "--", "."], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    pg = throwaway_server(durable=not args.fast)
    import psycopg

    with psycopg.connect(pg.url(), autocommit=True) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]
        for n in range(args.streams):
            conn.execute(f"CREATE TABLE raw_{n} (c0 text, c1 text, c2 text, c3 text)")
    data = Path(tempfile.mkdtemp(prefix="jobcenter-bench-copy-"))
    path = Path(write_ges_files(data, vertices=args.vertices, edges=args.edges)["edgeset_path"])
    size = path.stat().st_size
    load = " / ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"measured: commit {commit}{' (with uncommitted changes)' if dirty else ''}, PostgreSQL "
        f"{version}{' (fsync off)' if args.fast else ' (fsync and synchronous commit on)'}, "
        f"{os.cpu_count()} cores, load average {load}"
    )
    print(f"file: {args.edges:,} lines, {size / 1e6:.0f} MB (4 columns); {args.rounds} rounds")

    alone, together = [], []
    waits_alone, waits_together = Waits(""), Waits("")
    for _ in range(args.rounds):
        alone.append(round_of(pg.url(), path, 1, waits_alone))
        together.append(round_of(pg.url(), path, args.streams, waits_together))

    def show(name: str, rounds: list[list[tuple]], waits: Waits) -> float:
        # the round whose slowest stream is the median
        rounds = sorted(rounds, key=lambda r: max(s[1] for s in r))
        median = rounds[len(rounds) // 2]
        rows = sum(s[0] for s in median)
        assert all(s[0] == args.edges for s in median), median
        wall = max(s[1] for s in median)
        per = [s[0] / s[1] for s in median]
        megabytes = size * len(median) / wall / 1e6
        print(
            f"{name}: {rows / wall:,.0f} rows/s in all ({megabytes:.0f} MB/s); per stream "
            + ", ".join(f"{p:,.0f}" for p in per)
            + " rows/s; CPU per stream (share of its COPY's time): client "
            + ", ".join(f"{s[2] / s[1] * 100:.0f}%" for s in median)
            + ", server backend "
            + ", ".join(f"{s[3] / s[1] * 100:.0f}%" for s in median)
            + " (and runnable, waiting for a core: "
            + ", ".join(f"{s[4] / s[1] * 100:.0f}%" for s in median)
            + ")"
            + " (all rounds' slowest stream: "
            + ", ".join(f"{max(s[1] for s in r):.2f}s" for r in rounds)
            + ")"
        )
        total = sum(waits.seen.values()) or 1
        print(
            "  the COPY backends, sampled every 20 ms (all rounds): "
            + ", ".join(f"{k} {v / total * 100:.0f}%" for k, v in waits.seen.most_common(5))
        )
        return statistics.median(per)

    one = show("1 stream", alone, waits_alone)
    several = show(f"{args.streams} streams at once", together, waits_together)
    print(f"per stream, {args.streams} at once vs alone: {several / one:.2f}x")


if __name__ == "__main__":
    main()
