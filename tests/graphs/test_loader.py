"""The one loader, on real files into a real graph store."""

from __future__ import annotations

import threading

import pytest
import yaml

from jobcenter.graphs.plan import ErrorThreshold, ImportAborted, ImportStopped
from tests.factories.files import shared_data
from tests.graphs.conftest import both_stores, drop_store, new_store

# Every test here runs on both graph store backends.
store_backend = both_stores

VERTICES = "ann,user,Ann,31\nbob,user,Bob,40\ncid,user,Cid,22\n"


def test_ges_movie_imports_with_the_documented_counts_reasons_and_values(workspace):
    run = workspace.ges_movie()
    counts = [(f.status, f.total_lines, f.successful_lines, f.failed_lines) for f in run.files]
    assert counts == [
        ("success", 4, 4, 0),
        ("partFailed", 10, 6, 4),
        ("partFailed", 9, 5, 4),
    ]
    assert run.failed() == [
        (1, 4, "not_in_enum"),
        (1, 5, "bad_type"),
        (1, 9, "unknown_label"),
        (1, 10, "too_long"),
        (2, 6, "missing_vertex"),
        (2, 7, "bad_type"),
        (2, 8, "bad_date"),
        (2, 9, "column_count"),
    ]
    vertex_messages = {f.line_number: f.message for f in run.progress.failed if f.file_index == 1}
    assert vertex_messages[4] == "Gender: 'X' is not one of the enum's values F, M"
    assert vertex_messages[5] == "Age: 'not-a-number' is not an int"
    assert vertex_messages[9] == "label 'spaceship' is not a vertex label of the schema"
    assert "maxDataSize 5" in vertex_messages[10]
    edge_messages = {f.line_number: f.message for f in run.progress.failed if f.file_index == 2}
    assert edge_messages[6] == "source vertex 'Ghost' does not exist"
    assert edge_messages[7] == "Score: 'four' is not a double"
    assert "'2020-13-45' is not a valid date" in edge_messages[8]
    assert "label friends has no properties" in edge_messages[9]
    raw = {(f.file_index, f.line_number): f.raw for f in run.progress.failed}
    assert raw[(1, 4)] == "Bob,user,Bob K,X,44,94110,"
    assert raw[(2, 6)] == "Ghost,Heat,rate,2,2002-01-01"
    assert run.summary.vertices_added == 6 and run.summary.edges_added == 5
    assert run.summary.lines_total == 19 and run.summary.lines_failed == 8
    assert workspace.store.counts() == {
        "vertices": {"movie": 3, "user": 3},
        "edges": {"friends": 2, "rate": 3},
    }
    vivian = workspace.store.vertices("user")[0]
    assert vivian[:7] == ("Vivian", "user", "Vivian W", "F", 31, "98133", '["artist", "painter"]')
    rates = {(e[0], e[1]): e[3:5] for e in workspace.store.edges("rate")}
    assert rates[("Ada", "Up")] == (3.5, "2019-07-01 08:00:00")
    assert rates[("Vivian", "Heat")] == (5.0, "2001-02-03")
    assert "4 of 10 lines failed" in run.files[1].cause
    assert "line 4: not_in_enum" in run.files[1].log


def test_modern_graph_imports_every_line(workspace):
    from jobcenter.graphs.formats import graphscope

    modern = shared_data("modern_graph")
    workspace.schema = graphscope.parse_graph_definition(
        yaml.safe_load((modern / "graph.yaml").read_text())
    )
    mapping = yaml.safe_load((modern / "bulk_load.yaml").read_text())
    mapping.pop("graph")
    mapping["loading_config"]["data_source"]["location"] = str(modern)
    run = workspace.run(workspace.graphscope_plan(mapping))
    assert [(f.total_lines, f.failed_lines, f.status) for f in run.files] == [
        (4, 0, "success"),
        (2, 0, "success"),
        (2, 0, "success"),
        (4, 0, "success"),
    ]
    assert workspace.store.counts() == {
        "vertices": {"person": 4, "software": 2},
        "edges": {"created": 4, "knows": 2},
    }
    assert workspace.store.edges("knows")[1][:4] == ("1", "4", "knows", 1.0)
    assert workspace.store.vertices("person")[0][:5] == ("1", "person", 1, "marko", 29)


