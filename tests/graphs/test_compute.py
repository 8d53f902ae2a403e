"""A computation run so that a stop lands in time: in a forked child that a stop kills (forked
for it, or the standby forked ahead), or in the worker itself when it is known to be short."""

from __future__ import annotations

import os
import signal
import threading
import time
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from jobcenter.graphs.compute import (
    INLINE_SECONDS,
    AlgorithmFailed,
    AlgorithmStopped,
    Control,
    standby_drop,
    standby_keep,
    standby_pid,
)


def test_stop_while_isolated_algorithm_runs_kills_it_at_once():
    control = Control()
    threading.Timer(0.3, control.stop.set).start()
    started = time.monotonic()
    with pytest.raises(AlgorithmStopped):
        control.compute(lambda: time.sleep(30))
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("expected_seconds", [None, 0.01])
def test_isolated_and_inline_errors_come_back_alike(expected_seconds):
    with pytest.raises(AlgorithmFailed, match="ZeroDivisionError"):
        Control(expected_seconds=expected_seconds).compute(lambda: 1 / 0)


def test_only_computations_known_to_be_short_run_in_the_worker_itself():
    here = os.getpid()
    assert Control(expected_seconds=INLINE_SECONDS / 10).compute(os.getpid) == here
    assert Control(expected_seconds=INLINE_SECONDS * 2).compute(os.getpid) != here
    assert Control().compute(os.getpid) != here  # no estimate: always a child
    stopped = Control(expected_seconds=0.01)
    stopped.stop.set()
    with pytest.raises(AlgorithmStopped):
        stopped.compute(os.getpid)


def test_stop_ends_a_long_igraph_computation_at_once():
    import igraph as ig

    graph = ig.Graph.Erdos_Renyi(n=40_000, m=400_000)
    control = Control()
    threading.Timer(0.3, control.stop.set).start()
    started = time.monotonic()
    with pytest.raises(AlgorithmStopped):
        control.compute(lambda: [graph.community_label_propagation() for _ in range(1000)])
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("expected_seconds", [None, 0.01])  # in a child, and here
def test_a_list_of_numbers_comes_back_as_an_array_when_asked(expected_seconds):
    control = Control(expected_seconds=expected_seconds)
    floats = control.compute(lambda: [0.5, 1 / 3, 2.0], vector="d")
    assert isinstance(floats, array) and floats.typecode == "d"
    assert list(floats) == [0.5, 1 / 3, 2.0]
    ints = control.compute(lambda: [3, -1, 2**40], vector="q")
    assert isinstance(ints, array) and list(ints) == [3, -1, 2**40]
    # not a list of such numbers: it comes back as it is
    assert control.compute(lambda: [(1, 2.5)], vector="d") == [(1, 2.5)]
    assert control.compute(lambda: [2**70], vector="q") == [2**70]


def test_the_child_that_computed_is_collected():
    pid = Control().compute(os.getpid)
    assert pid != os.getpid()
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not os.path.exists(f"/proc/{pid}"), "the child is left a zombie"


# --- the standby child: forked ahead, it serves the next computation --------------------------


@pytest.fixture
def graphs():
    import igraph as ig

    yield ig.Graph.Erdos_Renyi(n=2_000, m=10_000, directed=True), ig.Graph.Ring(3_000)
    standby_drop()


def gone(pid: int, timeout: float = 5) -> bool:
    """Whether process ``pid`` ended and was collected (no zombie left)."""
    deadline = time.monotonic() + timeout
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        time.sleep(0.01)
    return not os.path.exists(f"/proc/{pid}")


def test_a_standby_child_computes_the_next_computation(graphs):
    g, _ = graphs
    standby = standby_keep([g])
    assert standby is not None and standby != os.getpid()
    assert standby_keep([g]) == standby  # the same graphs: the same standby
    assert Control().compute(lambda: (os.getpid(), g.vcount())) == (standby, 2_000)
    assert standby_pid() is None  # one computation each
    assert gone(standby)

    standby = standby_keep([g])
    values = Control().compute(lambda: g.pagerank(damping=0.85), vector="d")
    assert isinstance(values, array) and values.typecode == "d"
    assert list(values) == pytest.approx(g.pagerank(damping=0.85))
    assert gone(standby)

    standby_keep([g])
    with pytest.raises(AlgorithmFailed, match="ZeroDivisionError"):
        Control().compute(lambda: g.vcount() / 0)


def test_stop_kills_the_standby_computing_at_once(graphs):
    g, _ = graphs
    standby = standby_keep([g])
    control = Control()
    threading.Timer(0.3, control.stop.set).start()
    started = time.monotonic()
    with pytest.raises(AlgorithmStopped):
        control.compute(lambda: [g.community_label_propagation() for _ in range(100_000)])
    assert time.monotonic() - started < 2
    assert gone(standby)


SCALE = 1
CURRENT: object = None


