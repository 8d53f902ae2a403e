"""What the PostgreSQL server spends per row of an import, by table layout: the part of the
ceiling on ``import_pg.py``'s ratio that no client can change.

The rows of ``import_pg.py``'s graph (1,000,000 edges ``eid, label, src, dst, weight`` and
100,000 vertices ``vid, scope, key, label, value``), made once in memory, then sent by
``COPY ... FROM STDIN`` in 1 MiB blocks into a new table in one transaction, layout after
layout, ``--rounds`` times, alternating; printed: the median of the server backend's CPU
(``/proc/<pid>/stat``; the client only writes bytes) and of the wall time.

Edge layouts: the bare COPY's (four ``text`` columns of the file's fields, no key), the
store's (typed ids, the weight as ``jsonb``, CSV), the same with the weight ``float8``, and
both again in COPY's binary format; then the primary key on ``eid`` built after the rows.
Vertex layouts: no index; the unique key kept up row by row, ``(scope, key)`` in the
database's collation (the store before ba9e0dd) and ``(key, scope)`` in ``COLLATE "C"`` (since);
the same keys built after the rows; the primary key on ``vid``. Then ``ANALYZE`` of the loaded
edge table (what a growing write runs before its commit).

The server is a throwaway one started as the test suite starts one (fsync off).

Run: .venv/bin/python benchmarks/store_layout_pg.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import REPO

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
sys.path.insert(0, str(REPO))

EDGES, VERTICES = 1_000_000, 100_000
BLOCK = 1 << 20
TICK = os.sysconf("SC_CLK_TCK")
C = ' COLLATE "C"'


def backend_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def csv_lines(rows) -> bytes:
    return "".join(",".join(map(str, row)) + "\n" for row in rows).encode()


def binary_rows(rows, *, jsonb: bool) -> bytes:
    """COPY's binary format: eid, label, src, dst as int8/text/int8/int8, then the weight."""
    out = io.BytesIO()
    out.write(b"PGCOPY\n\xff\r\n\0" + struct.pack("!ii", 0, 0))
    head = struct.Struct("!hiqi1siqiq")
    for eid, label, src, dst, weight in rows:
        out.write(head.pack(5, 8, eid, 1, label.encode(), 8, src, 8, dst))
        if jsonb:
            text = repr(weight).encode()
            out.write(struct.pack("!ib", len(text) + 1, 1) + text)
        else:
            out.write(struct.pack("!id", 8, weight))
    out.write(struct.pack("!h", -1))
    return out.getvalue()


def cases() -> dict[str, tuple[str, str, bytes, list[str]]]:
    """name: (columns, COPY format, data, statements after the COPY)."""
    edges = [
        (i + 1, "e", i % VERTICES, (i * 7919 + 1) % VERTICES, (i % 100) + 0.5) for i in range(EDGES)
    ]
    bare = csv_lines((f"v{s}", f"v{d}", label, w) for _, label, s, d, w in edges)
    typed = csv_lines(edges)
    edge_cols = "(eid bigint, label text, src bigint, dst bigint, p0 {})"
    vertices = csv_lines((i, "n", f"v{i}", "n", i) for i in range(VERTICES))
    vertex_cols = (
        "(vid bigint, scope text{c} NOT NULL, key text{c} NOT NULL, label text, p0 jsonb{u})"
    )
    return {
        "edges: bare (4 text, csv)": ("(a text, b text, c text, d text)", "csv", bare, []),
        "edges: store (jsonb, csv)": (edge_cols.format("jsonb"), "csv", typed, []),
        "edges: float8, csv": (edge_cols.format("float8"), "csv", typed, []),
        "edges: jsonb, binary": (
            edge_cols.format("jsonb"),
            "binary",
            binary_rows(edges, jsonb=True),
            [],
        ),
        "edges: float8, binary": (
            edge_cols.format("float8"),
            "binary",
            binary_rows(edges, jsonb=False),
            [],
        ),
        "edges: store + primary key after": (
            edge_cols.format("jsonb"),
            "csv",
            typed,
            ["ALTER TABLE t ADD PRIMARY KEY (eid)"],
        ),
        "edges: store + ANALYZE": (edge_cols.format("jsonb"), "csv", typed, ["ANALYZE t"]),
        "vertices: no index": (vertex_cols.format(c="", u=""), "csv", vertices, []),
        "vertices: (scope, key) kept, db collation": (
            vertex_cols.format(c="", u=", UNIQUE (scope, key)"),
            "csv",
            vertices,
            [],
        ),
        'vertices: (key, scope) kept, "C"': (
            vertex_cols.format(c=C, u=", UNIQUE (key, scope)"),
            "csv",
            vertices,
            [],
        ),
        "vertices: (scope, key) after, db collation": (
            vertex_cols.format(c="", u=""),
            "csv",
            vertices,
            ["ALTER TABLE t ADD UNIQUE (scope, key)"],
        ),
        'vertices: (key, scope) after, "C"': (
            vertex_cols.format(c=C, u=""),
            "csv",
            vertices,
            ["ALTER TABLE t ADD UNIQUE (key, scope)"],
        ),
        "vertices: primary key after": (
            vertex_cols.format(c="", u=""),
            "csv",
            vertices,
            ["ALTER TABLE t ADD PRIMARY KEY (vid)"],
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    import django

    django.setup()
    import psycopg

    from tests.pgcluster import graph_store_server

    made = cases()
    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    seen: dict[str, list[tuple[float, float]]] = {name: [] for name in made}
    with psycopg.connect(graph_store_server(), autocommit=True) as conn:
        pid = conn.info.backend_pid
        for round_ in range(args.rounds):
            names = list(made) if round_ % 2 == 0 else list(reversed(made))
            for name in names:
                columns, form, data, after = made[name]
                conn.execute("DROP TABLE IF EXISTS t")
                conn.execute("BEGIN")
                conn.execute(f"CREATE TABLE t {columns}")
                cpu, wall = backend_cpu(pid), time.perf_counter()
                with conn.cursor().copy(f"COPY t FROM STDIN (FORMAT {form})") as copy:
                    for start in range(0, len(data), BLOCK):
                        copy.write(data[start : start + BLOCK])
                for statement in after:
                    conn.execute(statement)
                conn.execute("COMMIT")
                seen[name].append((backend_cpu(pid) - cpu, time.perf_counter() - wall))
        conn.execute("DROP TABLE IF EXISTS t")
    print(f"\n{'layout':<46} {'server CPU':>10} {'wall':>7} {'per row':>9}")
    for name, measured in seen.items():
        rows = EDGES if name.startswith("edges") else VERTICES
        cpu = statistics.median(c for c, _ in measured)
        wall = statistics.median(w for _, w in measured)
        print(f"{name:<46} {cpu:>9.2f}s {wall:>6.2f}s {cpu / rows * 1e6:>6.2f} us")


if __name__ == "__main__":
    main()
