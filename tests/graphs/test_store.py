"""The graph store on its own: transactions, columns, summaries, removal."""

from __future__ import annotations

import sqlite3

import pytest

from jobcenter.graphs.stores.sqlite import SqliteStore, delete_store, store_counts

# These tests write rows and commit records by hand, not through imports.
pytestmark = pytest.mark.unchecked_stores


def test_an_import_transaction_commits_with_its_summary(tmp_path):
    store = SqliteStore(tmp_path / "g.sqlite3")
    store.begin(width=1, schema={"labels": []})
    store.add_vertices([(1, "", "a", "n", 5), (2, "", "b", "n", None)])
    assert store.add_edges([("e", 1, 2, 0.5)]) == 0
    store.commit(job_id="j1", summary={"lines_total": 3})
    assert store.counts() == {"vertices": {"n": 2}, "edges": {"e": 1}}
    assert store.applied_summary("j1") == {"lines_total": 3}
    assert store.applied_summary("other") is None
    assert store.edges() == [("a", "b", "e", 0.5)]
    store.close()


def test_rollback_and_a_second_commit_of_one_job_leave_no_trace(tmp_path):
    store = SqliteStore(tmp_path / "g.sqlite3")
    store.begin(width=0, schema={})
    store.add_vertices([(1, "", "a", "n")])
    store.rollback()
    assert store.counts() == {"vertices": {}, "edges": {}}
    store.begin(width=0, schema={})
    store.commit(job_id="j", summary={})
    store.begin(width=0, schema={})
    store.add_vertices([(1, "", "a", "n")])
    with pytest.raises(sqlite3.IntegrityError):  # a job's data can never be committed twice
        store.commit(job_id="j", summary={})
    store.rollback()
    assert store.counts() == {"vertices": {}, "edges": {}}
    store.close()


def test_columns_grow_with_the_schema_and_keys_are_unique_per_scope(tmp_path):
    store = SqliteStore(tmp_path / "g.sqlite3")
    store.begin(width=1, schema={})
    store.commit(job_id="a", summary={})
    store.begin(width=3, schema={})
    assert store.width() == 3
    store.add_vertices([(1, "p", "1", "p", 1, 2, 3), (2, "q", "1", "q", 1, 2, 3)])
    with pytest.raises(sqlite3.IntegrityError):
        store.add_vertices([(3, "p", "1", "p", 0, 0, 0)])
    store.commit(job_id="b", summary={})
    assert store.find_vid("q", "1") == 2 and store.find_vid("q", "2") is None
    store.close()


def test_a_writer_waits_for_the_other_and_readers_do_not(tmp_path):
    path = tmp_path / "g.sqlite3"
    writer, other = SqliteStore(path), SqliteStore(path, timeout=0.2)
    writer.begin(width=0, schema={})
    writer.add_vertices([(1, "", "a", "n")])
    assert other.counts() == {"vertices": {}, "edges": {}}  # WAL: reads see the last commit
    from jobcenter.graphs.stores.base import StoreError

    with pytest.raises(StoreError, match="busy"):
        other.begin(width=0, schema={})
    writer.commit(job_id="j", summary={})
    assert other.counts()["vertices"] == {"n": 1}
    writer.close()
    other.close()


def test_delete_store_removes_the_files(tmp_path):
    path = tmp_path / "g.sqlite3"
    store = SqliteStore(path)
    store.close()
    assert store_counts(path) == {"vertices": {}, "edges": {}}
    delete_store(path)
    assert not list(tmp_path.iterdir())
    assert store_counts(path) == {"vertices": {}, "edges": {}}