def test_the_standby_never_computes_on_a_graph_it_was_not_forked_with(graphs):
    global SCALE, CURRENT
    old, new = graphs  # ``new``: say, the graph's data after a re-import
    CURRENT = old
    standby = standby_keep([old])
    # a graph loaded after the standby's fork: computed by a child forked for it
    pid, vertices = Control().compute(lambda: (os.getpid(), new.vcount()))
    assert (vertices, standby_pid()) == (3_000, standby) and pid != standby
    # the same through a module global rebound since the fork
    CURRENT = new
    pid, vertices = Control().compute(lambda: (os.getpid(), CURRENT.vcount()))
    assert (vertices, standby_pid()) == (3_000, standby) and pid != standby
    # other values the call reads are the worker's of now, not those of the fork
    SCALE = 2
    try:
        assert Control().compute(lambda: (os.getpid(), old.vcount() * SCALE)) == (standby, 4_000)
    finally:
        SCALE = 1
    # a call that cannot be sent (a lock does not pickle): a child forked for it
    standby = standby_keep([old])
    lock = threading.Lock()
    pid, locked = Control().compute(lambda: (os.getpid(), lock.locked()))
    assert (locked, standby_pid()) == (False, standby) and pid != standby


def test_a_standby_of_other_graphs_is_replaced_and_collected(graphs):
    old, new = graphs
    first = standby_keep([old])
    second = standby_keep([new])  # the graph held now is another (a new version of its data)
    assert second not in (None, first) and gone(first)
    assert Control().compute(lambda: (os.getpid(), new.vcount())) == (second, 3_000)
    third = standby_keep([new])
    assert standby_keep([]) is None and gone(third)  # no graph held: no standby
    fourth = standby_keep([old, new])
    standby_drop()
    assert standby_pid() is None and gone(fourth)


def dead(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in "ZX"
    except OSError:
        return True


def test_a_standby_killed_from_outside_is_replaced_and_computations_go_on(graphs):
    g, _ = graphs
    standby = standby_keep([g])
    os.kill(standby, signal.SIGKILL)
    while not dead(standby):
        time.sleep(0.01)
    pid, vertices = Control().compute(lambda: (os.getpid(), g.vcount()))
    assert vertices == 2_000 and pid != standby  # a child forked for it
    assert gone(standby)

    standby = standby_keep([g])
    os.kill(standby, signal.SIGKILL)
    while not dead(standby):
        time.sleep(0.01)
    again = standby_keep([g])  # the idle worker's next look
    assert again not in (None, standby) and gone(standby)
    assert Control().compute(lambda: (os.getpid(), g.vcount())) == (again, 2_000)


def faults_writing(size: int) -> int:
    """Minor page faults of this process while it allocates ``size`` bytes and writes them."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = bytearray(size)  # malloc'd and zeroed: every page written
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    del block
    return faults


@pytest.mark.skipif(
    not Path("/proc/self/stat").exists() or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="the heap faulted in ahead is for glibc on Linux",
)
def test_the_standby_computes_in_heap_it_faulted_in_ahead(graphs):
    g, _ = graphs
    size = 16 << 20  # 4,096 pages, each a fault when the memory is new to the process
    standby = standby_keep([g], heap_bytes=64 << 20)
    time.sleep(0.5)  # the standby faults its heap in while it waits
    pid, faults = Control().compute(lambda: (os.getpid(), faults_writing(size)))
    assert pid == standby
    assert faults < 1_000, f"{faults} page faults writing 16 MB in the standby"
    # without the heap faulted in ahead, as in a child forked for the computation
    pid, faults = Control().compute(lambda: (os.getpid(), faults_writing(size)))
    assert pid != standby and faults > 3_000


@pytest.mark.skipif(
    not Path("/proc/self/stat").exists() or os.confstr("CS_GNU_LIBC_VERSION") is None,
    reason="page faults of glibc's heap on Linux",
)
def test_the_standby_faults_in_the_heaps_free_holes_too(graphs):
    """A worker's heap has free holes after an import and a load, their pages given back by
    malloc_trim: the computation's allocations take those holes first (best fit), so faulting
    in only a new top of the heap left them to fault again (4,100 faults below)."""
    import ctypes

    g, _ = graphs
    held = [bytearray(100_000) for _ in range(240)]  # 24 MB of the heap (each below mmap's)
    pin = bytearray(100_000)  # keeps the hole from being the heap's top
    del held
    ctypes.CDLL(None).malloc_trim(0)  # the hole's pages given back, as a worker does
    standby = standby_keep([g], heap_bytes=64 << 20)
    time.sleep(0.5)
    pid, faults = Control().compute(lambda: (os.getpid(), faults_writing(16 << 20)))
    assert pid == standby
    assert faults < 1_000, f"{faults} page faults writing 16 MB in the standby"
    del pin


def worker_faults(compute: Callable[[], Any]) -> tuple[Any, int]:
    """``compute()``'s result and this process's minor page faults while it ran."""
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    value = compute()
    return value, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


@pytest.mark.parametrize("standby", [False, True])
def test_an_array_from_a_child_is_read_into_its_own_memory(graphs, standby):
    g, _ = graphs
    count = 1_000_000  # 8 MB of doubles: many reads from the pipe
    if standby:
        standby_keep([g])
    values, faults = worker_faults(
        lambda: Control().compute(lambda: [i / 7 for i in range(count)], vector="d")
    )
    assert values.typecode == "d" and len(values) == count
    assert values[0] == 0.0 and values[count - 1] == (count - 1) / 7 and values[777] == 111.0
    values.append(1.0)  # the caller's own array
    # its pages are written once (2,000), not also as chunks read and then joined (6,000)
    assert faults < 3_000, f"{faults} page faults receiving 8 MB"
    assert list(Control().compute(lambda: [], vector="q")) == []
