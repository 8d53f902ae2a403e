"""The store's graph built with igraph: edges streamed into the library, not listed first."""

from __future__ import annotations

import sys
import threading
import tracemalloc
from pathlib import Path

import pyarrow as pa
import pytest

from jobcenter.graphs.build import build_graph, load_graph
from jobcenter.graphs.compute import AlgorithmStopped, Control
from jobcenter.graphs.query import snapshot
from jobcenter.graphs.resident import RESIDENT

SCHEMA = """<?xml version="1.0"?><PMML version="3.0"><labels>
<label name="n"><properties><property name="v" cardinality="single" dataType="int"/></properties></label>
<label name="e"><properties><property name="w" cardinality="single" dataType="double"/></properties></label>
</labels></PMML>"""

VERTICES = 2_000
EDGES = 300_000  # three chunks of the build's 100,000


@pytest.fixture
def big_store(workspace):
    """A GES graph of VERTICES vertices and EDGES edges (edge j: j -> 7j+1, weight j % 10)."""
    RESIDENT.clear()
    vtext = "".join(f"v{i},n,{i}\n" for i in range(VERTICES))
    etext = "".join(f"v{j % VERTICES},v{(j * 7 + 1) % VERTICES},e,{j % 10}\n" for j in range(EDGES))
    plan = workspace.ges_plan(
        schema_path=workspace.write("s.xml", SCHEMA),
        vertexset_path=workspace.write("v.csv", vtext),
        edgeset_path=workspace.write("e.csv", etext),
    )
    workspace.run(plan)
    yield workspace.store
    RESIDENT.clear()


def test_the_load_holds_a_chunk_of_edges_as_python_objects_not_the_whole_graph(big_store):
    # A list of all edges as (source, target) tuples took about 120 bytes of Python objects
    # an edge beside the graph (C memory, not traced here); streamed, only one chunk is.
    tracemalloc.start()
    try:
        with snapshot(big_store):
            loaded = load_graph(big_store, weight=None, control=Control())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert loaded.graph.ecount() == EDGES and loaded.graph.vcount() == VERTICES
    assert peak < 60 * EDGES, f"{peak / EDGES:.0f} bytes of Python objects an edge"


def test_edges_keep_the_store_order_and_weights_come_along(big_store):
    graph, numbering = build_graph(big_store, weight="w")
    assert graph.is_directed() and numbering.base is not None
    for j in (0, 1, 99_999, 100_000, EDGES - 1):  # across chunk boundaries
        edge = graph.es[j]
        assert (edge.source, edge.target) == (j % VERTICES, (j * 7 + 1) % VERTICES)
        assert edge["weight"] == float(j % 10)


@pytest.mark.unchecked_stores("rows deleted by hand, to leave a gap in the vids")
def test_vids_with_gaps_are_numbered_in_order(big_store):
    # vids are contiguous after imports; a gap (vertex 5 and its edges gone) takes the
    # vid -> index table instead of an offset
    big_store.conn.execute("DELETE FROM edge WHERE src = 6 OR dst = 6")  # vid 6 is v5
    big_store.conn.execute("DELETE FROM vertex WHERE key = 'v5'")
    remaining = big_store.conn.execute("SELECT count(*) FROM edge").fetchone()[0]
    graph, numbering = build_graph(big_store, weight="w")
    assert numbering.base is None and graph.vcount() == VERTICES - 1
    assert graph.ecount() == remaining
    assert numbering.index(5) == 4 and numbering.index(7) == 5  # v4 -> 4, v6 -> 5
    first = big_store.conn.execute("SELECT src, dst FROM edge ORDER BY eid LIMIT 1").fetchone()
    edge = graph.es[0]
    assert (edge.source, edge.target) == (numbering.index(first[0]), numbering.index(first[1]))


def test_a_stop_while_reading_raises_the_stop_itself(big_store):
    # Raised inside igraph's conversion of the edges, an exception would come out as an
    # unrelated MemoryError; the build ends the edges and raises the stop after.
    control = Control()
    reads = []

    def on_chunk(read: int, total: int) -> None:
        reads.append(read)
        control.stop.set()
        control.check()

    with pytest.raises(AlgorithmStopped):
        build_graph(big_store, on_chunk=on_chunk)
    assert reads == [100_000]
    stopper = Control(stop=threading.Event())
    stopper.stop.set()
    with pytest.raises(AlgorithmStopped), snapshot(big_store):
        load_graph(big_store, weight=None, control=stopper)


def test_the_store_keeps_its_page_cache_setting(big_store):
    # the edges are read with a small page cache (read once, it would only add to the peak)
    before = big_store.conn.execute("PRAGMA cache_size").fetchone()[0]
    build_graph(big_store)
    assert big_store.conn.execute("PRAGMA cache_size").fetchone()[0] == before
    with pytest.raises(AlgorithmStopped):
        build_graph(big_store, on_chunk=lambda read, total: Control(stop=stopped()).check())
    assert big_store.conn.execute("PRAGMA cache_size").fetchone()[0] == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_what_pyarrows_pool_keeps_is_given_back_before_igraph_indexes_the_edges(big_store):
    # An import leaves pyarrow's default pool (mimalloc) holding what it freed, about 20 MB
    # resident at the 1 GB import, which would add to the load's peak (igraph indexing).
    pool = pa.default_memory_pool()
    buffers = [pa.allocate_buffer(1 << 20, memory_pool=pool) for _ in range(64)]
    for buffer in buffers:
        memoryview(buffer).cast("B")[:] = b"\x01" * (1 << 20)  # resident
    del buffers, buffer
    kept = resident_mib()
    at_indexing: list[float] = []
    graph, _ = build_graph(big_store, on_read=lambda: at_indexing.append(resident_mib()))
    assert graph.ecount() == EDGES
    assert at_indexing[0] < kept - 32, f"{kept:.0f} MiB before the load, {at_indexing[0]:.0f} then"


def resident_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def stopped() -> threading.Event:
    event = threading.Event()
    event.set()
    return event
