"""The graph store on its own, on both backends: transactions, columns, summaries, removal."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pyarrow as pa
import pytest

from jobcenter.graphs.indexes import index_name
from jobcenter.graphs.stores import sqlite as sqlite_store
from jobcenter.graphs.stores.base import (
    SMALL_PARTS,
    Columns,
    GraphStore,
    RowBatch,
    RunRows,
    Same,
    StoreError,
    StoreMissing,
)
from jobcenter.graphs.stores.sqlite import SqliteStore, delete_store, store_counts
from tests.graphs.conftest import both_stores, drop_store, new_store

# These tests write rows and commit records by hand, not through imports.
pytestmark = pytest.mark.unchecked_stores
store_backend = both_stores

INTEGRITY = {"sqlite": sqlite3.IntegrityError, "postgresql": psycopg.IntegrityError}


@pytest.fixture
def store(tmp_path: Path, store_backend: str) -> Iterator[GraphStore]:
    made = new_store(store_backend, tmp_path)
    yield made
    drop_store(made)


def reopen(store: GraphStore, **options) -> GraphStore:
    """Another connection to the same store."""
    if isinstance(store, SqliteStore):
        return SqliteStore(store.path, create=False, **options)
    return type(store)(store.conninfo, store.schema, create=False, **options)  # type: ignore[attr-defined]


def test_an_import_transaction_commits_with_its_summary(store):
    store.begin(width=1, schema={"labels": []})
    store.add_vertices([(1, "", "a", "n", 5), (2, "", "b", "n", None)])
    assert store.add_edges([("e", 1, 2, 0.5)]) == 0
    store.commit(job_id="j1", summary={"lines_total": 3})
    assert store.counts() == {"vertices": {"n": 2}, "edges": {"e": 1}}
    assert store.applied_summary("j1") == {"lines_total": 3}
    assert store.applied_summary("other") is None
    assert store.edges() == [("a", "b", "e", 0.5)]


def test_rollback_and_a_second_commit_of_one_job_leave_no_trace(store, store_backend):
    store.begin(width=0, schema={})
    store.add_vertices([(1, "", "a", "n")])
    store.rollback()
    assert store.counts() == {"vertices": {}, "edges": {}}
    store.begin(width=0, schema={})
    store.commit(job_id="j", summary={})
    store.begin(width=0, schema={})
    store.add_vertices([(1, "", "a", "n")])
    with pytest.raises(INTEGRITY[store_backend]):  # a job's data can never be committed twice
        store.commit(job_id="j", summary={})
    store.rollback()
    assert store.counts() == {"vertices": {}, "edges": {}}


def test_columns_grow_with_the_schema_and_keys_are_unique_per_scope(store, store_backend):
    store.begin(width=1, schema={})
    store.commit(job_id="a", summary={})
    store.begin(width=3, schema={})
    assert store.width() == 3
    store.add_vertices([(1, "p", "1", "p", 1, 2, 3), (2, "q", "1", "q", 1, 2, 3)])
    with pytest.raises(INTEGRITY[store_backend]):
        store.add_vertices([(3, "p", "1", "p", 0, 0, 0)])
    store.commit(job_id="b", summary={})
    assert store.find_vid("q", "1") == 2 and store.find_vid("q", "2") is None


def test_key_vids_answers_a_batch_of_keys_in_their_order(store, monkeypatch):
    """The batched look-up of an import past the key index's capacity: one vid per key, in
    the keys' order, null where the scope has no such vertex; keys that JSON or SQL would
    escape are compared as they are; this transaction's rows are seen, rolled-back ones never."""
    monkeypatch.setattr(sqlite_store, "KEY_VIDS_BATCH", 3)  # several statements
    odd = ['say "hi"', "back\\slash", "tab\there", "unit\x1fsep", "é€😀", "", "%s", "a,b"]
    store.begin(width=0, schema={})
    store.add_vertices([(i + 1, "", key, "n") for i, key in enumerate(odd)])
    store.add_vertices([(20, "movie", "1", "movie"), (21, "", "1", "n")])
    store.commit(job_id="a", summary={})
    store.begin(width=0, schema={})
    store.add_vertices([(30, "", "late", "n")])  # not committed yet: the import's own
    asked = ["late", "1", "nobody", *reversed(odd)]
    vids = store.key_vids("", pa.array(asked, pa.large_string()))
    assert vids.type == pa.int64()
    assert vids.to_pylist() == [30, 21, None, *range(len(odd), 0, -1)]
    assert store.key_vids("movie", pa.array(["0", "1", "late"])).to_pylist() == [None, 20, None]
    assert store.key_vids("", pa.array([], pa.large_string())).to_pylist() == []
    assert store.key_vids("", pa.array([""])).to_pylist() == [odd.index("") + 1]
    assert store.key_vids("", pa.array(["", "late"])).to_pylist() == [odd.index("") + 1, 30]
    store.rollback()
    assert store.key_vids("", pa.array(["late", "tab\there"])).to_pylist() == [None, 3]