def test_every_line_is_counted_once_with_quotes_blank_lines_and_no_final_newline(
    workspace, small_graph
):
    vertices = (
        'ann,user,"Ann, the first",31\n'
        "\n"
        'bob,user,"Bob ""B"" K",40\n'
        'cid,user,"Cid\nover two lines",22\n'
        "dan,user,Dan,old\n"
        "eve,user,Eve,29"
    )
    run = workspace.run(small_graph(vertices=vertices))
    f = run.files[1]
    assert (f.total_lines, f.successful_lines, f.failed_lines) == (5, 4, 1)
    assert run.failed() == [(1, 6, "bad_type")]  # physical line 6: after the two-line record
    names = [v[2] for v in workspace.store.vertices()]
    assert names == ["Ann, the first", 'Bob "B" K', "Cid\nover two lines", "Eve"]


def test_delimiter_and_quoting_options(workspace, small_graph):
    run = workspace.run(small_graph(vertices="ann|user|'A|nn'|31\n", delimiter="|", trim_quote="'"))
    assert run.files[1].failed_lines == 0
    assert workspace.store.vertices()[0][2] == "A|nn"
    workspace2_plan = small_graph(vertices='bob,user,"Bob",40\n', trim_quote="")
    run = workspace.run(workspace2_plan)
    assert workspace.store.vertices()[1][2] == '"Bob"'  # no quoting: quotes are data


def test_duplicate_ids_within_a_file_and_against_the_graph(workspace, small_graph):
    workspace.run(small_graph(vertices=VERTICES))
    run = workspace.run(small_graph(vertices="dan,user,Dan,1\nbob,user,Bobby,2\ndan,user,D,3\n"))
    assert run.failed() == [(1, 2, "duplicate_id"), (1, 3, "duplicate_id")]
    assert run.messages()[2] == "vertex id 'bob' already exists"
    assert workspace.store.counts()["vertices"] == {"user": 4}


def test_missing_endpoints_name_the_side(workspace, small_graph):
    run = workspace.run(
        small_graph(vertices=VERTICES, edges="ann,bob,friends\nann,zed,friends\nyan,bob,rate,1\n")
    )
    assert run.failed() == [(2, 2, "missing_vertex"), (2, 3, "missing_vertex")]
    assert run.messages() == {
        2: "target vertex 'zed' does not exist",
        3: "source vertex 'yan' does not exist",
    }


@pytest.mark.parametrize(
    ("action", "ignore_label", "expected"),
    [
        ("allow", True, [("ann", "bob", "rate", 1.0), ("ann", "bob", "friends", None),
                         ("ann", "bob", "rate", 2.0)]),
        ("ignore", True, [("ann", "bob", "rate", 1.0)]),
        ("ignore", False, [("ann", "bob", "rate", 1.0), ("ann", "bob", "friends", None)]),
        ("override", True, [("ann", "bob", "rate", 2.0)]),
        ("override", False, [("ann", "bob", "friends", None), ("ann", "bob", "rate", 2.0)]),
    ],
)  # fmt: skip
def test_parallel_edges(workspace, small_graph, action, ignore_label, expected):
    workspace.run(small_graph(vertices=VERTICES, edges="ann,bob,rate,1\n"))
    run = workspace.run(
        small_graph(
            edges="ann,bob,friends\nann,bob,rate,2\n",
            parallel_edge={"action": action, "ignore_label": ignore_label},
        )
    )
    assert run.files[1].failed_lines == 0 and run.files[1].successful_lines == 2
    assert [e[:4] for e in workspace.store.edges()] == expected


def test_parallel_edges_within_one_file(workspace, small_graph):
    workspace.run(small_graph(vertices=VERTICES))
    run = workspace.run(
        small_graph(
            edges="ann,bob,rate,1\nann,bob,rate,2\nbob,ann,rate,3\n",
            parallel_edge={"action": "ignore"},
        )
    )
    assert run.files[1].ignored_lines == 1 and run.summary.edges_added == 2
    assert [e[3] for e in workspace.store.edges()] == [1.0, 3.0]
    run = workspace.run(
        small_graph(edges="ann,bob,rate,7\nann,bob,rate,8\n", parallel_edge={"action": "override"})
    )
    assert sorted(e[3] for e in workspace.store.edges()) == [3.0, 8.0]


