"""The dashboard's pictures, drawn on the server as plain SVG (no chart library, no script).

Each function turns what a selector read (jobcenter.jobs.insights) into what its template in
templates/dashboard/charts/ draws: coordinates in the SVG's own units, tick labels, colour
classes and the sentences that say the same for people who cannot see it. Under the
Content-Security-Policy nothing is inline: colours come from classes (static/dashboard/
charts.css), sizes from SVG attributes, never ``style``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from jobcenter.dashboard.formatting import num, rate, seconds
from jobcenter.jobs.choices import JobStatus
from jobcenter.jobs.insights import HOURLY_LIMIT, FileFailures, HourlyCounts
from jobcenter.jobs.throughput import rates


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving about ``ticks`` ticks over span."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


# Steps for a time axis, in seconds: what a clock reads well.
TIME_STEPS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)


def time_step(span: float, ticks: int = 5) -> float:
    for step in TIME_STEPS:
        if span / step <= ticks:
            return float(step)
    return float(math.ceil(span / ticks / 86400) * 86400)


def _f(value: float) -> str:
    """A coordinate, short (SVG needs no more than a tenth of a unit here)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


# --- lines per second over time --------------------------------------------------------------


@dataclass
class Tick:
    at: str  # coordinate
    label: str


@dataclass
class ThroughputChart:
    width: int
    height: int
    left: int
    top: int
    plot_width: int
    plot_height: int
    line: str  # path "d" of the rate, a step line
    area: str  # the same, closed along the x axis
    average_y: str | None
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    summary: str  # the picture in words
    average: str
    peak: str
    duration: str
    latest: str