def test_a_rolled_back_write_leaves_the_columns_as_they_were(store):
    store.begin(width=1, schema={})
    store.commit(job_id="a", summary={})
    store.begin(width=4, schema={})
    store.add_vertices([(1, "", "x", "n", 1, 2, 3, 4)])
    store.rollback()
    assert store.width() == 1 and store.vertices() == []


def test_a_writer_waits_for_the_other_and_readers_do_not(store):
    writer, other = store, reopen(store, timeout=0.2)
    writer.begin(width=0, schema={})
    writer.add_vertices([(1, "", "a", "n")])
    assert other.counts() == {"vertices": {}, "edges": {}}  # reads see the last commit
    with pytest.raises(StoreError, match="busy"):
        other.begin(width=0, schema={})
    writer.commit(job_id="j", summary={})
    assert other.counts()["vertices"] == {"n": 1}
    other.close()


def test_parallel_edges_are_ignored_or_replaced_as_the_policy_says(store):
    store.begin(width=1, schema={})
    store.add_vertices([(1, "", "a", "n", None), (2, "", "b", "n", None)])
    store.add_edges([("e", 1, 2, 1.0)])
    store.commit(job_id="a", summary={})
    store.begin(width=1, schema={}, parallel_edge="ignore", ignore_label=True)
    store.ensure_endpoint_index()
    # the stored edge and the batch's second (2, 1) change nothing
    assert store.add_edges([("e", 1, 2, 5.0), ("e", 2, 1, 2.0), ("f", 2, 1, 3.0)]) == 2
    store.commit(job_id="b", summary={})
    assert [e[2:] for e in store.edges()] == [("e", 1.0), ("e", 2.0)]
    store.begin(width=1, schema={}, parallel_edge="override", ignore_label=False)
    assert store.add_edges([("e", 1, 2, 9.0), ("f", 1, 2, 4.0)]) == 1  # replaced (e, a, b)
    store.commit(job_id="c", summary={})
    assert sorted(e[2:] for e in store.edges()) == [("e", 2.0), ("e", 9.0), ("f", 4.0)]


def test_values_keep_their_types_and_odd_characters(store):
    values = [7, -(2**62), 0.25, "tab\there", "new\nline", "back\\slash", '["a", "b"]', None]
    store.begin(width=len(values), schema={})
    store.add_vertices([(1, "s\tcope", "k\\ey", "l\nabel", *values)])
    store.commit(job_id="a", summary={})
    assert store.vertices() == [("k\\ey", "l\nabel", *values)]
    assert store.find_vid("s\tcope", "k\\ey") == 1


FLOATS = [5.0, -0.0, 12.5, 0.1 + 0.2, 1e15, 1e16, 1.5e16, 123456789012345.6, 2.0**53 + 2]
FLOATS += [1e-4, 1e-5, 2.5e-7, 1e300, -1e-300, -7.0, 99999999999999.9, None]
TEXTS = ['quo"te', "back\\slash", '\\"both\\\\', "\u00e9\u6f22\U0001f600", ",comma", "", None]
TEXTS += ["plain", "a;b", "  spaced  "]
CONTROLS = ["tab\there", "new\nline", "bell\x07", "esc\x1b[0m", None, "ok", "cr\r", "", "x", "y"]


def _typed(rows: list[tuple]) -> list[tuple]:
    """Rows with each value's type, so that 5 and 5.0 differ."""
    return [tuple((type(v).__name__, v) for v in row) for row in rows]


