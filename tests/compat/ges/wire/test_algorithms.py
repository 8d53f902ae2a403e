"""``compat.ges.wire.algorithms``: GES's algorithm names against ours."""

from __future__ import annotations

from jobcenter.compat.ges.wire import algorithms
from jobcenter.graphs.algorithms import ALGORITHMS as OUR_ALGORITHMS


def test_every_algorithm_of_ours_has_a_ges_name():
    assert set(algorithms.ALGORITHM_RESULTS) == set(OUR_ALGORITHMS)
    for name, spec in algorithms.ALGORITHMS.items():
        assert spec.algorithm in OUR_ALGORITHMS, name
        # a GES-only parameter never shadows one of ours
        assert not set(spec.ges_only) & set(OUR_ALGORITHMS[spec.algorithm].params), name
