"""Every filter, search and sort the job lists offer, and a timer that reports CPU time too.

Shared by benchmarks/api_list.py and benchmarks/dashboard_list.py (issue 12: "first page
<= 100 ms at 1M jobs for every filter, search and sort, counts included"). The values are
picked from the data set of api_list.populate() so that each case matches what it should: a
rare and a common status, a rare type, a graph by name and by id, a member, ids and short ids
(whole and prefixes), text that matches many jobs, few, or none, and date windows.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

TARGET_MS = 100.0
SORTS = [
    "created_at",
    "started_at",
    "finished_at",
    "status",
    "type",
    "name",
    "graph_name",
    "progress",
    "id",
]


def filter_cases() -> list[tuple[str, str]]:
    """(label, query string) for each filter and search, for an operator of project alpha."""
    from jobcenter.graphs.models import Graph
    from jobcenter.jobs.models import Job

    newest = Job.objects.filter(project__name="alpha").order_by("-created_at", "-id").first()
    old = (
        Job.objects.filter(project__name="alpha", status="failed")
        .order_by("created_at", "id")[5000:5001]
        .get()
    )
    g3 = Graph.objects.get(project__name="alpha", name="g3")
    day = datetime.now(UTC).date()
    week = [(day - timedelta(days=d)).isoformat() for d in (200, 194)]
    half_year = (day - timedelta(days=182)).isoformat()
    return [
        ("no filter (baseline)", ""),
        ("status=running (rare)", "status=running"),
        ("status=failed", "status=failed"),
        ("status=succeeded (80%)", "status=succeeded"),
        ("status=failed,partially_failed,cancelled", "status=failed,partially_failed,cancelled"),
        ("type=query (8%)", "type=query"),
        ("type=graph_operation (2%)", "type=graph_operation"),
        ("type=index (none)", "type=index"),
        ("graph=g3 (name)", "graph=g3"),
        ("graph=<id of g3>", f"graph={g3.pk}"),
        ("status=failed&graph=g3", "status=failed&graph=g3"),
        ("submitted_by=oscar", "submitted_by=oscar"),
        ("id=<14-char prefix>", f"id={newest.pk[:14]}"),
        ("q=<whole id of an old job>", f"q={old.pk}"),
        ("q=<short id of an old job>", f"q={old.pk[-8:]}"),
        ("q=<5 chars of a short id>", f"q={old.pk[-8:-3]}"),
        ("q=import (60% of names)", "q=import"),
        ("q=pagerank (30%)", "q=pagerank"),
        ("q=worker lost (a fail reason, 6.5%)", "q=worker%20lost"),
        ("q=zzz (no match)", "q=zzz"),
        ("status=succeeded&q=3 of (empty intersection)", "status=succeeded&q=3%20of"),
        ("created in one week", f"created_after={week[0]}&created_before={week[1]}"),
        ("started in one week", f"started_after={week[0]}&started_before={week[1]}"),
        ("finished in one week", f"finished_after={week[0]}&finished_before={week[1]}"),
        ("created in the last half year", f"created_after={half_year}"),
    ]


def sort_cases() -> list[tuple[str, str]]:
    return [(f"ordering={d}{s}", f"ordering={d}{s}") for s in SORTS for d in ("", "-")]


def join(*parts: str) -> str:
    return "&".join(p for p in parts if p)


def measure(call: Callable[[], Any], runs: int) -> dict[str, float]:
    """Median wall and CPU (user+sys of this process: the in-process Django stack, and SQLite,
    which runs in it; not the PostgreSQL server's) time of ``runs`` calls, in ms, after one
    warm-up call."""
    call()
    wall, cpu = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        call()
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return {"wall": statistics.median(wall), "cpu": statistics.median(cpu), "max": max(wall)}


def report(
    title: str,
    get: Callable[[str], Any],
    runs: int,
    cross_runs: int,
) -> list[tuple[str, dict[str, float]]]:
    """Time every filter (default order), every sort (no filter), then every filter with every
    sort; print each with its ratio to the baseline (no filter, default order) measured in the
    same run, and the cases over the target."""
    results: list[tuple[str, dict[str, float]]] = []
    filters, sorts = filter_cases(), sort_cases()
    base = measure(lambda: get(""), runs)
    print(f"{title}: median of {runs} (cross product: {cross_runs}) requests after a warm-up")
    print(f"  {'case':<56} {'wall ms':>8} {'cpu ms':>8} {'x base':>7}")

    def line(label: str, r: dict[str, float]) -> None:
        flag = "" if r["wall"] <= TARGET_MS else "  OVER TARGET"
        print(
            f"  {label:<56} {r['wall']:8.1f} {r['cpu']:8.1f} {r['wall'] / base['wall']:7.2f}{flag}"
        )

    line("no filter, default order (baseline)", base)
    for label, query in filters[1:] + sorts:
        r = measure(lambda q=query: get(q), runs)
        results.append((label, r))
        line(label, r)
    cross = []
    for flabel, fquery in filters:
        for slabel, squery in sorts:
            query = join(fquery, squery)
            r = measure(lambda q=query: get(q), cross_runs)
            cross.append((f"{flabel} & {slabel}", r))
    walls = sorted(r["wall"] for _, r in cross)
    over = [(label, r) for label, r in cross if r["wall"] > TARGET_MS]
    print(
        f"  every filter x every sort: {len(cross)} combinations, "
        f"median {walls[len(walls) // 2]:.1f} ms, "
        f"p95 {walls[int(len(walls) * 0.95) - 1]:.1f} ms, max {walls[-1]:.1f} ms; "
        f"{len(over)} over {TARGET_MS:.0f} ms"
    )
    for label, r in sorted(cross, key=lambda x: -x[1]["wall"])[:8]:
        line("slowest: " + label, r)
    return results + cross