def test_arrow_columns_are_stored_as_the_same_python_rows_would_be(store):
    """A batch's Arrow pieces (the columnar path's) store the values its Python rows would,
    type for type, and pieces keep their order."""
    n = len(FLOATS)
    ints = [7, -(2**62), 0, None, 2**62, -1, 1, None, 5, 6, 7, 8, 9, 10, 11, 12, 13][:n]
    texts = (TEXTS * 2)[:n]
    controls = (CONTROLS * 2)[:n]
    keys = [f"k{i}" for i in range(n)]
    columns = Columns(
        [
            range(1, n + 1),
            Same(""),
            pa.array(keys),
            Same("l"),
            pa.array(ints, pa.int64()),
            pa.array(FLOATS, pa.float64()),
            pa.array(texts, pa.string()),
            pa.array(controls, pa.string()),
            Same(None),
            Same("same"),
            pa.nulls(n),
        ],
        n,
    )
    rows = [
        (n + 1 + i, "", f"r{i}", "l", ints[i], FLOATS[i], texts[i], controls[i], None, "same", None)
        for i in range(n)
    ]
    batch = RowBatch()
    batch.add(columns.slice(0, 5))
    batch.append(rows[0])
    batch.add(columns.slice(5, n - 5))
    for row in rows[1:]:
        batch.append(row)
    store.begin(width=7, schema={})
    store.add_vertex_batch(batch)
    store.commit(job_id="a", summary={})
    stored = store.vertices()
    assert [v[0] for v in stored] == keys + [f"r{i}" for i in range(n)]
    assert _typed([v[2:] for v in stored[:n]]) == _typed([v[2:] for v in stored[n:]])
    assert stored[n][2:] == rows[0][4:]  # and the rows' values as they were


def test_vertex_pieces_of_one_run_carry_their_vids():
    """Pieces of a run of vertex rows made once (RunRows, the writer's thread) with the vids
    given per piece: the same rows and values as the run's columns with those vids in front."""
    made = Columns(
        [
            Same(""),
            pa.array(["a", "b", "c", "d", "e"]),
            Same("l"),
            pa.array([1.5, None, 3.0, 4.0, 5.0]),
        ],
        5,
    )
    run = RunRows(made)
    for start, length, vid in [(0, 5, 10), (1, 2, 40), (4, 1, 7), (2, 0, 3)]:
        part = run.part(start, length, vid)
        alone = made.slice(start, length).with_first(range(vid, vid + length))
        assert list(part.rows()) == list(alone.rows())
        assert part.flat() == alone.flat()
        assert len(part.columns) == len(alone.columns) == 5
    batch = RowBatch()
    batch.add(run.part(0, 2, 1))
    batch.append((3, "", "x", "l", None))
    batch.add(run.part(3, 2, 4))
    assert batch.flat(5) == [
        1,
        "",
        "a",
        "l",
        1.5,
        2,
        "",
        "b",
        "l",
        None,
        3,
        "",
        "x",
        "l",
        None,
        4,
        "",
        "d",
        "l",
        4.0,
        5,
        "",
        "e",
        "l",
        5.0,
    ]
    assert [r[0] for r in batch.rows()] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("vertex", [False, True])
def test_pieces_of_a_run_small_and_big_give_the_runs_values(vertex):
    """Pieces small (their values sliced from the run's, made once) and big (made from their
    columns): each gives the run's values for its rows; pieces that continue one another in
    a batch are joined into one, and their vids must continue too."""
    n = 100
    made = Columns([Same("l"), pa.array([f"k{i}" for i in range(n)]), range(n)], n)
    run = RunRows(made)
    vid = 1000 if vertex else None

    def alone(start: int, length: int, first: int | None) -> list:
        rows = made.slice(start, length)
        return (rows if first is None else rows.with_first(range(first, first + length))).flat()

    for start, length in [(0, 3), (3, 12), (20, 13), (0, n), (99, 1), (50, 0)]:
        first = None if vid is None else vid + start
        assert run.part(start, length, first).flat() == alone(start, length, first)
    # the first SMALL_PARTS small pieces are made from their columns, the others sliced from
    # the run's values (made once): alike, with and without columns left out
    for start in range(SMALL_PARTS + 4):
        first = None if vid is None else vid + start
        values = alone(start, 2, first)
        assert run.part(start, 2, first).flat() == values
        width, skip = (4, frozenset({1})) if vertex else (3, frozenset({0}))
        kept = [v for i, v in enumerate(values) if i % width not in skip]
        assert run.part(start, 2, first).flat(skip) == kept
    batch = RowBatch()
    for start, length in [(0, 2), (2, 3), (5, 40)]:  # continuing one another: one piece
        batch.add(run.part(start, length, None if vid is None else vid + start))
    assert len(batch.pieces) == 1 and len(batch) == 45
    batch.add(run.part(46, 4, None if vid is None else vid + 45))  # a row between: not joined
    batch.append(("x",) * (4 if vertex else 3))
    batch.add(run.part(50, 2, None if vid is None else vid + 50))
    assert len(batch.pieces) == 4 and len(batch) == 52
    width = 4 if vertex else 3
    want = alone(0, 45, vid) + alone(46, 4, None if vid is None else vid + 45)
    want += ["x"] * width + alone(50, 2, None if vid is None else vid + 50)
    assert batch.flat(width) == want
    if vertex:  # the vids do not continue: two pieces
        other = RowBatch()
        other.add(run.part(0, 2, 1))
        other.add(run.part(2, 2, 9))
        assert len(other.pieces) == 2
        assert other.flat(4) == alone(0, 2, 1) + alone(2, 2, 9)


