"""A dry run through the loader (issue 17): the same validation, counts and failed lines as the
real import, edges seeing the vertices the run added, and the store left exactly as it was."""

from __future__ import annotations

from dataclasses import asdict

from jobcenter.graphs.query import data_version
from tests.graphs.conftest import Workspace, both_stores

# Every test here runs on both graph store backends.
store_backend = both_stores

VERTICES = "a1,user,Ann,30\nb1,user,Bob,x\na1,user,Dup,31\nc1,user,Cid,40\n"
EDGES = "a1,c1,friends\na1,zz,friends\nc1,s1,friends\nb1,a1,friends\n"


def _outcome(run) -> tuple:
    files = [(f.total_lines, f.successful_lines, f.failed_lines, str(f.status)) for f in run.files]
    summary = asdict(run.summary)
    return files, run.failed(), run.messages(), summary


def _state(workspace: Workspace) -> tuple:
    store = workspace.store
    return store.counts(), data_version(store), store.vertices(), store.edges(), store.width()


def test_a_dry_run_validates_like_the_import_and_writes_nothing(workspace, small_graph):
    # a graph with data (one of whose vertices the edges use): the dry run leaves it exactly so
    workspace.run(small_graph("s1,user,Seed,20\n"))
    before = _state(workspace)
    plan = small_graph(VERTICES, EDGES)
    dry = workspace.run(plan, dry_run=True)
    assert _state(workspace) == before
    assert workspace.store.applied_summary("job2") is None
    assert not workspace.store.in_transaction

    real = workspace.run(small_graph(VERTICES, EDGES))
    assert _outcome(dry) == _outcome(real)
    # edges between vertices of this very import were found in the dry run too
    assert dry.summary.edges_added == 2 and dry.summary.vertices_added == 2
    assert dry.failed() == [
        (1, 2, "bad_type"),
        (1, 3, "duplicate_id"),
        (2, 2, "missing_vertex"),
        (2, 4, "missing_vertex"),
    ]
    assert _state(workspace) != before