def test_summaries_count_the_rows_an_import_removed(workspace, small_graph):
    """The graph grows by added - removed: init/overwrite clear it first, and under override
    a line removes the edges it replaces (stored before, or earlier in its file, whatever the
    batches), so the counts match the rows in the store."""
    workspace.run(small_graph(vertices=VERTICES, edges="ann,bob,rate,1\nann,bob,friends\n"))
    run = workspace.run(
        small_graph(
            edges="ann,bob,rate,7\nbob,ann,rate,8\nann,bob,rate,9\n",
            parallel_edge={"action": "override"},
        )
    )
    assert (run.summary.edges_added, run.summary.edges_removed) == (3, 3)
    assert run.files[1].ignored_lines == 3 and "3 duplicate edges replaced" in run.files[1].log
    assert sorted(e[3] for e in workspace.store.edges()) == [8.0, 9.0]
    plan = small_graph(vertices="dan,user,Dan,1\n")
    run = workspace.run(type(plan)(**{**plan.__dict__, "mode": "overwrite"}))
    assert (run.summary.vertices_added, run.summary.vertices_removed) == (1, 3)
    assert (run.summary.edges_added, run.summary.edges_removed) == (0, 2)
    assert workspace.store.applied_summary("job3")["vertices_removed"] == 3
    assert workspace.store.counts() == {"vertices": {"user": 1}, "edges": {}}


def test_undecodable_bytes_fail_only_their_line(workspace, small_graph):
    data = b"ann,user,Ann,31\n" + b"bob,user,B\xffb,40\n" + b"cid,user,Cid,22\n"
    run = workspace.run(small_graph(vertices=data))
    assert run.failed() == [(1, 2, "encoding")]
    assert run.progress.failed[0].raw == "bob,user,B\\xffb,40"
    assert [v[0] for v in workspace.store.vertices()] == ["ann", "cid"]


def test_a_file_in_another_encoding_can_be_named(workspace, small_graph):
    data = "zoë,user,Zoë,31\n".encode("latin-1")
    run = workspace.run(small_graph(vertices=data, encoding="latin-1"))
    assert run.files[1].failed_lines == 0
    assert workspace.store.vertices()[0][:3] == ("zoë", "user", "Zoë")


def test_a_field_over_the_size_limit_fails_its_line_and_the_rest_loads(workspace, small_graph):
    huge = "x" * (17 * 1024 * 1024)
    run = workspace.run(small_graph(vertices=f"ann,user,Ann,1\nbob,user,{huge},2\ncid,user,C,3\n"))
    assert [r for _, _, r in run.failed()] == ["malformed"]
    assert [v[0] for v in workspace.store.vertices()] == ["ann", "cid"]


def test_failed_line_records_are_capped_but_every_failure_is_counted(workspace, small_graph):
    lines = "".join(f"v{i},user,V,notanumber\n" for i in range(50))
    run = workspace.run(small_graph(vertices=lines, max_failed_records=7))
    assert run.files[1].failed_lines == 50 and run.files[1].status == "failed"
    assert len(run.progress.failed) == 7


def test_error_threshold_by_count_aborts_and_writes_nothing(workspace, small_graph):
    workspace.run(small_graph(vertices=VERTICES))
    before = workspace.store.counts()
    plan = small_graph(
        vertices="a,user,A,x\nb,user,B,y\nc,user,C,z\nd,user,D,1\n",
        error_threshold={"max_count": 2},
    )
    run, error = workspace.attempt(plan)
    assert isinstance(error, ImportAborted)
    assert "3 failed lines exceed the error threshold of 2" in str(error)
    assert run.files[1].status == "failed" and "aborted" in run.files[1].cause
    assert workspace.store.counts() == before


def test_an_abort_counts_the_lines_that_passed_validation_before_it(workspace, small_graph):
    """Issue 13: the valid lines read before the abort are counted as valid (nothing of them is
    committed, which the job's committed count says), not lost with the unwritten batch."""
    plan = small_graph(
        vertices="a,user,A,1\nb,user,B,y\nc,user,C,3\nd,user,D,z\ne,user,E,5\n",
        edges="a,c,friends\n",
        error_threshold={"max_count": 1},
    )
    run, error = workspace.attempt(plan)
    assert isinstance(error, ImportAborted)
    counts = [(f.status, f.total_lines, f.successful_lines, f.failed_lines) for f in run.files]
    assert counts == [("success", 3, 3, 0), ("failed", 4, 2, 2), (None, 1, 0, 0)]
    assert workspace.store.counts() == {"vertices": {}, "edges": {}}