def test_edge_batches_continue_the_edge_ids_whatever_the_policy(store):
    """Edges written from Arrow in one import, then edges of other policies and imports:
    every edge is there once, in insertion order."""
    store.begin(width=1, schema={})
    store.add_vertices([(1, "", "a", "n", None), (2, "", "b", "n", None)])
    batch = RowBatch()
    batch.add(Columns([Same("e"), pa.array([1, 2]), pa.array([2, 1]), pa.array([1.5, None])], 2))
    assert store.add_edge_batch(batch) == 0
    store.commit(job_id="a", summary={})
    store.begin(width=1, schema={}, parallel_edge="override", ignore_label=True)
    store.ensure_endpoint_index()
    assert store.add_edges([("f", 1, 2, 3.0)]) == 1  # replaces (a, b)
    store.commit(job_id="b", summary={})
    store.begin(width=1, schema={})
    store.add_edges([("g", 2, 2, None)])
    store.commit(job_id="c", summary={})
    store.begin(width=1, schema={}, parallel_edge="ignore", ignore_label=False)
    assert store.add_edges([("h", 1, 1, None)]) == 0
    store.commit(job_id="d", summary={})
    assert store.edges() == [
        ("b", "a", "e", None),
        ("a", "b", "f", 3.0),
        ("b", "b", "g", None),
        ("a", "a", "h", None),
    ]


def test_a_first_load_keeps_the_indexes_and_readers_never_wait(store):
    """The first edges of a graph (which the PostgreSQL store loads into a table of their own
    and swaps in at commit): the edge indexes made before are there after, a reader during
    the load sees the graph as it was without waiting, a rolled back load leaves it so."""
    store.begin(width=1, schema={}, parallel_edge="ignore")
    store.ensure_endpoint_index()
    store.add_vertices([(1, "", "a", "n", None), (2, "", "b", "n", None)])
    store.commit(job_id="a", summary={})
    name = index_name("edges", "e", 0)
    store.create_label_index("edges", "e", 0, name)
    reader = reopen(store)
    batch = RowBatch([("e", 1, 2, 7.5)])
    batch.add(Columns([Same("e"), pa.array([2, 1]), pa.array([1, 1]), pa.array([1.0, 2.0])], 2))
    for job in ("b", "c"):
        store.begin(width=1, schema={})
        store.add_edge_batch(batch)
        started = time.monotonic()
        assert reader.counts()["edges"] == {}
        assert time.monotonic() - started < 2
        if job == "b":
            store.rollback()
            assert store.edges() == [] and store.label_indexes() == [(name, "e")]
        else:
            store.commit(job_id=job, summary={})
    assert reader.edges() == [("a", "b", "e", 7.5), ("b", "a", "e", 1.0), ("a", "a", "e", 2.0)]
    assert store.label_indexes() == [(name, "e")]
    store.begin(width=1, schema={}, parallel_edge="ignore")
    store.ensure_endpoint_index()
    assert store.add_edges([("f", 1, 2, None), ("f", 2, 2, None)]) == 1
    store.commit(job_id="d", summary={})
    assert reader.edges()[3:] == [("b", "b", "f", None)]
    reader.close()


