"""The Prometheus collector: every scrape reads the figures from the database
(``jobs.metrics``, ``notifications.selectors``), so any web process answers the same."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.registry import Collector

from jobcenter.jobs.metrics import job_figures
from jobcenter.notifications.selectors import delivery_counts


class JobcenterCollector(Collector):
    def collect(self) -> Iterator:
        figures = job_figures()
        jobs = GaugeMetricFamily(
            "jobcenter_jobs", "Jobs in the database, by kind and status.", labels=["kind", "status"]
        )
        for (kind, status), count in sorted(figures.by_kind_status.items()):
            jobs.add_metric([kind, status], count)
        yield jobs
        yield GaugeMetricFamily(
            "jobcenter_queue_depth", "Jobs waiting for a worker.", value=figures.waiting
        )
        yield GaugeMetricFamily(
            "jobcenter_queue_oldest_waiting_age_seconds",
            "How long the job waiting longest for a worker has waited, since its submission or "
            "its dependencies' release (0: none waits).",
            value=figures.oldest_waiting_age,
        )
        yield GaugeMetricFamily(
            "jobcenter_jobs_held",
            "Waiting jobs held until the jobs they depend on end (not yet in the queue).",
            value=figures.held,
        )
        lines = CounterMetricFamily(
            "jobcenter_import_lines",
            "Lines of vertex and edge files read by imports, by outcome (loaded or failed).",
            labels=["outcome"],
        )
        lines.add_metric(["loaded"], figures.lines_loaded)
        lines.add_metric(["failed"], figures.lines_failed)
        yield lines
        durations = HistogramMetricFamily(
            "jobcenter_job_duration_seconds",
            "Run time (start to end) of ended jobs, by kind.",
            labels=["kind"],
        )
        for kind, histogram in sorted(figures.durations.items()):
            buckets = [(_bound(b), n) for b, n in histogram.buckets]
            buckets.append(("+Inf", histogram.count))
            durations.add_metric([kind], buckets, sum_value=histogram.sum)
        yield durations
        beats = GaugeMetricFamily(
            "jobcenter_worker_heartbeat_age_seconds",
            "Age of the latest heartbeat of each worker running a job.",
            labels=["worker"],
        )
        for worker, age in sorted(figures.heartbeat_ages.items()):
            beats.add_metric([worker], age)
        yield beats
        deliveries = GaugeMetricFamily(
            "jobcenter_webhook_deliveries",
            "Webhook deliveries in the database, by outcome (pending, delivered, failed).",
            labels=["outcome"],
        )
        for outcome, count in sorted(delivery_counts().items()):
            deliveries.add_metric([outcome], count)
        yield deliveries


def _bound(value: float) -> str:
    return repr(float(value))