def test_an_abort_in_an_edge_file_counts_the_valid_lines_between_failed_ones(
    workspace, small_graph
):
    """Valid lines of a run between two failed lines (the second one aborts) count as valid:
    the columnar path adds an edge file's valid lines to the batch only when it must."""
    plan = small_graph(
        vertices="a,user,A,1\nb,user,B,2\nc,user,C,3\nd,user,D,4\n",
        edges="a,b,friends\nb,c,friends\nzz,a,friends\nc,d,friends\nd,a,friends\n"
        "yy,a,friends\na,d,friends\n",
        error_threshold={"max_count": 1},
    )
    run, error = workspace.attempt(plan)
    assert isinstance(error, ImportAborted)
    counts = [(f.status, f.total_lines, f.successful_lines, f.failed_lines) for f in run.files]
    assert counts == [("success", 3, 3, 0), ("success", 4, 4, 0), ("failed", 6, 4, 2)]
    assert workspace.store.counts() == {"vertices": {}, "edges": {}}


def test_error_threshold_by_percent(workspace, small_graph):
    good = "".join(f"g{i},user,G,{i}\n" for i in range(30_000))
    bad = "".join(f"b{i},user,B,x\n" for i in range(5_000))
    run = workspace.run(small_graph(vertices=good + bad, error_threshold={"max_percent": 20}))
    assert run.files[1].failed_lines == 5_000
    plan = small_graph(vertices=bad + good, error_threshold={"max_percent": 10})
    _, error = workspace.attempt(plan)
    assert isinstance(error, ImportAborted) and "above the error threshold of 10%" in str(error)


def test_stop_rolls_everything_back(workspace, small_graph):
    workspace.run(small_graph(vertices=VERTICES))
    before = workspace.store.counts()
    edges = "".join("ann,bob,rate,1\n" for _ in range(100_000))
    plan = small_graph(vertices="zed,user,Z,1\n", edges=edges)
    run_progress = []

    def stop_after_first_batch(summary):  # never reached
        raise AssertionError("the import should have stopped before its commit")

    from jobcenter.graphs.loader import BATCH_ROWS
    from tests.graphs.conftest import Run

    run = Run(plan)
    watcher = threading.Thread(
        target=lambda: (
            _wait(lambda: run.progress.files[2].successful_lines >= BATCH_ROWS),
            run.progress.stop.set(),
        )
    )
    watcher.start()
    from jobcenter.graphs.loader import run_import

    with pytest.raises(ImportStopped):
        run_import(
            plan,
            workspace.store,
            job_id="j",
            progress=run.progress,
            commit_gate=stop_after_first_batch,
        )
    watcher.join()
    run_progress.append(run.progress.files[2].successful_lines)
    assert 0 < run_progress[0] < 100_000
    assert workspace.store.counts() == before
    assert workspace.store.applied_summary("j") is None


@pytest.mark.parametrize("columnar", [True, False], ids=["columnar", "by-record"])
def test_records_that_break_the_csv_parser_do_not_hold_back_batches(
    workspace, small_graph, monkeypatch, columnar
):
    """A record csv.reader refuses (a CR outside quotes) counted as one record of its batch:
    it restarted the count, so a file with one every few hundred lines was written in one
    batch at its end, with no progress and no cancel until then (and memory growing with the
    file)."""
    from jobcenter.graphs import loader
    from tests.graphs.conftest import Run

    monkeypatch.setattr(loader, "BATCH_ROWS", 1_000)
    monkeypatch.setattr(loader, "COLUMNAR", columnar)
    workspace.run(small_graph(vertices=VERTICES))
    before = workspace.store.counts()
    edges = "".join(
        "ann,bob,rate,1\r5\n" if i % 200 == 199 else "ann,bob,rate,1\n" for i in range(120_000)
    )
    plan = small_graph(vertices="zed,user,Z,1\n", edges=edges)
    run = Run(plan)
    seen: list[int] = []

    def stop_at_the_first_batch() -> None:
        _wait(lambda: run.progress.files[2].successful_lines > 0, timeout=60)
        seen.append(run.progress.files[2].successful_lines)
        run.progress.stop.set()

    watcher = threading.Thread(target=stop_at_the_first_batch)
    watcher.start()
    with pytest.raises(ImportStopped):
        loader.run_import(
            plan,
            workspace.store,
            job_id="j",
            progress=run.progress,
            commit_gate=lambda summary: pytest.fail("the import should have stopped"),
        )
    watcher.join()
    # Batches of 1,000 records: the first is published, and the stop seen, long before the
    # file's end (119,400 lines at once before; the bounds leave room for a slow watcher).
    assert 0 < seen[0] < 60_000
    assert run.progress.files[2].successful_lines < 60_000
    assert workspace.store.counts() == before