def test_a_store_that_must_exist_is_never_created(tmp_path, store_backend):
    store = new_store(store_backend, tmp_path)
    drop_store(store)
    if isinstance(store, SqliteStore):
        delete_store(store.path)
    with pytest.raises(StoreMissing):
        reopen(store)
    assert not type(store).exists(
        store.path if isinstance(store, SqliteStore) else (store.conninfo, store.schema)  # type: ignore[attr-defined]
    )


def test_a_stop_interrupts_a_running_statement(store):
    """The cancel hook jobs use (``Run.watch_store``), on a statement of minutes."""
    stop = threading.Event()
    store.watch(stop)
    threading.Timer(0.3, stop.set).start()
    if isinstance(store, SqliteStore):
        slow = (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1e12) "
            "SELECT count(*) FROM n"
        )
    else:
        slow = "SELECT pg_sleep(120)"
    started = time.monotonic()
    with pytest.raises(store.errors):
        store.conn.execute(slow).fetchone()  # type: ignore[attr-defined]
    assert time.monotonic() - started < 5


def test_delete_store_removes_the_files(tmp_path):
    path = tmp_path / "g.sqlite3"
    store = SqliteStore(path)
    store.close()
    assert store_counts(path) == {"vertices": {}, "edges": {}}
    delete_store(path)
    assert not list(tmp_path.iterdir())
    assert store_counts(path) == {"vertices": {}, "edges": {}}


def test_the_small_reads_of_many_graphs_keep_one_connection(tmp_path):
    """Whether a graph's PostgreSQL store exists and how big it is are asked once per graph of
    a list page: they share one kept connection (per process and thread) rather than opening
    one each (milliseconds of authentication apiece). Counted by the server's own session
    statistics."""
    from jobcenter.graphs.stores.postgresql import PostgresStore
    from tests.pgcluster import graph_store_server

    stores = [new_store("postgresql", tmp_path) for _ in range(5)]
    for store in stores:
        store.close()
    locations = [(store.conninfo, store.schema) for store in stores]  # type: ignore[attr-defined]
    PostgresStore.exists(locations[0])  # a connection kept from here on

    def sessions(watcher: psycopg.Connection) -> int:
        watcher.execute("SELECT pg_stat_force_next_flush()")
        row = watcher.execute(
            "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
        ).fetchone()
        return int(row[0])

    try:
        with psycopg.connect(graph_store_server(), autocommit=True) as watcher:
            before = sessions(watcher)
            for _ in range(4):
                for location in locations:
                    assert PostgresStore.exists(location)
                    assert PostgresStore.data_counts(location)[1] == (0, 0)
            time.sleep(1.5)  # sessions that ended report their statistics as they end
            assert sessions(watcher) - before <= 1  # (the watcher's own)
    finally:
        for store in stores:
            drop_store(store)


def test_a_kept_connection_the_server_dropped_is_replaced(tmp_path):
    """The server restarted or an operator ended the session: the next small read reconnects
    instead of failing."""
    from jobcenter.graphs.stores.postgresql import SMALL_READS_APP, PostgresStore
    from tests.pgcluster import graph_store_server

    store = new_store("postgresql", tmp_path)
    location = (store.conninfo, store.schema)  # type: ignore[attr-defined]
    try:
        assert PostgresStore.exists(location)
        with psycopg.connect(graph_store_server(), autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = %s AND pid <> pg_backend_pid()",
                (SMALL_READS_APP,),
            ).fetchone()
        assert ended is not None and ended[0] >= 1
        assert PostgresStore.exists(location)
        assert PostgresStore.data_counts(location)[1] == (0, 0)
    finally:
        drop_store(store)


def _backend(store: GraphStore) -> int:
    return store.conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[attr-defined]


def test_a_closed_stores_connection_serves_the_next_store_as_new(tmp_path):
    """Opening a connection costs a job on a graph held in memory more than its work on the
    store: a closed store leaves its connection to the next store of the thread, with the
    session as new (settings reset, no advisory lock left), and one the server ended since is
    replaced."""
    from jobcenter.graphs.stores.postgresql import PostgresStore
    from tests.pgcluster import graph_store_server

    first = new_store("postgresql", tmp_path)
    location = (first.conninfo, first.schema)  # type: ignore[attr-defined]
    try:
        pid = _backend(first)
        first.conn.execute("SET enable_seqscan = off")  # type: ignore[attr-defined]
        first.conn.execute("SELECT pg_advisory_lock(42)")  # type: ignore[attr-defined]
        first.close()
        second = PostgresStore.open(location, create=False)
        assert _backend(second) == pid
        assert second.conn.execute("SHOW enable_seqscan").fetchone() == ("on",)
        with psycopg.connect(graph_store_server(), autocommit=True) as admin:
            locks = admin.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s", (pid,)
            ).fetchone()
            assert locks == (0,)
            second.close()
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
        third = PostgresStore.open(location, create=False)
        assert _backend(third) != pid
        assert third.count_rows() == (0, 0)
        third.close()
    finally:
        drop_store(first)