def throughput_chart(
    points: Sequence[tuple[float, int]], *, running: bool
) -> ThroughputChart | None:
    """Lines per second over the run, from the job's (seconds, lines done) points: each
    interval's average rate as a step line. None with no interval to draw."""
    spans = rates(points)
    if not spans:
        return None
    width, height, left, right, top, bottom = 640, 200, 56, 12, 10, 30
    pw, ph = width - left - right, height - top - bottom
    end = spans[-1][1]
    peak = max(r for _, _, r in spans)
    step_y = nice_step(peak or 1.0)
    top_y = max(step_y, math.ceil((peak or 1.0) / step_y) * step_y)

    def x(t: float) -> float:
        return left + pw * t / end

    def y(r: float) -> float:
        return top + ph * (1 - r / top_y)

    parts = [f"M{_f(x(spans[0][0]))} {_f(y(spans[0][2]))}"]
    for _t0, t1, r in spans:
        parts.append(f"V{_f(y(r))}H{_f(x(t1))}")
    line = "".join(parts)
    base = _f(top + ph)
    area = f"{line}V{base}H{_f(x(spans[0][0]))}Z"

    lines = points[-1][1] - points[0][1]
    elapsed = points[-1][0] - points[0][0]
    average = lines / elapsed if elapsed > 0 else 0.0
    step_x = time_step(end)
    x_ticks = [
        Tick(_f(x(t)), seconds(t) if t else "0s")
        for t in (i * step_x for i in range(int(end // step_x) + 1))
    ]
    y_ticks = [
        Tick(_f(y(v)), rate(v) if v else "0/s")
        for v in (i * step_y for i in range(round(top_y / step_y) + 1))
    ]
    peak_at = next(t1 for _, t1, r in spans if r == peak)
    latest = spans[-1][2]
    summary = (
        f"{num(lines)} lines in {seconds(elapsed)}: {rate(average)} on average, "
        f"{rate(peak)} at most (around {seconds(peak_at)})"
        + (f", {rate(latest)} lately" if running else "")
        + "."
    )
    return ThroughputChart(
        width=width,
        height=height,
        left=left,
        top=top,
        plot_width=pw,
        plot_height=ph,
        line=line,
        area=area,
        average_y=_f(y(average)) if average > 0 else None,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        summary=summary,
        average=rate(average),
        peak=rate(peak),
        duration=seconds(elapsed),
        latest=rate(latest),
    )


# --- failed lines by reason per file ---------------------------------------------------------

# Colour slots for reasons (r-0 .. r-7 in charts.css); the most frequent reason over the whole
# job gets the first, so a reason has the same colour in every file's bar.
REASON_COLOURS = 8
# Failed lines beyond the records kept, for a job run before every reason was counted.
UNKNOWN = "reason not kept"


@dataclass
class Segment:
    reason: str
    count: int
    x: str  # in percent of the longest bar
    width: str
    colour: str
    label: str


@dataclass
class FileBar:
    failures: FileFailures
    segments: list[Segment]
    label: str  # the bar in words
    width: str  # the whole bar, in percent of the longest


@dataclass
class FailureChart:
    bars: list[FileBar]
    legend: list[Segment]  # one per reason, with its total over every file
    complete: bool  # False: some counts are of the kept failed-line records only


def failure_chart(files: Sequence[FileFailures]) -> FailureChart | None:
    """One bar per file with failed lines, split by reason, lengths on one scale (the file
    with the most failed lines fills the width)."""
    if not files:
        return None
    totals: dict[str, int] = {}
    for f in files:
        for reason, n in f.reasons:
            totals[reason] = totals.get(reason, 0) + n
    order = sorted(totals, key=lambda r: (-totals[r], r))
    colours = {r: f"r-{i % REASON_COLOURS}" for i, r in enumerate(order)}
    longest = max(max(f.total, sum(n for _, n in f.reasons)) for f in files) or 1
    bars = []
    for f in files:
        at = 0.0
        segments = []
        for reason, n in sorted(f.reasons, key=lambda item: order.index(item[0])):
            share = 100.0 * n / longest
            segments.append(
                Segment(
                    reason=reason,
                    count=n,
                    x=_f(at),
                    width=_f(share),
                    colour=colours[reason],
                    label=f"{reason}: {num(n)}",
                )
            )
            at += share
        counted = sum(n for _, n in f.reasons)
        if counted < f.total:  # counted from the records kept: the rest is unknown
            segments.append(
                Segment(
                    reason=UNKNOWN,
                    count=f.total - counted,
                    x=_f(at),
                    width=_f(100.0 * (f.total - counted) / longest),
                    colour="r-rest",
                    label=f"{UNKNOWN}: {num(f.total - counted)}",
                )
            )
        words = ", ".join(f"{s.reason} {num(s.count)}" for s in segments)
        bars.append(
            FileBar(
                failures=f,
                segments=segments,
                label=f"{f.file.path.rsplit('/', 1)[-1]}: {num(f.total)} failed lines"
                + (f": {words}" if words else ""),
                width=_f(100.0 * f.total / longest),
            )
        )
    legend = [
        Segment(
            reason=r,
            count=totals[r],
            x="0",
            width="0",
            colour=colours[r],
            label=f"{r} {num(totals[r])}",
        )
        for r in order
    ]
    return FailureChart(bars=bars, legend=legend, complete=all(f.complete for f in files))


# --- jobs per hour by status ---------------------------------------------------------------

# Bottom to top: what is over first, then what is still going on.
STATUS_ORDER = (
    JobStatus.SUCCEEDED,
    JobStatus.PARTIALLY_FAILED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
    JobStatus.CANCELLING,
    JobStatus.RUNNING,
    JobStatus.WAITING,
)
LABELS = dict(JobStatus.choices)


@dataclass
class Rect:
    y: str
    height: str
    status: str


@dataclass
class HourBar:
    x: str
    width: str
    rects: list[Rect]
    title: str
    total: int


@dataclass
class HourlyChart:
    width: int
    height: int
    bars: list[HourBar]
    legend: list[dict[str, Any]]
    summary: str
    total: int
    peak: int
    axis: list[str] = field(default_factory=list)
    too_many: bool = False


def hourly_chart(counts: HourlyCounts) -> HourlyChart | None:
    """24 stacked bars, one per hour (oldest left), heights on one scale (the busiest hour
    fills the height). None when no job was submitted in those 24 hours; a chart without bars
    that says so when more were than one page load reads (HOURLY_LIMIT)."""
    if counts.too_many:
        return HourlyChart(
            width=0,
            height=0,
            bars=[],
            legend=[],
            summary=(
                f"More than {num(HOURLY_LIMIT)} jobs were submitted in the last 24 hours: too "
                "many to count on every page load."
            ),
            total=0,
            peak=0,
            too_many=True,
        )
    if counts.total == 0:
        return None
    width, height, gap = 240, 40, 1.0
    slot = width / len(counts.hours)
    peak = max(sum(h.values()) for h in counts.hours)
    hours = len(counts.hours)
    bars = []
    for i, hour in enumerate(counts.hours):
        total = sum(hour.values())
        rects = []
        y = float(height)
        for status in STATUS_ORDER:
            n = hour.get(status, 0)
            if not n:
                continue
            h = height * n / peak
            y -= h
            rects.append(Rect(y=_f(y), height=_f(h), status=str(status)))
        ago = hours - i
        when = "in the last hour" if ago == 1 else f"{ago} to {ago - 1} hours ago"
        parts = ", ".join(
            f"{num(hour[s])} {LABELS[s].lower()}" for s in STATUS_ORDER if hour.get(s)
        )
        title = f"{when}: {num(total)} job{'s' if total != 1 else ''}" + (
            f" ({parts})" if parts else ""
        )
        bars.append(
            HourBar(
                x=_f(i * slot + gap / 2),
                width=_f(slot - gap),
                rects=rects,
                title=title,
                total=total,
            )
        )
    legend = [
        {"status": str(s), "label": LABELS[s], "count": counts.totals[s]}
        for s in STATUS_ORDER
        if counts.totals.get(s)
    ]
    words = ", ".join(f"{num(item['count'])} {item['label'].lower()}" for item in legend)
    busiest = max(range(hours), key=lambda i: (bars[i].total, i))
    summary = (
        f"{num(counts.total)} job{'s' if counts.total != 1 else ''} submitted in the last 24 "
        f"hours ({words}); the busiest hour had {num(peak)}, "
        f"{bars[busiest].title.split(':')[0]}."
    )
    return HourlyChart(
        width=width,
        height=height,
        bars=bars,
        legend=legend,
        summary=summary,
        total=counts.total,
        peak=peak,
        axis=["24 h ago", "18 h", "12 h", "6 h", "now"],
    )
