"""How fast an import goes: samples of its progress, kept for its whole run in bounded size.

The worker's :class:`~jobcenter.jobs.runner.Heartbeat` already knows how many lines are done
about once a second. :class:`ThroughputSampler` keeps some of those readings as
``[seconds since the start, lines done]`` points, evenly spread over the run however long it
lasts: one point per ``step`` seconds, and when :data:`MAX_POINTS` are kept every other one is
dropped and the step doubles. A three-hour import keeps about 170 points (a step of 64 s), a
one-minute import one a second. The points only change once per step, and only then does the
heartbeat write them (:func:`jobcenter.jobs.services.job_heartbeat`, in the same transaction
as the progress), so the samples cost one small upsert per step, nothing per line.

Rates are worked out from the points (lines between two points / seconds between them), so a
rate is the average over its interval, whatever the thinning kept.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

# Points kept per job (4 KB of JSON at most).
MAX_POINTS = 240
# A reading this many seconds (at most a tenth of a step) before a point is due is taken for
# it: a heartbeat's timer may fire a little early.
EARLY = 0.1

Point = list[float]  # [seconds since the start, lines done]


class ThroughputSampler:
    """Evenly spread ``[seconds, lines]`` points of one run, at most ``max_points``: points
    are due at whole multiples of ``step`` (a reading missed moves on to the next one)."""

    def __init__(self, *, max_points: int = MAX_POINTS, step: float = 1.0) -> None:
        assert max_points >= 4
        self.max_points = max_points
        self.step = step
        self.due = step
        self.points: list[Point] = [[0.0, 0]]

    @property
    def _early(self) -> float:
        return min(EARLY, EARLY * self.step)

    def add(self, seconds: float, lines: int) -> bool:
        """Offer a reading; True when it was kept (the points changed and are worth writing)."""
        if seconds < self.due - self._early:
            return False
        self.points.append([round(seconds, 1), int(lines)])
        if len(self.points) >= self.max_points:
            # Keep every other point (the start included): points due at even multiples of
            # the step stay, so they are still evenly spread, at twice the step.
            self.points = self.points[::2]
            self.step *= 2
        self.due = (math.floor((seconds + self._early) / self.step) + 1) * self.step
        return True

    def finish(self, seconds: float, lines: int) -> list[Point]:
        """The points with the run's last reading at the end (whatever the step)."""
        last = self.points[-1]
        if seconds > last[0]:
            self.points.append([round(seconds, 1), int(lines)])
        elif lines != last[1]:
            last[1] = int(lines)
        return self.points


def rates(points: Sequence[Sequence[float]]) -> list[tuple[float, float, float]]:
    """``(start, end, lines per second)`` of each interval between two points; intervals
    where time went backwards (points written by two attempts) are left out."""
    out = []
    for (t0, l0), (t1, l1) in pairwise(points):
        if t1 > t0 and l1 >= l0:
            out.append((float(t0), float(t1), (l1 - l0) / (t1 - t0)))
    return out
