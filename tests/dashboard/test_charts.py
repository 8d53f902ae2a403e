"""The charts' geometry and words (jobcenter.dashboard.charts), without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from django.template.loader import render_to_string

from jobcenter.dashboard.charts import (
    failure_chart,
    hourly_chart,
    nice_step,
    throughput_chart,
    time_step,
)
from jobcenter.jobs.insights import FileFailures, HourlyCounts


def test_round_steps_for_axes():
    assert [nice_step(v) for v in (0, 3, 9, 40, 1234, 250_000)] == [
        1.0,
        1.0,
        5.0,
        10.0,
        500.0,
        100_000.0,
    ]
    assert [time_step(v) for v in (4, 50, 200, 3000, 3 * 3600)] == [1.0, 10.0, 60.0, 600.0, 3600.0]


def test_lines_per_second_as_a_step_line_on_round_axes():
    # 0-10 s: 1,000/s; 10-20 s: 3,000/s; 20-30 s: 2,000/s
    points = [(0.0, 0), (10.0, 10_000), (20.0, 40_000), (30.0, 60_000)]
    chart = throughput_chart(points, running=True)
    assert chart is not None
    # plot: x from 56 to 628 (30 s), y from 10 (3,000/s, the round top) to 170 (0/s)
    assert chart.line == "M56 116.7V116.7H246.7V10H437.3V63.3H628"
    assert chart.area == chart.line + "V170H56Z"
    assert [t.label for t in chart.x_ticks] == ["0s", "10s", "20s", "30s"]
    assert [t.label for t in chart.y_ticks] == ["0/s", "1.0k/s", "2.0k/s", "3.0k/s"]
    assert chart.average_y == "63.3"  # 2,000/s on average
    assert chart.summary == (
        "60,000 lines in 30s: 2.0k/s on average, 3.0k/s at most (around 20s), 2.0k/s lately."
    )
    assert throughput_chart(points, running=False).summary.endswith("(around 20s).")


def test_no_line_without_an_interval():
    assert throughput_chart([], running=True) is None
    assert throughput_chart([(0.0, 0)], running=True) is None
    flat = throughput_chart([(0.0, 0), (2.0, 0)], running=True)  # counting lines: 0/s
    assert flat is not None and flat.average_y is None


def failures(name: str, total: int, reasons: list[tuple[str, int]], complete: bool = True):
    file = SimpleNamespace(path=f"/data/{name}", index=1)
    return FileFailures(file=file, reasons=reasons, total=total, complete=complete)


def test_failure_bars_share_one_scale_and_one_colour_per_reason():
    chart = failure_chart(
        [
            failures("v.csv", 40, [("bad_type", 30), ("too_long", 10)]),
            failures("e.csv", 20, [("missing_vertex", 10), ("bad_type", 10)]),
        ]
    )
    assert chart is not None and chart.complete
    first, second = chart.bars
    assert [(s.reason, s.x, s.width, s.colour) for s in first.segments] == [
        ("bad_type", "0", "75", "r-0"),
        ("too_long", "75", "25", "r-2"),
    ]
    # the reason most frequent over the job comes first in every bar, with the same colour
    assert [(s.reason, s.x, s.width, s.colour) for s in second.segments] == [
        ("bad_type", "0", "25", "r-0"),
        ("missing_vertex", "25", "25", "r-1"),
    ]
    assert second.width == "50"
    assert second.label == "e.csv: 20 failed lines: bad_type 10, missing_vertex 10"
    assert [s.label for s in chart.legend] == ["bad_type 40", "missing_vertex 10", "too_long 10"]
    assert failure_chart([]) is None


def test_failure_bars_say_what_was_not_counted():
    chart = failure_chart([failures("v.csv", 15_000, [("bad_type", 10_000)], complete=False)])
    assert not chart.complete
    assert [(s.reason, s.width, s.colour) for s in chart.bars[0].segments] == [
        ("bad_type", "66.7", "r-0"),
        ("reason not kept", "33.3", "r-rest"),
    ]


def test_hours_as_stacked_bars_on_the_busiest_hours_scale():
    end = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    hours = [{} for _ in range(24)]
    hours[0] = {"failed": 1}
    hours[23] = {"succeeded": 2, "running": 1, "failed": 1}
    counts = HourlyCounts(
        start=end - timedelta(hours=24),
        end=end,
        hours=hours,
        totals={"succeeded": 2, "running": 1, "failed": 2},
    )
    chart = hourly_chart(counts)
    assert chart is not None and chart.peak == 4 and len(chart.bars) == 24
    last = chart.bars[23]
    # bottom to top: succeeded, failed, running; 40 units for the 4 jobs of the busiest hour
    assert [(r.status, r.y, r.height) for r in last.rects] == [
        ("succeeded", "20", "20"),
        ("failed", "10", "10"),
        ("running", "0", "10"),
    ]
    assert [(r.status, r.y, r.height) for r in chart.bars[0].rects] == [("failed", "30", "10")]
    assert chart.bars[5].rects == [] and chart.bars[5].title == "19 to 18 hours ago: 0 jobs"
    assert last.title == "in the last hour: 4 jobs (2 succeeded, 1 failed, 1 running)"
    assert [item["label"] for item in chart.legend] == ["Succeeded", "Failed", "Running"]
    assert chart.summary == (
        "5 jobs submitted in the last 24 hours (2 succeeded, 2 failed, 1 running); the busiest "
        "hour had 4, in the last hour."
    )
    empty = HourlyCounts(start=end, end=end, hours=[{} for _ in range(24)], totals={})
    assert hourly_chart(empty) is None
    busy = HourlyCounts(start=end, end=end, hours=[{}] * 24, totals={}, too_many=True)
    chart = hourly_chart(busy)
    assert chart is not None and chart.too_many and chart.bars == []
    assert chart.summary == (
        "More than 50,000 jobs were submitted in the last 24 hours: too many to count on every "
        "page load."
    )
    html = render_to_string("dashboard/charts/jobs_by_hour.html", {"chart": chart})
    assert 'id="hours-chart"' in html and "too many to count" in html and "<svg" not in html
