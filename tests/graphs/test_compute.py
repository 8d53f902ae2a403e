"""A computation run so that a stop lands in time: in a forked child that a stop kills, or in
the worker itself when it is known to be short."""

from __future__ import annotations

import os
import threading
import time

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