def test_a_cancelled_stores_connection_is_not_kept(tmp_path):
    """A cancel request may reach the server after the statement it was meant for: the
    connection of a store that sent one does not serve another store."""
    from jobcenter.graphs.stores.postgresql import PostgresStore

    store = new_store("postgresql", tmp_path)
    location = (store.conninfo, store.schema)  # type: ignore[attr-defined]
    try:
        pid = _backend(store)
        stop = threading.Event()
        store.watch(stop)
        stop.set()
        with pytest.raises(psycopg.errors.QueryCanceled):
            store.conn.execute("SELECT pg_sleep(10)")  # type: ignore[attr-defined]
        store.close()
        other = PostgresStore.open(location, create=False)
        assert _backend(other) != pid
        other.close()
    finally:
        drop_store(store)


def test_big_batches_keep_their_rows_order_and_values(store):
    """Batches of several statements' worth of rows (SQLite inserts ROWS_PER_INSERT rows a
    statement and the rest one by one): Arrow pieces and Python rows mixed, every row stored
    once, in order, each value as the row had it."""
    per = sqlite_store.ROWS_PER_INSERT
    n = 2 * per + 300
    weights = [None if i % 7 == 0 else i / 3 for i in range(n)]
    edges = RowBatch()
    edges.add(
        Columns([Same("e"), pa.array(range(1, n + 1)), range(2, n + 2), pa.array(weights)], n)
    )
    extra = [("f", i, i + 1, float(i)) for i in range(1, 140)]
    for row in extra:
        edges.append(row)
    edges.add(Columns([Same("e"), pa.array([5, 6]), pa.array([6, 5]), Same(None)], 2))
    vertices = RowBatch()
    vertices.add(
        Columns(
            [
                range(1, n + 2),
                Same(""),
                pa.array([f"k{i}" for i in range(n + 1)]),
                Same("n"),
                pa.array(range(n + 1)),
            ],
            n + 1,
        )
    )
    vertices.append((n + 2, "", "last", "n", "text"))
    store.begin(width=1, schema={})
    store.add_vertex_batch(vertices)
    assert store.add_edge_batch(edges) == 0
    store.add_edges([("g", 1, 2, 0.25)] * (per + 1))
    store.commit(job_id="a", summary={})
    key = {i + 1: f"k{i}" for i in range(n + 1)} | {n + 2: "last"}
    expected = (
        [("e", key[i + 1], key[i + 2], weights[i]) for i in range(n)]
        + [(label, key[s], key[d], w) for label, s, d, w in extra]
        + [("e", key[5], key[6], None), ("e", key[6], key[5], None)]
        + [("g", key[1], key[2], 0.25)] * (per + 1)
    )
    assert _typed([(label, s, d, w) for s, d, label, w in store.edges()]) == _typed(expected)
    stored = store.vertices()
    assert [v[0] for v in stored] == [key[i] for i in range(1, n + 3)]
    assert _typed([v[2:] for v in stored]) == _typed([(i,) for i in range(n + 1)] + [("text",)])


def test_a_row_of_the_wrong_length_fails_its_statement(tmp_path):
    store = SqliteStore(tmp_path / "g.db")
    store.begin(width=1, schema={})
    with pytest.raises(sqlite3.ProgrammingError, match="bindings"):
        # one value short, then one too many: together as many values as two rows
        rows = [("e", 1, 2), ("e", 1, 2, 0.5, 9)]
        store.add_edges(rows + [("e", 1, 2, 0.5)] * 2 * sqlite_store.ROWS_PER_INSERT)
    store.rollback()
    store.close()


