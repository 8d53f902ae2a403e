"""A computation run so that a stop lands in time: in a forked child that a stop kills, or in
the worker itself when it is known to be short."""

from __future__ import annotations

import os
import threading
import time
from array import array

import pytest

from jobcenter.graphs.compute import INLINE_SECONDS, AlgorithmFailed, AlgorithmStopped, Control


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