def test_a_refused_commit_gate_stores_nothing(workspace, small_graph):
    _run, error = workspace.attempt(
        small_graph(vertices=VERTICES), commit_gate=lambda summary: False
    )
    assert isinstance(error, ImportStopped)
    assert workspace.store.counts() == {"vertices": {}, "edges": {}}
    workspace.run(small_graph(vertices=VERTICES), job_id="j2", commit_gate=lambda s: True)
    assert workspace.store.applied_summary("j2")["vertices_added"] == 3


def test_store_backed_key_index_gives_the_same_result(workspace, tmp_path):
    """Graphs too big for the in-memory key index are looked up in the store instead."""
    memory = workspace.ges_movie()
    other = new_store(workspace.backend, tmp_path / "other")
    workspace.store, kept = other, workspace.store
    try:
        movie = shared_data("ges_movie")
        plan = workspace.ges_plan(
            schema_path=str(movie / "schema.xml"),
            vertexset_path=str(movie / "vertex.csv"),
            edgeset_path=str(movie / "edge.csv"),
        )
        stored = workspace.run(plan, index_capacity=0)
        assert stored.failed() == memory.failed()
        assert other.vertices() == kept.vertices() and other.edges() == kept.edges()
    finally:
        drop_store(other)
        workspace.store = kept


def test_graphscope_init_replaces_the_data_and_append_adds(workspace):
    from jobcenter.graphs.formats import graphscope

    definition = {
        "schema": {
            "vertex_types": [
                {
                    "type_name": "p",
                    "primary_keys": ["id"],
                    "properties": [
                        {"property_name": "id", "property_type": {"primitive_type": "DT_SIGNED_INT64"}},
                        {"property_name": "ok", "property_type": {"primitive_type": "DT_BOOL"}},
                    ],
                }
            ],
            "edge_types": [
                {
                    "type_name": "k",
                    "vertex_type_pair_relations": [{"source_vertex": "p", "destination_vertex": "p"}],
                    "properties": [],
                }
            ],
        }
    }  # fmt: skip
    workspace.schema = graphscope.parse_graph_definition(definition)
    workspace.write("p1.csv", "ok,id\ntrue,1\nfalse,2\nmaybe,3\n")
    workspace.write("p2.csv", "id,ok\n007,1\n")
    workspace.write("k.csv", "a|b\n1|2\n2|7\n")

    def mapping(option, vertex_file, mappings):
        return {
            "loading_config": {
                "data_source": {"location": str(workspace.root)},
                "import_option": option,
                "format": {"metadata": {"delimiter": ","}},
            },
            "vertex_mappings": [
                {"type_name": "p", "inputs": [vertex_file], "column_mappings": mappings}
            ],
        }

    by_name = [
        {"column": {"name": "id"}, "property": "id"},
        {"column": {"name": "ok"}, "property": "ok"},
    ]
    run = workspace.run(workspace.graphscope_plan(mapping("init", "p1.csv", by_name)))
    assert run.failed() == [(0, 4, "bad_type")]
    assert [v[:4] for v in workspace.store.vertices()] == [("1", "p", 1, 1), ("2", "p", 2, 0)]
    run = workspace.run(workspace.graphscope_plan(mapping("append", "p2.csv", None)))
    assert [v[0] for v in workspace.store.vertices()] == ["1", "2", "7"]  # 007 is the int 7
    edges = {
        "loading_config": {"format": {"metadata": {"delimiter": "|"}}},
        "edge_mappings": [
            {
                "type_triplet": {"edge": "k", "source_vertex": "p", "destination_vertex": "p"},
                "inputs": [str(workspace.root / "k.csv")],
            }
        ],
    }
    plan = workspace.graphscope_plan(edges)
    plan = type(plan)(**{**plan.__dict__, "mode": "append"})
    run = workspace.run(plan)
    assert run.failed() == [] and workspace.store.counts()["edges"] == {"k": 2}
    run = workspace.run(workspace.graphscope_plan(mapping("overwrite", "p2.csv", None)))
    assert workspace.store.counts() == {"vertices": {"p": 1}, "edges": {}}