@pytest.mark.parametrize("policy", ["allow", "override"])
def test_pieces_of_one_run_are_stored_in_their_places(tmp_path, policy):
    """A run's rows handed over in pieces (RunPart) between Python rows: each piece's rows,
    in order, as written through the batch's values (allow) or its rows (override)."""
    n = 400
    run = RunRows(
        Columns(
            [Same("e"), pa.array(range(n)), range(1, n + 1), pa.array([i / 4 for i in range(n)])], n
        )
    )
    batch = RowBatch()
    expected = []
    for start, length in [(0, 150), (151, 1), (153, 200), (390, 10)]:
        batch.add(run.part(start, length))
        expected += [("e", i, i + 1, i / 4) for i in range(start, start + length)]
        batch.append(("f", start, start + 2, None))
        expected.append(("f", start, start + 2, None))
    store = SqliteStore(tmp_path / "g.db")
    store.begin(width=1, schema={})
    store.add_vertices([(v, "", f"k{v}", "n", None) for v in range(n + 2)])
    store.commit(job_id="v", summary={})
    store.begin(width=1, schema={}, parallel_edge=policy)
    if policy != "allow":
        store.ensure_endpoint_index()
    store.add_edge_batch(batch)
    store.commit(job_id="e", summary={})
    stored = store.conn.execute("SELECT label, src, dst, p0 FROM edge ORDER BY eid").fetchall()
    store.close()
    assert _typed(stored) == _typed(expected)


def test_a_write_that_grows_a_table_leaves_its_statistics_fresh(tmp_path):
    """Planned from the statistics of the table as it was, a read right after a bulk load went
    wrong by orders of magnitude (an anti-join over 6M edges with a vertex table taken for
    empty: a nested loop for minutes). A write that grows a table by more than a tenth
    analyses it before it commits; a small one does not pay for that."""
    store = new_store("postgresql", tmp_path)
    s = f'"{store.schema}"'  # type: ignore[attr-defined]

    def estimates() -> dict[str, float]:
        rows = store.conn.execute(  # type: ignore[attr-defined]
            "SELECT relname, reltuples FROM pg_class WHERE relnamespace = %s::regnamespace "
            "AND relname IN ('vertex', 'edge')",
            (store.schema,),  # type: ignore[attr-defined]
        ).fetchall()
        return dict(rows)

    def write(first_vid: int, vertices: int, edges: int, job: str) -> None:
        store.begin(width=0, schema={})
        vids = range(first_vid, first_vid + vertices)
        store.add_vertices([(v, "", f"v{v}", "n") for v in vids])
        store.add_edges([("e", 1 + i % 20_000, 1 + (i * 7) % 20_000) for i in range(edges)])
        store.commit(job_id=job, summary={})

    try:
        write(1, 20_000, 200_000, "j1")
        after_load = estimates()
        assert after_load == {"vertex": 20_000, "edge": 200_000}
        plan = store.conn.execute(  # type: ignore[attr-defined]
            f"EXPLAIN SELECT e.eid FROM {s}.edge e LEFT JOIN {s}.vertex v ON v.vid = e.src "  # noqa: S608
            "WHERE v.vid IS NULL"
        ).fetchall()
        assert "Nested Loop" not in "\n".join(row[0] for row in plan)

        write(20_001, 100, 1_000, "j2")  # half a percent more: no new statistics
        assert estimates() == after_load

        write(20_101, 5_000, 50_000, "j3")  # a quarter more
        assert estimates() == {"vertex": 25_100, "edge": 251_000}
    finally:
        drop_store(store)


def test_a_key_is_found_through_the_key_index_with_or_without_its_scope(tmp_path):
    """An algorithm's start vertex is looked up by its key alone, in every scope: on a graph of
    many vertices that must not read the whole vertex table. Keys order as bytes, as in the
    SQLite store, whatever the database's locale."""
    store = new_store("postgresql", tmp_path)
    s = f'"{store.schema}"'  # type: ignore[attr-defined]
    try:
        store.begin(width=0, schema={})
        keys = [f"v{i}" for i in range(20_000)] + ["B", "a", "é", "Z"]
        store.add_vertices([(n, "n" if n % 2 else "m", k, "n") for n, k in enumerate(keys, 1)])
        store.commit(job_id="j", summary={})
        assert store.find_vertices("v7") == [(8, "m", "n")]
        assert store.find_vid("n", "v6") == 7 and store.find_vid("m", "v6") is None
        for where in ("key = 'v7'", "key = 'v7' AND scope = 'm'"):
            plan = store.conn.execute(  # type: ignore[attr-defined]
                f"EXPLAIN SELECT vid FROM {s}.vertex WHERE {where}"  # noqa: S608
            ).fetchall()
            assert "Seq Scan" not in "\n".join(row[0] for row in plan), where
        ordered = store.conn.execute(  # type: ignore[attr-defined]
            f"SELECT key FROM {s}.vertex WHERE key IN ('B', 'a', 'é', 'Z') ORDER BY key"  # noqa: S608
        ).fetchall()
        assert [k for (k,) in ordered] == sorted(["B", "a", "é", "Z"], key=str.encode)
    finally:
        drop_store(store)


