"""Import throughput: our loader against a bare csv + sqlite3.executemany loader and against
DuckDB doing the same validation, same files, each side in a process of its own.

Two generated GES graphs of ``--vertices`` vertex lines and ``--edges`` edge lines:

- ``clean``: every line valid (vertex label n with one int, edge label e with one double);
- ``messy``: the same, plus one bad or unusual line in every ``MESSY_EVERY`` of every kind the
  loader knows (bad int, bad double, column count, unknown label, empty id, duplicate id,
  missing source, missing target, CR outside quotes, undecodable bytes, quoted fields,
  CRLF endings, blank lines). The benchmark knows what each line must give and checks the
  loader's counts per reason against it exactly.
- ``crlf`` and ``quoted`` (asked for with ``--files``): the clean graph with CRLF line
  endings, as files written on Windows are, and with every field in quotes.

Sides (rounds alternate their order; each runs in a fresh process, which reports its wall time
and its CPU time, user + sys of all its threads):

- ``bare``: ``csv.reader`` rows straight into two SQLite tables with ``executemany`` in one
  transaction; no validation, no ids, no accounting (on the messy file, rows of the wrong
  length are skipped, or executemany would stop at them);
- ``jobcenter``: ``run_import``, the loader every import job runs (every field converted and
  checked, endpoints resolved, duplicate ids refused, every line counted, failed lines kept with
  their reason, message and raw text, one transaction committed with its summary); the
  store's rows are counted after the clock stopped and must be the lines reported loaded;
- ``dryrun``: ``run_import`` as a dry run (issue 17): the same work as ``jobcenter``, and the
  transaction rolled back instead of committed; it must count exactly what ``jobcenter`` counts
  and leave its store empty, and cost no more than the real import;
- ``duckdb``: the anchor (issue 14): DuckDB doing the same validation: typed parse with a rejects
  table, label check, empty and duplicate ids (first wins), vertex numbering, endpoints resolved
  by a hash join, persisted in a DuckDB file;
- ``polars``: the same validation in polars (strict casts, filters, joins), written to a
  Parquet file.

Run: .venv/bin/python benchmarks/import_throughput.py [--edges 1000000] [--rounds 5]
     [--files clean,messy,crlf,quoted] [--sides bare,jobcenter,duckdb,polars,dryrun]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import REPO, import_files

from tests.factories.files import write_ges_files

sys.path.insert(0, str(REPO))

MESSY_EVERY = 50


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# -- the messy file ----------------------------------------------------------------------------


def write_messy_graph(directory: Path, *, vertices: int, edges: int) -> tuple[dict, dict]:
    """The clean graph with bad and unusual lines mixed in; returns the request's files and
    what the loader must report: {role: {"lines", "loaded", reason: count}}."""
    files = write_ges_files(directory, vertices=0, edges=0)  # the schema
    expected: dict[str, Counter] = {"vertex": Counter(), "edge": Counter()}
    vkinds = [
        (b"bad%d,n,x\n", "bad_type"),
        (b"bad%d,n,1,2\n", "column_count"),
        (b"bad%d,zz,1\n", "unknown_label"),
        (b",n,%d\n", "empty_id"),
        (b"v%d,n,1\n", "duplicate_id"),
        (b"bad%d,n,1\r5\n", "malformed"),
        (b"bad%d,n,\xff1\n", "encoding"),
        (b'"q%d",n,7\n', None),  # quoted: loads
        (b"crlf%d,n,7\r\n", None),  # CRLF ending: loads
        (b"\n", "blank"),
    ]
    with open(directory / "vertices.csv", "wb") as fh:
        extra = 0
        for i in range(vertices):
            fh.write(b"v%d,n,%d\n" % (i, i))
            expected["vertex"]["loaded"] += 1
            if i % MESSY_EVERY == MESSY_EVERY - 1:
                line, reason = vkinds[extra % len(vkinds)]
                fh.write(line % (i // 2) if b"%d" in line else line)
                expected["vertex"]["loaded" if reason is None else reason] += 1
                extra += 1
    ekinds = [
        (b"v%d,v1,e,x\n", "bad_type"),
        (b"v%d,v1,e\n", "column_count"),
        (b"v%d,v1,zz,1\n", "unknown_label"),
        (b"nobody%d,v1,e,1\n", "missing_vertex"),
        (b"v%d,nobody,e,1\n", "missing_vertex"),
        (b"v%d,v1,e,1\r5\n", "malformed"),
        (b"v%d,v1,e,\xff1\n", "encoding"),
        (b'"v%d",v1,e,2.5\n', None),
        (b"v%d,v1,e,2.5\r\n", None),
        (b"v%d,bad1,e,2.5\n", "missing_vertex"),  # an endpoint whose vertex line failed
        (b"\n", "blank"),
    ]
    with open(directory / "edges.csv", "wb") as fh:
        extra = 0
        for i in range(edges):
            fh.write(b"v%d,v%d,e,%d.5\n" % (i % vertices, (i * 7919 + 1) % vertices, i % 100))
            expected["edge"]["loaded"] += 1
            if i % MESSY_EVERY == MESSY_EVERY - 1:
                line, reason = ekinds[extra % len(ekinds)]
                fh.write(line % (i % vertices) if b"%d" in line else line)
                expected["edge"]["loaded" if reason is None else reason] += 1
                extra += 1
    files["vertexset_path"] = str(directory / "vertices.csv")
    files["edgeset_path"] = str(directory / "edges.csv")
    return files, {role: dict(counts) for role, counts in expected.items()}


# -- the sides (each in its own process) -------------------------------------------------------


def bare_load(files: dict[str, str], target: Path, messy: bool) -> dict:
    conn = sqlite3.connect(target, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE vertex (id, label, p0)")
    conn.execute("CREATE TABLE edge (src, dst, label, p0)")
    conn.execute("BEGIN")
    with open(files["vertexset_path"], newline="", errors="replace") as handle:
        rows = csv.reader(handle)
        if messy:
            rows = (r for r in rows if len(r) == 3)
        conn.executemany("INSERT INTO vertex VALUES (?, ?, ?)", rows)
    with open(files["edgeset_path"], newline="", errors="replace") as handle:
        rows = csv.reader(handle)
        if messy:
            rows = (r for r in rows if len(r) == 4)
        conn.executemany("INSERT INTO edge VALUES (?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return {}


def our_load(files: dict[str, str], target: Path, root: Path, *, dry_run: bool = False) -> dict:
    from jobcenter.graphs.stores.sqlite import SqliteStore

    store = SqliteStore(target)
    summary, progress = import_files(files, store, root, dry_run=dry_run)
    store.close()
    counts = {}
    for fp in progress.files[1:]:
        counts[fp.role] = {"lines": fp.total_lines, "loaded": fp.successful_lines}
        counts[fp.role].update((str(r), n) for r, n in fp.reasons.items())
    return {"failed": summary.lines_failed, "counts": counts}


def duckdb_load(files: dict[str, str], target: Path) -> dict:
    import duckdb

    conn = duckdb.connect(str(target))
    csv_options = (
        "header=false, delim=',', quote='\"', new_line='\\n', auto_detect=false, "
        "strict_mode=false, store_rejects=true"
    )
    conn.execute(
        f"""CREATE TABLE vraw AS SELECT row_number() OVER () AS line, * FROM read_csv(
        '{files["vertexset_path"]}', columns={{'id': 'VARCHAR', 'label': 'VARCHAR',
        'v': 'INTEGER'}}, {csv_options}, rejects_table='vrejects', rejects_scan='vscan')"""  # noqa: S608
    )
    conn.execute(
        """CREATE TABLE vertex AS SELECT row_number() OVER (ORDER BY line) AS vid, id, label, v
        FROM vraw WHERE label IN ('n') AND id IS NOT NULL AND id <> ''
        QUALIFY row_number() OVER (PARTITION BY id ORDER BY line) = 1"""
    )
    conn.execute(
        f"""CREATE TABLE eraw AS SELECT row_number() OVER () AS line, * FROM read_csv(
        '{files["edgeset_path"]}', columns={{'src': 'VARCHAR', 'dst': 'VARCHAR',
        'label': 'VARCHAR', 'w': 'DOUBLE'}}, {csv_options}, rejects_table='erejects',
        rejects_scan='escan')"""  # noqa: S608
    )
    conn.execute(
        """CREATE TABLE edge AS SELECT e.label, s.vid AS src, d.vid AS dst, e.w
        FROM eraw e JOIN vertex s ON s.id = e.src JOIN vertex d ON d.id = e.dst
        WHERE e.label IN ('e') ORDER BY e.line"""
    )
    counts = {
        "vertex": conn.execute("SELECT count(*) FROM vertex").fetchone()[0],
        "edge": conn.execute("SELECT count(*) FROM edge").fetchone()[0],
        "rejected": conn.execute(
            "SELECT (SELECT count(*) FROM vrejects) + (SELECT count(*) FROM erejects)"
        ).fetchone()[0],
    }
    conn.execute("DROP TABLE vraw")
    conn.execute("DROP TABLE eraw")
    conn.close()
    return {"loaded": counts}


def polars_load(files: dict[str, str], target: Path) -> dict:
    import polars as pl

    def read(path: str, names: list[str]) -> pl.DataFrame:
        # Lines of the wrong length and bad casts must not stop the load: read as text
        # with truncated/padded rows, then cast strictly per column (null: rejected).
        return pl.read_csv(
            path,
            has_header=False,
            new_columns=names,
            schema_overrides=dict.fromkeys(names, pl.String),
            truncate_ragged_lines=True,
            encoding="utf8-lossy",
        ).with_row_index("line")

    v = read(files["vertexset_path"], ["id", "label", "v"])
    v = v.with_columns(pl.col("v").cast(pl.Int32, strict=False).alias("value"))
    v = v.filter(
        (pl.col("label") == "n")
        & pl.col("id").is_not_null()
        & (pl.col("id") != "")
        & (pl.col("value").is_not_null() | pl.col("v").is_null())
    )
    v = v.unique(subset="id", keep="first", maintain_order=True)
    v = v.with_row_index("vid", offset=1).select("vid", "id", "label", "value")
    e = read(files["edgeset_path"], ["src", "dst", "label", "w"])
    e = e.with_columns(pl.col("w").cast(pl.Float64, strict=False).alias("weight"))
    e = e.filter(
        (pl.col("label") == "e") & (pl.col("weight").is_not_null() | pl.col("w").is_null())
    )
    ids = v.select("id", "vid")
    e = (
        e.join(ids.rename({"vid": "s"}), left_on="src", right_on="id", how="inner")
        .join(ids.rename({"vid": "d"}), left_on="dst", right_on="id", how="inner")
        .sort("line")
        .select("label", "s", "d", "weight")
    )
    v.write_parquet(f"{target}.vertex.parquet")
    e.write_parquet(f"{target}.edge.parquet")
    return {"loaded": {"vertex": v.height, "edge": e.height}}


def run_side(side: str, files: dict[str, str], target: Path, root: Path, messy: bool) -> None:
    """Child process: one load, measured; prints its result as JSON."""
    if side in ("jobcenter", "dryrun"):
        import django
        from django.conf import settings

        settings.configure()  # RootedResolver reads no settings when given its roots
        django.setup()
        # Imports are not part of the load: a worker has these from its start (the import
        # kind imports the formats; their XML parser alone is 20 to 50 ms).
        import jobcenter.core.paths
        import jobcenter.graphs.formats.ges
        import jobcenter.graphs.formats.graphscope
        import jobcenter.graphs.loader  # noqa: F401
    elif side == "duckdb":
        import duckdb  # noqa: F401
    elif side == "polars":
        import polars  # noqa: F401
    wall, cpu = time.perf_counter(), cpu_seconds()
    if side == "bare":
        result = bare_load(files, target, messy)
    elif side in ("jobcenter", "dryrun"):
        result = our_load(files, target, root, dry_run=side == "dryrun")
    elif side == "duckdb":
        result = duckdb_load(files, target)
    else:
        result = polars_load(files, target)
    result.update(wall=time.perf_counter() - wall, cpu=cpu_seconds() - cpu)
    if side in ("jobcenter", "dryrun"):
        check_stored(target, result, dry_run=side == "dryrun")
    print(json.dumps(result))


def check_stored(target: Path, result: dict, *, dry_run: bool) -> None:
    """The rows in the store are the lines the loader reported loaded (none for a dry run):
    counted after the clock stopped, as an import does not count its rows again."""
    from jobcenter.graphs.stores.sqlite import SqliteStore

    store = SqliteStore(target)
    stored = sum(n for kind in store.counts().values() for n in kind.values())
    store.close()
    loaded = 0 if dry_run else sum(c["loaded"] for c in result["counts"].values())
    if stored != loaded:
        raise SystemExit(f"{stored} vertices and edges in the store, {loaded} reported loaded")


def measure(side: str, files: dict, target: Path, root: Path, messy: bool) -> dict:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--side",
            side,
            "--side-files",
            json.dumps(files),
            "--side-target",
            str(target),
            "--side-root",
            str(root),
            *(["--side-messy"] if messy else []),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise SystemExit(f"{side} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--vertices", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", default="clean,messy")
    parser.add_argument("--sides", default="bare,jobcenter,duckdb,polars")
    parser.add_argument("--side")
    parser.add_argument("--side-files")
    parser.add_argument("--side-target")
    parser.add_argument("--side-root")
    parser.add_argument("--side-messy", action="store_true")
    args = parser.parse_args()
    if args.side:
        run_side(
            args.side,
            json.loads(args.side_files),
            Path(args.side_target),
            Path(args.side_root),
            args.side_messy,
        )
        return

    root = Path(tempfile.mkdtemp(prefix="jobcenter-throughput-"))
    sides = args.sides.split(",")
    print(f"load average before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for kind in args.files.split(","):
        expected = None
        if kind in ("clean", "crlf", "quoted"):
            files = write_ges_files(root / kind, vertices=args.vertices, edges=args.edges)
            lines = args.vertices + args.edges
            for role in ("vertexset_path", "edgeset_path") if kind != "clean" else ():
                path = Path(files[role])
                data = path.read_bytes()
                if kind == "crlf":  # as written on Windows
                    data = data.replace(b"\n", b"\r\n")
                else:  # every field in quotes, as some exporters write them
                    data = b'"' + data.replace(b",", b'","').replace(b"\n", b'"\n"')[:-1]
                path.write_bytes(data)
        else:
            files, expected = write_messy_graph(
                root / kind, vertices=args.vertices, edges=args.edges
            )
            lines = sum(sum(c.values()) for c in expected.values())
        print(f"\n== {kind} file: {lines:,} lines", flush=True)
        if expected:
            print(f"expected: {json.dumps(expected, sort_keys=True)}")
        seen: dict[str, list[dict]] = {side: [] for side in sides}
        for round_no in range(args.rounds):
            order = sides if round_no % 2 == 0 else sides[::-1]
            parts = []
            for side in order:
                target = root / f"{kind}-{side}-{round_no}.db"
                got = measure(side, files, target, root, kind == "messy")
                seen[side].append(got)
                parts.append(f"{side} {got['wall']:.2f}s/{got['cpu']:.2f}s cpu")
                for path in root.glob("*.db*"):
                    path.unlink()
            print(f"round {round_no + 1}: " + ", ".join(parts), flush=True)
        ours = seen.get("jobcenter", [])
        if ours:
            assert ours[0]["failed"] == 0 or expected, f"{ours[0]['failed']} lines failed"
            if expected:
                got = {
                    role: {k: v for k, v in counts.items()}
                    for role, counts in ours[0]["counts"].items()
                }
                for role, want in expected.items():
                    want = dict(want)
                    blank = want.pop("blank", 0)
                    want["lines"] = sum(want.values())
                    assert got[role] == want, (role, got[role], want, blank)
                print("jobcenter's counts per file and reason: as expected")
        if "jobcenter" in seen and "dryrun" in seen:
            same = all(
                (d["failed"], d["counts"]) == (o["failed"], o["counts"])
                for d, o in zip(seen["dryrun"], seen["jobcenter"], strict=True)
            )
            assert same, "the dry run counted other lines than the import"
            print("dryrun's counts per file and reason: the same as jobcenter's")
        for side in sides:
            if "loaded" in seen[side][0]:
                print(f"{side} loaded: {seen[side][0]['loaded']}")
        print(f"\n{'side':<10} {'median wall':>12} {'median cpu':>11} {'lines/s (wall)':>15}")
        medians = {}
        for side in sides:
            wall = statistics.median(r["wall"] for r in seen[side])
            cpu = statistics.median(r["cpu"] for r in seen[side])
            medians[side] = (wall, cpu)
            print(f"{side:<10} {wall:>11.2f}s {cpu:>10.2f}s {lines / wall:>15,.0f}")
        if "jobcenter" in seen and "bare" in seen:
            ratio = statistics.median(
                b["wall"] / o["wall"] for b, o in zip(seen["bare"], seen["jobcenter"], strict=True)
            )
            print(
                f"jobcenter speed relative to bare (median of per-round wall ratios): {ratio:.2f}"
                "  (target >= 1.0)"
            )
        if "jobcenter" in seen and "duckdb" in seen:
            ratio = statistics.median(
                o["cpu"] / d["cpu"] for d, o in zip(seen["duckdb"], seen["jobcenter"], strict=True)
            )
            print(
                f"jobcenter CPU relative to DuckDB (median of per-round ratios): {ratio:.2f}"
                "  (target <= 2.0)"
            )
        if "jobcenter" in seen and "dryrun" in seen:
            for what in ("cpu", "wall"):
                ratio = statistics.median(
                    d[what] / o[what]
                    for d, o in zip(seen["dryrun"], seen["jobcenter"], strict=True)
                )
                print(
                    f"dryrun {what} relative to jobcenter (median of per-round ratios): "
                    f"{ratio:.2f}  (target <= 1.0)"
                )


if __name__ == "__main__":
    main()