def test_threshold_type_is_validated_before_running(small_graph):
    from jobcenter.graphs.plan import PlanError

    with pytest.raises(PlanError, match="max_percent must be a number from 0 to 100"):
        small_graph(vertices=VERTICES, error_threshold={"max_percent": 120})
    assert small_graph(vertices=VERTICES, error_threshold={"max_count": 0}).threshold == (
        ErrorThreshold(max_count=0)
    )


def _wait(predicate, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met")
        time.sleep(0.001)


def test_pyarrow_allocates_outside_mimalloc_during_an_import_only(workspace, small_graph):
    """Issue 14, the import's peak: mimalloc kept 20 to 40 MB more resident through an import."""
    import pyarrow as pa

    before = pa.default_memory_pool()
    during: list[str] = []

    def gate(summary) -> bool:
        during.append(pa.default_memory_pool().backend_name)
        return True

    plan = small_graph(vertices=VERTICES, edges="ann,bob,friends\nbob,cid,friends\n")
    workspace.run(plan, commit_gate=gate)
    assert during and during[0] in ("jemalloc", "system")
    assert pa.default_memory_pool().backend_name == before.backend_name


@pytest.mark.parametrize("store_backend", ["sqlite"])  # the SQLite store's page cache
def test_sqlite_appends_edges_with_a_small_page_cache_and_restores_it(workspace, small_graph):
    """Issue 14, the import's peak: appended edges need only the table's last pages cached."""
    assert workspace.backend == "sqlite"
    conn = workspace.store.conn
    before = conn.execute("PRAGMA cache_size").fetchone()[0]
    during: list[int] = []

    def gate(summary) -> bool:
        during.append(conn.execute("PRAGMA cache_size").fetchone()[0])
        return True

    plan = small_graph(vertices=VERTICES, edges="ann,bob,friends\nbob,cid,friends\n")
    workspace.run(plan, commit_gate=gate)
    assert during == [-8192]  # KiB (stores.sqlite.APPEND_CACHE_KIB); the connection's: -65536
    assert conn.execute("PRAGMA cache_size").fetchone()[0] == before
    # a refused commit (rollback) restores it too
    _run, error = workspace.attempt(
        small_graph(vertices="dan,user,Dan,50\n", edges="dan,ann,friends\n"),
        commit_gate=lambda s: bool(during.append(0)),
    )
    assert isinstance(error, ImportStopped)
    assert conn.execute("PRAGMA cache_size").fetchone()[0] == before
    assert workspace.store.counts()["edges"] == {"friends": 2}


@pytest.mark.parametrize("store_backend", ["sqlite"])  # the SQLite store's page cache
@pytest.mark.parametrize(
    ("options", "request_", "expected"),
    [
        ({}, {}, -8192),  # keys in memory, edges appended: vertices with the small cache too
        ({"index_capacity": 0}, {}, -65536),  # keys looked up in the store: its cache kept
        ({}, {"parallel_edge": {"action": "ignore"}}, -65536),  # endpoints looked up
    ],
)
def test_sqlite_writes_vertices_with_a_small_page_cache_when_it_looks_nothing_up(
    workspace, small_graph, monkeypatch, options, request_, expected
):
    """Issue 14, the import's peak: dirty pages of the vertex table and its key index stay
    cached to the commit, under the sort of the import's key index for the edges."""
    from jobcenter.graphs.stores.sqlite import SqliteStore

    seen: list[int] = []
    original = SqliteStore.add_vertex_batch

    def add_vertex_batch(self, batch):
        seen.append(self.conn.execute("PRAGMA cache_size").fetchone()[0])
        return original(self, batch)

    monkeypatch.setattr(SqliteStore, "add_vertex_batch", add_vertex_batch)
    plan = small_graph(vertices=VERTICES, edges="ann,bob,friends\n", **request_)
    workspace.run(plan, **options)
    assert seen and set(seen) == {expected}
    assert workspace.store.conn.execute("PRAGMA cache_size").fetchone()[0] == -65536
    assert workspace.store.counts()["edges"] == {"friends": 1}


def test_one_writer_thread_writes_the_vertex_and_edge_files(workspace, small_graph, monkeypatch):
    """Issue 14: the edge file is read while the vertex file's last batches are written, by the
    same thread; the store is the loader's again once the import's writes are done."""
    store_class = type(workspace.store)
    threads: list[tuple[str, threading.Thread]] = []
    for name in ("add_vertex_batch", "add_edge_batch"):
        original = getattr(store_class, name)

        def spy(self, batch, original=original, name=name):
            threads.append((name, threading.current_thread()))
            return original(self, batch)

        monkeypatch.setattr(store_class, name, spy)
    run = workspace.run(small_graph(vertices=VERTICES, edges="ann,bob,friends\n"))
    assert [name for name, _ in threads] == ["add_vertex_batch", "add_edge_batch"]
    (_, first), (_, second) = threads
    assert first is second and first is not threading.main_thread() and not first.is_alive()
    assert run.summary.vertices_added == 3 and run.summary.edges_added == 1


def test_a_failed_vertex_write_fails_the_import_and_leaves_the_graph_unchanged(
    workspace, small_graph, monkeypatch
):
    workspace.run(small_graph(vertices="dan,user,Dan,50\n", edges=""))
    store_class = type(workspace.store)

    def add_vertex_batch(self, batch):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(store_class, "add_vertex_batch", add_vertex_batch)
    _run, error = workspace.attempt(small_graph(vertices=VERTICES, edges="ann,bob,friends\n"))
    assert str(error) == "the disk is full"
    assert workspace.store.counts() == {"vertices": {"user": 1}, "edges": {}}
    assert not [t for t in threading.enumerate() if t.name == "jobcenter-store-writer"]


def test_a_pace_ceiling_spreads_an_import_and_a_stop_ends_its_wait(
    workspace, small_graph, monkeypatch
):
    """``max_lines_per_second``: the import takes no less than its lines at that pace (its
    first slice excepted) and counts and stores everything as usual; a stop while it waits
    ends the import at once, with nothing written."""
    import time

    from jobcenter.graphs import chunks, loader
    from tests.graphs.conftest import Run

    monkeypatch.setattr(loader, "BATCH_ROWS", 1_000)
    monkeypatch.setattr(chunks, "CHUNK_BYTES", 8_192)  # about 500 lines a slice
    workspace.run(small_graph(vertices=VERTICES))
    plan = small_graph(vertices="zed,user,Z,1\n", edges="ann,bob,rate,1\n" * 12_000)

    run = Run(plan)
    run.progress.max_lines_per_second = 10_000
    began = time.monotonic()
    loader.run_import(plan, workspace.store, job_id="paced", progress=run.progress)
    assert time.monotonic() - began >= 1.0  # 12,000 lines at 10,000 a second, less a slice
    assert [(f.successful_lines, f.failed_lines) for f in run.progress.data_files] == [
        (1, 0),
        (12_000, 0),
    ]
    assert workspace.store.counts()["edges"] == {"rate": 12_000}
    before = workspace.store.counts()

    run = Run(plan)
    run.progress.max_lines_per_second = 200  # a minute for the edges
    stopped: list[float] = []

    def stop_while_it_waits() -> None:
        _wait(lambda: run.progress.files[2].successful_lines > 0)
        time.sleep(0.2)
        stopped.append(time.monotonic())
        run.progress.stop.set()

    watcher = threading.Thread(target=stop_while_it_waits)
    watcher.start()
    with pytest.raises(ImportStopped):
        loader.run_import(plan, workspace.store, job_id="stopped", progress=run.progress)
    ended = time.monotonic()
    watcher.join()
    assert ended - stopped[0] < 5.0  # not the minute the pace asked for
    assert workspace.store.counts() == before