@pytest.mark.parametrize("label", ["e", "it's", "日本", "a\0b"])
def test_columns_of_one_text_are_stored_as_bound_values_would_be(tmp_path, label):
    """Columns with one text or NULL in every row of a batch (labels, scopes, absent
    properties) go into SQLite's statements as literals: the rows read back are those that
    binding every value stores (texts that cannot be literals are bound)."""
    per = sqlite_store.ROWS_PER_INSERT
    n = 2 * per + 7
    run = RunRows(
        Columns([Same("s"), pa.array([f"k{i}" for i in range(n)]), Same(label), Same(None)], n)
    )
    stored = []
    for literal in (True, False):
        store = SqliteStore(tmp_path / f"{literal}.db")
        store.begin(width=1, schema={})
        vertices, edges = RowBatch(), RowBatch()
        for start, length in [(0, 3), (3, per), (per + 3, n - per - 3)]:  # small, big, big
            vertices.add(run.part(start, length, 100 + start))
        ends = [pa.array(range(100 + i, 100 + n, 2), pa.int64()) for i in (0, 1)]
        m = len(ends[1])
        edges.add(Columns([Same(label), ends[0][:m], ends[1], pa.array([0.5] * m)], m))
        edges.add(Columns([Same(label), ends[1], ends[0][:m], Same(None)], m))
        if literal:
            assert vertices.same(5) == {1: "s", 3: label, 4: None}
            assert edges.same(4) == {0: label}
            store.add_vertex_batch(vertices)
            assert store.add_edge_batch(edges) == 0
        else:
            store.add_vertices(vertices.rows())
            assert store.add_edges(edges.rows()) == 0
        store.commit(job_id="j", summary={})
        stored.append(
            (
                store.conn.execute("SELECT vid, scope, key, label, p0 FROM vertex").fetchall(),
                store.conn.execute("SELECT eid, label, src, dst, p0 FROM edge").fetchall(),
            )
        )
        store.close()
    assert _typed(stored[0][0]) == _typed(stored[1][0]) and len(stored[0][0]) == n
    assert _typed(stored[0][1]) == _typed(stored[1][1]) and len(stored[0][1]) == 2 * m
    assert stored[0][0][5] == (105, "s", "k5", label, None)


def test_a_batch_knows_its_columns_of_one_text_and_leaves_them_out():
    run = RunRows(Columns([Same("e"), pa.array([1, 2, 3]), Same(None)], 3))
    batch = RowBatch()
    batch.add(run.part(0, 3))
    assert batch.same(3) == {0: "e", 2: None}
    batch.add(Columns([Same("f"), pa.array([4]), Same(None)], 1))
    assert batch.same(3) == {2: None}
    assert batch.flat(3, frozenset({2})) == ["e", 1, "e", 2, "e", 3, "f", 4]
    batch.append(("e", 5, None))
    assert batch.same(3) == {}
    assert batch.flat(3, frozenset({2})) is None
    # a small piece of a bigger run (sliced from the run's values), without and with vids
    big = RunRows(Columns([Same("e"), pa.array(range(100)), Same(None)], 100))
    small = RowBatch()
    small.add(big.part(10, 5))
    assert small.same(3) == {0: "e", 2: None}
    assert small.flat(3, frozenset({0, 2})) == [10, 11, 12, 13, 14]
    vertex = RowBatch()
    vertex.add(big.part(10, 2, 7))
    assert vertex.same(4) == {1: "e", 3: None}
    assert vertex.flat(4, frozenset({1, 3})) == [7, 10, 8, 11]
    assert vertex.flat(4, frozenset({0})) == ["e", 10, None, "e", 11, None]
